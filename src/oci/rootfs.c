/* SPDX-License-Identifier: MIT */
/* Building the container's root: mounts, pivot_root, masked/readonly paths. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fault.h"
#include "fsutil.h"
#include "log.h"
#include "lsm.h"

#define LOCKED_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)

static int do_mount(const char *src, int target_fd, const char *type, unsigned long flags,
                    const char *data, const char *dest, struct vk_error *err)
{
	char tp[32];

	if (mount(src, fs_fd_path(target_fd, tp, sizeof(tp)), type, flags, data) < 0)
		return vk_error_errno(err, errno, "cannot mount %s on %s (type %s)",
		                      src ? src : "none", dest, type ? type : "bind");
	return 0;
}

/* Re-open dest after a mount so the fd names the new mount's root. */
static int reopen(struct rootfs_ctx *r, const char *dest, struct vk_error *err)
{
	int fd = fs_open_in_root(r->rootfd, dest, O_PATH, 0);

	if (fd < 0)
		return vk_error_errno(err, -fd, "cannot open %s in the container after mounting",
		                      dest);
	return fd;
}

/* Remount with the spec's flags, keeping flags a user namespace cannot drop. */
static int remount(struct rootfs_ctx *r, const char *dest, unsigned long flags, bool bind,
                   struct vk_error *err)
{
	int fd, ret;

	if (strcmp(dest, "/") == 0) {
		/* After pivot, "/" is ours; no /proc needed for it. */
		fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (r->userns && fd >= 0)
			flags |= fs_mount_flags(fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
		if (fd >= 0)
			close(fd);
		if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
			return vk_error_errno(err, errno, "cannot remount the root filesystem");
		return 0;
	}
	fd = reopen(r, dest, err);
	if (fd < 0)
		return fd;
	if (r->userns)
		flags |= fs_mount_flags(fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	ret = do_mount(NULL, fd, NULL, MS_REMOUNT | (bind ? MS_BIND : 0) | flags, NULL, dest, err);
	close(fd);
	return ret;
}

static int post_mount(struct rootfs_ctx *r, const struct oci_mount *m, struct vk_error *err)
{
	int fd, ret = 0;

	if (!m->propagation && !m->rec_attr_set)
		return 0;
	fd = reopen(r, m->destination, err);
	if (fd < 0)
		return fd;
	if (m->propagation)
		ret = do_mount(NULL, fd, NULL, m->propagation, NULL, m->destination, err);
	if (!ret && m->rec_attr_set) {
		struct mount_attr attr = {.attr_set = m->rec_attr_set};

		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		            sizeof(attr)) < 0)
			ret = vk_error_errno(err, errno, "cannot set recursive attributes on %s",
			                     m->destination);
	}
	close(fd);
	return ret;
}

static int mount_bind(struct rootfs_ctx *r, const struct oci_mount *m, const char *src,
                      struct vk_error *err)
{
	unsigned long extra = m->flags & ~(unsigned long)(MS_REC | MS_REMOUNT);
	struct stat st;
	int fd, ret;

	if (stat(src, &st) < 0)
		return vk_error_errno(err, errno, "cannot bind mount '%s' on %s", src,
		                      m->destination);
	fd = fs_ensure_in_root(r->rootfd, m->destination, S_ISDIR(st.st_mode), false, err);
	if (fd < 0)
		return fd;
	ret = do_mount(src, fd, NULL, MS_BIND | (m->flags & MS_REC), NULL, m->destination, err);
	close(fd);
	if (!ret && extra)
		ret = remount(r, m->destination, extra, true, err);
	if (!ret)
		ret = post_mount(r, m, err);
	return ret;
}

/* The name of a hierarchy's directory under the container's /sys/fs/cgroup. */
static const char *cg_dir_name(const struct oci_cg_hier *h)
{
	if (h->v2)
		return "unified";
	if (strncmp(h->name, "name=", 5) == 0)
		return h->name + 5;
	return h->name;
}

static uint64_t to_mount_attr(unsigned long flags)
{
	uint64_t a = 0;

	if (flags & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	return a;
}

/* Set flags on the mount at fd and everything below it, in one call. */
static int setattr_tree(int fd, unsigned long flags, const char *what, struct vk_error *err)
{
	struct mount_attr attr = {.attr_set = to_mount_attr(flags)};

	if (!attr.attr_set)
		return 0;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
	    0)
		return vk_error_errno(err, errno, "cannot make %s readonly", what);
	return 0;
}

/*
 * "cgroup" mounts: on v2 the container's own cgroup; on v1 and hybrid a
 * tmpfs with one bind per hierarchy (the container's cgroup in each). The
 * tmpfs is fresh, so its entries are made relative to its directory fd;
 * the flags (ro, nosuid...) go on the whole tree at once.
 */
static int mount_cgroup(struct rootfs_ctx *r, const struct oci_mount *m, struct vk_error *err)
{
	unsigned long fl = m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
	char src[4096], fp[32];
	int fd, dfd, ret;

	if (r->need_cgroups) {
		ret = r->need_cgroups(r->arg, err);
		if (ret < 0)
			return ret;
	}
	if (!r->cg || r->cg->n == 0)
		return 0; /* rootless without cgroups: nothing to show */
	fd = fs_ensure_in_root(r->rootfd, m->destination, true, true, err);
	if (fd < 0)
		return fd;
	if (r->cg->mode == OCI_CG_V2) {
		struct oci_cg_hier *h = oci_cgroup_v2(r->cg);

		snprintf(src, sizeof(src), "%s%s", h->mount, h->path);
		ret = do_mount(src, fd, NULL, MS_BIND | MS_REC, NULL, m->destination, err);
	} else {
		char *labelled = NULL;

		if (oci_lsm_mount_data("tmpfs", "mode=755", r->spec->linux_.mount_label,
		                       &labelled) < 0) {
			close(fd);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		ret = do_mount("tmpfs", fd, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		               labelled ? labelled : "mode=755", m->destination, err);
		free(labelled);
	}
	close(fd);
	if (ret)
		return ret;
	dfd = fs_open_in_root(r->rootfd, m->destination, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (dfd < 0)
		return vk_error_errno(err, -dfd, "cannot open %s after mounting it",
		                      m->destination);
	for (size_t i = 0; r->cg->mode != OCI_CG_V2 && !ret && i < r->cg->n; i++) {
		const struct oci_cg_hier *h = &r->cg->h[i];
		const char *name = cg_dir_name(h);

		snprintf(src, sizeof(src), "%s%s", h->mount, h->path);
		if (mkdirat(dfd, name, 0755) < 0 ||
		    (fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			ret = vk_error_errno(err, errno, "cannot create %s/%s", m->destination,
			                     name);
			break;
		}
		if (mount(src, fs_fd_path(fd, fp, sizeof(fp)), NULL, MS_BIND, NULL) < 0)
			ret = vk_error_errno(err, errno, "cannot bind %s on %s/%s", src,
			                     m->destination, name);
		close(fd);
		/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
		if (!ret && strchr(name, ',')) {
			char names[256], *tok, *save = NULL;

			snprintf(names, sizeof(names), "%s", name);
			for (tok = strtok_r(names, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				symlinkat(name, dfd, tok);
		}
	}
	if (!ret) {
		/* dfd still names the tmpfs root; reopen to get the tree on top. */
		close(dfd);
		dfd = fs_open_in_root(r->rootfd, m->destination, O_PATH | O_DIRECTORY,
		                      RESOLVE_NO_SYMLINKS);
		ret = dfd < 0 ? vk_error_errno(err, -dfd, "cannot open %s", m->destination)
		              : setattr_tree(dfd, fl, m->destination, err);
	}
	if (dfd >= 0)
		close(dfd);
	return ret;
}

/* Kernel filesystems whose target must be a real directory, checked after mounting. */
static long expected_magic(const char *type)
{
	if (strcmp(type, "proc") == 0)
		return PROC_SUPER_MAGIC;
	if (strcmp(type, "sysfs") == 0)
		return SYSFS_MAGIC;
	return 0;
}

static int mount_fs(struct rootfs_ctx *r, const struct oci_mount *m, struct vk_error *err)
{
	long magic = expected_magic(m->type);
	unsigned long flags = m->flags & ~(unsigned long)(MS_REMOUNT | MS_REC);
	const char *src = m->source && *m->source ? m->source : m->type;
	struct statfs sfs;
	int fd, ret;

	char *labelled = NULL;

	if (oci_lsm_mount_data(m->type, m->data, r->spec->linux_.mount_label, &labelled) < 0)
		return vk_error_set(err, ENOMEM, "out of memory");
	fd = fs_ensure_in_root(r->rootfd, m->destination, true, magic != 0, err);
	if (fd < 0) {
		free(labelled);
		return fd;
	}
	ret = mount(src, fs_fd_path(fd, (char[32]){0}, 32), m->type, flags,
	            labelled ? labelled : m->data);
	free(labelled);
	if (ret < 0) {
		int e = errno;

		/* A user namespace may not mount sysfs or mqueue of the host's namespaces:
		 * fall back to binding the host's (what rootless runc does). */
		if (r->userns && (e == EPERM || e == EACCES) &&
		    (strcmp(m->type, "sysfs") == 0 || strcmp(m->type, "mqueue") == 0)) {
			const char *host = strcmp(m->type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";

			ret = do_mount(host, fd, NULL, MS_BIND | MS_REC, NULL, m->destination, err);
			close(fd);
			if (!ret && (flags & LOCKED_FLAGS))
				ret = remount(r, m->destination, flags & LOCKED_FLAGS, true, err);
			return ret;
		}
		close(fd);
		return vk_error_errno(err, e, "cannot mount %s on %s (type %s%s%s)", src,
		                      m->destination, m->type, m->data ? ", options " : "",
		                      m->data ? m->data : "");
	}
	if (strcmp(m->type, "mqueue") == 0 && r->spec->linux_.mount_label) {
		/* mqueue takes no context= option: label its root (runc does the same). */
		char fp[32];
		int mfd = fs_open_in_root(r->rootfd, m->destination, O_PATH | O_DIRECTORY,
		                          RESOLVE_NO_SYMLINKS);
		const char *l = r->spec->linux_.mount_label;

		ret = mfd < 0 ? -1
		              : setxattr(fs_fd_path(mfd, fp, sizeof(fp)), "security.selinux", l,
		                         strlen(l), 0);
		if (ret < 0)
			ret = vk_error_errno(err, mfd < 0 ? -mfd : errno,
			                     "cannot apply linux.mountLabel to %s", m->destination);
		if (mfd >= 0)
			close(mfd);
		if (ret < 0) {
			close(fd);
			return ret;
		}
	}
	close(fd);
	if (magic) {
		/* Verify what is now at the target is what we mounted. */
		fd = fs_open_in_root(r->rootfd, m->destination, O_PATH | O_DIRECTORY,
		                     RESOLVE_NO_SYMLINKS);
		if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != magic) {
			if (fd >= 0)
				close(fd);
			return vk_error_set(err, EPERM,
			                    "%s is not a fresh %s mount after mounting it",
			                    m->destination, m->type);
		}
		close(fd);
	}
	return post_mount(r, m, err);
}

static int mount_one(struct rootfs_ctx *r, const struct oci_mount *m, struct vk_error *err)
{
	char src[4096];

	if (m->bind) {
		const char *s = m->source ? m->source : "";

		if (s[0] != '/')
			snprintf(src, sizeof(src), "%s/%s", r->spec->bundle, s);
		else
			snprintf(src, sizeof(src), "%s", s);
		if (strcmp(m->destination, "/dev") == 0)
			r->dev_bound = true;
		return mount_bind(r, m, src, err);
	}
	if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)
		return mount_cgroup(r, m, err);
	return mount_fs(r, m, err);
}

/* Every spec mount below r->rootfd, in order, then /dev. */
static int mount_all(struct rootfs_ctx *r, bool devices, struct vk_error *err)
{
	const struct oci_spec *s = r->spec;
	int ret;

	for (size_t i = 0; i < s->n_mounts; i++) {
		ret = mount_one(r, &s->mounts[i], err);
		if (ret < 0)
			return ret;
	}
	ret = oci_fault("mounts", err);
	if (ret < 0 || !devices)
		return ret;
	return rootfs_devices(r, err);
}

int rootfs_mount(struct rootfs_ctx *r, struct vk_error *err)
{
	const struct oci_spec *s = r->spec;
	unsigned long prop = s->linux_.rootfs_propagation & (MS_PRIVATE | MS_SLAVE);

	/*
	 * First: nothing done below may propagate back to the host, so private
	 * and slave go on every mount (MS_REC even when the spec did not ask).
	 * shared and unbindable are put on the new root at the end
	 * (rootfs_finish): an unbindable "/" could not be bound below.
	 */
	if (mount(NULL, "/", NULL, (prop ? prop : MS_SLAVE) | MS_REC, NULL) < 0)
		return vk_error_errno(err, errno, "cannot set mount propagation of /");
	if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return vk_error_errno(err, errno, "cannot bind mount the root filesystem '%s'",
		                      s->root_path);
	/* pivot_root only needs it not shared: a slave keeps receiving the host's
	 * mounts below the rootfs, as runc's default rslave does. */
	r->rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->rootfd < 0)
		return vk_error_errno(err, errno, "cannot open the root filesystem '%s'",
		                      s->root_path);
	return mount_all(r, true, err);
}

bool rootfs_spec_mounts(const struct oci_spec *s, const char *dest, const char *type)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];

		if (strcmp(m->destination, dest) == 0 && !m->bind && m->type &&
		    (!type || strcmp(m->type, type) == 0))
			return true;
	}
	return false;
}

int rootfs_mount_shared(struct rootfs_ctx *r, struct vk_error *err)
{
	const struct oci_spec *s = r->spec;

	r->rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->rootfd < 0)
		return vk_error_errno(err, errno, "cannot open the root filesystem '%s'",
		                      s->root_path);
	/* Device nodes only on a /dev the container mounts, never in root.path itself. */
	return mount_all(r, rootfs_spec_mounts(s, "/dev", NULL), err);
}

int rootfs_console(struct rootfs_ctx *r, int slave_fd, struct vk_error *err)
{
	int fd = fs_ensure_in_root(r->rootfd, "/dev/console", false, false, err), ret;
	char sp[32];

	if (fd < 0)
		return fd;
	ret = do_mount(fs_fd_path(slave_fd, sp, sizeof(sp)), fd, NULL, MS_BIND, NULL,
	               "/dev/console", err);
	close(fd);
	return ret;
}

int rootfs_pivot(struct rootfs_ctx *r, struct vk_error *err)
{
	const char *root = r->spec->root_path;
	int ret = oci_fault("pivot", err);

	if (ret < 0)
		return ret;
	if (fchdir(r->rootfd) < 0)
		return vk_error_errno(err, errno, "cannot enter the root filesystem");
	if (r->no_pivot) {
		if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
			return vk_error_errno(err, errno, "cannot move the root filesystem to /");
		if (chroot(".") < 0)
			return vk_error_errno(err, errno, "cannot chroot into the root filesystem");
	} else {
		/* Stack the old root under the new one, then detach it. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return vk_error_errno(err, errno, "pivot_root into '%s' failed", root);
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return vk_error_errno(err, errno, "cannot make the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return vk_error_errno(err, errno, "cannot detach the old root");
	}
	if (chdir("/") < 0)
		return vk_error_errno(err, errno, "cannot chdir to the new root");
	close(r->rootfd);
	r->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->rootfd < 0)
		return vk_error_errno(err, errno, "cannot open the new root");
	return 0;
}

static int mask_path(const char *p, const char *mount_label, struct vk_error *err)
{
	struct stat st;
	int fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char fp[32], *labelled = NULL;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		               ? 0
		               : vk_error_errno(err, errno, "cannot mask %s", p);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return vk_error_errno(err, errno, "cannot mask %s", p);
	}
	fs_fd_path(fd, fp, sizeof(fp));
	if (S_ISDIR(st.st_mode)) {
		int ret;

		if (oci_lsm_mount_data("tmpfs", "size=0k,mode=555", mount_label, &labelled) < 0) {
			close(fd);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		ret = mount("tmpfs", fp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		            labelled ? labelled : "size=0k,mode=555");
		free(labelled);
		if (ret < 0) {
			close(fd);
			return vk_error_errno(err, errno, "cannot mask %s", p);
		}
	} else if (mount("/dev/null", fp, NULL, MS_BIND, NULL) < 0) {
		close(fd);
		return vk_error_errno(err, errno, "cannot mask %s", p);
	}
	close(fd);
	return 0;
}

static int readonly_path(const char *p, struct vk_error *err)
{
	int fd = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC), tree, ret = 0;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		               ? 0
		               : vk_error_errno(err, errno, "cannot make %s readonly", p);
	/* A detached copy of the tree, made readonly, then put over the original. */
	tree = (int)syscall(SYS_open_tree, fd, "",
	                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0) {
		ret = vk_error_errno(err, errno, "cannot make %s readonly", p);
	} else {
		ret = setattr_tree(tree, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, p, err);
		if (!ret && syscall(SYS_move_mount, tree, "", fd, "",
		                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			ret = vk_error_errno(err, errno, "cannot make %s readonly", p);
		close(tree);
	}
	close(fd);
	return ret;
}

int rootfs_finish(struct rootfs_ctx *r, struct vk_error *err)
{
	const struct oci_linux *l = &r->spec->linux_;
	size_t i;
	int ret;

	ret = rootfs_sysctls(r->spec, err);
	for (i = 0; !ret && i < l->masked_paths.n; i++)
		ret = mask_path(l->masked_paths.v[i], l->mount_label, err);
	for (i = 0; !ret && i < l->readonly_paths.n; i++)
		ret = readonly_path(l->readonly_paths.v[i], err);
	if (!ret && r->spec->root_readonly)
		ret = remount(r, "/", MS_RDONLY, true, err);
	if (!ret && l->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE) &&
	    mount(NULL, "/", NULL, l->rootfs_propagation, NULL) < 0)
		ret = vk_error_errno(err, errno, "cannot set linux.rootfsPropagation on /");
	if (!ret)
		ret = oci_fault("rootfs", err);
	return ret;
}
