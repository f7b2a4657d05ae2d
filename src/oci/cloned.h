/* SPDX-License-Identifier: MIT */
/*
 * CVE-2019-5736 class: a process in the container must never be able to
 * reach the runtime binary on the host through /proc/<pid>/exe while a
 * runtime process lives in the container's pid namespace (the init before
 * its execve, an exec'd process before its own). Commands that put a process
 * there re-exec the runtime from a sealed memfd copy first, so that exe is a
 * write-sealed anonymous file and the host binary stays out of reach.
 */
#ifndef VK_OCI_CLONED_H
#define VK_OCI_CLONED_H

#include "common/error.h"

/* True when /proc/self/exe is a memfd sealed against writes. */
bool oci_exe_is_sealed(void);

/* Re-exec argv from a sealed copy unless already there. Returns only on failure. */
int oci_reexec_sealed(char **argv, struct vk_error *err);

#endif
