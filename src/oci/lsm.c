/* SPDX-License-Identifier: MIT */
/* AppArmor profiles and SELinux labels: host checks, attribute files, mount options. */
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

const struct oci_lsm_host oci_lsm_host_default = {
        .proc = "/proc",
        .sys = "/sys",
        .check_procfs = true,
};

/* What runc and libapparmor check: securityfs shows it and the module says 'Y'. */
bool oci_lsm_apparmor_enabled(const struct oci_lsm_host *h)
{
	char path[4096], c = 0;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/kernel/security/apparmor", h->sys);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "%s/module/apparmor/parameters/enabled", h->sys);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y';
}

/* What libselinux checks: a selinuxfs is mounted (the kernel mounts it when SELinux runs). */
bool oci_lsm_selinux_enabled(const struct oci_lsm_host *h)
{
	char path[4096], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mounts", h->proc);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char type[64];

		/* device mountpoint type options ... */
		found = sscanf(line, "%*s %*s %63s", type) == 1 && strcmp(type, "selinuxfs") == 0;
	}
	fclose(f);
	return found;
}

int oci_lsm_check(const struct oci_lsm_host *h, const struct oci_process *p,
                  const char *mount_label, struct vk_error *err)
{
	if (p && p->apparmor_profile && !oci_lsm_apparmor_enabled(h))
		return vk_error_set(
		        err, ENOTSUP,
		        "process.apparmorProfile '%s' cannot be applied: AppArmor is not "
		        "enabled on this host",
		        p->apparmor_profile);
	if (p && p->selinux_label && !oci_lsm_selinux_enabled(h))
		return vk_error_set(err, ENOTSUP,
		                    "process.selinuxLabel '%s' cannot be applied: SELinux is not "
		                    "enabled on this host",
		                    p->selinux_label);
	if (mount_label && !oci_lsm_selinux_enabled(h))
		return vk_error_set(
		        err, ENOTSUP,
		        "linux.mountLabel '%s' cannot be applied: SELinux is not enabled "
		        "on this host",
		        mount_label);
	return 0;
}

/* Open attr file rel (below procfd) for writing; it must be on procfs. */
static int open_attr(const struct oci_lsm_host *h, int procfd, const char *rel, const char *field,
                     struct vk_error *err)
{
	struct statfs sfs;
	int fd = openat(procfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return vk_error_errno(err, errno, "cannot apply %s: cannot open %s/%s", field,
		                      h->proc, rel);
	if (h->check_procfs && (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		close(fd);
		return vk_error_set(err, EPERM, "cannot apply %s: %s/%s is not on procfs", field,
		                    h->proc, rel);
	}
	return fd;
}

static int add_attr(struct oci_lsm_exec *x, int fd, const char *value, const char *field,
                    struct vk_error *err)
{
	size_t i = x->n;

	x->value[i] = strdup(value);
	x->name[i] = strdup(field);
	if (!x->value[i] || !x->name[i]) {
		free(x->value[i]);
		free(x->name[i]);
		close(fd);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	x->fd[i] = fd;
	x->n++;
	return 0;
}

int oci_lsm_prepare(const struct oci_lsm_host *h, int procfd, const struct oci_process *p,
                    struct oci_lsm_exec *x, struct vk_error *err)
{
	struct stat st;
	int fd, r;

	x->n = 0;
	if (p->apparmor_profile) {
		char *v;
		/* The per-LSM directory (5.1+) first; attr/exec is whichever LSM came first. */
		const char *rel = fstatat(procfd, "thread-self/attr/apparmor", &st, 0) == 0
		                          ? "thread-self/attr/apparmor/exec"
		                          : "thread-self/attr/exec";

		fd = open_attr(h, procfd, rel, "process.apparmorProfile", err);
		if (fd < 0)
			return fd;
		if (asprintf(&v, "exec %s", p->apparmor_profile) < 0) {
			close(fd);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		r = add_attr(x, fd, v, "process.apparmorProfile", err);
		free(v);
		if (r < 0)
			return r;
	}
	if (p->selinux_label) {
		fd = open_attr(h, procfd, "thread-self/attr/exec", "process.selinuxLabel", err);
		if (fd < 0) {
			oci_lsm_exec_clear(x);
			return fd;
		}
		r = add_attr(x, fd, p->selinux_label, "process.selinuxLabel", err);
		if (r < 0) {
			oci_lsm_exec_clear(x);
			return r;
		}
	}
	return 0;
}

int oci_lsm_write(struct oci_lsm_exec *x, struct vk_error *err)
{
	int r = 0;

	for (size_t i = 0; i < x->n && !r; i++) {
		size_t len = strlen(x->value[i]);

		if (write(x->fd[i], x->value[i], len) != (ssize_t)len)
			r = vk_error_errno(err, errno, "cannot apply %s '%s'", x->name[i],
			                   x->value[i]);
	}
	oci_lsm_exec_clear(x);
	return r;
}

void oci_lsm_exec_clear(struct oci_lsm_exec *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->fd[i] >= 0)
			close(x->fd[i]);
		free(x->value[i]);
		free(x->name[i]);
	}
	x->n = 0;
}

int oci_lsm_mount_data(const char *type, const char *data, const char *label, char **out)
{
	static const char *const unlabelled[] = {"proc", "sysfs", "cgroup", "cgroup2", "mqueue"};
	int n;

	*out = NULL;
	if (!label || !type)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(unlabelled); i++)
		if (strcmp(type, unlabelled[i]) == 0)
			return 0;
	if (data && *data)
		n = asprintf(out, "%s,context=\"%s\"", data, label);
	else
		n = asprintf(out, "context=\"%s\"", label);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
