/* SPDX-License-Identifier: MIT */
/* run: create + start in the foreground; the exit status is the container's. */
#include "cmd.h"
#include "container.h"

int cmd_run(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	struct oci_create_opts o = {
	        .root = g->root, .systemd_cgroup = g->systemd_cgroup, .run = true, .argv = g->argv};
	int r = cmd_parse_create(argc, argv, true, &o, err);

	if (r < 0)
		return r;
	return oci_container_create(&o, err);
}
