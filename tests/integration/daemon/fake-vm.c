/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for virtkit-vm in the daemon tests: same command line, same
 * control socket protocol (docs/virtkit-vm.md), a console socket with a tiny
 * "shell" (echo, poweroff, crash, uname), no guest. It lets the daemon's
 * lifecycle, reattach, console and event paths be tested without a
 * bootable VM; the real binary is tested when it can boot the shared guest.
 *
 * Environment: FAKE_VM_IGNORE_POWERDOWN=1 acknowledges power-down requests
 * without acting on them (to test the forced stop after the timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define CTL_MAX 16

static const char *arch = "x86_64", *console_path, *control_path;
static long long memory = 256ll << 20;
static int cpus = 1;
static bool paused, banner_sent;
static int con_listen = -1, con_fd = -1, ctl_listen = -1;
static int ctl_fd[CTL_MAX];
static char ctl_buf[CTL_MAX][4096];
static size_t ctl_len[CTL_MAX];
static char line[1024];
static size_t line_len;
static struct timespec t0;

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fake-vm: bad socket path '%s'\n", path);
		exit(1);
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		fprintf(stderr, "fake-vm: cannot listen on '%s': %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void con_write(const char *s)
{
	if (con_fd >= 0 && send(con_fd, s, strlen(s), MSG_NOSIGNAL) < 0) {
		close(con_fd);
		con_fd = -1;
	}
}

static void event(const char *json)
{
	int i;

	for (i = 0; i < CTL_MAX; i++)
		if (ctl_fd[i] >= 0 && send(ctl_fd[i], json, strlen(json), MSG_NOSIGNAL) < 0) {
			close(ctl_fd[i]);
			ctl_fd[i] = -1;
		}
}

static void leave(int code, const char *reason)
{
	char ev[128];

	snprintf(ev, sizeof(ev), "{\"event\":\"shutdown\",\"reason\":\"%s\"}\n", reason);
	event(ev);
	unlink(console_path);
	unlink(control_path);
	exit(code);
}

static void run_command(char *cmd)
{
	char out[1200];

	while (*cmd == ' ')
		cmd++;
	if (strncmp(cmd, "echo ", 5) == 0) {
		snprintf(out, sizeof(out), "%s\r\n", cmd + 5);
		con_write(out);
	} else if (strcmp(cmd, "uname -m") == 0) {
		snprintf(out, sizeof(out), "%s\r\n", arch);
		con_write(out);
	} else if (strcmp(cmd, "poweroff") == 0) {
		con_write("reboot: Power down\r\n");
		leave(0, "poweroff");
	} else if (strcmp(cmd, "crash") == 0) {
		fprintf(stderr, "fake-vm: guest fatal error (asked for)\n");
		leave(3, "error");
	} else if (*cmd) {
		snprintf(out, sizeof(out), "sh: %.64s: not found\r\n", cmd);
		con_write(out);
	}
	con_write("/ # ");
}

static void console_input(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = buf[i], echo[3] = {c, 0, 0};
		if (c == '\r' || c == '\n') {
			con_write("\r\n");
			line[line_len] = '\0';
			line_len = 0;
			run_command(line);
			continue;
		}
		con_write(echo);
		if (line_len < sizeof(line) - 1)
			line[line_len++] = c;
	}
}

static long long uptime_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000ll + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static void control_line(int i, const char *text)
{
	json_object *req = json_tokener_parse(text), *resp = json_object_new_object(), *id, *c;
	const char *cmd = NULL;
	const char *out;
	bool quit = false, powerdown = false;

	if (req && json_object_object_get_ex(req, "cmd", &c))
		cmd = json_object_get_string(c);
	if (req && json_object_object_get_ex(req, "id", &id))
		json_object_object_add(resp, "id", json_object_get(id));
	if (!cmd) {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error", json_object_new_string("malformed request"));
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		if (!strcmp(cmd, "pause") && !paused) {
			paused = true;
			event("{\"event\":\"paused\"}\n");
		} else if (!strcmp(cmd, "resume") && paused) {
			paused = false;
			event("{\"event\":\"resumed\"}\n");
		}
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		json_object_object_add(resp, "state",
		                       json_object_new_string(paused ? "paused" : "running"));
		json_object_object_add(resp, "arch", json_object_new_string(arch));
		json_object_object_add(resp, "cpus", json_object_new_int(cpus));
		json_object_object_add(resp, "memory", json_object_new_int64(memory));
		json_object_object_add(resp, "pid", json_object_new_int(getpid()));
		json_object_object_add(resp, "uptime_ms", json_object_new_int64(uptime_ms()));
	} else if (!strcmp(cmd, "powerdown")) {
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		powerdown = !getenv("FAKE_VM_IGNORE_POWERDOWN");
	} else if (!strcmp(cmd, "quit")) {
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		quit = true;
	} else {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error", json_object_new_string("unknown command"));
	}
	out = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN);
	if (send(ctl_fd[i], out, strlen(out), MSG_NOSIGNAL) < 0 ||
	    send(ctl_fd[i], "\n", 1, MSG_NOSIGNAL) < 0) {
		close(ctl_fd[i]);
		ctl_fd[i] = -1;
	}
	json_object_put(req);
	json_object_put(resp);
	if (powerdown) {
		con_write("\r\nThe system is going down NOW!\r\nreboot: Power down\r\n");
		leave(0, "poweroff");
	}
	if (quit)
		leave(0, "quit");
}

static void control_input(int i)
{
	ssize_t n = read(ctl_fd[i], ctl_buf[i] + ctl_len[i], sizeof(ctl_buf[i]) - 1 - ctl_len[i]);
	char *nl;

	if (n <= 0) {
		close(ctl_fd[i]);
		ctl_fd[i] = -1;
		ctl_len[i] = 0;
		return;
	}
	ctl_len[i] += (size_t)n;
	ctl_buf[i][ctl_len[i]] = '\0';
	while (ctl_fd[i] >= 0 && (nl = strchr(ctl_buf[i], '\n'))) {
		*nl = '\0';
		control_line(i, ctl_buf[i]);
		if (ctl_fd[i] < 0)
			break;
		memmove(ctl_buf[i], nl + 1, ctl_len[i] - (size_t)(nl + 1 - ctl_buf[i]) + 1);
		ctl_len[i] = strlen(ctl_buf[i]);
	}
	if (ctl_fd[i] >= 0 && ctl_len[i] == sizeof(ctl_buf[i]) - 1)
		ctl_len[i] = 0; /* an overlong line: drop it */
}

static void on_term(int sig)
{
	(void)sig;
	unlink(console_path);
	unlink(control_path);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *kernel = NULL;
	int i, fd;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "run") || !strcmp(a, "--rng") || !strcmp(a, "--agent"))
			continue;
		if (!v) {
			fprintf(stderr, "fake-vm: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--kernel"))
			kernel = v;
		else if (!strcmp(a, "--arch"))
			arch = v;
		else if (!strcmp(a, "--cpus"))
			cpus = atoi(v);
		else if (!strcmp(a, "--memory"))
			memory = atoll(v) << (strchr(v, 'M') ? 20 : strchr(v, 'K') ? 10 : 0);
		else if (!strcmp(a, "--console") && !strncmp(v, "socket:", 7))
			console_path = v + 7;
		else if (!strcmp(a, "--control"))
			control_path = v;
	}
	if (!kernel || !console_path || !control_path) {
		fprintf(stderr,
		        "fake-vm: needs --kernel, --console socket:PATH and --control PATH\n");
		return 2;
	}
	fd = open(kernel, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "fake-vm: cannot open kernel '%s': %s\n", kernel, strerror(errno));
		return 1;
	}
	close(fd);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < CTL_MAX; i++)
		ctl_fd[i] = -1;
	con_listen = listen_on(console_path);
	ctl_listen = listen_on(control_path);
	for (;;) {
		struct pollfd p[3 + CTL_MAX];
		char buf[1024];
		ssize_t n;

		p[0] = (struct pollfd){.fd = con_listen, .events = POLLIN};
		p[1] = (struct pollfd){.fd = ctl_listen, .events = POLLIN};
		p[2] = (struct pollfd){.fd = paused ? -1 : con_fd, .events = POLLIN};
		for (i = 0; i < CTL_MAX; i++)
			p[3 + i] = (struct pollfd){.fd = ctl_fd[i], .events = POLLIN};
		if (poll(p, 3 + CTL_MAX, -1) < 0)
			continue;
		if (p[0].revents) {
			int c = accept4(con_listen, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				if (con_fd >= 0)
					close(con_fd); /* one client at a time: the newest */
				con_fd = c;
				if (!banner_sent) {
					char b[128];
					snprintf(b, sizeof(b), "fake-vm: booted arch=%s\r\n/ # ",
					         arch);
					con_write(b);
					banner_sent = true;
				}
			}
		}
		if (p[1].revents) {
			int c = accept4(ctl_listen, NULL, NULL, SOCK_CLOEXEC);
			for (i = 0; c >= 0 && i < CTL_MAX; i++)
				if (ctl_fd[i] < 0) {
					ctl_fd[i] = c;
					ctl_len[i] = 0;
					c = -1;
				}
			if (c >= 0)
				close(c);
		}
		if (con_fd >= 0 && p[2].revents) {
			n = read(con_fd, buf, sizeof(buf));
			if (n <= 0) {
				close(con_fd);
				con_fd = -1;
			} else {
				console_input(buf, (size_t)n);
			}
		}
		for (i = 0; i < CTL_MAX; i++)
			if (ctl_fd[i] >= 0 && p[3 + i].revents)
				control_input(i);
	}
}
