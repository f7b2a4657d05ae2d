/* SPDX-License-Identifier: MIT */
/* Paths under the daemon's folders (see paths.h). */
#include "daemon/paths.h"

#include <errno.h>

#include "daemon/proc.h"

int paths_instance_dir(const struct vkd_paths *p, const char *uuid, char *buf, size_t len)
{
	if (fmt_buf(buf, len, "%s/instances/%s", p->run_dir, uuid) < 0) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int paths_log(const struct vkd_paths *p, const char *uuid, char *buf, size_t len)
{
	if (fmt_buf(buf, len, "%s/logs/%s.log", p->state_dir, uuid) < 0) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
