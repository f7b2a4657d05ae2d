/* SPDX-License-Identifier: MIT */
/*
 * Failure injection for the cleanup tests: VIRTKIT_OCI_FAIL_AT=<step> makes
 * the named step fail as if the system had refused it. Compiled in only when
 * VK_OCI_FAULT_INJECTION is defined (debug builds); release builds ignore the
 * variable entirely.
 */
#ifndef VK_OCI_FAULT_H
#define VK_OCI_FAULT_H

#include "common/error.h"

/* Returns 0, or -EIO with "injected failure at <step>" in err. */
int oci_fault(const char *step, struct vk_error *err) VK_MUST_CHECK;

/* The steps, in the order create passes them (for `features` and tests). */
extern const char *const oci_fault_steps[];

#endif
