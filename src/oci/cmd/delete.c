/* SPDX-License-Identifier: MIT */
/* delete [--force] ID */
#include <errno.h>
#include <getopt.h>

#include "cmd.h"
#include "container.h"

int cmd_delete(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {NULL, 0, NULL, 0},
	};
	bool force = false;
	const char *id;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return vk_error_set(err, EINVAL, "delete: invalid option");
		force = true;
	}
	r = cmd_id(argc, argv, "delete", &id, err);
	if (r < 0)
		return r;
	return oci_container_delete(g->root, id, force, err);
}
