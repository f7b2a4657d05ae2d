/* SPDX-License-Identifier: MIT */
/*
 * config.json: reading the file, the top-level fields, root, hostname,
 * mounts and hooks. process and linux have their own files.
 */
#include "spec-internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SPEC_MAX_SIZE (16u << 20)

static const char *const hook_names[OCI_HOOK_KINDS] = {
        [OCI_HOOK_PRESTART] = "prestart",
        [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
        [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
        [OCI_HOOK_START_CONTAINER] = "startContainer",
        [OCI_HOOK_POSTSTART] = "poststart",
        [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind kind)
{
	return kind < OCI_HOOK_KINDS ? hook_names[kind] : "?";
}

/* Parse text into a json object, with the line and column of a syntax error. */
static json_object *parse_text(const char *json, size_t len, const char *fname,
                               struct vk_error *err)
{
	json_tokener *tok = json_tokener_new_ex(64);
	enum json_tokener_error jerr;
	json_object *o;
	size_t off, i, line = 1, col = 1;

	if (!tok) {
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (len > INT_MAX) {
		json_tokener_free(tok);
		vk_error_set(err, EFBIG, "%s: file too large", fname);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_success && o) {
		/* Only whitespace may follow the value. */
		for (i = off; i < len; i++)
			if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r')
				break;
		if (i == len)
			return o;
		json_object_put(o);
		off = i;
		jerr = json_tokener_error_parse_unexpected;
	}
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	for (i = 0; i < off && i < len; i++) {
		if (json[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	vk_error_set(err, EINVAL, "%s: invalid JSON at line %zu column %zu: %s", fname, line, col,
	             json_tokener_error_desc(jerr));
	return NULL;
}

static int parse_hook(struct sj *s, json_object *h, struct oci_hook *hook)
{
	uint32_t timeout = 0;
	bool has_timeout = false;
	int r;

	if (!json_object_is_type(h, json_type_object))
		return sj_fail(s, "expected an object");
	r = sj_string(s, h, "path", true, &hook->path);
	if (!r && hook->path[0] != '/') {
		size_t m = sj_push(s, "path");

		r = sj_fail(s, "must be an absolute path, got '%s'", hook->path);
		sj_pop(s, m);
	}
	if (!r)
		r = sj_strv(s, h, "args", &hook->args);
	if (!r)
		r = sj_strv(s, h, "env", &hook->env);
	if (!r)
		r = sj_u32(s, h, "timeout", false, &timeout, &has_timeout);
	if (!r && has_timeout && (timeout == 0 || timeout > INT_MAX)) {
		size_t m = sj_push(s, "timeout");

		r = sj_fail(s, "must be a positive number of seconds");
		sj_pop(s, m);
	}
	hook->timeout = (int)timeout;
	return r;
}

static int parse_hooks(struct sj *s, json_object *root, struct oci_spec *spec)
{
	json_object *hooks, *arr;
	size_t mark, m2, i;
	int k, r;

	r = sj_object(s, root, "hooks", &hooks);
	if (r || !hooks)
		return r;
	mark = sj_push(s, "hooks");
	for (k = 0; k < OCI_HOOK_KINDS && !r; k++) {
		struct oci_hook_list *l = &spec->hooks[k];

		r = sj_array(s, hooks, hook_names[k], &arr);
		if (r || !arr)
			continue;
		l->n = json_object_array_length(arr);
		l->v = calloc(l->n ? l->n : 1, sizeof(*l->v));
		if (!l->v) {
			l->n = 0;
			r = vk_error_set(s->err, ENOMEM, "out of memory");
			break;
		}
		m2 = sj_push(s, hook_names[k]);
		for (i = 0; i < l->n && !r; i++) {
			size_t m3 = sj_push_index(s, i);

			r = parse_hook(s, json_object_array_get_idx(arr, i), &l->v[i]);
			if (!r)
				sj_pop(s, m3);
		}
		if (!r)
			sj_pop(s, m2);
	}
	if (!r)
		sj_pop(s, mark);
	return r;
}

static int parse_mounts(struct sj *s, json_object *root, struct oci_spec *spec)
{
	json_object *arr;
	size_t mark, i;
	int r;

	r = sj_array(s, root, "mounts", &arr);
	if (r || !arr)
		return r;
	spec->n_mounts = json_object_array_length(arr);
	spec->mounts = calloc(spec->n_mounts ? spec->n_mounts : 1, sizeof(*spec->mounts));
	if (!spec->mounts) {
		spec->n_mounts = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "mounts");
	for (i = 0; i < spec->n_mounts; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_mount *m = &spec->mounts[i];
		size_t m2 = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_string(s, e, "destination", true, &m->destination);
		if (!r)
			r = sj_string(s, e, "type", false, &m->type);
		if (!r)
			r = sj_string(s, e, "source", false, &m->source);
		if (!r)
			r = sj_strv(s, e, "options", &m->options);
		if (!r)
			r = spec_parse_mount_options(s, m);
		if (r)
			return r;
		if (m->destination[0] != '/') {
			size_t m3 = sj_push(s, "destination");

			r = sj_fail(s, "must be an absolute path, got '%s'", m->destination);
			sj_pop(s, m3);
			return r;
		}
		if (!m->type && !m->bind)
			return sj_fail(s, "a mount needs a type or the bind option");
		sj_pop(s, m2);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_root(struct sj *s, json_object *root, struct oci_spec *spec)
{
	json_object *o;
	char *path = NULL, *abs = NULL;
	size_t mark;
	int r;

	r = sj_object(s, root, "root", &o);
	if (r)
		return r;
	if (!o) {
		sj_push(s, "root");
		return sj_fail(s, "required field is missing");
	}
	mark = sj_push(s, "root");
	r = sj_string(s, o, "path", true, &path);
	if (!r)
		r = sj_bool(s, o, "readonly", &spec->root_readonly);
	if (r) {
		free(path);
		return r;
	}
	if (!spec->bundle) {
		spec->root_path = path;
		sj_pop(s, mark);
		return 0;
	}
	if (path[0] != '/') {
		if (asprintf(&abs, "%s/%s", spec->bundle, path) < 0)
			abs = NULL;
	} else {
		abs = strdup(path);
	}
	if (!abs) {
		free(path);
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	spec->root_path = realpath(abs, NULL);
	if (!spec->root_path) {
		int e = errno;

		sj_push(s, "path");
		r = sj_fail(s, "cannot use root filesystem '%s': %s", abs, strerror(e));
		free(path);
		free(abs);
		return r;
	}
	free(path);
	free(abs);
	sj_pop(s, mark);
	return 0;
}

static int parse_doc(struct sj *s, json_object *root, struct oci_spec *spec)
{
	json_object *o;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return sj_fail(s, "expected a JSON object at the top level");
	r = sj_string(s, root, "ociVersion", true, &spec->oci_version);
	if (r)
		return r;
	if (strncmp(spec->oci_version, "1.", 2) != 0) {
		sj_push(s, "ociVersion");
		return sj_fail(s, "unsupported version '%s' (this runtime implements 1.x)",
		               spec->oci_version);
	}
	r = parse_root(s, root, spec);
	if (!r)
		r = sj_string(s, root, "hostname", false, &spec->hostname);
	if (!r)
		r = sj_string(s, root, "domainname", false, &spec->domainname);
	if (!r)
		r = parse_mounts(s, root, spec);
	if (!r)
		r = parse_hooks(s, root, spec);
	if (r)
		return r;
	r = sj_object(s, root, "annotations", &o);
	if (r)
		return r;
	if (o) {
		json_object_object_foreach(o, k, v)
		{
			if (!json_object_is_type(v, json_type_string)) {
				sj_push(s, "annotations");
				sj_push(s, k);
				return sj_fail(s, "expected a string");
			}
		}
	}
	spec->annotations_json =
	        strdup(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                             JSON_C_TO_STRING_NOSLASHESCAPE)
	                 : "{}");
	if (!spec->annotations_json)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	r = sj_object(s, root, "process", &o);
	if (r)
		return r;
	if (o) {
		size_t mark = sj_push(s, "process");

		spec->process = calloc(1, sizeof(*spec->process));
		if (!spec->process)
			return vk_error_set(s->err, ENOMEM, "out of memory");
		r = spec_parse_process(s, o, spec->process);
		if (r)
			return r;
		sj_pop(s, mark);
	}
	r = sj_object(s, root, "linux", &o);
	if (r)
		return r;
	if (o) {
		size_t mark = sj_push(s, "linux");

		r = spec_parse_linux(s, o, &spec->linux_);
		if (r)
			return r;
		sj_pop(s, mark);
	}
	for (size_t i = 0; i < spec->linux_.n_namespaces; i++)
		spec->ns_flags |= spec->linux_.namespaces[i].type;
	if (spec->hostname && *spec->hostname && !(spec->ns_flags & CLONE_NEWUTS))
		return vk_error_set(s->err, EINVAL,
		                    "%s: hostname: setting the hostname needs a uts namespace",
		                    s->fname);
	return 0;
}

struct oci_spec *oci_spec_parse(const char *json, size_t len, const char *bundle, const char *fname,
                                struct vk_error *err)
{
	struct oci_spec *spec;
	json_object *root;
	struct sj s;
	int r;

	root = parse_text(json, len, fname, err);
	if (!root)
		return NULL;
	spec = calloc(1, sizeof(*spec));
	if (!spec) {
		json_object_put(root);
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	spec->bundle = bundle ? strdup(bundle) : NULL;
	if (bundle && !spec->bundle) {
		vk_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	sj_init(&s, fname, err);
	r = parse_doc(&s, root, spec);
	if (r)
		goto fail;
	json_object_put(root);
	return spec;
fail:
	json_object_put(root);
	oci_spec_free(spec);
	return NULL;
}

struct oci_spec *oci_spec_load(const char *bundle, char **raw, size_t *raw_len,
                               struct vk_error *err)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	char *abs;
	size_t len;
	struct oci_spec *spec;

	abs = realpath(bundle, NULL);
	if (!abs) {
		vk_error_errno(err, errno, "cannot use bundle '%s'", bundle);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/config.json", abs);
	if (vk_read_file(path, SPEC_MAX_SIZE, &buf, &len, err) < 0) {
		free(abs);
		return NULL;
	}
	spec = oci_spec_parse((const char *)buf, len, abs, "config.json", err);
	if (spec && raw) {
		*raw = (char *)buf;
		*raw_len = len;
		buf = NULL;
	}
	free(buf);
	free(abs);
	return spec;
}

struct oci_spec *oci_spec_load_saved(int dirfd, struct vk_error *err)
{
	char path[64];
	uint8_t *buf = NULL;
	size_t len;
	struct oci_spec *spec;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/config.json", dirfd);
	if (vk_read_file(path, SPEC_MAX_SIZE, &buf, &len, err) < 0)
		return NULL;
	spec = oci_spec_parse((const char *)buf, len, NULL, "config.json", err);
	free(buf);
	return spec;
}

static void free_hooks(struct oci_hook_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		oci_strv_free(&l->v[i].args);
		oci_strv_free(&l->v[i].env);
	}
	free(l->v);
}

void oci_spec_free(struct oci_spec *spec)
{
	size_t i;

	if (!spec)
		return;
	free(spec->oci_version);
	free(spec->bundle);
	free(spec->root_path);
	oci_process_free(spec->process);
	free(spec->hostname);
	free(spec->domainname);
	for (i = 0; i < spec->n_mounts; i++) {
		free(spec->mounts[i].destination);
		free(spec->mounts[i].type);
		free(spec->mounts[i].source);
		free(spec->mounts[i].data);
		oci_strv_free(&spec->mounts[i].options);
	}
	free(spec->mounts);
	for (i = 0; i < OCI_HOOK_KINDS; i++)
		free_hooks(&spec->hooks[i]);
	free(spec->annotations_json);
	spec_free_linux(&spec->linux_);
	free(spec);
}

const char *oci_spec_ns_path(const struct oci_spec *spec, int type)
{
	for (size_t i = 0; i < spec->linux_.n_namespaces; i++)
		if (spec->linux_.namespaces[i].type == type)
			return spec->linux_.namespaces[i].path;
	return NULL;
}

bool oci_spec_has_ns(const struct oci_spec *spec, int type)
{
	return (spec->ns_flags & type) != 0;
}
