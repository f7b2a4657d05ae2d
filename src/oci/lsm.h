/* SPDX-License-Identifier: MIT */
/*
 * Linux security modules: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel. Applied where the host has the LSM enabled and refused
 * (create or exec fails with the reason) where it has not; never parsed and
 * ignored.
 *
 *   AppArmor: "exec PROFILE" is written to the process's own
 *     attr/apparmor/exec (attr/exec on kernels without the per-LSM
 *     directory), which takes effect at its next execve (aa_change_onexec,
 *     what runc does).
 *   SELinux: the label is written to attr/exec (setexeccon); mountLabel is
 *     added as context="LABEL" to the options of the filesystems the runtime
 *     mounts (tmpfs, devpts...), and set as the security.selinux attribute of
 *     an mqueue mount, as runc does.
 *
 * The attribute files are opened through a descriptor of the runtime's own
 * /proc (a container's /proc, or none, may be in place by then) and written
 * by whatever does the program's execve: oci_proc_exec, or the init stub,
 * since the stub's own execve would consume them. The host paths come in a
 * struct oci_lsm_host so that tests can point them at a temporary tree.
 */
#ifndef VK_OCI_LSM_H
#define VK_OCI_LSM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "spec.h"

struct oci_lsm_host {
	const char *proc;  /* a procfs, "/proc" */
	const char *sys;   /* sysfs, "/sys" */
	bool check_procfs; /* the attribute files must be on procfs (off in tests) */
};

extern const struct oci_lsm_host oci_lsm_host_default;

/* The attributes to write just before the program's execve. */
#define OCI_LSM_MAX_ATTRS 2
struct oci_lsm_exec {
	size_t n;
	int fd[OCI_LSM_MAX_ATTRS];
	char *value[OCI_LSM_MAX_ATTRS];
	char *name[OCI_LSM_MAX_ATTRS]; /* the spec field, for messages */
};

bool oci_lsm_apparmor_enabled(const struct oci_lsm_host *h);
bool oci_lsm_selinux_enabled(const struct oci_lsm_host *h);

/*
 * Refuse (-ENOTSUP, naming the field) a profile or label this host cannot
 * apply: its LSM is not enabled. p and mount_label may be NULL.
 */
int oci_lsm_check(const struct oci_lsm_host *h, const struct oci_process *p,
                  const char *mount_label, struct vk_error *err) VK_MUST_CHECK;

/*
 * Open the attribute files of the calling thread for p's profile and label,
 * relative to procfd (an O_PATH descriptor of h->proc's directory). Nothing
 * to do leaves x->n at 0. Free with oci_lsm_exec_clear.
 */
int oci_lsm_prepare(const struct oci_lsm_host *h, int procfd, const struct oci_process *p,
                    struct oci_lsm_exec *x, struct vk_error *err) VK_MUST_CHECK;

/* Write the prepared attributes and close them (the last step before execve). */
int oci_lsm_write(struct oci_lsm_exec *x, struct vk_error *err) VK_MUST_CHECK;

void oci_lsm_exec_clear(struct oci_lsm_exec *x);

/*
 * Mount options with mountLabel added (context="LABEL") for a filesystem of
 * type: *out is the new option string (caller frees), or NULL when nothing is
 * to be added (no label, or a type that takes no context option: proc,
 * sysfs, cgroup, mqueue). Returns 0 or -ENOMEM.
 */
int oci_lsm_mount_data(const char *type, const char *data, const char *label,
                       char **out) VK_MUST_CHECK;

#endif
