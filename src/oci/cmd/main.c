/* SPDX-License-Identifier: MIT */
/*
 * virtkit-oci: global options (runc's), the command table, and the one place
 * an error is printed: to stderr, and to --log in its format.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloned.h"
#include "cmd.h"
#include "log.h"
#include "spec.h"

#define VERSION "0.1.0"

static const struct oci_cmd commands[] = {
        {"create", cmd_create,
         "create [--bundle DIR] [--pid-file F] [--console-socket S] "
         "[--preserve-fds N] ID",
         false},
        {"start", cmd_start, "start ID", false},
        {"run", cmd_run,
         "run [--bundle DIR] [--pid-file F] [--console-socket S] [--detach] "
         "[--keep] ID",
         false},
        {"exec", cmd_exec,
         "exec [--process F | -- CMD ARGS] [--tty] [--detach] [--pid-file F] "
         "ID",
         true},
        {"state", cmd_state, "state ID", false},
        {"kill", cmd_kill, "kill [--all] ID [SIGNAL]", false},
        {"delete", cmd_delete, "delete [--force] ID", false},
        {"list", cmd_list, "list [--format table|json] [--quiet]", false},
        {"ps", cmd_ps, "ps [--format table|json] ID [ps options]", false},
        {"pause", cmd_pause, "pause ID", false},
        {"resume", cmd_resume, "resume ID", false},
        {"update", cmd_update, "update [--resources FILE|-] [--memory N] [--pids-limit N] ... ID",
         false},
        {"spec", cmd_spec, "spec [--bundle DIR] [--rootless]", false},
        {"features", cmd_features, "features", false},
        {"checkpoint", cmd_checkpoint,
         "checkpoint [--image-path DIR] [--work-path DIR] [--parent-path DIR] "
         "[--leave-running] [--pre-dump] [--tcp-established] [--ext-unix-sk] [--shell-job] "
         "[--file-locks] [--manage-cgroups-mode MODE] ... ID",
         false},
        {"restore", cmd_restore,
         "restore [--bundle DIR] [--image-path DIR] [--work-path DIR] [--detach] "
         "[--pid-file F] [--console-socket S] [--tcp-established] ... ID",
         false},
        {"events", cmd_events, "events [--stats] [--interval SECONDS] ID", false},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: virtkit-oci [--root DIR] [--log FILE] [--log-format text|json] "
	             "[--systemd-cgroup] [--debug] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s\n", commands[i].usage);
}

static char *default_root(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *r = NULL;

	if (geteuid() == 0)
		return strdup("/run/virtkit-oci");
	if (xdg && *xdg && asprintf(&r, "%s/virtkit-oci", xdg) >= 0)
		return r;
	if (asprintf(&r, "/tmp/virtkit-oci-%u", geteuid()) < 0)
		return NULL;
	return r;
}

/* The command word, skipping global options and their values. */
static const char *find_command(int argc, char **argv)
{
	static const char *const with_value[] = {"--root", "--log",      "--log-format",
	                                         "--criu", "--rootless", "--log-level"};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool takes = false;

		if (a[0] != '-')
			return a;
		for (size_t j = 0; j < ARRAY_SIZE(with_value); j++)
			if (strcmp(a, with_value[j]) == 0)
				takes = true;
		if (takes)
			i++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"root", required_argument, NULL, 'r'},
	        {"log", required_argument, NULL, 'l'},
	        {"log-format", required_argument, NULL, 'f'},
	        {"log-level", required_argument, NULL, 'L'},
	        {"systemd-cgroup", no_argument, NULL, 's'},
	        {"debug", no_argument, NULL, 'd'},
	        {"version", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {"criu", required_argument, NULL, 'c'},
	        {"rootless", required_argument, NULL, 'R'},
	        {NULL, 0, NULL, 0},
	};
	struct oci_globals g = {.argv = argv};
	struct vk_error err = {0};
	const char *log_format = "text", *word;
	char *root = NULL;
	int c, r;

	/*
	 * Before anything else: exec puts a process into a running container's
	 * pid namespace, so it always runs from a sealed copy (create and run
	 * decide for themselves once they have read config.json).
	 */
	word = find_command(argc, argv);
	for (size_t i = 0; word && i < ARRAY_SIZE(commands); i++) {
		if (commands[i].sealed && strcmp(commands[i].name, word) == 0 &&
		    oci_reexec_sealed(argv, &err) < 0) {
			fprintf(stderr, "virtkit-oci: error: %s\n", err.msg);
			return 1;
		}
	}
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'l':
			g.log = optarg;
			break;
		case 'f':
			log_format = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "debug") == 0)
				g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'd':
			g.debug = true;
			break;
		case 'v':
			printf("virtkit-oci version %s\nspec: %s\n", VERSION, OCI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
			g.criu = optarg;
			break;
		case 'R':
			break; /* runc options with no meaning here */
		default:
			usage(stderr);
			return 1;
		}
	}
	if (strcmp(log_format, "json") == 0) {
		g.log_json = true;
	} else if (strcmp(log_format, "text") != 0) {
		fprintf(stderr, "virtkit-oci: error: --log-format must be text or json\n");
		return 1;
	}
	if (oci_log_open(g.log, g.log_json, g.debug) < 0) {
		fprintf(stderr, "virtkit-oci: error: cannot open --log '%s': %s\n", g.log,
		        strerror(errno));
		return 1;
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (!g.root) {
		root = default_root();
		g.root = root;
	}
	if (g.systemd_cgroup)
		oci_debug(
		        "--systemd-cgroup: no systemd here, cgroups are managed through cgroupfs");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, argv[optind]) != 0)
			continue;
		oci_debug("%s", argv[optind]);
		r = commands[i].fn(&g, argc - optind, argv + optind, &err);
		if (r < 0) {
			/* The one place an error is shown: stderr, and the log when there is one. */
			if (oci_log_fd() >= 0)
				oci_err("%s", err.msg[0] ? err.msg : strerror(-r));
			fprintf(stderr, "virtkit-oci: error: %s\n",
			        err.msg[0] ? err.msg : strerror(-r));
			r = 1;
		}
		free(root);
		return r;
	}
	fprintf(stderr, "virtkit-oci: error: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	free(root);
	return 1;
}
