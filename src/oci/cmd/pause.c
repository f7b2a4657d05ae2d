/* SPDX-License-Identifier: MIT */
/* pause ID / resume ID: the cgroup freezer. */
#include <getopt.h>

#include "cmd.h"
#include "container.h"

static int freeze(struct oci_globals *g, int argc, char **argv, bool pause, struct vk_error *err)
{
	const char *id;
	int r;

	optind = 1;
	r = cmd_id(argc, argv, argv[0], &id, err);
	if (r < 0)
		return r;
	return oci_container_pause(g->root, id, pause, err);
}

int cmd_pause(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	return freeze(g, argc, argv, true, err);
}

int cmd_resume(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	return freeze(g, argc, argv, false, err);
}
