/* SPDX-License-Identifier: MIT */
/*
 * /dev inside the container: the default devices (null, zero, full, random,
 * urandom, tty), the spec's linux.devices, the /dev symlinks (fd, stdin,
 * stdout, stderr, ptmx, core) and the sysctls written once /proc is the
 * container's. In a user namespace mknod is not allowed, so host devices
 * are bind-mounted onto empty files instead.
 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fault.h"
#include "fsutil.h"

static const struct oci_device default_devices[] = {
        {(char *)"/dev/null", 'c', 1, 3, true, 0666, false, false, 0, 0},
        {(char *)"/dev/zero", 'c', 1, 5, true, 0666, false, false, 0, 0},
        {(char *)"/dev/full", 'c', 1, 7, true, 0666, false, false, 0, 0},
        {(char *)"/dev/random", 'c', 1, 8, true, 0666, false, false, 0, 0},
        {(char *)"/dev/urandom", 'c', 1, 9, true, 0666, false, false, 0, 0},
        {(char *)"/dev/tty", 'c', 5, 0, true, 0666, false, false, 0, 0},
};

static int make_device(struct rootfs_ctx *r, const struct oci_device *d, struct vk_error *err)
{
	const char *base = strrchr(d->path, '/') + 1;
	char parent[4096], fp[32];
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	int pfd, fd;

	if (r->userns && d->type != 'p') {
		/* Bind the host's node onto an empty file. */
		fd = fs_ensure_in_root(r->rootfd, d->path, false, false, err);
		if (fd < 0)
			return fd;
		if (mount(d->path, fs_fd_path(fd, fp, sizeof(fp)), NULL, MS_BIND, NULL) < 0) {
			int e = errno;

			close(fd);
			return vk_error_errno(
			        err, e, "cannot bind the host's %s into the container", d->path);
		}
		close(fd);
		return 0;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - 1 - d->path), d->path);
	pfd = fs_ensure_in_root(r->rootfd, parent[0] ? parent : "/", true, false, err);
	if (pfd < 0)
		return pfd;
	/* O_PATH dirs are fine for *at() calls. */
	if (mknodat(pfd, base, type | (d->has_mode ? d->mode : 0666),
	            makedev((unsigned)d->major, (unsigned)d->minor)) < 0 &&
	    errno != EEXIST) {
		int e = errno;

		close(pfd);
		return vk_error_errno(err, e, "cannot create device %s in the container", d->path);
	}
	if ((d->has_uid || d->has_gid) &&
	    fchownat(pfd, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
	             AT_SYMLINK_NOFOLLOW) < 0) {
		int e = errno;

		close(pfd);
		return vk_error_errno(err, e, "cannot chown device %s", d->path);
	}
	close(pfd);
	return 0;
}

static bool in_spec(const struct oci_spec *s, const char *path)
{
	for (size_t i = 0; i < s->linux_.n_devices; i++)
		if (strcmp(s->linux_.devices[i].path, path) == 0)
			return true;
	return false;
}

int rootfs_devices(struct rootfs_ctx *r, struct vk_error *err)
{
	static const char *const links[][2] = {
	        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
	        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	        {"pts/ptmx", "ptmx"},
	};
	const struct oci_spec *s = r->spec;
	mode_t old = umask(0);
	size_t i;
	int dfd, ret = 0;

	for (i = 0; !r->dev_bound && i < ARRAY_SIZE(default_devices) && !ret; i++)
		if (!in_spec(s, default_devices[i].path))
			ret = make_device(r, &default_devices[i], err);
	for (i = 0; i < s->linux_.n_devices && !ret; i++)
		ret = make_device(r, &s->linux_.devices[i], err);
	umask(old);
	if (ret)
		return ret;
	if (r->dev_bound)
		return 0;
	dfd = fs_ensure_in_root(r->rootfd, "/dev", true, false, err);
	if (dfd < 0)
		return dfd;
	for (i = 0; i < ARRAY_SIZE(links); i++) {
		/* An existing /dev/ptmx node or symlink stays as the image made it. */
		if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST) {
			ret = vk_error_errno(err, errno, "cannot create /dev/%s", links[i][1]);
			break;
		}
	}
	if (!ret && access("/proc/kcore", F_OK) == 0)
		symlinkat("/proc/kcore", dfd, "core");
	close(dfd);
	return ret ? ret : oci_fault("devices", err);
}

/* Only sysctls that belong to a namespace the container has of its own. */
static int check_sysctl(const struct oci_spec *s, const char *key, struct vk_error *err)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
	                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
	                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			goto need_ipc;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		goto need_ipc;
	if (strncmp(key, "net.", 4) == 0) {
		if (oci_spec_has_ns(s, CLONE_NEWNET) && !oci_spec_ns_path(s, CLONE_NEWNET))
			return 0;
		return vk_error_set(err, EPERM,
		                    "linux.sysctl: %s needs a network namespace of the "
		                    "container's own",
		                    key);
	}
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0) {
		if (oci_spec_has_ns(s, CLONE_NEWUTS))
			return 0;
		return vk_error_set(err, EPERM, "linux.sysctl: %s needs a uts namespace", key);
	}
	return vk_error_set(err, EPERM,
	                    "linux.sysctl: %s is not namespaced: it would change the host", key);
need_ipc:
	if (oci_spec_has_ns(s, CLONE_NEWIPC))
		return 0;
	return vk_error_set(err, EPERM, "linux.sysctl: %s needs an ipc namespace", key);
}

int rootfs_sysctls(const struct oci_spec *s, struct vk_error *err)
{
	for (size_t i = 0; i < s->linux_.sysctl.n; i++) {
		const char *key = s->linux_.sysctl.v[i].key, *val = s->linux_.sysctl.v[i].value;
		char path[512];
		size_t n;
		int fd, ret;

		ret = check_sysctl(s, key, err);
		if (ret < 0)
			return ret;
		if (strstr(key, "..") || strchr(key, '/'))
			return vk_error_set(err, EINVAL, "linux.sysctl: invalid key '%s'", key);
		n = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key);
		for (char *p = path + 10; p < path + n; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return vk_error_errno(err, errno, "linux.sysctl: cannot open %s", path);
		if (write(fd, val, strlen(val)) < 0) {
			int e = errno;

			close(fd);
			return vk_error_errno(err, e, "linux.sysctl: cannot set %s to '%s'", key,
			                      val);
		}
		close(fd);
	}
	return 0;
}
