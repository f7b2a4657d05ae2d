/* SPDX-License-Identifier: MIT */
/*
 * exec [--process FILE | [options] ID CMD ARGS...]: run a process in a
 * running container. Options: --tty, --detach, --pid-file, --console-socket,
 * --cwd, --env (repeated), --user uid[:gid], --cap (repeated),
 * --no-new-privs, --preserve-fds, --apparmor, --process-label.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "container.h"

int cmd_exec(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"process", required_argument, NULL, 'p'},
	        {"tty", no_argument, NULL, 't'},
	        {"detach", no_argument, NULL, 'd'},
	        {"pid-file", required_argument, NULL, 'P'},
	        {"console-socket", required_argument, NULL, 'c'},
	        {"cwd", required_argument, NULL, 'w'},
	        {"env", required_argument, NULL, 'e'},
	        {"user", required_argument, NULL, 'u'},
	        {"cap", required_argument, NULL, 'C'},
	        {"no-new-privs", no_argument, NULL, 'n'},
	        {"preserve-fds", required_argument, NULL, 'f'},
	        {"process-label", required_argument, NULL, 'l'},
	        {"apparmor", required_argument, NULL, 'a'},
	        {NULL, 0, NULL, 0},
	};
	struct oci_exec_opts o = {.root = g->root};
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	char **caps = calloc((size_t)argc + 1, sizeof(char *));
	int c, r = 0;

	if (!env || !caps) {
		free(env);
		free(caps);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	o.env = env;
	o.caps = caps;
	optind = 0;
	while (!r && (c = getopt_long(argc, argv, "+p:tde:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.process_file = optarg;
			break;
		case 't':
			o.tty = o.tty_set = true;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'e':
			env[o.n_env++] = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'C':
			caps[o.n_caps++] = optarg;
			break;
		case 'n':
			o.no_new_privs = true;
			break;
		case 'f':
			r = cmd_int(optarg, "--preserve-fds", 0, 1 << 20, &o.preserve_fds, err);
			break;
		case 'l':
			o.process_label = optarg;
			break;
		case 'a':
			o.apparmor = optarg;
			break;
		default:
			r = vk_error_set(err, EINVAL, "exec: invalid option");
		}
	}
	if (!r)
		r = cmd_id(argc, argv, "exec", &o.id, err);
	if (!r) {
		o.args = argv + optind + 1;
		o.n_args = argc - optind - 1;
		if (o.n_args > 0 && strcmp(o.args[0], "--") == 0) {
			o.args++;
			o.n_args--;
		}
		r = oci_container_exec(&o, err);
	}
	free(env);
	free(caps);
	return r;
}
