/* SPDX-License-Identifier: MIT */
/*
 * The REST API, version 1.0 (docs/api.md): server information, instance
 * definitions (JSON or libvirt domain XML), lifecycle actions, domain XML
 * export, console logs and statistics. Streams (console, exec, events) are
 * in api-stream.c.
 */
#include "daemon/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/api-images.h"
#include "daemon/api-migrate.h"
#include "daemon/api-network.h"
#include "daemon/api-remote.h"
#include "daemon/api-saved.h"
#include "daemon/api-stream.h"
#include "daemon/api-volumes.h"
#include "daemon/domxml.h"
#include "daemon/driver.h"
#include "daemon/events.h"
#include "daemon/http.h"
#include "daemon/images.h"
#include "daemon/lifecycle.h"
#include "daemon/paths.h"
#include "daemon/store.h"
#include "daemon/volumes.h"

static struct api_settings settings;

static int undefine(struct instance *inst, json_object **summary, struct vk_error *err);

void api_init(const struct api_settings *s)
{
	settings = *s;
	api_exec_init(s->paths);
	api_logs_init(s->paths);
	api_host_init(s->vm_binary, s->oci_runtime, s->shim);
	api_saved_init(s->store, s->paths, s->vm_binary);
	api_migrate_init(undefine);
	api_images_init(s->store);
}

static json_object *instance_full(struct instance *inst)
{
	json_object *o = instance_summary(inst), *rt = json_object_new_object();
	pid_t pid;

	json_object_object_add(o, "definition", instance_def(inst));
	pthread_mutex_lock(&inst->lock);
	pid = inst->pid;
	pthread_mutex_unlock(&inst->lock);
	if (pid > 0)
		json_object_object_add(rt, "pid", json_object_new_int(pid));
	json_object_object_add(o, "runtime", rt);
	return o;
}

static bool body_is_xml(struct http_req *req)
{
	const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
	size_t i;

	if (ct && (vk_startswith(ct, "application/xml") || vk_startswith(ct, "text/xml")))
		return true;
	if (ct && vk_startswith(ct, "application/json"))
		return false;
	for (i = 0; i < req->len && (req->body[i] == ' ' || req->body[i] == '\n' ||
	                             req->body[i] == '\r' || req->body[i] == '\t');
	     i++)
		;
	return i < req->len && req->body[i] == '<';
}

/*
 * The body as a raw definition (JSON, or domain XML converted), not yet
 * checked; rep gets the XML importer's warnings and problems (free it).
 */
static int parse_raw(struct http_req *req, json_object **raw, struct domxml_report *rep,
                     struct vk_error *err)
{
	rep->warnings = rep->problems = NULL;
	if (req->len == 0)
		return vk_error_set(
		        err, EINVAL,
		        "the request needs a body: a JSON definition or a libvirt domain XML");
	return body_is_xml(req) ? domxml_import(req->body, req->len, raw, rep, err)
	                        : def_parse_json(req->body, req->len, raw, err);
}

/*
 * Normalize a raw definition (consumed); force_uuid fills a missing "uuid".
 * Its volumes are pinned (volumes.h) until the caller's volumes_unpin(*pins).
 */
static int normalize(json_object *raw, const char *force_uuid, json_object **def, bool *autostart,
                     json_object **pins, struct vk_error *err)
{
	int r;

	*pins = NULL;
	if (force_uuid && json_object_is_type(raw, json_type_object) &&
	    !json_object_object_get_ex(raw, "uuid", NULL))
		json_object_object_add(raw, "uuid", json_object_new_string(force_uuid));
	r = def_normalize(raw, def, autostart, err);
	json_object_put(raw);
	if (r == 0 &&
	    ((r = domxml_check_metadata(*def, err)) < 0 || (r = volumes_pin(*def, pins, err)) < 0))
		json_object_put(*def);
	return r;
}

/*
 * The error reply for a definition: for a refused domain XML document every
 * problem, one per line in the message and as a list ("problems").
 */
static enum MHD_Result definition_error(struct http_req *req, struct domxml_report *rep,
                                        struct vk_error *err)
{
	size_t n = rep->problems ? json_object_array_length(rep->problems) : 0;
	json_object *o, *e;
	char *msg = NULL;
	size_t len = 0;
	FILE *f;

	if (n == 0)
		return http_vk_error(req->conn, err);
	f = open_memstream(&msg, &len);
	if (!f)
		return http_vk_error(req->conn, err);
	if (n > 1)
		fprintf(f, "domain XML has %zu problems:", n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%sdomain XML: %s", i || n > 1 ? "\n" : "",
		        json_object_get_string(json_object_array_get_idx(rep->problems, i)));
	fclose(f);
	o = http_error_json(MHD_HTTP_BAD_REQUEST, msg ? msg : err->msg);
	free(msg);
	e = json_object_object_get(o, "error");
	json_object_object_add(e, "problems", json_object_get(rep->problems));
	return http_json(req->conn, MHD_HTTP_BAD_REQUEST, o);
}

/* An instance reply, with the XML importer's warnings when there were any. */
static json_object *with_warnings(json_object *o, const struct domxml_report *rep)
{
	if (rep && rep->warnings && json_object_array_length(rep->warnings) > 0)
		json_object_object_add(o, "warnings", json_object_get(rep->warnings));
	return o;
}

/* An optional JSON object body whose keys must all be in allowed[]. */
static int parse_options(struct http_req *req, const char *const *allowed, json_object **out,
                         struct vk_error *err)
{
	json_object *o;
	int r;

	*out = NULL;
	if (req->len == 0)
		return 0;
	if ((r = def_parse_json(req->body, req->len, &o, err)) < 0)
		return r;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "the request body must be a JSON object");
	}
	json_object_object_foreach(o, key, val)
	{
		const char *const *a;
		bool ok = false;
		(void)val;
		for (a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			r = vk_error_set(err, EINVAL, "unknown field '%.64s' in the request", key);
			json_object_put(o);
			return r;
		}
	}
	*out = o;
	return 0;
}

static enum MHD_Result get_server(struct http_req *req)
{
	json_object *o = json_object_new_object(), *d = json_object_new_array();

	json_object_object_add(o, "api_version", json_object_new_string("1.0"));
	json_object_object_add(o, "server", json_object_new_string("virtkitd"));
	json_object_object_add(o, "version", json_object_new_string(VIRTKIT_VERSION));
	json_object_array_add(d, json_object_new_string("vm"));
	json_object_array_add(d, json_object_new_string("container"));
	json_object_object_add(o, "drivers", d);
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "event_seq", json_object_new_int64(events_last_seq()));
	json_object_object_add(o, "vm_binary", json_object_new_string(settings.vm_binary));
	json_object_object_add(o, "oci_runtime", json_object_new_string(settings.oci_runtime));
	json_object_object_add(o, "auth", json_object_new_string(req->tls ? "trusted" : "unix"));
	return http_json(req->conn, MHD_HTTP_OK, o);
}

static enum MHD_Result list_instances(struct http_req *req)
{
	const char *type = http_arg(req->conn, "type"), *state = http_arg(req->conn, "state");
	struct instance **list;
	size_t n, i, len = 0, cap = 4096;
	char *buf = malloc(cap);
	enum MHD_Result mr;
	int r = 0;

	if (!buf || instance_list(&list, &n) < 0) {
		free(buf);
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	/* Cached summaries, copied: 1,000 instances cost about as much as one. */
	len = (size_t)snprintf(buf, cap, "{\"instances\":[");
	for (i = 0; i < n && r == 0; i++)
		r = instance_summary_append(list[i], type, state, &buf, &len, &cap);
	instance_list_free(list, n);
	if (r == 0 && len + 4 > cap) {
		char *b = realloc(buf, len + 4);
		r = b ? 0 : -ENOMEM;
		if (b)
			buf = b;
	}
	if (r < 0) {
		free(buf);
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	memcpy(buf + len, "]}\n", 3);
	len += 3;
	mr = http_text(req->conn, MHD_HTTP_OK, "application/json", buf, len);
	free(buf);
	return mr;
}

/*
 * Give inst the normalized definition def (consumed), under its job: same name,
 * uuid and type; autostart too when not NULL (define --update of a file that
 * says it). The reply is the instance as it is now.
 */
static enum MHD_Result replace_definition(struct http_req *req, struct instance *inst,
                                          json_object *def, const bool *autostart,
                                          const struct domxml_report *rep)
{
	struct vk_error err = {0};
	struct vk_event ev;
	json_object *old;
	int r;

	if (strcmp(def_name(def), inst->name) != 0)
		r = vk_error_set(&err, EINVAL, "renaming is not supported ('%s' → '%s')",
		                 inst->name, def_name(def));
	else if (strcmp(def_uuid(def), inst->uuid) != 0)
		r = vk_error_set(&err, EINVAL, "the uuid of instance '%s' cannot change",
		                 inst->name);
	else if (def_type(def) != inst->type)
		r = vk_error_set(&err, EINVAL, "the type of instance '%s' cannot change",
		                 inst->name);
	else
		r = lifecycle_job_begin(inst, "update", JOB_WAIT_MS, &err);
	if (r < 0) {
		json_object_put(def);
		return http_vk_error(req->conn, &err);
	}
	instance_event(inst, "updated", &ev);
	r = store_set_definition(
	        settings.store, inst->uuid,
	        json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
	        &ev, &err);
	if (r == 0) {
		pthread_mutex_lock(&inst->lock);
		old = inst->def;
		inst->def = def;
		pthread_mutex_unlock(&inst->lock);
		json_object_put(old);
	} else {
		json_object_put(def);
	}
	if (r == 0 && autostart && *autostart != inst->autostart) {
		instance_event(inst, *autostart ? "autostart-on" : "autostart-off", &ev);
		r = store_set_autostart(settings.store, inst->uuid, *autostart, &ev, &err);
		if (r == 0)
			instance_set_autostart(inst, *autostart);
	}
	lifecycle_job_end(inst);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	return http_json(req->conn, MHD_HTTP_OK, with_warnings(instance_full(inst), rep));
}

/*
 * POST ?update=1: an instance with the definition's name (or, without a name
 * match, its uuid) gets the definition instead of a conflict. NULL: none.
 */
static struct instance *update_target(json_object *raw)
{
	json_object *v;
	struct instance *inst = NULL;

	if (!json_object_is_type(raw, json_type_object))
		return NULL;
	if (json_object_object_get_ex(raw, "name", &v) && json_object_is_type(v, json_type_string))
		inst = instance_lookup(json_object_get_string(v), NULL);
	if (!inst && json_object_object_get_ex(raw, "uuid", &v) &&
	    json_object_is_type(v, json_type_string))
		inst = instance_find(json_object_get_string(v), NULL);
	return inst;
}

static enum MHD_Result define_instance(struct http_req *req)
{
	const char *update = http_arg(req->conn, "update");
	struct vk_error err = {0};
	struct store_instance row = {0};
	struct vk_event ev = {0};
	struct domxml_report rep;
	struct instance *inst;
	json_object *def, *raw, *pins;
	bool autostart = false;
	char loc[128];
	enum MHD_Result mr;

	if (parse_raw(req, &raw, &rep, &err) < 0) {
		mr = definition_error(req, &rep, &err);
		domxml_report_free(&rep);
		return mr;
	}
	if (update && strcmp(update, "0") != 0 && (inst = update_target(raw))) {
		bool given = json_object_object_get_ex(raw, "autostart", NULL);

		if (normalize(raw, inst->uuid, &def, &autostart, &pins, &err) < 0)
			mr = http_vk_error(req->conn, &err);
		else
			mr = replace_definition(req, inst, def, given ? &autostart : NULL, &rep);
		volumes_unpin(pins);
		instance_unref(inst);
		domxml_report_free(&rep);
		return mr;
	}
	if (normalize(raw, NULL, &def, &autostart, &pins, &err) < 0) {
		domxml_report_free(&rep);
		return http_vk_error(req->conn, &err);
	}
	/* Reserve the name, store durably, then make it visible. */
	if (instance_add(def, autostart, ST_SHUTOFF, "defined", true, &inst, &err) < 0) {
		json_object_put(def);
		volumes_unpin(pins);
		domxml_report_free(&rep);
		return http_vk_error(req->conn, &err);
	}
	snprintf(row.uuid, sizeof(row.uuid), "%s", inst->uuid);
	snprintf(row.name, sizeof(row.name), "%s", inst->name);
	snprintf(row.type, sizeof(row.type), "%s", def_type_name(inst->type));
	row.definition = json_object_to_json_string_ext(
	        def, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	row.autostart = autostart;
	snprintf(row.state, sizeof(row.state), "shutoff");
	snprintf(row.reason, sizeof(row.reason), "defined");
	instance_event(inst, "defined", &ev);
	if (store_insert(settings.store, &row, &ev, &err) < 0) {
		instance_remove(inst);
		instance_unref(inst);
		json_object_put(def);
		volumes_unpin(pins);
		domxml_report_free(&rep);
		return http_vk_error(req->conn, &err);
	}
	json_object_put(def);
	instance_publish(inst);
	volumes_unpin(pins); /* published: its volumes are attached now */
	snprintf(loc, sizeof(loc), "/1.0/instances/%s", inst->name);
	mr = http_json_hdr(req->conn, MHD_HTTP_CREATED, with_warnings(instance_full(inst), &rep),
	                   MHD_HTTP_HEADER_LOCATION, loc);
	instance_unref(inst);
	domxml_report_free(&rep);
	return mr;
}

static enum MHD_Result update_instance(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	struct domxml_report rep;
	enum MHD_Result mr;
	json_object *raw, *def, *pins = NULL;

	if (parse_raw(req, &raw, &rep, &err) < 0)
		mr = definition_error(req, &rep, &err);
	else if (normalize(raw, inst->uuid, &def, NULL, &pins, &err) < 0)
		mr = http_vk_error(req->conn, &err);
	else
		mr = replace_definition(req, inst, def, NULL, &rep);
	volumes_unpin(pins);
	domxml_report_free(&rep);
	return mr;
}

static enum MHD_Result patch_instance(struct http_req *req, struct instance *inst)
{
	static const char *const keys[] = {"autostart", NULL};
	struct vk_error err = {0};
	struct vk_event ev;
	json_object *o, *v;
	bool on;
	int r;

	if (parse_options(req, keys, &o, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (!o || !json_object_object_get_ex(o, "autostart", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		json_object_put(o);
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "PATCH needs {\"autostart\": true|false}");
	}
	on = json_object_get_boolean(v);
	json_object_put(o);
	/*
	 * Under the job, like every change: two PATCHes (or a PATCH and an
	 * undefine) must reach the store and memory in the same order.
	 */
	if (lifecycle_job_begin(inst, "autostart", JOB_WAIT_MS, &err) < 0)
		return http_vk_error(req->conn, &err);
	instance_event(inst, on ? "autostart-on" : "autostart-off", &ev);
	r = store_set_autostart(settings.store, inst->uuid, on, &ev, &err);
	if (r == 0)
		instance_set_autostart(inst, on);
	lifecycle_job_end(inst);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	return http_json(req->conn, MHD_HTTP_OK, instance_full(inst));
}

/* Undefine a shut-off instance, under its job (api_undefine_fn). */
static int undefine(struct instance *inst, json_object **summary, struct vk_error *err)
{
	struct vk_event ev;
	char log[PATH_MAX + 4];
	int r;

	if (summary)
		*summary = NULL;
	if ((r = lifecycle_job_begin(inst, "undefine", JOB_WAIT_MS, err)) < 0)
		return r;
	pthread_mutex_lock(&inst->lock);
	if (inst_state_active(inst->state))
		r = vk_error_set(err, EBUSY, "instance '%s' is %s: stop it first", inst->name,
		                 inst_state_name(inst->state));
	pthread_mutex_unlock(&inst->lock);
	if (r == 0) {
		instance_event(inst, "undefined", &ev);
		r = store_delete(settings.store, inst->uuid, &ev, err);
	}
	if (r == 0) {
		if (summary)
			*summary = instance_summary(inst);
		api_saved_forget(inst->uuid);
		instance_remove(inst);
		images_release(inst->uuid); /* its disk or rootfs, when launched from an image */
		if (paths_log(settings.paths, inst->uuid, log, sizeof(log) - 2) == 0) {
			unlink(log);
			strcat(log, ".1");
			unlink(log);
		}
	}
	lifecycle_job_end(inst);
	return r;
}

static enum MHD_Result undefine_instance(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	json_object *summary;

	if (undefine(inst, &summary, &err) < 0)
		return http_vk_error(req->conn, &err);
	return http_json(req->conn, MHD_HTTP_OK, summary);
}

static enum MHD_Result do_action(struct http_req *req, struct instance *inst)
{
	static const char *const stop_keys[] = {"force", "timeout", NULL};
	static const char *const none[] = {NULL};
	enum route_action a = req->m.action;
	struct vk_error err = {0};
	struct stop_report stop = {0};
	json_object *o = NULL, *reply;
	bool force = false;
	int timeout = 0, r;

	if (parse_options(req, a == ACTION_STOP || a == ACTION_RESTART ? stop_keys : none, &o,
	                  &err) < 0)
		return http_vk_error(req->conn, &err);
	if (o) {
		json_object *v;
		if (json_object_object_get_ex(o, "force", &v)) {
			if (!json_object_is_type(v, json_type_boolean) || a != ACTION_STOP) {
				json_object_put(o);
				return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
				                  "'force' must be true or false (stop only)");
			}
			force = json_object_get_boolean(v);
		}
		if (json_object_object_get_ex(o, "timeout", &v)) {
			if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
			    json_object_get_int(v) > 3600) {
				json_object_put(o);
				return http_error(
				        req->conn, MHD_HTTP_BAD_REQUEST,
				        "'timeout' must be a number of seconds from 1 to 3600");
			}
			timeout = json_object_get_int(v);
		}
		json_object_put(o);
	}
	switch (a) {
	case ACTION_START:
		r = lifecycle_start(inst, false, &err);
		break;
	case ACTION_STOP:
		r = lifecycle_stop(inst, force, timeout, &stop, &err);
		break;
	case ACTION_KILL:
		r = lifecycle_kill(inst, &err);
		break;
	case ACTION_RESTART:
		r = lifecycle_restart(inst, timeout, &err);
		break;
	case ACTION_PAUSE:
		r = lifecycle_pause(inst, &err);
		break;
	case ACTION_RESUME:
		r = lifecycle_resume(inst, &err);
		break;
	default:
		r = vk_error_set(&err, ENOENT, "unknown action");
		break;
	}
	if (r < 0)
		return http_vk_error(req->conn, &err);
	reply = instance_summary(inst);
	/* The plug was pulled: the client must not call that a plain stop. */
	if ((a == ACTION_STOP && force) || a == ACTION_KILL)
		json_object_object_add(reply, "forced", json_object_new_boolean(1));
	if (a == ACTION_STOP && !force) {
		/* Whether the graceful stop had to kill: the client says so (Podman's warning). */
		json_object_object_add(reply, "escalated", json_object_new_boolean(stop.escalated));
		json_object_object_add(reply, "stop_timeout", json_object_new_int(stop.timeout_s));
		if (stop.signal[0])
			json_object_object_add(reply, "stop_signal",
			                       json_object_new_string(stop.signal));
	}
	return http_json(req->conn, MHD_HTTP_OK, reply);
}

static enum MHD_Result get_xml(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	json_object *def = instance_def(inst);
	enum MHD_Result mr;
	char *xml;
	int r = domxml_export(def, &xml, &err);

	json_object_put(def);
	if (r < 0)
		return http_vk_error(req->conn, &err);
	mr = http_text(req->conn, MHD_HTTP_OK, "application/xml", xml, strlen(xml));
	free(xml);
	return mr;
}

static enum MHD_Result get_stats(struct http_req *req, struct instance *inst)
{
	struct vk_error err = {0};
	json_object *o;
	int r;

	if ((r = lifecycle_job_begin(inst, "stats", 5000, &err)) < 0)
		return http_vk_error(req->conn, &err);
	o = instance_summary(inst);
	pthread_mutex_lock(&inst->lock);
	if (inst->state != ST_RUNNING && inst->state != ST_PAUSED)
		r = vk_error_set(&err, ENOTCONN, "instance '%s' is not running", inst->name);
	pthread_mutex_unlock(&inst->lock);
	if (r == 0)
		r = driver_for(inst->type)->stats(inst, o, &err);
	lifecycle_job_end(inst);
	if (r < 0) {
		json_object_put(o);
		return http_vk_error(req->conn, &err);
	}
	return http_json(req->conn, MHD_HTTP_OK, o);
}

enum MHD_Result api_dispatch(void *opaque, struct http_req *req)
{
	struct vk_error err = {0};
	struct instance *inst;
	enum MHD_Result mr;

	(void)opaque;
	if (vk_startswith(req->url, "/1.0/images") && (req->url[11] == '\0' || req->url[11] == '/'))
		return api_images(req);
	if (router_match(req->method, req->url, &req->m, &err) < 0) {
		if (err.code == EOPNOTSUPP)
			return http_json_hdr(req->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			                     http_error_json(MHD_HTTP_METHOD_NOT_ALLOWED, err.msg),
			                     MHD_HTTP_HEADER_ALLOW, req->m.allow);
		return http_vk_error(req->conn, &err);
	}
	switch (req->m.id) {
	case ROUTE_SERVER:
		return get_server(req);
	case ROUTE_EVENTS:
		return api_events(req);
	case ROUTE_HOST:
		return api_host(req);
	case ROUTE_POOLS:
	case ROUTE_POOL:
	case ROUTE_VOLUMES:
	case ROUTE_VOLUME:
		return api_volumes(req);
	case ROUTE_INSTANCES:
		return strcmp(req->method, "GET") == 0 ? list_instances(req) : define_instance(req);
	case ROUTE_NETWORKS:
	case ROUTE_NETWORK:
	case ROUTE_NETWORK_LEASES:
		return api_network(req);
	case ROUTE_RESTORE:
		return api_restore(req);
	case ROUTE_TRUST:
	case ROUTE_TRUST_CERT:
	case ROUTE_TRUST_TOKENS:
	case ROUTE_TRUST_TOKEN:
		return api_trust(req);
	default:
		break;
	}
	inst = instance_find(req->m.name, &err);
	if (!inst)
		return http_vk_error(req->conn, &err);
	switch (req->m.id) {
	case ROUTE_INSTANCE:
		if (strcmp(req->method, "GET") == 0)
			mr = http_json(req->conn, MHD_HTTP_OK, instance_full(inst));
		else if (strcmp(req->method, "PUT") == 0)
			mr = update_instance(req, inst);
		else if (strcmp(req->method, "PATCH") == 0)
			mr = patch_instance(req, inst);
		else
			mr = undefine_instance(req, inst);
		break;
	case ROUTE_ACTION:
		mr = do_action(req, inst);
		break;
	case ROUTE_XML:
		mr = get_xml(req, inst);
		break;
	case ROUTE_LOGS:
		mr = api_logs(req, inst);
		break;
	case ROUTE_STATS:
		mr = get_stats(req, inst);
		break;
	case ROUTE_CONSOLE:
		mr = api_console(req, inst);
		break;
	case ROUTE_EXEC:
		mr = api_exec(req, inst);
		break;
	case ROUTE_SAVE:
		mr = api_save(req, inst);
		break;
	case ROUTE_MIGRATE:
		mr = api_migrate(req, inst);
		break;
	case ROUTE_INCOMING:
	case ROUTE_INCOMING_CONFIRM:
		mr = api_incoming(req, inst);
		break;
	case ROUTE_SNAPSHOTS:
	case ROUTE_SNAPSHOT:
	case ROUTE_SNAPSHOT_RESTORE:
		mr = api_snapshots(req, inst);
		break;
	default:
		mr = http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
		break;
	}
	instance_unref(inst);
	return mr;
}
