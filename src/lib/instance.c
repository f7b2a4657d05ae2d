/* SPDX-License-Identifier: MIT */
/* libvirtkit: instance definitions, lifecycle actions and their snapshots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

virtkit_instance *vkl_instance_from_json(json_object *o)
{
	virtkit_instance *i = calloc(1, sizeof(*i));

	if (!i)
		return NULL;
	i->obj = json_object_get(o);
	return i; /* i->json is made on the first virtkit_instance_json() */
}

static virtkit_instance *parse_instance(char *body, virtkit_error **err)
{
	json_object *o;
	virtkit_instance *i;

	if (!body)
		return NULL;
	o = json_tokener_parse(body);
	free(body);
	if (!o || !json_object_object_get_ex(o, "name", NULL)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon sent a malformed instance");
		return NULL;
	}
	i = vkl_instance_from_json(o);
	json_object_put(o);
	if (!i)
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	return i;
}

/* "/1.0/instances/NAME[/suffix]" with NAME escaped; NULL on a bad name. */
static char *instance_path(const char *name, const char *suffix, virtkit_error **err)
{
	char *e, *p;
	size_t len;

	if (!name || !*name || strlen(name) > 255) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid instance name");
		return NULL;
	}
	e = vkl_escape(name);
	len = (e ? strlen(e) : 0) + (suffix ? strlen(suffix) : 0) + 32;
	p = e ? malloc(len) : NULL;
	if (p)
		snprintf(p, len, "/1.0/instances/%s%s%s", e, suffix ? "/" : "",
		         suffix ? suffix : "");
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	return p;
}

int virtkit_instance_list(virtkit_conn *conn, virtkit_instance ***list, size_t *count,
                          virtkit_error **err)
{
	char *body = vkl_call(conn, "GET", "/1.0/instances", NULL, NULL, 0, NULL, err);
	json_object *o, *a;
	virtkit_instance **v;
	size_t n, k;

	if (!body)
		return -1;
	o = json_tokener_parse(body);
	free(body);
	if (!o || !json_object_object_get_ex(o, "instances", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0,
		          "the daemon sent a malformed instance list");
		return -1;
	}
	n = json_object_array_length(a);
	v = calloc(n ? n : 1, sizeof(*v));
	for (k = 0; v && k < n; k++) {
		v[k] = vkl_instance_from_json(json_object_array_get_idx(a, k));
		if (!v[k]) {
			virtkit_instance_list_free(v, k);
			v = NULL;
		}
	}
	json_object_put(o);
	if (!v) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	*list = v;
	*count = n;
	return 0;
}

void virtkit_instance_list_free(virtkit_instance **list, size_t count)
{
	size_t i;

	for (i = 0; list && i < count; i++)
		virtkit_instance_free(list[i]);
	free(list);
}

virtkit_instance *virtkit_instance_get(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *path = instance_path(name, NULL, err), *body;

	if (!path)
		return NULL;
	body = vkl_call(conn, "GET", path, NULL, NULL, 0, NULL, err);
	free(path);
	return parse_instance(body, err);
}

static const char *content_type(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len && strchr(" \t\r\n", data[i]); i++)
		;
	/* A UTF-8 byte-order mark may precede an XML document. */
	if (i + 3 <= len && (unsigned char)data[i] == 0xef && (unsigned char)data[i + 1] == 0xbb &&
	    (unsigned char)data[i + 2] == 0xbf)
		i += 3;
	return i < len && data[i] == '<' ? "application/xml" : "application/json";
}

virtkit_instance *virtkit_instance_define(virtkit_conn *conn, const char *data, size_t len,
                                          virtkit_error **err)
{
	return virtkit_instance_define_flags(conn, data, len, 0, err);
}

virtkit_instance *virtkit_instance_define_flags(virtkit_conn *conn, const char *data, size_t len,
                                                unsigned flags, virtkit_error **err)
{
	const char *path =
	        flags & VIRTKIT_DEFINE_UPDATE ? "/1.0/instances?update=1" : "/1.0/instances";
	virtkit_instance *i;
	char *body;
	int status;

	if (!data) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "no definition given");
		return NULL;
	}
	if (virtkit_request(conn, "POST", path, content_type(data, len), data, len, &body, NULL,
	                    &status, err) < 0)
		return NULL;
	if (status != 200 && status != 201) {
		vkl_api_error(err, status, body);
		free(body);
		return NULL;
	}
	i = parse_instance(body, err);
	if (i)
		i->updated = status == 200; /* 201 Created: a new instance */
	return i;
}

virtkit_instance *virtkit_instance_update(virtkit_conn *conn, const char *name, const char *data,
                                          size_t len, virtkit_error **err)
{
	char *path, *body;

	if (!data) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "no definition given");
		return NULL;
	}
	path = instance_path(name, NULL, err);
	if (!path)
		return NULL;
	body = vkl_call(conn, "PUT", path, content_type(data, len), data, len, NULL, err);
	free(path);
	return parse_instance(body, err);
}

/* method on /1.0/instances/NAME[/suffix] with an optional JSON body; the reply is dropped. */
static int simple(virtkit_conn *conn, const char *method, const char *name, const char *suffix,
                  json_object *body, virtkit_error **err)
{
	char *path = instance_path(name, suffix, err), *resp;
	const char *b = body ? json_object_to_json_string_ext(body, VK_JSON_FLAGS) : NULL;

	if (!path) {
		json_object_put(body);
		return -1;
	}
	resp = vkl_call(conn, method, path, b ? "application/json" : NULL, b, b ? strlen(b) : 0,
	                NULL, err);
	free(path);
	json_object_put(body);
	if (!resp)
		return -1;
	free(resp);
	return 0;
}

int virtkit_instance_undefine(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return simple(conn, "DELETE", name, NULL, NULL, err);
}

int virtkit_instance_start(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return simple(conn, "POST", name, "start", NULL, err);
}

int virtkit_instance_stop(virtkit_conn *conn, const char *name, unsigned flags, int timeout_s,
                          virtkit_error **err)
{
	return virtkit_instance_stop_ex(conn, name, flags, timeout_s, NULL, err);
}

int virtkit_instance_stop_ex(virtkit_conn *conn, const char *name, unsigned flags, int timeout_s,
                             char **reply, virtkit_error **err)
{
	json_object *o = json_object_new_object();
	char *path = instance_path(name, "stop", err), *resp;
	const char *b;

	if (reply)
		*reply = NULL;
	if (!path) {
		json_object_put(o);
		return -1;
	}
	if (flags & VIRTKIT_STOP_FORCE)
		json_object_object_add(o, "force", json_object_new_boolean(1));
	if (timeout_s > 0)
		json_object_object_add(o, "timeout", json_object_new_int(timeout_s));
	b = json_object_to_json_string_ext(o, VK_JSON_FLAGS);
	resp = vkl_call(conn, "POST", path, "application/json", b, strlen(b), NULL, err);
	free(path);
	json_object_put(o);
	if (!resp)
		return -1;
	if (reply)
		*reply = resp;
	else
		free(resp);
	return 0;
}

int virtkit_instance_kill(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return simple(conn, "POST", name, "kill", NULL, err);
}

int virtkit_instance_restart(virtkit_conn *conn, const char *name, int timeout_s,
                             virtkit_error **err)
{
	json_object *o = json_object_new_object();

	if (timeout_s > 0)
		json_object_object_add(o, "timeout", json_object_new_int(timeout_s));
	return simple(conn, "POST", name, "restart", o, err);
}

int virtkit_instance_pause(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return simple(conn, "POST", name, "pause", NULL, err);
}

int virtkit_instance_resume(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return simple(conn, "POST", name, "resume", NULL, err);
}

int virtkit_instance_set_autostart(virtkit_conn *conn, const char *name, int on,
                                   virtkit_error **err)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "autostart", json_object_new_boolean(on != 0));
	return simple(conn, "PATCH", name, NULL, o, err);
}

static char *get_text(virtkit_conn *conn, const char *name, const char *suffix, size_t *len,
                      virtkit_error **err)
{
	char *path = instance_path(name, suffix, err), *body;

	if (!path)
		return NULL;
	body = vkl_call(conn, "GET", path, NULL, NULL, 0, len, err);
	free(path);
	return body;
}

char *virtkit_instance_xml(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return get_text(conn, name, "xml", NULL, err);
}

char *virtkit_instance_logs(virtkit_conn *conn, const char *name, size_t tail, size_t *len,
                            virtkit_error **err)
{
	char suffix[48];

	if (tail)
		snprintf(suffix, sizeof(suffix), "logs?tail=%zu", tail);
	else
		snprintf(suffix, sizeof(suffix), "logs");
	return get_text(conn, name, suffix, len, err);
}

char *virtkit_instance_log_lines(virtkit_conn *conn, const char *name, size_t lines, size_t *len,
                                 virtkit_error **err)
{
	char suffix[48];

	snprintf(suffix, sizeof(suffix), "logs?lines=%zu", lines);
	return get_text(conn, name, suffix, len, err);
}

char *virtkit_host_info(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0/host", NULL, NULL, 0, NULL, err);
}

char *virtkit_instance_stats(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return get_text(conn, name, "stats", NULL, err);
}

static const char *field(const virtkit_instance *i, const char *key)
{
	json_object *v;

	if (!i || !json_object_object_get_ex(i->obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

int virtkit_instance_updated(const virtkit_instance *i)
{
	return i && i->updated;
}

const char *virtkit_instance_name(const virtkit_instance *i)
{
	return field(i, "name");
}

const char *virtkit_instance_uuid(const virtkit_instance *i)
{
	return field(i, "uuid");
}

const char *virtkit_instance_type(const virtkit_instance *i)
{
	return field(i, "type");
}

const char *virtkit_instance_state(const virtkit_instance *i)
{
	return field(i, "state");
}

const char *virtkit_instance_reason(const virtkit_instance *i)
{
	return field(i, "reason");
}

int virtkit_instance_autostart(const virtkit_instance *i)
{
	json_object *v;

	return i && json_object_object_get_ex(i->obj, "autostart", &v) &&
	       json_object_get_boolean(v);
}

pid_t virtkit_instance_pid(const virtkit_instance *i)
{
	json_object *rt, *v;

	if (!i || !json_object_object_get_ex(i->obj, "runtime", &rt) ||
	    !json_object_object_get_ex(rt, "pid", &v))
		return 0;
	return (pid_t)json_object_get_int(v);
}

const char *virtkit_instance_json(const virtkit_instance *i)
{
	virtkit_instance *m = (virtkit_instance *)i; /* a cache: logically const */

	if (!i)
		return "";
	if (!m->json)
		m->json = strdup(json_object_to_json_string_ext(i->obj, VK_JSON_FLAGS));
	return m->json ? m->json : "";
}

void virtkit_instance_free(virtkit_instance *i)
{
	if (!i)
		return;
	json_object_put(i->obj);
	free(i->json);
	free(i);
}
