/* SPDX-License-Identifier: MIT */
/*
 * virtkit console. It puts a terminal in raw mode (restored
 * on every exit path) and leaves on Ctrl-] (0x1d), like virsh. Without a
 * terminal, standard input is forwarded and, once it ends, output is shown
 * until the instance has been quiet for half a second (for scripts).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define QUIET_MS    500
#define LINGER_MAX  10000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int relay(virtkit_stream *s, bool tty)
{
	bool in_open = true;
	long quiet_since = 0, eof_at = 0;
	char buf[8192];

	for (;;) {
		struct pollfd p[2] = {
		        {.fd = in_open ? 0 : -1, .events = POLLIN},
		        {.fd = virtkit_stream_fd(s), .events = POLLIN},
		};
		virtkit_error *err = NULL;
		int timeout = -1;
		ssize_t n;

		if (got_signal)
			return CLI_FAIL;
		if (!in_open) {
			long now = cli_now_ms();
			if (now - quiet_since >= QUIET_MS || now - eof_at >= LINGER_MAX)
				return CLI_OK;
			timeout = QUIET_MS - (int)(now - quiet_since);
		}
		if (virtkit_stream_pending(s) == 0 && poll(p, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return CLI_FAIL;
		}
		if (virtkit_stream_pending(s) || p[1].revents) {
			n = virtkit_stream_read(s, buf, sizeof(buf), &err);
			if (n < 0)
				return cli_fail(err);
			if (n == 0) {
				fprintf(stderr, "%sThe console closed (the instance stopped).%s",
				        tty ? "\r\n" : "", tty ? "\r\n" : "\n");
				return CLI_OK;
			}
			if (cli_write_all(1, buf, (size_t)n) < 0)
				return CLI_FAIL;
			quiet_since = cli_now_ms();
		}
		if (in_open && p[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = false;
				eof_at = quiet_since = cli_now_ms();
				continue;
			}
			if (tty) {
				char *esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
				if (esc) {
					if (esc > buf &&
					    virtkit_stream_write(s, buf, (size_t)(esc - buf),
					                         &err) < 0)
						return cli_fail(err);
					return CLI_OK;
				}
			}
			if (virtkit_stream_write(s, buf, (size_t)n, &err) < 0)
				return cli_fail(err);
		}
	}
}

int cmd_console(struct cli *cli, int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	virtkit_error *err = NULL;
	virtkit_stream *s;
	struct termios saved, raw;
	bool tty = isatty(0);
	int st, r;

	if (argc != 2)
		return cli_usage("usage: virtkit console NAME");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_console_open(cli->conn, argv[1], &err);
	if (!s)
		return cli_fail(err);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty && tcgetattr(0, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		fprintf(stderr, "Connected to %s (escape character is ^])\r\n", argv[1]);
	} else {
		tty = false;
	}
	r = relay(s, tty);
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\n");
	}
	virtkit_stream_close(s);
	return r;
}
