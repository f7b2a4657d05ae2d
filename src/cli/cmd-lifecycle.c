/* SPDX-License-Identifier: MIT */
/* virtkit start, stop, kill, restart, pause, resume. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int parse_timeout(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1 || v > 3600)
		return cli_usage("--timeout must be a number of seconds from 1 to 3600");
	*out = (int)v;
	return 0;
}

/* The result line and exit code of one action. */
static int done(struct cli *cli, int r, virtkit_error *err, const char *what, const char *name)
{
	if (r < 0)
		return cli_fail(err);
	if (!cli->json)
		printf("%s instance '%s'\n", what, name);
	return CLI_OK;
}

static int simple(struct cli *cli, int argc, char **argv,
                  int (*fn)(virtkit_conn *, const char *, virtkit_error **), const char *what)
{
	virtkit_error *err = NULL;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit %s NAME", argv[0]);
	if (!cli_conn(cli, &st))
		return st;
	st = fn(cli->conn, argv[1], &err);
	return done(cli, st, err, what, argv[1]);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, virtkit_instance_start, "Started");
}

int cmd_kill(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, virtkit_instance_kill, "Killed");
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, virtkit_instance_pause, "Paused");
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, virtkit_instance_resume, "Resumed");
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {"timeout", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	virtkit_error *err = NULL;
	unsigned flags = 0;
	int timeout = 0, c, st;
	const char *name;

	/* NAME may come before or after the options. */
	name = cli_leading_name(&argc, &argv);
	while ((c = cli_getopt(argc, argv, "ft:", opts)) != -1) {
		if (c == 'f')
			flags |= VIRTKIT_STOP_FORCE;
		else if (c == 't') {
			if (parse_timeout(optarg, &timeout))
				return CLI_USAGE;
		} else
			return CLI_USAGE;
	}
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name || optind != argc)
		return cli_usage("usage: virtkit stop NAME [--force] [--timeout S]");
	if (!cli_conn(cli, &st))
		return st;
	st = virtkit_instance_stop(cli->conn, name, flags, timeout, &err);
	return done(cli, st, err, "Stopped", name);
}

int cmd_restart(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"timeout", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	virtkit_error *err = NULL;
	int timeout = 0, c, st;
	const char *name;

	name = cli_leading_name(&argc, &argv);
	while ((c = cli_getopt(argc, argv, "t:", opts)) != -1) {
		if (c != 't' || parse_timeout(optarg, &timeout))
			return CLI_USAGE;
	}
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name || optind != argc)
		return cli_usage("usage: virtkit restart NAME [--timeout S]");
	if (!cli_conn(cli, &st))
		return st;
	st = virtkit_instance_restart(cli->conn, name, timeout, &err);
	return done(cli, st, err, "Restarted", name);
}
