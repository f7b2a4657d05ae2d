/* SPDX-License-Identifier: MIT */
/* start ID: let a created container exec its process. */
#include <getopt.h>

#include "cmd.h"
#include "container.h"

int cmd_start(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	const char *id;
	int r;

	optind = 1;
	r = cmd_id(argc, argv, "start", &id, err);
	if (r < 0)
		return r;
	return oci_container_start(g->root, id, err);
}
