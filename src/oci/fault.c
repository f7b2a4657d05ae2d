/* SPDX-License-Identifier: MIT */
/* VIRTKIT_OCI_FAIL_AT failure injection and VIRTKIT_OCI_WAIT_AT holds (debug builds only). */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const oci_fault_steps[] = {
        "state",  "cgroup",   "cgroup-apply", "console", "clone",  "userns",
        "mounts", "devices",  "hooks",        "pivot",   "rootfs", "process",
        "ready",  "pid-file", "start",        "criu",    NULL,
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

void oci_fault_wait(const char *point)
{
#ifdef VK_OCI_FAULT_INJECTION
	const char *want = getenv("VIRTKIT_OCI_WAIT_AT");
	size_t n = strlen(point);
	struct timespec ts = {0, 10 * 1000 * 1000};
	char held[4096];
	int fd;

	if (!want || strncmp(want, point, n) != 0 || want[n] != ':')
		return;
	/* <file>.held tells the test that the runtime got here. */
	snprintf(held, sizeof(held), "%s.held", want + n + 1);
	fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 3000 && access(want + n + 1, F_OK) < 0; i++)
		nanosleep(&ts, NULL);
#else
	(void)point;
#endif
}
