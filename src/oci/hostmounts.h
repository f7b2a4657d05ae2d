/* SPDX-License-Identifier: MIT */
/*
 * The mounts of a container without a mount namespace of its own. Its
 * process then lives in the runtime's mount namespace (the spec: it
 * inherits it), so the mounts of config.json are made there, below
 * root.path, and they outlive the process: create finds them (the mounts
 * below root.path that were not there before it started), records them in
 * the container's state, and delete (or a failed create) removes them.
 *
 * A recorded mount is found again by its mount ID below root.path (the
 * container may have renamed a parent directory), its path is resolved there
 * without following any symlink, and the mount ID found at its end must be
 * the recorded one: a container cannot make delete unmount anything of the
 * host, nor anything outside root.path.
 */
#ifndef VK_OCI_HOSTMOUNTS_H
#define VK_OCI_HOSTMOUNTS_H

#include <stddef.h>

#include "common/error.h"

struct oci_hostmnt {
	int id;    /* mount ID (mountinfo's first field, statx's stx_mnt_id) */
	char *rel; /* mount point relative to root.path: "proc", "dev/pts" */
};

struct oci_hostmnts {
	struct oci_hostmnt *v;
	size_t n;
};

/* The mounts strictly below root (canonical, absolute) in a mountinfo file, in its order. */
int oci_hostmnts_scan(const char *mountinfo, const char *root, struct oci_hostmnts *out,
                      struct vk_error *err) VK_MUST_CHECK;

/* Those of after that before does not have (same ID and path). */
int oci_hostmnts_added(const struct oci_hostmnts *before, const struct oci_hostmnts *after,
                       struct oci_hostmnts *out) VK_MUST_CHECK;

/*
 * Unmount l below root, last made first (MNT_DETACH). A mount gone already
 * (unmounted, or detached with a parent) is fine; one that cannot be reached
 * safely is left alone with a warning. Returns the number left.
 */
unsigned oci_hostmnts_remove(const char *root, const struct oci_hostmnts *l);

/* As JSON for the state: [{"id":N,"path":"rel"},...]. Caller frees. */
char *oci_hostmnts_to_json(const struct oci_hostmnts *l);
int oci_hostmnts_from_json(const char *json, struct oci_hostmnts *out) VK_MUST_CHECK;

void oci_hostmnts_clear(struct oci_hostmnts *l);

#endif
