/* SPDX-License-Identifier: MIT */
/* create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "cmd.h"
#include "container.h"
#include "state.h"

int cmd_parse_create(int argc, char **argv, bool run, struct oci_create_opts *o,
                     struct vk_error *err)
{
	static const struct option opts[] = {
	        {"bundle", required_argument, NULL, 'b'},
	        {"pid-file", required_argument, NULL, 'p'},
	        {"console-socket", required_argument, NULL, 'c'},
	        {"preserve-fds", required_argument, NULL, 'P'},
	        {"no-pivot", no_argument, NULL, 'n'},
	        {"no-new-keyring", no_argument, NULL, 'k'},
	        {"detach", no_argument, NULL, 'd'},
	        {"keep", no_argument, NULL, 'K'},
	        {"no-subreaper", no_argument, NULL, 's'},
	        {NULL, 0, NULL, 0},
	};
	int c, r;

	o->bundle = ".";
	optind = 0;
	while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'P':
			r = cmd_int(optarg, "--preserve-fds", 0, 1 << 20, &o->preserve_fds, err);
			if (r < 0)
				return r;
			break;
		case 'n':
			o->no_pivot = true;
			break;
		case 'd':
			if (!run)
				return vk_error_set(err, EINVAL, "create: unknown option --detach");
			o->detach = true;
			break;
		case 'K':
			if (!run)
				return vk_error_set(err, EINVAL, "create: unknown option --keep");
			o->keep = true;
			break;
		case 'k':
		case 's':
			break; /* accepted for runc compatibility */
		default:
			return vk_error_set(err, EINVAL, "%s: invalid option", argv[0]);
		}
	}
	r = cmd_id(argc, argv, argv[0], &o->id, err);
	if (r < 0)
		return r;
	return oci_validate_id(o->id, err);
}

int cmd_create(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	struct oci_create_opts o = {
	        .root = g->root, .systemd_cgroup = g->systemd_cgroup, .argv = g->argv};
	int r = cmd_parse_create(argc, argv, false, &o, err);

	if (r < 0)
		return r;
	return oci_container_create(&o, err);
}
