/* SPDX-License-Identifier: MIT */
/*
 * events [--stats] [--interval SECONDS] ID: with --stats one statistics
 * object; without, one every interval until the container stops.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cmd.h"
#include "container.h"

static int once(struct oci_globals *g, const char *id, struct vk_error *err)
{
	struct oci_state st = {0};
	enum oci_status status;
	struct oci_cgroup *cg;
	json_object *o;
	int r;

	r = oci_container_load(g->root, id, &st, &status, err);
	if (r < 0)
		return r;
	if (status == OCI_STATUS_STOPPED) {
		oci_state_clear(&st);
		return vk_error_set(err, ESRCH, "container not running");
	}
	cg = oci_cgroup_from_json(st.cgroup_json, err);
	oci_state_clear(&st);
	if (!cg)
		return -EIO;
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("stats"));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "data", oci_cgroup_stats(cg));
	oci_cgroup_free(cg);
	cmd_print_json(o, false);
	fflush(stdout);
	json_object_put(o);
	return 0;
}

int cmd_events(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"stats", no_argument, NULL, 's'},
	        {"interval", required_argument, NULL, 'i'},
	        {NULL, 0, NULL, 0},
	};
	bool stats = false;
	int c, r, interval = 5;
	const char *id;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 's') {
			stats = true;
		} else if (c == 'i') {
			/* runc takes a duration like "5s"; plain seconds work too. */
			r = cmd_int(strtok(optarg, "s"), "--interval", 1, 86400, &interval, err);
			if (r < 0)
				return r;
		} else {
			return vk_error_set(err, EINVAL, "events: invalid option");
		}
	}
	r = cmd_id(argc, argv, "events", &id, err);
	if (r < 0)
		return r;
	if (stats)
		return once(g, id, err);
	while ((r = once(g, id, err)) == 0)
		sleep((unsigned)interval);
	return r == -ESRCH ? 0 : r;
}
