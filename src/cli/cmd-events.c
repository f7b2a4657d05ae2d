/* SPDX-License-Identifier: MIT */
/* virtkit events: follow the daemon's lifecycle events (NDJSON with --format json). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool parse_num(const char *s, long long max, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static void print_event(const char *line)
{
	json_object *o = json_tokener_parse(line);
	const char *k[] = {"time", "instance", "event", "state", "reason"};
	const char *v[5];
	size_t i;

	if (!o) {
		printf("%s\n", line);
		return;
	}
	for (i = 0; i < 5; i++) {
		json_object *x;
		v[i] = json_object_object_get_ex(o, k[i], &x) ? json_object_get_string(x) : "";
	}
	printf("%s  %-16s %-12s %s (%s)", v[0], v[1], v[2], v[3], v[4]);
	{
		json_object *x;
		if (json_object_object_get_ex(o, "exit_code", &x))
			printf(", exit status %d", json_object_get_int(x));
		else if (json_object_object_get_ex(o, "signal", &x))
			printf(", signal %d", json_object_get_int(x));
	}
	printf("\n");
	json_object_put(o);
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"since", required_argument, NULL, 's'},
	        {"count", required_argument, NULL, 'c'},
	        {"timeout", required_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	long long since = -1, count = 0, timeout = 0, seen = 0;
	const char *name = NULL;
	virtkit_error *err = NULL;
	virtkit_stream *s;
	long deadline;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "s:c:t:", opts)) != -1) {
		if (c == 's' && parse_num(optarg, INT64_MAX, &since))
			continue;
		if (c == 'c' && parse_num(optarg, 1000000000, &count))
			continue;
		if (c == 't' && parse_num(optarg, 86400, &timeout))
			continue;
		return cli_usage(
		        "usage: virtkit events [NAME] [--since SEQ] [--count N] [--timeout S]");
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind != argc)
		return cli_usage(
		        "usage: virtkit events [NAME] [--since SEQ] [--count N] [--timeout S]");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_events_open(cli->conn, since, name, &err);
	if (!s)
		return cli_fail(err);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	deadline = timeout ? cli_now_ms() + timeout * 1000 : 0;
	while (!stop && (!count || seen < count)) {
		char *line = NULL;
		int wait = 500, r;
		if (deadline) {
			long left = deadline - cli_now_ms();
			if (left <= 0)
				break;
			if (left < wait)
				wait = (int)left;
		}
		r = virtkit_events_next(s, &line, wait, &err);
		if (r < 0) {
			virtkit_stream_close(s);
			return cli_fail(err);
		}
		if (r == 0)
			continue;
		if (cli->json)
			printf("%s\n", line);
		else
			print_event(line);
		fflush(stdout);
		free(line);
		seen++;
	}
	virtkit_stream_close(s);
	/*
	 * Fewer than --count within --timeout (or before Ctrl-C) is an answer, not a
	 * failure: say on stderr how many came (stdout stays the events alone).
	 */
	if (count && seen < count && stop)
		fprintf(stderr, "virtkit: %lld of %lld events arrived before the interruption\n",
		        seen, count);
	else if (count && seen < count)
		fprintf(stderr, "virtkit: %lld of %lld events arrived within %lld s\n", seen, count,
		        timeout);
	return CLI_OK;
}
