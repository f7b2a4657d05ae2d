/* SPDX-License-Identifier: MIT */
/*
 * config.json "linux": namespaces, id mappings, devices, sysctl, masked and
 * readonly paths, propagation, time offsets, personality. Resources and
 * seccomp have their own files.
 */
#include "spec-internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name;
	int type;
} ns_table[] = {
        {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
        {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
        {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

const char *const oci_ns_names[] = {"pid",  "network", "mount", "ipc", "uts",
                                    "user", "cgroup",  "time",  NULL};

int oci_ns_type_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (strcmp(ns_table[i].name, name) == 0)
			return ns_table[i].type;
	return 0;
}

const char *oci_ns_name(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (ns_table[i].type == type)
			return ns_table[i].name;
	return "?";
}

static int parse_namespaces(struct sj *s, json_object *o, struct oci_linux *l)
{
	json_object *arr;
	size_t i, j, mark;
	char *type = NULL;
	int r;

	r = sj_array(s, o, "namespaces", &arr);
	if (r || !arr)
		return r;
	l->n_namespaces = json_object_array_length(arr);
	l->namespaces = calloc(l->n_namespaces + 1, sizeof(*l->namespaces));
	if (!l->namespaces) {
		l->n_namespaces = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "namespaces");
	for (i = 0; i < l->n_namespaces; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_namespace *ns = &l->namespaces[i];
		size_t m = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_string(s, e, "type", true, &type);
		if (!r)
			r = sj_string(s, e, "path", false, &ns->path);
		if (r) {
			free(type);
			return r;
		}
		ns->type = oci_ns_type_from_name(type);
		if (!ns->type) {
			sj_push(s, "type");
			r = sj_fail(s, "unknown namespace type '%s'", type);
			free(type);
			return r;
		}
		free(type);
		type = NULL;
		for (j = 0; j < i; j++)
			if (l->namespaces[j].type == ns->type)
				return sj_fail(s, "namespace '%s' is listed twice",
				               oci_ns_name(ns->type));
		if (ns->path && ns->path[0] != '/') {
			sj_push(s, "path");
			return sj_fail(s, "must be an absolute path, got '%s'", ns->path);
		}
		sj_pop(s, m);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_idmaps(struct sj *s, json_object *o, const char *key, struct oci_idmap **out,
                        size_t *n_out)
{
	json_object *arr;
	size_t i, n, mark;
	int r;

	r = sj_array(s, o, key, &arr);
	if (r || !arr)
		return r;
	n = json_object_array_length(arr);
	if (n > 340)
		return sj_fail(s, "%s: too many mappings", key);
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	*n_out = n;
	mark = sj_push(s, key);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_idmap *m = &(*out)[i];
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_u32(s, e, "containerID", true, &m->container_id, NULL);
		if (!r)
			r = sj_u32(s, e, "hostID", true, &m->host_id, NULL);
		if (!r)
			r = sj_u32(s, e, "size", true, &m->size, NULL);
		if (r)
			return r;
		if (m->size == 0)
			return sj_fail(s, "size must be positive");
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_devices(struct sj *s, json_object *o, struct oci_linux *l)
{
	json_object *arr;
	size_t i, mark;
	char *type = NULL;
	int r;

	r = sj_array(s, o, "devices", &arr);
	if (r || !arr)
		return r;
	l->n_devices = json_object_array_length(arr);
	l->devices = calloc(l->n_devices + 1, sizeof(*l->devices));
	if (!l->devices) {
		l->n_devices = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "devices");
	for (i = 0; i < l->n_devices; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_device *d = &l->devices[i];
		struct oci_opt_i64 major = {0}, minor = {0};
		uint32_t mode = 0, uid = 0, gid = 0;
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_string(s, e, "path", true, &d->path);
		if (!r)
			r = sj_string(s, e, "type", true, &type);
		if (!r)
			r = sj_i64(s, e, "major", &major);
		if (!r)
			r = sj_i64(s, e, "minor", &minor);
		if (!r)
			r = sj_u32(s, e, "fileMode", false, &mode, &d->has_mode);
		if (!r)
			r = sj_u32(s, e, "uid", false, &uid, &d->has_uid);
		if (!r)
			r = sj_u32(s, e, "gid", false, &gid, &d->has_gid);
		if (r) {
			free(type);
			return r;
		}
		if (strlen(type) != 1 || !strchr("cbup", type[0])) {
			sj_push(s, "type");
			r = sj_fail(s, "must be one of c, b, u, p; got '%s'", type);
			free(type);
			return r;
		}
		d->type = type[0];
		free(type);
		type = NULL;
		if (d->path[0] != '/' || strncmp(d->path, "/dev/", 5) != 0) {
			sj_push(s, "path");
			return sj_fail(s, "must be an absolute path under /dev, got '%s'", d->path);
		}
		if (d->type != 'p' && (!major.valid || !minor.valid))
			return sj_fail(s, "major and minor are required for type '%c'", d->type);
		if (major.v < 0 || major.v > 0xfff || minor.v < 0 || minor.v > 0xfffff)
			return sj_fail(s, "device number %lld:%lld out of range",
			               (long long)major.v, (long long)minor.v);
		d->major = major.v;
		d->minor = minor.v;
		d->mode = mode & 07777;
		d->uid = uid;
		d->gid = gid;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_propagation(struct sj *s, json_object *o, struct oci_linux *l)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} tab[] = {
	        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
	        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
	        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
	        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	char *v = NULL;
	int r = sj_string(s, o, "rootfsPropagation", false, &v);

	if (r || !v)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		if (strcmp(tab[i].name, v) == 0) {
			l->rootfs_propagation = tab[i].flags;
			free(v);
			return 0;
		}
	}
	sj_push(s, "rootfsPropagation");
	r = sj_fail(s, "unknown propagation '%s'", v);
	free(v);
	return r;
}

static int parse_time_offsets(struct sj *s, json_object *o, struct oci_linux *l)
{
	json_object *t;
	size_t mark;
	int r;

	r = sj_object(s, o, "timeOffsets", &t);
	if (r || !t)
		return r;
	l->time_offsets = calloc(2, sizeof(*l->time_offsets));
	if (!l->time_offsets)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	mark = sj_push(s, "timeOffsets");
	json_object_object_foreach(t, k, v)
	{
		struct oci_time_offset *off = &l->time_offsets[l->n_time_offsets];
		struct oci_opt_i64 secs = {0};
		uint32_t ns = 0;
		size_t mk = sj_push(s, k);

		if (strcmp(k, "monotonic") == 0)
			off->clock = CLOCK_MONOTONIC;
		else if (strcmp(k, "boottime") == 0)
			off->clock = CLOCK_BOOTTIME;
		else
			return sj_fail(s, "unknown clock (expected monotonic or boottime)");
		if (l->n_time_offsets >= 2 ||
		    (l->n_time_offsets == 1 && l->time_offsets[0].clock == off->clock))
			return sj_fail(s, "clock listed twice");
		if (!json_object_is_type(v, json_type_object))
			return sj_fail(s, "expected an object");
		r = sj_i64(s, v, "secs", &secs);
		if (!r)
			r = sj_u32(s, v, "nanosecs", false, &ns, NULL);
		if (r)
			return r;
		if (ns >= 1000000000u)
			return sj_fail(s, "nanosecs must be below 1000000000");
		off->secs = secs.v;
		off->nanosecs = ns;
		l->n_time_offsets++;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_personality(struct sj *s, json_object *o, struct oci_linux *l)
{
	json_object *p;
	char *domain = NULL;
	size_t mark;
	int r;

	r = sj_object(s, o, "personality", &p);
	if (r || !p)
		return r;
	mark = sj_push(s, "personality");
	r = sj_string(s, p, "domain", true, &domain);
	if (r)
		return r;
	if (strcmp(domain, "LINUX") == 0) {
		l->personality = PER_LINUX;
	} else if (strcmp(domain, "LINUX32") == 0) {
		l->personality = PER_LINUX32;
	} else {
		sj_push(s, "domain");
		r = sj_fail(s, "unknown domain '%s' (expected LINUX or LINUX32)", domain);
		free(domain);
		return r;
	}
	free(domain);
	l->has_personality = true;
	sj_pop(s, mark);
	return 0;
}

int spec_parse_linux(struct sj *s, json_object *o, struct oci_linux *l)
{
	json_object *sub;
	size_t mark;
	int r;

	r = parse_namespaces(s, o, l);
	if (!r)
		r = parse_idmaps(s, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings);
	if (!r)
		r = parse_idmaps(s, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings);
	if (!r)
		r = parse_devices(s, o, l);
	if (!r)
		r = sj_string(s, o, "cgroupsPath", false, &l->cgroups_path);
	if (!r)
		r = sj_kv(s, o, "sysctl", &l->sysctl);
	if (!r)
		r = sj_strv(s, o, "maskedPaths", &l->masked_paths);
	if (!r)
		r = sj_strv(s, o, "readonlyPaths", &l->readonly_paths);
	if (!r)
		r = sj_string(s, o, "mountLabel", false, &l->mount_label);
	if (!r)
		r = parse_propagation(s, o, l);
	if (!r)
		r = parse_time_offsets(s, o, l);
	if (!r)
		r = parse_personality(s, o, l);
	if (r)
		return r;
	r = sj_object(s, o, "resources", &sub);
	if (r)
		return r;
	if (sub) {
		mark = sj_push(s, "resources");
		r = spec_parse_resources(s, sub, &l->resources);
		if (r)
			return r;
		sj_pop(s, mark);
	}
	r = sj_object(s, o, "seccomp", &sub);
	if (r)
		return r;
	if (sub) {
		l->seccomp = calloc(1, sizeof(*l->seccomp));
		if (!l->seccomp)
			return vk_error_set(s->err, ENOMEM, "out of memory");
		mark = sj_push(s, "seccomp");
		r = spec_parse_seccomp(s, sub, l->seccomp);
		if (r)
			return r;
		sj_pop(s, mark);
	}
	return 0;
}

void spec_free_linux(struct oci_linux *l)
{
	size_t i;

	for (i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	spec_free_resources(&l->resources);
	oci_kv_free(&l->sysctl);
	if (l->seccomp) {
		spec_free_seccomp(l->seccomp);
		free(l->seccomp);
	}
	oci_strv_free(&l->masked_paths);
	oci_strv_free(&l->readonly_paths);
	free(l->mount_label);
	free(l->time_offsets);
}
