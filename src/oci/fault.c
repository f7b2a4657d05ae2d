/* SPDX-License-Identifier: MIT */
/* VIRTKIT_OCI_FAIL_AT failure injection (debug builds only). */
#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const oci_fault_steps[] = {
        "state", "cgroup", "cgroup-apply", "console", "clone", "userns",   "mounts", "devices",
        "hooks", "pivot",  "rootfs",       "process", "ready", "pid-file", "start",  NULL,
};

int oci_fault(const char *step, struct vk_error *err)
{
#ifdef VK_OCI_FAULT_INJECTION
	const char *want = getenv("VIRTKIT_OCI_FAIL_AT");

	if (want && strcmp(want, step) == 0)
		return vk_error_set(err, EIO, "injected failure at %s", step);
#else
	(void)step;
	(void)err;
#endif
	return 0;
}
