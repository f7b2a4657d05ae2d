/* SPDX-License-Identifier: MIT */
/*
 * The container process's privileges: seccomp filters built with libseccomp
 * (seccomp.c) and capability sets applied with libcap (caps.c).
 */
#ifndef VK_OCI_SECURITY_H
#define VK_OCI_SECURITY_H

#include "common/error.h"
#include "spec.h"

/*
 * Build and load the filter for the calling thread. When listener_fd >= 0 and
 * the filter uses SCMP_ACT_NOTIFY, the notify fd is sent there (SCM_RIGHTS)
 * with state_json. Does not set no_new_privs (the caller owns that choice).
 */
int oci_seccomp_load(const struct oci_seccomp *sc, int listener_fd, const char *state_json,
                     struct vk_error *err) VK_MUST_CHECK;

/* Drop every capability not in the bounding set (needs CAP_SETPCAP). */
int oci_caps_bound(const struct oci_caps *c, struct vk_error *err) VK_MUST_CHECK;

/* Set effective/permitted/inheritable and raise ambient (after the uid change). */
int oci_caps_apply(const struct oci_caps *c, struct vk_error *err) VK_MUST_CHECK;

/* Capability names known to libcap and this kernel ("CAP_CHOWN", ...). */
json_object *oci_caps_names(void);

#endif
