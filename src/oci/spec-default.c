/* SPDX-License-Identifier: MIT */
/*
 * The default config.json written by `virtkit-oci spec` and used by virtkitd
 * for every container (spec-default.h): a shell in ./rootfs with the usual
 * mounts, a small capability set, masked and readonly /proc paths; --rootless
 * adds a user namespace mapping the caller and drops what an unprivileged user
 * cannot do (network ns, sysfs, gid=5).
 */
#include "spec-default.h"

#include <stdio.h>

static json_object *strs(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static json_object *mount(const char *dst, const char *type, const char *src,
                          const char *const *opts)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "destination", json_object_new_string(dst));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	if (opts)
		json_object_object_add(m, "options", strs(opts));
	return m;
}

static json_object *idmap(uint32_t host)
{
	json_object *a = json_object_new_array(), *m = json_object_new_object();

	json_object_object_add(m, "containerID", json_object_new_int64(0));
	json_object_object_add(m, "hostID", json_object_new_int64(host));
	json_object_object_add(m, "size", json_object_new_int64(1));
	json_object_array_add(a, m);
	return a;
}

static json_object *process(void)
{
	static const char *const args[] = {"sh", NULL};
	static const char *const env[] = {
	        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
	        NULL};
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	                                   NULL};
	json_object *p = json_object_new_object(), *u = json_object_new_object();
	json_object *c = json_object_new_object(), *rl = json_object_new_array();
	json_object *nofile = json_object_new_object();

	json_object_object_add(p, "terminal", json_object_new_boolean(1));
	json_object_object_add(u, "uid", json_object_new_int64(0));
	json_object_object_add(u, "gid", json_object_new_int64(0));
	json_object_object_add(p, "user", u);
	json_object_object_add(p, "args", strs(args));
	json_object_object_add(p, "env", strs(env));
	json_object_object_add(p, "cwd", json_object_new_string("/"));
	json_object_object_add(c, "bounding", strs(caps));
	json_object_object_add(c, "effective", strs(caps));
	json_object_object_add(c, "permitted", strs(caps));
	json_object_object_add(c, "ambient", strs(caps));
	json_object_object_add(p, "capabilities", c);
	json_object_object_add(nofile, "type", json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(nofile, "hard", json_object_new_int64(1024));
	json_object_object_add(nofile, "soft", json_object_new_int64(1024));
	json_object_array_add(rl, nofile);
	json_object_object_add(p, "rlimits", rl);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
	return p;
}

static json_object *mounts(bool rootless)
{
	static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	static const char *const pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
	                                  "mode=0620", "gid=5",  NULL};
	static const char *const pts_rootless[] = {"nosuid",        "noexec",    "newinstance",
	                                           "ptmxmode=0666", "mode=0620", NULL};
	static const char *const shm[] = {"nosuid",    "noexec",      "nodev",
	                                  "mode=1777", "size=65536k", NULL};
	static const char *const mq[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const sys_rootless[] = {"rbind", "nosuid", "noexec",
	                                           "nodev", "ro",     NULL};
	static const char *const cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	json_object *a = json_object_new_array();

	json_object_array_add(a, mount("/proc", "proc", "proc", NULL));
	json_object_array_add(a, mount("/dev", "tmpfs", "tmpfs", dev));
	json_object_array_add(a,
	                      mount("/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts));
	json_object_array_add(a, mount("/dev/shm", "tmpfs", "shm", shm));
	json_object_array_add(a, mount("/dev/mqueue", "mqueue", "mqueue", mq));
	if (rootless) {
		json_object_array_add(a, mount("/sys", "none", "/sys", sys_rootless));
	} else {
		json_object_array_add(a, mount("/sys", "sysfs", "sysfs", sys));
		json_object_array_add(a, mount("/sys/fs/cgroup", "cgroup", "cgroup", cg));
	}
	return a;
}

static json_object *linux_section(bool rootless, uid_t uid, gid_t gid)
{
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
	static const char *const nss[] = {"pid", "network", "ipc", "uts", "mount", NULL};
	static const char *const nss_rootless[] = {"pid", "ipc", "uts", "user", "mount", NULL};
	json_object *l = json_object_new_object(), *ns = json_object_new_array();
	const char *const *n;

	if (!rootless) {
		json_object *res = json_object_new_object(), *devs = json_object_new_array();
		json_object *deny = json_object_new_object();

		json_object_object_add(deny, "allow", json_object_new_boolean(0));
		json_object_object_add(deny, "access", json_object_new_string("rwm"));
		json_object_array_add(devs, deny);
		json_object_object_add(res, "devices", devs);
		json_object_object_add(l, "resources", res);
	} else {
		json_object_object_add(l, "uidMappings", idmap(uid));
		json_object_object_add(l, "gidMappings", idmap(gid));
	}
	for (n = rootless ? nss_rootless : nss; *n; n++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "type", json_object_new_string(*n));
		json_object_array_add(ns, e);
	}
	json_object_object_add(l, "namespaces", ns);
	json_object_object_add(l, "maskedPaths", strs(masked));
	json_object_object_add(l, "readonlyPaths", strs(ro));
	return l;
}

json_object *oci_spec_default(bool rootless, uid_t uid, gid_t gid)
{
	json_object *c = json_object_new_object(), *root = json_object_new_object();

	json_object_object_add(c, "ociVersion", json_object_new_string(OCI_VERSION));
	json_object_object_add(c, "process", process());
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(root, "readonly", json_object_new_boolean(1));
	json_object_object_add(c, "root", root);
	json_object_object_add(c, "hostname", json_object_new_string("virtkit"));
	json_object_object_add(c, "mounts", mounts(rootless));
	json_object_object_add(c, "linux", linux_section(rootless, uid, gid));
	return c;
}
