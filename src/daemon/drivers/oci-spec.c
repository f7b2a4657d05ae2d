/* SPDX-License-Identifier: MIT */
/*
 * config.json for a container defined with a rootfs: runc-like defaults
 * (namespaces, /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys read-only,
 * masked and read-only paths, a small capability set, no_new_privs), plus the
 * definition's process, hostname, limits and mounts.
 *
 * Written here rather than taken from `virtkit-oci spec` (src/oci/
 * spec-default.c, which has the same defaults): the runtime under the daemon
 * may be runc or crun, the template would need more editing than this takes
 * to write, and asking for it would cost a process per start. The defaults
 * are data both places state; keep them alike (docs/virtkitd.md).
 */
#include "daemon/drivers/oci-spec.h"

#include <string.h>

#include "common/compiler.h"
#include "daemon/def.h"

static json_object *strv(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static void add_mount(json_object *mounts, const char *dst, const char *type, const char *src,
                      const char *const *opts)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "destination", json_object_new_string(dst));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	json_object_object_add(m, "options", strv(opts));
	json_object_array_add(mounts, m);
}

static json_object *process(json_object *def)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	                                   NULL};
	json_object *in = json_object_object_get(def, "process");
	json_object *p = json_object_new_object(), *user = json_object_new_object();
	json_object *c = json_object_new_object();

	json_object_object_add(p, "terminal",
	                       json_object_new_boolean(def_get_bool(in, "terminal", true)));
	json_object_object_add(user, "uid", json_object_new_int64(def_get_int(in, "uid", 0)));
	json_object_object_add(user, "gid", json_object_new_int64(def_get_int(in, "gid", 0)));
	json_object_object_add(p, "user", user);
	json_object_object_add(p, "args", json_object_get(json_object_object_get(in, "args")));
	json_object_object_add(p, "env", json_object_get(json_object_object_get(in, "env")));
	json_object_object_add(p, "cwd", json_object_new_string(def_get_str(in, "cwd")));
	json_object_object_add(c, "bounding", strv(caps));
	json_object_object_add(c, "effective", strv(caps));
	json_object_object_add(c, "permitted", strv(caps));
	json_object_object_add(p, "capabilities", c);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
	return p;
}

static json_object *resources(json_object *def)
{
	json_object *lim = json_object_object_get(def, "limits");
	json_object *r = json_object_new_object(), *dev = json_object_new_array(), *d, *o;
	int64_t v;

	d = json_object_new_object();
	json_object_object_add(d, "allow", json_object_new_boolean(0));
	json_object_object_add(d, "access", json_object_new_string("rwm"));
	json_object_array_add(dev, d);
	json_object_object_add(r, "devices", dev);
	if ((v = def_get_int(lim, "memory", 0))) {
		o = json_object_new_object();
		json_object_object_add(o, "limit", json_object_new_int64(v));
		json_object_object_add(r, "memory", o);
	}
	if ((v = def_get_int(lim, "pids", 0))) {
		o = json_object_new_object();
		json_object_object_add(o, "limit", json_object_new_int64(v));
		json_object_object_add(r, "pids", o);
	}
	if (def_get_int(lim, "cpu_shares", 0) || def_get_int(lim, "cpu_quota", 0)) {
		o = json_object_new_object();
		if ((v = def_get_int(lim, "cpu_shares", 0)))
			json_object_object_add(o, "shares", json_object_new_int64(v));
		if ((v = def_get_int(lim, "cpu_quota", 0)))
			json_object_object_add(o, "quota", json_object_new_int64(v));
		if ((v = def_get_int(lim, "cpu_period", 0)))
			json_object_object_add(o, "period", json_object_new_int64(v));
		json_object_object_add(r, "cpu", o);
	}
	return r;
}

json_object *oci_spec_build(json_object *def, const char *cgroup_path)
{
	static const char *const proc_o[] = {NULL};
	static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
	                                    NULL};
	static const char *const pts_o[] = {"nosuid",        "noexec",    "newinstance",
	                                    "ptmxmode=0666", "mode=0620", NULL};
	static const char *const shm_o[] = {"nosuid",    "noexec",      "nodev",
	                                    "mode=1777", "size=65536k", NULL};
	static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const masked[] = {"/proc/acpi",
	                                     "/proc/asound",
	                                     "/proc/kcore",
	                                     "/proc/keys",
	                                     "/proc/latency_stats",
	                                     "/proc/timer_list",
	                                     "/proc/timer_stats",
	                                     "/proc/sched_debug",
	                                     "/sys/firmware",
	                                     "/proc/scsi",
	                                     NULL};
	static const char *const ro[] = {
	        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
	json_object *s = json_object_new_object(), *root = json_object_new_object();
	json_object *mounts = json_object_new_array(), *linux_ = json_object_new_object();
	json_object *ns = json_object_new_array(), *um;
	const char *types[] = {"pid", "ipc", "uts", "mount", "network"};
	size_t i, nt = ARRAY_SIZE(types);

	json_object_object_add(s, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(s, "process", process(def));
	json_object_object_add(root, "path", json_object_new_string(def_get_str(def, "rootfs")));
	json_object_object_add(root, "readonly",
	                       json_object_new_boolean(def_get_bool(def, "readonly", false)));
	json_object_object_add(s, "root", root);
	json_object_object_add(s, "hostname", json_object_new_string(def_get_str(def, "hostname")));

	add_mount(mounts, "/proc", "proc", "proc", proc_o);
	add_mount(mounts, "/dev", "tmpfs", "tmpfs", dev_o);
	add_mount(mounts, "/dev/pts", "devpts", "devpts", pts_o);
	add_mount(mounts, "/dev/shm", "tmpfs", "shm", shm_o);
	add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", mq_o);
	add_mount(mounts, "/sys", "sysfs", "sysfs", sys_o);
	um = json_object_object_get(def, "mounts");
	for (i = 0; um && i < json_object_array_length(um); i++) {
		json_object *m = json_object_array_get_idx(um, i);
		const char *rw[] = {"rbind", "rw", NULL}, *rdonly[] = {"rbind", "ro", NULL};
		add_mount(mounts, def_get_str(m, "destination"), "bind", def_get_str(m, "source"),
		          def_get_bool(m, "readonly", false) ? rdonly : rw);
	}
	json_object_object_add(s, "mounts", mounts);

	if (strcmp(def_get_str(def, "network"), "host") == 0)
		nt--; /* share the host's network namespace */
	for (i = 0; i < nt; i++) {
		json_object *n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(types[i]));
		json_object_array_add(ns, n);
	}
	json_object_object_add(linux_, "namespaces", ns);
	json_object_object_add(linux_, "resources", resources(def));
	json_object_object_add(linux_, "cgroupsPath", json_object_new_string(cgroup_path));
	json_object_object_add(linux_, "maskedPaths", strv(masked));
	json_object_object_add(linux_, "readonlyPaths", strv(ro));
	json_object_object_add(s, "linux", linux_);
	return s;
}
