/* SPDX-License-Identifier: MIT */
/* state ID: the runtime-spec state JSON. */
#include <getopt.h>

#include "cmd.h"
#include "container.h"

int cmd_state(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	struct oci_state st = {0};
	enum oci_status status;
	json_object *o;
	const char *id;
	int r;

	optind = 1;
	r = cmd_id(argc, argv, "state", &id, err);
	if (!r)
		r = oci_container_load(g->root, id, &st, &status, err);
	if (r < 0)
		return r;
	o = oci_state_to_json(&st, status);
	cmd_print_json(o, true);
	json_object_put(o);
	oci_state_clear(&st);
	return 0;
}
