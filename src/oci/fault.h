/* SPDX-License-Identifier: MIT */
/*
 * Failure injection for the cleanup tests: VIRTKIT_OCI_FAIL_AT=<step> makes
 * the named step fail as if the system had refused it, and
 * VIRTKIT_OCI_WAIT_AT=<point>:<file> holds the runtime at a point until
 * <file> exists (the concurrency tests use it to open a race window on
 * purpose). Compiled in only when VK_OCI_FAULT_INJECTION is defined (debug
 * builds); release builds ignore both variables entirely.
 */
#ifndef VK_OCI_FAULT_H
#define VK_OCI_FAULT_H

#include "common/error.h"

/* Returns 0, or -EIO with "injected failure at <step>" in err. */
int oci_fault(const char *step, struct vk_error *err) VK_MUST_CHECK;

/*
 * Wait while VIRTKIT_OCI_WAIT_AT names this point, until its file exists
 * (at most 30 s); <file>.held is created when the wait begins. Points, in
 * create: "state-dir" (the state directory has its name and is locked,
 * nothing is in it yet), "cgroups" (cgroups made, joined and recorded; the
 * container process waits for them), "ready" (the container process waits
 * for start; state saved, no pid file yet), "cgroup-parent" (the parent of
 * the container's cgroup was found existing, its child not made yet).
 */
void oci_fault_wait(const char *point);

/* The steps, in the order create passes them, then restore's "criu" (for `features` and tests). */
extern const char *const oci_fault_steps[];

#endif
