/* SPDX-License-Identifier: MIT */
/*
 * The last steps of a container process before execve, shared by the
 * container's init and by `exec`: limits, executable lookup in the
 * container's PATH, cwd (checked to be inside the container), seccomp,
 * capabilities, user and groups, no_new_privs, umask, env, the AppArmor
 * profile or SELinux label for the exec (lsm.h), and closing every
 * descriptor not preserved.
 */
#ifndef VK_OCI_PROCESS_H
#define VK_OCI_PROCESS_H

#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "lsm.h"
#include "spec.h"

struct oci_proc_ctx {
	const struct oci_process *proc;
	const struct oci_seccomp *seccomp; /* may be NULL */
	int preserve_fds;                  /* fds 3 .. 3+n-1 survive */
	bool userns;
	int seccomp_listener;    /* connected listenerPath socket, -1 */
	int proc_fd;             /* the runtime's /proc (O_PATH), -1: no LSM attributes to set */
	struct oci_lsm_exec lsm; /* opened by oci_proc_finalize, written right before execve */
	const char *state_json;
	char exe[PATH_MAX]; /* filled by oci_proc_lookup */
	char **envp;        /* built by oci_proc_finalize */
};

/* rlimits and oomScoreAdj (while still privileged, before the container is "created"). */
int oci_proc_limits(const struct oci_process *p, struct vk_error *err) VK_MUST_CHECK;

/* Find args[0] in the container (call after pivot_root). */
int oci_proc_lookup(struct oci_proc_ctx *c, struct vk_error *err) VK_MUST_CHECK;

/* cwd, LSM attribute files, seccomp, caps, user, nnp, umask, fds: everything up to execve. */
int oci_proc_finalize(struct oci_proc_ctx *c, struct vk_error *err) VK_MUST_CHECK;

/* Write the LSM attributes, then execve; returns only on failure, with the error set. */
int oci_proc_exec(struct oci_proc_ctx *c, struct vk_error *err);

/*
 * Close every descriptor from `first` up except those in keep[] (the
 * CVE-2024-21626 class: a leaked host directory fd must not survive into the
 * container, not even until exec).
 */
void oci_close_fds_except(int first, const int *keep, size_t n);

#endif
