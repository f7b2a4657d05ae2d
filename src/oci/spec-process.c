/* SPDX-License-Identifier: MIT */
/*
 * config.json "process" (also exec --process FILE): user, args, env, cwd,
 * capabilities (names checked with libcap), rlimits, oomScoreAdj, terminal.
 */
#include "spec-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "common/util.h"
#include "log.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_cap_set(struct sj *s, json_object *caps, const char *key, uint64_t *out)
{
	struct oci_strv names = {0};
	size_t i;
	int r;

	r = sj_strv(s, caps, key, &names);
	if (r)
		return r;
	for (i = 0; i < names.n; i++) {
		cap_value_t v;

		/* cap_from_name accepts "cap_chown"; the spec spells "CAP_CHOWN". */
		if (cap_from_name(names.v[i], &v) < 0 || v < 0 || v > 63) {
			/* Unknown names are skipped with a warning, as runc does, so a
			 * newer spec runs on an older kernel. */
			oci_warn("process.capabilities.%s: unknown capability '%s' ignored", key,
			         names.v[i]);
			continue;
		}
		*out |= 1ull << v;
	}
	oci_strv_free(&names);
	return 0;
}

static int parse_caps(struct sj *s, json_object *o, struct oci_caps *caps)
{
	json_object *c;
	size_t mark;
	int r;

	r = sj_object(s, o, "capabilities", &c);
	if (r || !c)
		return r;
	caps->present = true;
	mark = sj_push(s, "capabilities");
	r = parse_cap_set(s, c, "bounding", &caps->bounding);
	if (!r)
		r = parse_cap_set(s, c, "effective", &caps->effective);
	if (!r)
		r = parse_cap_set(s, c, "inheritable", &caps->inheritable);
	if (!r)
		r = parse_cap_set(s, c, "permitted", &caps->permitted);
	if (!r)
		r = parse_cap_set(s, c, "ambient", &caps->ambient);
	if (!r)
		sj_pop(s, mark);
	return r;
}

static int parse_rlimits(struct sj *s, json_object *o, struct oci_process *p)
{
	json_object *arr;
	size_t i, j, mark;
	int r;

	r = sj_array(s, o, "rlimits", &arr);
	if (r || !arr)
		return r;
	p->n_rlimits = json_object_array_length(arr);
	p->rlimits = calloc(p->n_rlimits ? p->n_rlimits : 1, sizeof(*p->rlimits));
	if (!p->rlimits) {
		p->n_rlimits = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "rlimits");
	for (i = 0; i < p->n_rlimits; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_rlimit *rl = &p->rlimits[i];
		struct oci_opt_u64 soft = {0}, hard = {0};
		size_t m = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_string(s, e, "type", true, &rl->name);
		if (!r)
			r = sj_u64(s, e, "soft", &soft);
		if (!r)
			r = sj_u64(s, e, "hard", &hard);
		if (r)
			return r;
		if (!soft.valid || !hard.valid)
			return sj_fail(s, "both soft and hard are required");
		rl->resource = -1;
		for (j = 0; j < ARRAY_SIZE(rlimit_names); j++)
			if (strcmp(rlimit_names[j].name, rl->name) == 0)
				rl->resource = rlimit_names[j].resource;
		if (rl->resource < 0) {
			sj_push(s, "type");
			return sj_fail(s, "unknown rlimit '%s'", rl->name);
		}
		if (soft.v > hard.v)
			return sj_fail(s, "soft limit %llu is above the hard limit %llu",
			               (unsigned long long)soft.v, (unsigned long long)hard.v);
		rl->soft = soft.v;
		rl->hard = hard.v;
		sj_pop(s, m);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_user(struct sj *s, json_object *o, struct oci_user *u)
{
	json_object *user, *gids;
	uint32_t umask_v = 0;
	bool has_umask = false;
	size_t mark, i;
	int r;

	u->umask = -1;
	r = sj_object(s, o, "user", &user);
	if (r || !user)
		return r;
	mark = sj_push(s, "user");
	r = sj_u32(s, user, "uid", true, &u->uid, NULL);
	if (!r)
		r = sj_u32(s, user, "gid", true, &u->gid, NULL);
	if (!r)
		r = sj_u32(s, user, "umask", false, &umask_v, &has_umask);
	if (!r && has_umask && umask_v > 0777) {
		sj_push(s, "umask");
		return sj_fail(s, "must be at most 0777");
	}
	if (has_umask)
		u->umask = (int)umask_v;
	if (!r)
		r = sj_array(s, user, "additionalGids", &gids);
	if (r)
		return r;
	if (gids) {
		u->n_additional_gids = json_object_array_length(gids);
		u->additional_gids = calloc(u->n_additional_gids + 1, sizeof(uint32_t));
		if (!u->additional_gids)
			return vk_error_set(s->err, ENOMEM, "out of memory");
		sj_push(s, "additionalGids");
		for (i = 0; i < u->n_additional_gids; i++) {
			uint64_t g;
			size_t m = sj_push_index(s, i);

			r = sj_value_u64(s, json_object_array_get_idx(gids, i), &g);
			if (r)
				return r;
			if (g > UINT32_MAX)
				return sj_fail(s, "gid does not fit in 32 bits");
			u->additional_gids[i] = (uint32_t)g;
			sj_pop(s, m);
		}
	}
	sj_pop(s, mark);
	return 0;
}

int spec_parse_process(struct sj *s, json_object *o, struct oci_process *p)
{
	json_object *cs;
	struct oci_opt_i64 oom = {0};
	size_t mark;
	int r;

	r = sj_bool(s, o, "terminal", &p->terminal);
	if (!r)
		r = sj_object(s, o, "consoleSize", &cs);
	if (!r && cs) {
		mark = sj_push(s, "consoleSize");
		r = sj_u32(s, cs, "height", false, &p->console_height, NULL);
		if (!r)
			r = sj_u32(s, cs, "width", false, &p->console_width, NULL);
		if (!r)
			sj_pop(s, mark);
	}
	if (!r)
		r = parse_user(s, o, &p->user);
	if (!r)
		r = sj_strv(s, o, "args", &p->args);
	if (!r)
		r = sj_strv(s, o, "env", &p->env);
	if (!r)
		r = sj_string(s, o, "cwd", false, &p->cwd);
	if (!r && p->cwd && p->cwd[0] != '/') {
		sj_push(s, "cwd");
		return sj_fail(s, "must be an absolute path, got '%s'", p->cwd);
	}
	if (!r)
		r = parse_caps(s, o, &p->caps);
	if (!r)
		r = parse_rlimits(s, o, p);
	if (!r)
		r = sj_bool(s, o, "noNewPrivileges", &p->no_new_privileges);
	if (!r)
		r = sj_i64(s, o, "oomScoreAdj", &oom);
	if (!r && oom.valid) {
		if (oom.v < -1000 || oom.v > 1000) {
			sj_push(s, "oomScoreAdj");
			return sj_fail(s, "must be between -1000 and 1000");
		}
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)oom.v;
	}
	if (!r)
		r = sj_string(s, o, "apparmorProfile", false, &p->apparmor_profile);
	if (!r)
		r = sj_string(s, o, "selinuxLabel", false, &p->selinux_label);
	if (!r && !p->cwd) {
		p->cwd = strdup("/");
		if (!p->cwd)
			return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	return r;
}

struct oci_process *oci_process_parse_file(const char *path, struct vk_error *err)
{
	struct oci_process *p = NULL;
	json_tokener *tok;
	json_object *o = NULL;
	uint8_t *buf = NULL;
	size_t len;
	struct sj s;

	if (vk_read_file(path, 4u << 20, &buf, &len, err) < 0)
		return NULL;
	tok = json_tokener_new();
	if (tok)
		o = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	if (!o || !json_object_is_type(o, json_type_object)) {
		vk_error_set(err, EINVAL, "%s: invalid JSON: %s", path,
		             tok ? json_tokener_error_desc(json_tokener_get_error(tok))
		                 : "no memory");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		vk_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	sj_init(&s, path, err);
	if (spec_parse_process(&s, o, p) < 0) {
		oci_process_free(p);
		p = NULL;
	}
out:
	if (tok)
		json_tokener_free(tok);
	json_object_put(o);
	free(buf);
	return p;
}

void oci_process_free(struct oci_process *p)
{
	size_t i;

	if (!p)
		return;
	free(p->user.additional_gids);
	oci_strv_free(&p->args);
	oci_strv_free(&p->env);
	free(p->cwd);
	for (i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].name);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}
