/* SPDX-License-Identifier: MIT */
/*
 * Migration of VMs between daemons (api-migrate.h): the source's route, which
 * talks to the destination daemon with libvirtkit, and the destination's
 * routes. The work on each side is the lifecycle's and virtkit-vm's; this
 * file checks requests and keeps the order in which the two daemons act, so
 * that every failure before the machine arrived leaves the VM running here
 * and nothing behind at the destination.
 *
 * Trust: the destination is any virtkitd whose API socket the source daemon
 * can open (a path on this host, as `virtkit --socket`); the migration stream
 * itself goes through a unix socket in the destination's run folder (mode 0600,
 * both daemons run as the same user in a local migration).
 */
#include "daemon/api-migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <virtkit/virtkit.h>

#include "common/log.h"
#include "daemon/api-saved.h"
#include "daemon/def.h"
#include "daemon/instance.h"
#include "daemon/lifecycle.h"

#define ADDR_MAX 160 /* "unix:" and a socket path */

static struct {
	api_undefine_fn undefine;
} cfg;

void api_migrate_init(api_undefine_fn undefine)
{
	cfg.undefine = undefine;
}

/* ---- talking to the destination ------------------------------------------------------- */

/*
 * One request to the destination daemon: 0 and *out (its JSON answer, may be
 * NULL) on a 2xx status, else err gets the daemon's own message.
 */
static int peer_call(virtkit_conn *conn, const char *method, const char *path, json_object *body,
                     json_object **out, struct vk_error *err)
{
	const char *b =
	        body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE)
	             : NULL;
	virtkit_error *ve = NULL;
	char *resp = NULL;
	size_t len = 0;
	int status = 0, r = 0;
	json_object *o;

	if (out)
		*out = NULL;
	if (virtkit_request(conn, method, path, b ? "application/json" : NULL, b, b ? strlen(b) : 0,
	                    &resp, &len, &status, &ve) < 0) {
		r = vk_error_set(err, EIO, "%s", virtkit_error_message(ve));
		virtkit_error_free(ve);
		return r;
	}
	o = json_tokener_parse(resp);
	free(resp);
	if (status < 200 || status > 299) {
		json_object *e = NULL, *m = NULL;

		if (o && json_object_object_get_ex(o, "error", &e))
			json_object_object_get_ex(e, "message", &m);
		/* 409 stays a conflict (the name is taken there), the rest is the peer's failure. */
		r = vk_error_set(err, status == 409 ? EEXIST : EIO, "%s",
		                 m ? json_object_get_string(m) : "it answered an HTTP error");
		json_object_put(o);
		return r;
	}
	if (out)
		*out = o;
	else
		json_object_put(o);
	return 0;
}

static void peer_path(char *buf, size_t len, const char *name, const char *rest)
{
	/* Instance names are letters, digits, '-', '_' and '.': nothing to escape. */
	snprintf(buf, len, "/1.0/instances/%s%s", name, rest);
}

/* After a failure: end the receiver and forget the definition there; logs what fails. */
static void peer_forget(virtkit_conn *conn, const char *to, const char *name, bool receiver)
{
	struct vk_error e = {0};
	char path[DEF_NAME_MAX + 64];

	peer_path(path, sizeof(path), name, "/incoming");
	if (receiver && peer_call(conn, "DELETE", path, NULL, NULL, &e) < 0)
		vk_warn("migration of '%s': the destination %s did not end its receiver: %s", name,
		        to, e.msg);
	peer_path(path, sizeof(path), name, "");
	if (peer_call(conn, "DELETE", path, NULL, NULL, &e) < 0)
		vk_warn("migration of '%s': the destination %s kept its definition: %s", name, to,
		        e.msg);
}

/* ---- the request ------------------------------------------------------------------------ */

struct migrate_req {
	char to[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool live, keep_source;
};

static int parse_migrate(struct http_req *req, struct migrate_req *m, struct vk_error *err)
{
	static const char *const keys[] = {"to", "live", "keep_source", NULL};
	json_object *o = NULL, *v;
	int r;

	if ((r = api_body_object(req, &o, err)) < 0 || (r = api_only_keys(o, keys, err)) < 0)
		goto out;
	if (!json_object_object_get_ex(o, "to", &v) || !json_object_is_type(v, json_type_string)) {
		r = vk_error_set(err, EINVAL,
		                 "'to' is required: the API socket of the destination virtkitd");
		goto out;
	}
	if (json_object_get_string(v)[0] != '/' ||
	    strlen(json_object_get_string(v)) >= sizeof(m->to)) {
		r = vk_error_set(err, EINVAL,
		                 "'to' must be the absolute path of a unix socket (at most %zu "
		                 "bytes)",
		                 sizeof(m->to) - 1);
		goto out;
	}
	snprintf(m->to, sizeof(m->to), "%s", json_object_get_string(v));
	for (int i = 1; i <= 2; i++) {
		bool *dst = i == 1 ? &m->live : &m->keep_source;

		if (!json_object_object_get_ex(o, keys[i], &v))
			continue;
		if (!json_object_is_type(v, json_type_boolean)) {
			r = vk_error_set(err, EINVAL, "'%s' must be true or false", keys[i]);
			goto out;
		}
		*dst = json_object_get_boolean(v);
	}
out:
	json_object_put(o);
	return r;
}

/* What can move: a VM whose disks are files both daemons reach by path. */
static int check_movable(struct instance *inst, json_object *def, struct vk_error *err)
{
	json_object *disks = json_object_object_get(def, "disks");

	if (inst->type != DEF_VM)
		return vk_error_set(err, EINVAL,
		                    "instance '%s' is a container: migrating one to another "
		                    "daemon is not implemented (save and restore it instead)",
		                    inst->name);
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		const char *vol = def_get_str(json_object_array_get_idx(disks, i), "volume");

		if (vol)
			return vk_error_set(err, EINVAL,
			                    "instance '%s' runs from volume '%s', which belongs to "
			                    "this daemon's storage pool: only disks given by path "
			                    "can move to another daemon",
			                    inst->name, vol);
	}
	return 0;
}

/* Steps 1-2: the definition there, and its receiver; *addr: where to send the machine. */
static int prepare_peer(virtkit_conn *conn, const char *to, struct instance *inst, json_object *def,
                        char *addr, size_t len, struct vk_error *err)
{
	char path[DEF_NAME_MAX + 64];
	json_object *o = NULL, *v;
	int r;

	pthread_mutex_lock(&inst->lock);
	json_object_object_add(def, "autostart", json_object_new_boolean(inst->autostart));
	pthread_mutex_unlock(&inst->lock);
	/* Refused (the name or uuid is taken there): nothing of ours is there to undo. */
	if ((r = peer_call(conn, "POST", "/1.0/instances", def, NULL, err)) < 0)
		return vk_error_prefix(err, "the destination refused the definition");
	peer_path(path, sizeof(path), inst->name, "/incoming");
	r = peer_call(conn, "POST", path, NULL, &o, err);
	if (r < 0)
		vk_error_prefix(err, "the destination cannot receive it");
	else if (!json_object_object_get_ex(o, "incoming", &v) ||
	         !json_object_is_type(v, json_type_string) ||
	         strncmp(json_object_get_string(v), "unix:", 5) != 0 ||
	         strlen(json_object_get_string(v)) >= len)
		r = vk_error_set(err, EPROTO, "the destination answered no address to send it to");
	else
		snprintf(addr, len, "%s", json_object_get_string(v));
	json_object_put(o);
	if (r < 0)
		peer_forget(conn, to, inst->name, r != -EPROTO);
	return r;
}

static void add_warning(json_object *reply, const char *what, const char *why)
{
	char w[VK_ERROR_MSG_MAX * 2 + 128];

	snprintf(w, sizeof(w), "%s: %s", what, why);
	json_object_object_add(reply, "warning", json_object_new_string(w));
}

enum MHD_Result api_migrate(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	struct migrate_req m = {.live = false};
	char addr[ADDR_MAX], path[DEF_NAME_MAX + 64];
	json_object *def = NULL, *reply = NULL, *dest = NULL;
	virtkit_conn *conn = NULL;
	virtkit_error *ve = NULL;
	int r;

	if ((r = parse_migrate(req, &m, &err)) < 0)
		return http_vk_error(req->conn, &err);
	def = instance_def(inst);
	if (!def)
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if ((r = check_movable(inst, def, &err)) < 0)
		goto fail;
	conn = virtkit_connect(m.to, &ve);
	if (!conn) {
		r = vk_error_set(&err, ECONNREFUSED, "no virtkitd answers on '%s': %s", m.to,
		                 virtkit_error_message(ve));
		virtkit_error_free(ve);
		goto fail;
	}
	if ((r = prepare_peer(conn, m.to, inst, def, addr, sizeof(addr), &err)) < 0)
		goto fail;
	/* Step 3: virtkit-vm sends it; on failure it goes on here. */
	if ((r = lifecycle_migrate(inst, addr, m.live, &reply, &err)) < 0) {
		peer_forget(conn, m.to, inst->name, true);
		vk_error_prefix(&err, "it goes on running here");
		goto fail;
	}
	/* Step 4: it arrived (virtkit-vm's OK said so): the destination says it runs. */
	peer_path(path, sizeof(path), inst->name, "/incoming/confirm");
	if (peer_call(conn, "POST", path, NULL, &dest, &err) < 0) {
		add_warning(reply, "the machine reached the destination, which did not confirm it",
		            err.msg);
		vk_warn("migration of '%s': %s", inst->name, err.msg);
		vk_error_clear(&err);
	} else {
		json_object_object_add(reply, "destination", dest);
	}
	if (!m.keep_source && cfg.undefine(inst, NULL, &err) < 0) {
		add_warning(reply, "the definition stays here", err.msg);
		vk_error_clear(&err);
	}
	json_object_object_add(reply, "source",
	                       json_object_new_string(m.keep_source ? "kept" : "undefined"));
	json_object_put(def);
	virtkit_disconnect(conn);
	return http_json(req->conn, MHD_HTTP_OK, reply);
fail:
	vk_error_prefix(&err, "cannot migrate instance '%s' to '%s'", inst->name, m.to);
	json_object_put(def);
	if (conn)
		virtkit_disconnect(conn);
	return http_vk_error(req->conn, &err);
}

/* ---- the destination ------------------------------------------------------------------- */

enum MHD_Result api_incoming(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	char addr[ADDR_MAX];
	json_object *o;
	int r;

	if (req->len > 0 && !(req->len == 2 && memcmp(req->body, "{}", 2) == 0))
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST, "this request takes no body");
	if (req->m.id == ROUTE_INCOMING_CONFIRM)
		r = lifecycle_incoming_confirm(inst, &err);
	else if (strcmp(req->method, "DELETE") == 0)
		r = lifecycle_incoming_abort(inst, &err);
	else
		r = lifecycle_incoming(inst, addr, sizeof(addr), &err);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	o = instance_summary(inst);
	if (req->m.id == ROUTE_INCOMING && strcmp(req->method, "POST") == 0) {
		json_object *w = json_object_new_object();

		json_object_object_add(w, "incoming", json_object_new_string(addr));
		json_object_object_add(w, "instance", o);
		o = w;
	}
	return http_json(req->conn, MHD_HTTP_OK, o);
}
