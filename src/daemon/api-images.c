/* SPDX-License-Identifier: MIT */
/*
 * The images endpoints of API 1.0 (docs/api.md, "Images"):
 *   GET    /1.0/images                       list
 *   POST   /1.0/images                       import {"source", "aliases"}
 *   GET    /1.0/images/aliases               every alias
 *   POST   /1.0/images/aliases               {"name", "target"}
 *   DELETE /1.0/images/aliases/NAME
 *   GET    /1.0/images/REF                   one image (REF: alias, fingerprint or prefix)
 *   DELETE /1.0/images/REF                   refused (409) while instances use it
 *   POST   /1.0/images/REF/launch            define (and start) an instance from it
 * The work is in images.c; this file parses, answers, and for a launch defines
 * the instance as POST /1.0/instances would.
 */
#include "daemon/api-images.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/def.h"
#include "daemon/images.h"
#include "daemon/instance.h"
#include "daemon/lifecycle.h"
#include "daemon/store.h"

#define REF_MAX    80
#define SEGS       4
#define ALIASES    16
#define LAUNCH_ARG 256

static struct store *images_store;

void api_images_init(struct store *store)
{
	images_store = store;
}

static bool ref_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REF_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._:-", *s)))
			return false;
	return true;
}

/* The body as a JSON object whose keys are all in allowed (an empty body: {}). */
static int body_object(struct http_req *req, const char *const *allowed, json_object **out,
                       struct vk_error *err)
{
	json_object *o;
	int r;

	if (req->len == 0) {
		*out = json_object_new_object();
		return 0;
	}
	if ((r = def_parse_json(req->body, req->len, &o, err)) < 0)
		return r;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "the request body must be a JSON object");
	}
	json_object_object_foreach(o, key, val)
	{
		bool ok = false;
		(void)val;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			json_object_put(o);
			return vk_error_set(err, EINVAL, "unknown field '%.64s' in the request",
			                    key);
		}
	}
	*out = o;
	return 0;
}

static const char *get_string(json_object *o, const char *key, bool required, const char **out,
                              struct vk_error *err)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			vk_error_set(err, EINVAL, "the request needs \"%s\"", key);
		return required ? NULL : "";
	}
	if (!json_object_is_type(v, json_type_string)) {
		vk_error_set(err, EINVAL, "\"%s\" must be a string", key);
		return NULL;
	}
	*out = json_object_get_string(v);
	return *out;
}

/* --- import ----------------------------------------------------------------------------- */

/* Most import errors are the image's fault (400); the host's own stay 5xx. */
static unsigned import_status(int code)
{
	switch (code) {
	case ENOENT:
	case EXDEV:
	case ELOOP:
	case ENOTDIR:
	case EISDIR:
	case ENOEXEC:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return http_status_for(code);
	}
}

static enum MHD_Result import(struct http_req *req)
{
	static const char *const keys[] = {"source", "aliases", NULL};
	const char *aliases[ALIASES];
	struct image_import in = {.aliases = aliases};
	struct vk_error err = {0};
	json_object *body, *al, *out;
	bool created = false;
	enum MHD_Result mr;
	int r;

	if (body_object(req, keys, &body, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (!get_string(body, "source", true, &in.source, &err))
		goto bad;
	if (in.source[0] != '/') {
		vk_error_set(&err, EINVAL,
		             "\"source\" must be an absolute path on the daemon's host");
		goto bad;
	}
	if (json_object_object_get_ex(body, "aliases", &al)) {
		if (!json_object_is_type(al, json_type_array) ||
		    json_object_array_length(al) > ALIASES) {
			vk_error_set(&err, EINVAL, "\"aliases\" must be a list of at most %d names",
			             ALIASES);
			goto bad;
		}
		for (size_t i = 0; i < json_object_array_length(al); i++) {
			json_object *a = json_object_array_get_idx(al, i);
			if (!json_object_is_type(a, json_type_string)) {
				vk_error_set(&err, EINVAL, "\"aliases\" must be a list of names");
				goto bad;
			}
			aliases[in.nr_aliases++] = json_object_get_string(a);
		}
	}
	r = images_import(&in, &out, &created, &err);
	json_object_put(body);
	if (r < 0)
		return http_error(req->conn, import_status(err.code), "%s", err.msg);
	json_object_object_add(out, "created", json_object_new_boolean(created));
	mr = http_json(req->conn, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, out);
	return mr;
bad:
	json_object_put(body);
	return http_vk_error(req->conn, &err);
}

/* --- launch ------------------------------------------------------------------------------ */

static int launch_options(json_object *body, struct image_launch *l, const char **args, bool *start,
                          struct vk_error *err)
{
	json_object *v;
	const char *net;

	if (!get_string(body, "name", true, &l->name, err))
		return -EINVAL;
	if (!def_name_valid(l->name))
		return vk_error_set(
		        err, EINVAL,
		        "\"name\" '%.80s' is not a valid instance name (1-63 of A-Z a-z "
		        "0-9 - _ ., starting with a letter or digit)",
		        l->name);
	if (json_object_object_get_ex(body, "memory", &v)) {
		if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
			l->memory = (uint64_t)json_object_get_int64(v);
		else if (!json_object_is_type(v, json_type_string) ||
		         vk_parse_size(json_object_get_string(v), &l->memory, err) < 0)
			return vk_error_set(err, EINVAL,
			                    "\"memory\" must be a size (\"512M\", bytes)");
	}
	if (json_object_object_get_ex(body, "cpus", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
		    json_object_get_int(v) > 64)
			return vk_error_set(err, EINVAL, "\"cpus\" must be a number from 1 to 64");
		l->cpus = (unsigned)json_object_get_int(v);
	}
	if (json_object_object_get_ex(body, "args", &v)) {
		size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v)
		                                                   : LAUNCH_ARG + 1;
		if (n > LAUNCH_ARG)
			return vk_error_set(err, EINVAL,
			                    "\"args\" must be a list of at most %d strings",
			                    LAUNCH_ARG);
		for (size_t i = 0; i < n; i++) {
			json_object *a = json_object_array_get_idx(v, i);
			if (!json_object_is_type(a, json_type_string))
				return vk_error_set(err, EINVAL,
				                    "\"args\" must be a list of strings");
			args[i] = json_object_get_string(a);
		}
		args[n] = NULL;
		l->args = args;
	}
	if (!get_string(body, "network", false, &net, err))
		return -EINVAL;
	if (net && (!net[0] || strlen(net) > 80))
		return vk_error_set(err, EINVAL,
		                    "\"network\" must name a network (at most 80 bytes)");
	l->network = net; /* checked with the definition it goes into */
	if (json_object_object_get_ex(body, "start", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return vk_error_set(err, EINVAL, "\"start\" must be true or false");
		*start = json_object_get_boolean(v);
	}
	return 0;
}

/* Define def (consumed) as POST /1.0/instances does: reserve the name, store, publish. */
static int define(json_object *def, struct instance **out, struct vk_error *err)
{
	struct store_instance row = {0};
	struct vk_event ev = {0};
	struct instance *inst;
	int r;

	r = instance_add(def, false, ST_SHUTOFF, "defined", true, &inst, err);
	if (r < 0) {
		json_object_put(def);
		return r;
	}
	snprintf(row.uuid, sizeof(row.uuid), "%s", inst->uuid);
	snprintf(row.name, sizeof(row.name), "%s", inst->name);
	snprintf(row.type, sizeof(row.type), "%s", def_type_name(inst->type));
	row.definition = json_object_to_json_string_ext(
	        def, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(row.state, sizeof(row.state), "shutoff");
	snprintf(row.reason, sizeof(row.reason), "defined");
	instance_event(inst, "defined", &ev);
	r = store_insert(images_store, &row, &ev, err);
	json_object_put(def);
	if (r < 0) {
		instance_remove(inst);
		instance_unref(inst);
		return r;
	}
	instance_publish(inst);
	*out = inst;
	return 0;
}

static enum MHD_Result launch(struct http_req *req, const char *ref)
{
	static const char *const keys[] = {"name",    "memory", "cpus", "args",
	                                   "network", "start",  NULL};
	const char *args[LAUNCH_ARG + 1];
	struct image_launch l = {0};
	struct vk_error err = {0};
	char uuid[DEF_UUID_LEN + 1], fp[IMAGE_FP_LEN + 1];
	json_object *body, *raw, *def, *o;
	struct instance *inst;
	bool start = true;
	int r;

	if (body_object(req, keys, &body, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (launch_options(body, &l, args, &start, &err) < 0) {
		json_object_put(body);
		return http_vk_error(req->conn, &err);
	}
	if ((inst = instance_lookup(l.name, NULL))) {
		instance_unref(inst);
		json_object_put(body);
		return http_error(req->conn, MHD_HTTP_CONFLICT, "an instance named '%s' exists",
		                  l.name);
	}
	r = images_prepare(ref, &l, &raw, uuid, fp, &err);
	json_object_put(body); /* l's strings are no longer needed */
	if (r < 0)
		return http_vk_error(req->conn, &err);
	r = def_normalize(raw, &def, NULL, &err);
	json_object_put(raw);
	if (r == 0)
		r = define(def, &inst, &err);
	if (r < 0) {
		images_discard(uuid);
		return http_vk_error(req->conn, &err);
	}
	images_claim(uuid);
	if (start && lifecycle_start(inst, false, &err) < 0) {
		enum MHD_Result mr =
		        http_error(req->conn, http_status_for(err.code),
		                   "instance '%s' was made from image %.12s but did not "
		                   "start (it stays defined): %s",
		                   inst->name, fp, err.msg);
		instance_unref(inst);
		return mr;
	}
	o = instance_summary(inst);
	json_object_object_add(o, "image", json_object_new_string(fp));
	instance_unref(inst);
	return http_json(req->conn, MHD_HTTP_CREATED, o);
}

/* --- aliases, the rest ---------------------------------------------------------------------- */

static enum MHD_Result add_alias(struct http_req *req)
{
	static const char *const keys[] = {"name", "target", NULL};
	struct vk_error err = {0};
	const char *name, *target;
	json_object *body, *o;
	int r = 0;

	if (body_object(req, keys, &body, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (!get_string(body, "name", true, &name, &err) ||
	    !get_string(body, "target", true, &target, &err) ||
	    (r = images_alias_add(name, target, &err)) < 0) {
		json_object_put(body);
		return http_vk_error(req->conn, &err);
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_put(body);
	(void)r;
	return http_json(req->conn, MHD_HTTP_CREATED, o);
}

static enum MHD_Result reply(struct http_req *req, int r, json_object *o, struct vk_error *err)
{
	if (r < 0)
		return http_vk_error(req->conn, err);
	return http_json(req->conn, MHD_HTTP_OK, o ? o : json_object_new_object());
}

static enum MHD_Result not_allowed(struct http_req *req, const char *allow)
{
	return http_json_hdr(
	        req->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
	        http_error_json(MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed on this path"),
	        MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result api_images(struct http_req *req)
{
	char segs[SEGS][REF_MAX + 2];
	const char *p = req->url + strlen("/1.0/images");
	const char *m = req->method;
	struct vk_error err = {0};
	json_object *o = NULL;
	int n = 0, r;

	while (*p == '/' && n < SEGS) {
		size_t len = strcspn(++p, "/");
		if (len == 0 || len > REF_MAX)
			return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
		memcpy(segs[n], p, len);
		segs[n++][len] = '\0';
		p += len;
	}
	if (*p)
		return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
	for (int i = 0; i < n; i++)
		if (!ref_ok(segs[i]))
			return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
			                  "invalid image name or alias in the request path");
	if (n == 0) {
		if (!strcmp(m, "GET")) {
			r = images_list(&o, &err);
			return reply(req, r, o, &err);
		}
		return !strcmp(m, "POST") ? import(req) : not_allowed(req, "GET, POST");
	}
	if (!strcmp(segs[0], "aliases")) {
		if (n == 1 && !strcmp(m, "GET")) {
			r = images_aliases(&o, &err);
			return reply(req, r, o, &err);
		}
		if (n == 1)
			return !strcmp(m, "POST") ? add_alias(req) : not_allowed(req, "GET, POST");
		if (n == 2 && !strcmp(m, "DELETE")) {
			r = images_alias_del(segs[1], &err);
			return reply(req, r, NULL, &err);
		}
		return n == 2 ? not_allowed(req, "DELETE")
		              : http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
	}
	if (n == 1) {
		if (!strcmp(m, "GET")) {
			r = images_get(segs[0], &o, &err);
			return reply(req, r, o, &err);
		}
		if (!strcmp(m, "DELETE")) {
			r = images_delete(segs[0], &err);
			return reply(req, r, NULL, &err);
		}
		return not_allowed(req, "GET, DELETE");
	}
	if (n == 2 && !strcmp(segs[1], "launch"))
		return !strcmp(m, "POST") ? launch(req, segs[0]) : not_allowed(req, "POST");
	return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
}
