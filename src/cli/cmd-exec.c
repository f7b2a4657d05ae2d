/* SPDX-License-Identifier: MIT */
/*
 * virtkit exec NAME -- COMMAND [ARG...]: run a command in a running
 * container. Standard input is forwarded unless it is a terminal; the exit
 * status is the command's.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_stream *s;
	bool in_open = !isatty(0);
	const char *name;
	int first, st, exit_code = -1;

	if (argc < 3)
		return cli_usage("usage: virtkit exec NAME -- COMMAND [ARG...]");
	name = argv[1];
	first = strcmp(argv[2], "--") == 0 ? 3 : 2;
	if (first >= argc)
		return cli_usage("usage: virtkit exec NAME -- COMMAND [ARG...]");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_exec_open(cli->conn, name, (const char *const *)argv + first, &err);
	if (!s)
		return cli_fail(err);
	if (!in_open && virtkit_exec_close_stdin(s, &err) < 0)
		goto fail;
	while (exit_code < 0) {
		struct pollfd p[2] = {
		        {.fd = in_open ? 0 : -1, .events = POLLIN},
		        {.fd = virtkit_stream_fd(s), .events = POLLIN},
		};
		if (virtkit_stream_pending(s) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in_open && p[0].revents) {
			char buf[16384];
			ssize_t n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = false;
				if (virtkit_exec_close_stdin(s, &err) < 0)
					goto fail;
			} else if (virtkit_exec_write_stdin(s, buf, (size_t)n, &err) < 0) {
				goto fail;
			}
		}
		if (virtkit_stream_pending(s) || p[1].revents) {
			char *data = NULL;
			size_t len = 0;
			int which = 0,
			    r = virtkit_exec_read(s, &which, &data, &len, &exit_code, &err);
			if (r < 0)
				goto fail;
			if (r == 0) {
				fprintf(stderr,
				        "virtkit: the exec stream ended without an exit status\n");
				virtkit_stream_close(s);
				return CLI_FAIL;
			}
			if (which == VIRTKIT_EXEC_STDOUT || which == VIRTKIT_EXEC_STDERR)
				cli_write_all(which, data, len);
			else
				exit_code = exit_code < 0 ? 255 : exit_code;
			free(data);
			if (which != VIRTKIT_EXEC_EXIT)
				exit_code = -1;
		}
	}
	virtkit_stream_close(s);
	return exit_code < 0 ? CLI_FAIL : exit_code;
fail:
	virtkit_stream_close(s);
	return cli_fail(err);
}
