/* SPDX-License-Identifier: MIT */
/*
 * config.json for a container defined with a rootfs: the runtime's default
 * spec (src/oci/spec-default.c, the one source of the defaults: namespaces,
 * /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and its cgroup read-only,
 * masked and read-only paths, a small capability set, no_new_privs, devices
 * denied), with the definition's process, root, hostname, mounts, network and
 * limits written over it. What the daemon changes of the defaults besides the
 * definition is said where it does it.
 */
#include "daemon/drivers/oci-spec.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/def.h"
#include "daemon/network.h"
#include "oci/spec-default.h"

static json_object *get(json_object *o, const char *key)
{
	return json_object_object_get(o, key);
}

static void set(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static void set_process(json_object *p, json_object *def)
{
	json_object *in = get(def, "process"), *user = get(p, "user");

	set(p, "terminal", json_object_new_boolean(def_get_bool(in, "terminal", true)));
	set(user, "uid", json_object_new_int64(def_get_int(in, "uid", 0)));
	set(user, "gid", json_object_new_int64(def_get_int(in, "gid", 0)));
	set(p, "args", json_object_get(get(in, "args")));
	set(p, "env", json_object_get(get(in, "env")));
	set(p, "cwd", json_object_new_string(def_get_str(in, "cwd")));
	/* No ambient set: a process of a non-root uid runs without capabilities. */
	json_object_object_del(get(p, "capabilities"), "ambient");
	/* No rlimits: the container keeps the limits it inherits, as under Podman's defaults. */
	json_object_object_del(p, "rlimits");
}

static void add_bind_mounts(json_object *mounts, json_object *def)
{
	json_object *um = get(def, "mounts");

	for (size_t i = 0; um && i < json_object_array_length(um); i++) {
		json_object *m = json_object_array_get_idx(um, i), *o = json_object_new_object();
		json_object *opts = json_object_new_array();

		json_object_array_add(opts, json_object_new_string("rbind"));
		json_object_array_add(
		        opts,
		        json_object_new_string(def_get_bool(m, "readonly", false) ? "ro" : "rw"));
		set(o, "destination", json_object_new_string(def_get_str(m, "destination")));
		set(o, "type", json_object_new_string("bind"));
		set(o, "source", json_object_new_string(def_get_str(m, "source")));
		set(o, "options", opts);
		json_object_array_add(mounts, o);
	}
}

/* network "host": share the host's network namespace. */
static void drop_namespace(json_object *namespaces, const char *type)
{
	for (size_t i = json_object_array_length(namespaces); i-- > 0;) {
		json_object *n = json_object_array_get_idx(namespaces, i);

		if (strcmp(json_object_get_string(get(n, "type")), type) == 0)
			json_object_array_del_idx(namespaces, i, 1);
	}
}

/* A network (or a user's bridge): join the namespace the daemon prepared. */
static void join_namespace(json_object *namespaces, const char *type, const char *path)
{
	for (size_t i = 0; i < json_object_array_length(namespaces); i++) {
		json_object *n = json_object_array_get_idx(namespaces, i);

		if (strcmp(json_object_get_string(get(n, "type")), type) == 0)
			set(n, "path", json_object_new_string(path));
	}
}

static json_object *limit(int64_t v)
{
	json_object *o = json_object_new_object();

	set(o, "limit", json_object_new_int64(v));
	return o;
}

static void set_resources(json_object *r, json_object *def)
{
	json_object *lim = get(def, "limits");
	int64_t v;

	if ((v = def_get_int(lim, "memory", 0)))
		set(r, "memory", limit(v));
	if ((v = def_get_int(lim, "pids", 0)))
		set(r, "pids", limit(v));
	if (def_get_int(lim, "cpu_shares", 0) || def_get_int(lim, "cpu_quota", 0)) {
		json_object *o = json_object_new_object();
		if ((v = def_get_int(lim, "cpu_shares", 0)))
			set(o, "shares", json_object_new_int64(v));
		if ((v = def_get_int(lim, "cpu_quota", 0)))
			set(o, "quota", json_object_new_int64(v));
		if ((v = def_get_int(lim, "cpu_period", 0)))
			set(o, "period", json_object_new_int64(v));
		set(r, "cpu", o);
	}
}

/*
 * The network's resolv.conf on /etc/resolv.conf, read-only, as Podman does. The
 * runtime makes the mount point when the root file system lacks it, which a
 * read-only root cannot give: there, only over an existing file.
 */
static void add_resolv(json_object *mounts, json_object *def, const char *resolv)
{
	json_object *o, *opts;
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/etc/resolv.conf", def_get_str(def, "rootfs")) >=
	            (int)sizeof(path) ||
	    (def_get_bool(def, "readonly", false) && stat(path, &st) < 0))
		return;
	o = json_object_new_object();
	opts = json_object_new_array();
	json_object_array_add(opts, json_object_new_string("bind"));
	json_object_array_add(opts, json_object_new_string("ro"));
	set(o, "destination", json_object_new_string("/etc/resolv.conf"));
	set(o, "type", json_object_new_string("bind"));
	set(o, "source", json_object_new_string(resolv));
	set(o, "options", opts);
	json_object_array_add(mounts, o);
}

json_object *oci_spec_build(json_object *def, const char *cgroup_path, const struct network_ct *net)
{
	json_object *s = oci_spec_default(false, 0, 0);
	json_object *root = get(s, "root"), *linux_ = get(s, "linux");

	set_process(get(s, "process"), def);
	set(root, "path", json_object_new_string(def_get_str(def, "rootfs")));
	set(root, "readonly", json_object_new_boolean(def_get_bool(def, "readonly", false)));
	set(s, "hostname", json_object_new_string(def_get_str(def, "hostname")));
	add_bind_mounts(get(s, "mounts"), def);
	if (strcmp(def_get_str(def, "network"), "host") == 0)
		drop_namespace(get(linux_, "namespaces"), "network");
	else if (net && net->netns[0])
		join_namespace(get(linux_, "namespaces"), "network", net->netns);
	if (net && net->resolv[0])
		add_resolv(get(s, "mounts"), def, net->resolv);
	set_resources(get(linux_, "resources"), def);
	set(linux_, "cgroupsPath", json_object_new_string(cgroup_path));
	return s;
}
