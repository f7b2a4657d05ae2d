/* SPDX-License-Identifier: MIT */
/*
 * The container's root filesystem, built inside its own mount namespace:
 * propagation, the rootfs bind, the spec's mounts (targets resolved inside
 * the root, /proc and /sys only onto real directories and checked after
 * mounting), devices and /dev symlinks, /dev/console, pivot_root, masked and
 * readonly paths, a readonly root and sysctls; linux.mountLabel on the
 * filesystems it mounts (lsm.h). Runs in the container process
 * before it execs; nothing here touches the host's mount table (the first
 * step makes "/" a slave).
 */
#ifndef VK_OCI_ROOTFS_H
#define VK_OCI_ROOTFS_H

#include <stdbool.h>

#include "cgroup.h"
#include "common/error.h"
#include "spec.h"

struct rootfs_ctx {
	const struct oci_spec *spec;
	struct oci_cgroup *cg; /* for "cgroup" mounts (may be NULL) */
	bool userns;           /* no mknod, locked mount flags */
	bool no_pivot;
	int rootfd;     /* O_PATH on the bound rootfs, -1 until rootfs_mount() */
	bool dev_bound; /* /dev comes from a bind mount: leave its nodes alone */
	/* Called before a "cgroup" mount: the cgroup directories must exist. */
	int (*need_cgroups)(void *arg, struct vk_error *err);
	void *arg;
};

/* Propagation, rootfs bind and every spec mount, then devices and symlinks. */
int rootfs_mount(struct rootfs_ctx *r, struct vk_error *err) VK_MUST_CHECK;

/*
 * Without a mount namespace (the container inherits the runtime's): every
 * spec mount below root.path, in the runtime's namespace (hostmounts.h
 * records and removes them), and the devices when the spec mounts a /dev;
 * no propagation change, no bind of the root (it is entered with chroot).
 */
int rootfs_mount_shared(struct rootfs_ctx *r, struct vk_error *err) VK_MUST_CHECK;

/* Whether the spec mounts a filesystem (not a bind) of type (NULL: any) on dest. */
bool rootfs_spec_mounts(const struct oci_spec *s, const char *dest, const char *type);

/* Bind the pty slave on <root>/dev/console. */
int rootfs_console(struct rootfs_ctx *r, int slave_fd, struct vk_error *err) VK_MUST_CHECK;

/* pivot_root into the rootfs (MS_MOVE + chroot with no_pivot). */
int rootfs_pivot(struct rootfs_ctx *r, struct vk_error *err) VK_MUST_CHECK;

/* After pivot: sysctls, masked and readonly paths, readonly root. */
int rootfs_finish(struct rootfs_ctx *r, struct vk_error *err) VK_MUST_CHECK;

/* devices.c: default devices, the spec's devices and the /dev symlinks. */
int rootfs_devices(struct rootfs_ctx *r, struct vk_error *err) VK_MUST_CHECK;

/* Sysctls (after pivot, before /proc/sys turns readonly). */
int rootfs_sysctls(const struct oci_spec *spec, struct vk_error *err) VK_MUST_CHECK;

#endif
