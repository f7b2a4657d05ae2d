/* SPDX-License-Identifier: MIT */
/* libvirtkit: the storage pool's volumes (docs/api.md, "Storage"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define VOLUMES "/1.0/pools/default/volumes"

struct virtkit_volume {
	json_object *obj;
	char *json;
};

static virtkit_volume *volume_from_json(json_object *o)
{
	virtkit_volume *v = calloc(1, sizeof(*v));

	if (v)
		v->obj = json_object_get(o);
	return v;
}

static virtkit_volume *parse_volume(char *body, virtkit_error **err)
{
	json_object *o;
	virtkit_volume *v;

	if (!body)
		return NULL;
	o = json_tokener_parse(body);
	free(body);
	if (!o || !json_object_object_get_ex(o, "name", NULL)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon sent a malformed volume");
		return NULL;
	}
	v = volume_from_json(o);
	json_object_put(o);
	if (!v)
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	return v;
}

/* VOLUMES "/NAME" with NAME escaped; NULL on a bad name. */
static char *volume_path(const char *name, virtkit_error **err)
{
	char *e, *p = NULL;
	size_t len;

	if (!name || !*name || strlen(name) > 255) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid volume name");
		return NULL;
	}
	e = vkl_escape(name);
	len = (e ? strlen(e) : 0) + sizeof(VOLUMES) + 2;
	if (e && (p = malloc(len)))
		snprintf(p, len, VOLUMES "/%s", e);
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	return p;
}

int virtkit_volume_list(virtkit_conn *conn, virtkit_volume ***list, size_t *count,
                        virtkit_error **err)
{
	char *body = vkl_call(conn, "GET", VOLUMES, NULL, NULL, 0, NULL, err);
	json_object *o, *a;
	virtkit_volume **v;
	size_t n, k;

	if (!body)
		return -1;
	o = json_tokener_parse(body);
	free(body);
	if (!o || !json_object_object_get_ex(o, "volumes", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon sent a malformed volume list");
		return -1;
	}
	n = json_object_array_length(a);
	v = calloc(n ? n : 1, sizeof(*v));
	for (k = 0; v && k < n; k++) {
		v[k] = volume_from_json(json_object_array_get_idx(a, k));
		if (!v[k]) {
			virtkit_volume_list_free(v, k);
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

void virtkit_volume_list_free(virtkit_volume **list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		virtkit_volume_free(list[i]);
	free(list);
}

virtkit_volume *virtkit_volume_get(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *path = volume_path(name, err), *body;

	if (!path)
		return NULL;
	body = vkl_call(conn, "GET", path, NULL, NULL, 0, NULL, err);
	free(path);
	return parse_volume(body, err);
}

virtkit_volume *virtkit_volume_create(virtkit_conn *conn, const char *name, uint64_t size,
                                      const char *format, const char *from, const char *from_format,
                                      virtkit_error **err)
{
	json_object *o = json_object_new_object();
	const char *text;
	char *body;

	if (!name || !*name) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "a volume needs a name");
		return NULL;
	}
	json_object_object_add(o, "name", json_object_new_string(name));
	if (size)
		json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	if (format)
		json_object_object_add(o, "format", json_object_new_string(format));
	if (from)
		json_object_object_add(o, "from", json_object_new_string(from));
	if (from_format)
		json_object_object_add(o, "from_format", json_object_new_string(from_format));
	text = json_object_to_json_string_ext(o, VK_JSON_FLAGS);
	body = vkl_call(conn, "POST", VOLUMES, "application/json", text, strlen(text), NULL, err);
	json_object_put(o);
	return parse_volume(body, err);
}

virtkit_volume *virtkit_volume_resize(virtkit_conn *conn, const char *name, uint64_t size,
                                      virtkit_error **err)
{
	char *path = volume_path(name, err), *body, req[64];

	if (!path)
		return NULL;
	snprintf(req, sizeof(req), "{\"size\":%llu}", (unsigned long long)size);
	body = vkl_call(conn, "PATCH", path, "application/json", req, strlen(req), NULL, err);
	free(path);
	return parse_volume(body, err);
}

int virtkit_volume_delete(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *path = volume_path(name, err), *body;

	if (!path)
		return -1;
	body = vkl_call(conn, "DELETE", path, NULL, NULL, 0, NULL, err);
	free(path);
	if (!body)
		return -1;
	free(body);
	return 0;
}

static const char *field(const virtkit_volume *v, const char *key)
{
	json_object *f;

	if (!v || !json_object_object_get_ex(v->obj, key, &f) ||
	    !json_object_is_type(f, json_type_string))
		return NULL;
	return json_object_get_string(f);
}

static uint64_t number(const virtkit_volume *v, const char *key)
{
	json_object *f;

	if (!v || !json_object_object_get_ex(v->obj, key, &f))
		return 0;
	return (uint64_t)json_object_get_int64(f);
}

const char *virtkit_volume_name(const virtkit_volume *v)
{
	return field(v, "name");
}

const char *virtkit_volume_format(const virtkit_volume *v)
{
	return field(v, "format");
}

const char *virtkit_volume_path(const virtkit_volume *v)
{
	return field(v, "path");
}

uint64_t virtkit_volume_capacity(const virtkit_volume *v)
{
	return number(v, "capacity");
}

uint64_t virtkit_volume_allocation(const virtkit_volume *v)
{
	return number(v, "allocation");
}

const char *virtkit_volume_base(const virtkit_volume *v)
{
	json_object *b, *f;

	if (!v || !json_object_object_get_ex(v->obj, "base", &b))
		return NULL;
	if (json_object_object_get_ex(b, "volume", &f) || json_object_object_get_ex(b, "path", &f))
		return json_object_get_string(f);
	return NULL;
}

const char *virtkit_volume_json(const virtkit_volume *v)
{
	virtkit_volume *m = (virtkit_volume *)v; /* a cache: logically const */

	if (!v)
		return "";
	if (!m->json)
		m->json = strdup(json_object_to_json_string_ext(v->obj, VK_JSON_FLAGS));
	return m->json ? m->json : "";
}

void virtkit_volume_free(virtkit_volume *v)
{
	if (!v)
		return;
	json_object_put(v->obj);
	free(v->json);
	free(v);
}
