/* SPDX-License-Identifier: MIT */
/*
 * virtkit exec [-i] [-t] NAME [--] COMMAND [ARG...] and virtkit shell NAME
 * (exec -it NAME -- /bin/sh), as Podman's: run a command in a running
 * container.
 *  - Standard input is forwarded with -i, or when it is not a terminal (so
 *    that piped input works without -i); otherwise the command's input ends
 *    at once.
 *  - -t gives the command a terminal in the container, of this terminal's
 *    size; window size changes follow (SIGWINCH). When our standard input is
 *    a terminal too it goes raw for the session and Ctrl-] leaves; it is
 *    restored on every way out (the command's end, Ctrl-], an error, a
 *    signal).
 *  - The exit status is the command's.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] */

static struct termios saved_tty;
static bool tty_raw;
static volatile sig_atomic_t winch, got_signal;

static void restore_tty(void)
{
	if (tty_raw) {
		tcsetattr(0, TCSANOW, &saved_tty);
		tty_raw = false;
	}
}

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void on_signal(int sig)
{
	got_signal = sig;
}

static void get_size(unsigned *rows, unsigned *cols)
{
	struct winsize ws = {0};

	if ((ioctl(0, TIOCGWINSZ, &ws) < 0 && ioctl(1, TIOCGWINSZ, &ws) < 0) || !ws.ws_row ||
	    !ws.ws_col) {
		ws.ws_row = 24;
		ws.ws_col = 80;
	}
	*rows = ws.ws_row;
	*cols = ws.ws_col;
}

/* Our standard input raw for the session (a terminal on both ends); restored by restore_tty. */
static void make_raw(void)
{
	struct termios raw;
	struct sigaction sa = {.sa_handler = on_signal};

	if (tcgetattr(0, &saved_tty) < 0)
		return;
	raw = saved_tty;
	cfmakeraw(&raw);
	tcsetattr(0, TCSANOW, &raw);
	tty_raw = true;
	atexit(restore_tty);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL); /* raw mode sends no SIGINT; kill -INT still can */
}

struct session {
	virtkit_stream *s;
	bool in_open;  /* forwarding our standard input */
	bool escape;   /* Ctrl-] leaves (a raw terminal) */
	bool tty;      /* a terminal in the container: follow our window size */
	int exit_code; /* -1 until the command ended */
};

/* Forward what our standard input has; false when the session must end (error, Ctrl-]). */
static bool forward_input(struct session *x, virtkit_error **err)
{
	char buf[16384];
	ssize_t n = read(0, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		x->in_open = false;
		return virtkit_exec_close_stdin(x->s, err) == 0;
	}
	if (x->escape) {
		char *esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
		if (esc) {
			if (esc > buf)
				virtkit_exec_write_stdin(x->s, buf, (size_t)(esc - buf), err);
			x->exit_code = -2; /* left with Ctrl-] */
			return false;
		}
	}
	return virtkit_exec_write_stdin(x->s, buf, (size_t)n, err) == 0;
}

/* One frame from the daemon; false at the end of the stream (x->exit_code set) or on error. */
static bool read_output(struct session *x, virtkit_error **err)
{
	char *data = NULL;
	size_t len = 0;
	int which = 0, code = -1, r = virtkit_exec_read(x->s, &which, &data, &len, &code, err);

	if (r <= 0) {
		free(data);
		if (r == 0 && x->exit_code == -1) {
			restore_tty();
			fprintf(stderr, "virtkit: the exec stream ended without an exit status\n");
			x->exit_code = CLI_FAIL;
		}
		return false;
	}
	if (which == VIRTKIT_EXEC_EXIT) {
		x->exit_code = code < 0 ? 255 : code;
	} else if (which == VIRTKIT_EXEC_STDOUT || which == VIRTKIT_EXEC_STDERR) {
		cli_write_all(which, data, len);
	}
	free(data);
	return x->exit_code < 0;
}

static int relay(struct session *x)
{
	virtkit_error *err = NULL;

	if (!x->in_open && virtkit_exec_close_stdin(x->s, &err) < 0)
		goto fail;
	for (;;) {
		struct pollfd p[2] = {
		        {.fd = x->in_open ? 0 : -1, .events = POLLIN},
		        {.fd = virtkit_stream_fd(x->s), .events = POLLIN},
		};
		if (got_signal) {
			restore_tty();
			return 128 + got_signal;
		}
		if (winch && x->tty) {
			unsigned rows, cols;
			winch = 0;
			get_size(&rows, &cols);
			if (virtkit_exec_resize(x->s, rows, cols, &err) < 0)
				goto fail;
		}
		if (virtkit_stream_pending(x->s) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (x->in_open && p[0].revents && !forward_input(x, &err)) {
			if (x->exit_code == -2)
				break;
			goto fail;
		}
		if ((virtkit_stream_pending(x->s) || p[1].revents) && !read_output(x, &err)) {
			if (x->exit_code >= 0)
				break;
			goto fail;
		}
	}
	restore_tty();
	if (x->exit_code == -2) {
		fprintf(stderr,
		        "\r\nvirtkit: left the session (Ctrl-]); the command was stopped\n");
		return CLI_OK;
	}
	return x->exit_code < 0 ? CLI_FAIL : x->exit_code;
fail:
	restore_tty();
	return cli_fail(err);
}

static int run(struct cli *cli, const char *name, const char *const *argv, bool interactive,
               bool tty)
{
	virtkit_error *err = NULL;
	struct sigaction sa = {.sa_handler = on_winch};
	struct session x = {.in_open = interactive || !isatty(0), .tty = tty, .exit_code = -1};
	unsigned rows = 0, cols = 0;
	int st;

	if (!cli_conn(cli, &st))
		return st;
	if (tty)
		get_size(&rows, &cols);
	x.s = tty ? virtkit_exec_open_tty(cli->conn, name, argv, rows, cols, &err)
	          : virtkit_exec_open(cli->conn, name, argv, &err);
	if (!x.s)
		return cli_fail(err);
	if (tty) {
		sigaction(SIGWINCH, &sa, NULL);
		if (interactive && isatty(0)) {
			make_raw();
			x.escape = tty_raw;
		}
	}
	st = relay(&x);
	virtkit_stream_close(x.s);
	return st;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"interactive", no_argument, NULL, 'i'},
	        {"tty", no_argument, NULL, 't'},
	        {NULL, 0, NULL, 0},
	};
	bool interactive = false, tty = false;
	const char *name;
	int c;

	while ((c = cli_getopt(argc, argv, "it", opts)) != -1) {
		if (c == 'i')
			interactive = true;
		else if (c == 't')
			tty = true;
		else
			return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage("usage: virtkit exec [-i] [-t] NAME [--] COMMAND [ARG...]");
	name = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return cli_usage("usage: virtkit exec [-i] [-t] NAME [--] COMMAND [ARG...]");
	return run(cli, name, (const char *const *)argv + optind, interactive, tty);
}

int cmd_shell(struct cli *cli, int argc, char **argv)
{
	static const char *const sh[] = {"/bin/sh", NULL};

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("usage: virtkit shell NAME");
	return run(cli, argv[1], sh, true, true);
}
