/* SPDX-License-Identifier: MIT */
/*
 * OCI hooks: each is exec'd with the container state JSON on stdin, its own
 * args and env, no other descriptors, and killed when its timeout passes.
 * prestart/createRuntime/poststart/poststop run in the runtime's namespaces,
 * createContainer/startContainer in the container's (the caller decides).
 */
#ifndef VK_OCI_HOOKS_H
#define VK_OCI_HOOKS_H

#include "common/error.h"
#include "spec.h"

/* Run every hook of a list in order; stop at the first failure. */
int oci_hooks_run(const struct oci_hook_list *l, enum oci_hook_kind kind, const char *state_json,
                  struct vk_error *err) VK_MUST_CHECK;

/*
 * poststart and poststop: run every hook of the list in order; a failing one
 * is logged as a warning and the rest still run (runtime-spec, "Lifecycle"
 * steps 10 and 13). Returns the number of hooks that failed.
 */
unsigned oci_hooks_run_warn(const struct oci_hook_list *l, enum oci_hook_kind kind,
                            const char *state_json);

#endif
