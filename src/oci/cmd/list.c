/* SPDX-License-Identifier: MIT */
/* list [--format table|json] [--quiet]: every container under --root. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "container.h"

int cmd_list(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"format", required_argument, NULL, 'f'},
	        {"quiet", no_argument, NULL, 'q'},
	        {NULL, 0, NULL, 0},
	};
	bool json = false, quiet = false;
	json_object *arr = NULL;
	char **ids;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else if (c == 'q')
			quiet = true;
		else
			return vk_error_set(err, EINVAL, "list: --format must be table or json");
	}
	r = oci_state_list(g->root, &ids, err);
	if (r < 0)
		return r;
	if (json)
		arr = json_object_new_array();
	else if (!quiet)
		printf("%-24s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (char **p = ids; *p; p++) {
		struct oci_state st = {0};
		enum oci_status status;
		struct vk_error e = {0};

		if (oci_container_load(g->root, *p, &st, &status, &e) < 0)
			continue;
		if (json) {
			json_object *o = oci_state_to_json(&st, status);

			json_object_object_add(o, "owner",
			                       json_object_new_string(st.owner == 0 ? "root" : ""));
			json_object_array_add(arr, o);
		} else if (quiet) {
			printf("%s\n", *p);
		} else {
			printf("%-24s %-8d %-10s %-40s %-30s %s\n", *p,
			       status == OCI_STATUS_STOPPED ? 0 : st.pid, oci_status_name(status),
			       st.bundle ? st.bundle : "", st.created ? st.created : "",
			       st.owner == 0 ? "root" : "");
		}
		oci_state_clear(&st);
	}
	for (char **p = ids; *p; p++)
		free(*p);
	free(ids);
	if (json) {
		cmd_print_json(arr, false);
		json_object_put(arr);
	}
	return 0;
}
