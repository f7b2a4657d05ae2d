/* SPDX-License-Identifier: MIT */
/* libvirtkit: saving, restoring and migrating VMs, and their snapshots (docs/api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* "/1.0/instances/NAME/rest" with NAME (and SNAP, when given) escaped; NULL on a bad name. */
static char *path_of(const char *name, const char *snap, const char *rest, virtkit_error **err)
{
	char *en, *es = NULL, *p = NULL;
	size_t len;

	if (!name || !*name || strlen(name) > 255 || (snap && (!*snap || strlen(snap) > 255))) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid instance or snapshot name");
		return NULL;
	}
	en = vkl_escape(name);
	es = snap ? vkl_escape(snap) : NULL;
	len = (en ? strlen(en) : 0) + (es ? strlen(es) : 0) + strlen(rest) + 48;
	if (en && (!snap || es) && (p = malloc(len)))
		snprintf(p, len, "/1.0/instances/%s/snapshots%s%s%s", en, es ? "/" : "",
		         es ? es : "", rest);
	if (!p)
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(en);
	free(es);
	return p;
}

/* POST path with body (consumed, may be NULL); the reply's text or NULL. */
static char *post(virtkit_conn *conn, const char *method, const char *path, json_object *body,
                  virtkit_error **err)
{
	const char *b = body ? json_object_to_json_string_ext(body, VK_JSON_FLAGS) : NULL;
	char *resp = path ? vkl_call(conn, method, path, b ? "application/json" : NULL, b,
	                             b ? strlen(b) : 0, NULL, err)
	                  : NULL;

	json_object_put(body);
	return resp;
}

static json_object *path_body(const char *path)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(path));
	return o;
}

char *virtkit_instance_save(virtkit_conn *conn, const char *name, const char *path,
                            virtkit_error **err)
{
	char *p, *e, *resp;
	size_t len;

	if (!name || !*name || strlen(name) > 255 || !path || path[0] != '/') {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "saving needs an instance name and an absolute path");
		return NULL;
	}
	e = vkl_escape(name);
	len = e ? strlen(e) + 32 : 0;
	p = e ? malloc(len) : NULL;
	if (p)
		snprintf(p, len, "/1.0/instances/%s/save", e);
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	resp = post(conn, "POST", p, path_body(path), err);
	free(p);
	return resp;
}

virtkit_instance *virtkit_restore(virtkit_conn *conn, const char *path, virtkit_error **err)
{
	char *resp;
	json_object *o;
	virtkit_instance *i;

	if (!path || path[0] != '/') {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "restoring needs an absolute path");
		return NULL;
	}
	resp = post(conn, "POST", "/1.0/restore", path_body(path), err);
	if (!resp)
		return NULL;
	o = json_tokener_parse(resp);
	free(resp);
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

char *virtkit_instance_migrate(virtkit_conn *conn, const char *name, const char *dest_socket,
                               unsigned flags, virtkit_error **err)
{
	json_object *o;
	char *p, *e, *resp;
	size_t len;

	if (!name || !*name || strlen(name) > 255 || !dest_socket || dest_socket[0] != '/') {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "migrating needs an instance name and the absolute path of the "
		          "destination daemon's socket");
		return NULL;
	}
	e = vkl_escape(name);
	len = e ? strlen(e) + 32 : 0;
	p = e ? malloc(len) : NULL;
	if (p)
		snprintf(p, len, "/1.0/instances/%s/migrate", e);
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	o = json_object_new_object();
	json_object_object_add(o, "to", json_object_new_string(dest_socket));
	json_object_object_add(o, "live", json_object_new_boolean(flags & VIRTKIT_MIGRATE_LIVE));
	json_object_object_add(o, "keep_source",
	                       json_object_new_boolean(flags & VIRTKIT_MIGRATE_KEEP_SOURCE));
	resp = post(conn, "POST", p, o, err);
	free(p);
	return resp;
}

char *virtkit_snapshot_create(virtkit_conn *conn, const char *name, const char *snap,
                              virtkit_error **err)
{
	char *p = path_of(name, NULL, "", err), *resp;
	json_object *o = json_object_new_object();

	if (snap)
		json_object_object_add(o, "name", json_object_new_string(snap));
	resp = post(conn, "POST", p, o, err);
	free(p);
	return resp;
}

char *virtkit_snapshot_list(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *p = path_of(name, NULL, "", err), *resp;

	resp = p ? vkl_call(conn, "GET", p, NULL, NULL, 0, NULL, err) : NULL;
	free(p);
	return resp;
}

int virtkit_snapshot_restore(virtkit_conn *conn, const char *name, const char *snap,
                             virtkit_error **err)
{
	char *p = path_of(name, snap, "/restore", err), *resp;
	int r;

	if (!snap && p) {
		free(p);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "which snapshot?");
		return -1;
	}
	resp = post(conn, "POST", p, NULL, err);
	free(p);
	r = resp ? 0 : -1;
	free(resp);
	return r;
}

int virtkit_snapshot_delete(virtkit_conn *conn, const char *name, const char *snap,
                            virtkit_error **err)
{
	char *p = snap ? path_of(name, snap, "", err) : NULL, *resp;
	int r;

	if (!snap) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "which snapshot?");
		return -1;
	}
	resp = post(conn, "DELETE", p, NULL, err);
	free(p);
	r = resp ? 0 : -1;
	free(resp);
	return r;
}
