/* SPDX-License-Identifier: MIT */
/*
 * The init stub (stub/init-stub.c), embedded in the runtime: a sealed memfd
 * holding it, and the exec through it. See the stub's header for why.
 */
#ifndef VK_OCI_STUB_H
#define VK_OCI_STUB_H

#include <stdbool.h>

#include "common/error.h"
#include "lsm.h"
#include "spec.h"

/* Whether this build carries the stub (x86-64 and aarch64). */
bool oci_stub_available(void);

/*
 * Whether a container with this spec may go through the stub: it needs a
 * pid namespace of its own (nobody else can see the runtime's process before
 * the exec) and a seccomp profile that lets execveat through.
 */
bool oci_stub_usable(const struct oci_spec *spec);

/* A sealed, close-on-exec memfd with the stub. */
int oci_stub_create(struct vk_error *err) VK_MUST_CHECK;

/*
 * exec path (argv, envp) through the stub. errfd (or -1) is the error
 * channel, mode 's' (sync messages) or 'c' (start's stream). The stub writes
 * the LSM attributes of lsm (may be NULL) right before its execve. Returns
 * only on failure.
 */
int oci_stub_exec(int stubfd, int errfd, char mode, const struct oci_lsm_exec *lsm,
                  const char *path, char *const argv[], char *const envp[], struct vk_error *err);

#endif
