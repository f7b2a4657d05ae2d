/* SPDX-License-Identifier: MIT */
/*
 * virtkit logs NAME [--tail N] [--follow]: the console log, all of it or its
 * last N lines, and with --follow what the instance writes next, until
 * Ctrl-C (or the instance is undefined).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int follow(struct cli *cli, const char *name, size_t lines)
{
	struct sigaction sa = {.sa_handler = on_signal};
	virtkit_error *err = NULL;
	virtkit_stream *s = virtkit_logs_open(cli->conn, name, lines, &err);
	int r = CLI_OK;

	if (!s)
		return cli_fail(err);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		char *data = NULL;
		size_t len = 0;
		int n = virtkit_logs_read(s, &data, &len, 500, &err);

		if (n < 0) {
			r = cli_fail(err);
			break;
		}
		if (n > 0 && cli_write_all(1, data, len) < 0)
			r = CLI_FAIL;
		free(data);
		if (r != CLI_OK)
			break;
	}
	virtkit_stream_close(s);
	return r;
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"tail", required_argument, NULL, 'n'},
	        {"follow", no_argument, NULL, 'f'},
	        {NULL, 0, NULL, 0},
	};
	virtkit_error *err = NULL;
	unsigned long long lines = 0;
	bool follow_on = false;
	char *body, *end;
	size_t len;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "n:f", opts)) != -1) {
		if (c == 'f') {
			follow_on = true;
		} else if (c == 'n') {
			lines = strtoull(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-' || lines == 0 || lines > 1000000)
				return cli_usage(
				        "--tail must be a number of lines from 1 to 1000000");
		} else {
			return CLI_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit logs NAME|UUID [--tail N] [--follow]");
	if (!cli_conn(cli, &st))
		return st;
	if (follow_on)
		return follow(cli, argv[optind], (size_t)lines);
	body = lines ? virtkit_instance_log_lines(cli->conn, argv[optind], (size_t)lines, &len,
	                                          &err)
	             : virtkit_instance_logs(cli->conn, argv[optind], 0, &len, &err);
	if (!body)
		return cli_fail(err);
	st = cli_write_all(1, body, len) < 0 ? CLI_FAIL : CLI_OK;
	free(body);
	return st;
}
