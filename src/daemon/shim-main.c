/* SPDX-License-Identifier: MIT */
/*
 * The shim process itself (see shim.h): spawns the workload, holds a
 * container's console, records how the workload ended. Single-threaded; built
 * into the small virtkit-shim executable (cheap to exec) and into virtkitd
 * (`virtkitd __shim DIR`, the fallback when virtkit-shim is not found).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/shim-main.h"

extern char **environ;

#define RING_SIZE (64 * 1024)

struct shim {
	const char *dir;
	json_object *cfg;
	int sigfd;
	pid_t pid; /* the workload */
	bool exited;
	int status;
	/* console (containers) */
	int listen_fd, client_fd, in_fd, out_fd;
	char ring[RING_SIZE];
	size_t ring_len, ring_head;
};

static void report(const char *fmt, ...) VK_PRINTF(1, 2);
static void report(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(3, buf, (size_t)n);
	close(3);
	if (strncmp(buf, "ok ", 3) != 0)
		fprintf(stderr, "virtkitd-shim: %.*s", n, buf);
}

static void write_file(struct shim *s, const char *name, const char *text)
{
	char path[PATH_MAX];

	fmt_buf(path, sizeof(path), "%s/%s", s->dir, name);
	if (write_file_replace(path, text, 0644) < 0)
		fprintf(stderr, "virtkitd-shim: cannot write %s\n", path);
}

static void write_exit(struct shim *s)
{
	char buf[64];

	if (WIFSIGNALED(s->status))
		snprintf(buf, sizeof(buf), "signaled %d\n", WTERMSIG(s->status));
	else
		snprintf(buf, sizeof(buf), "exited %d\n", WEXITSTATUS(s->status));
	write_file(s, "exit", buf);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Spawn argv; fds[0..2] are its stdio (-1: /dev/null). */
static int spawn(const char *const *argv, const int fds[3], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int i, r;

	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null",
			                                 i ? O_WRONLY : O_RDONLY, 0);
	}
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	proc_spawnattr_init(&attr, false);
	r = posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* Reap children; records the workload's status when it is among them. */
static void reap(struct shim *s)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == s->pid) {
			s->exited = true;
			s->status = st;
		}
	}
}

static int run_wait(const char *const *argv, const int fds[3])
{
	pid_t p;
	int st, r = spawn(argv, fds, &p);

	if (r < 0)
		return r;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int shim_vm(struct shim *s)
{
	json_object *argv_j = json_object_object_get(s->cfg, "argv");
	const char **argv;
	int fds[3] = {-1, 2, 2};
	char buf[32];
	size_t i, n;
	int r;

	if (!argv_j || !json_object_is_type(argv_j, json_type_array) ||
	    (n = json_object_array_length(argv_j)) == 0) {
		report("error bad shim configuration");
		return 1;
	}
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return 1;
	for (i = 0; i < n; i++)
		argv[i] = json_object_get_string(json_object_array_get_idx(argv_j, i));
	r = spawn(argv, fds, &s->pid);
	if (r < 0) {
		report("error cannot run '%s': %s", argv[0], strerror(-r));
		free(argv);
		return 1;
	}
	free(argv);
	snprintf(buf, sizeof(buf), "%d\n", (int)s->pid);
	write_file(s, "pid", buf);
	report("ok %d", (int)s->pid);
	while (!s->exited) {
		struct signalfd_siginfo si;
		if (read(s->sigfd, &si, sizeof(si)) < 0 && errno != EINTR && errno != EAGAIN)
			break;
		reap(s);
	}
	return 0;
}

/* --- container console --- */

static void ring_put(struct shim *s, const char *p, size_t n)
{
	while (n--) {
		s->ring[(s->ring_head + s->ring_len) % RING_SIZE] = *p++;
		if (s->ring_len < RING_SIZE)
			s->ring_len++;
		else
			s->ring_head = (s->ring_head + 1) % RING_SIZE;
	}
}

static void client_drop(struct shim *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
}

/* Send output to the client (blocking up to 1 s), else keep it in the ring. */
static void output(struct shim *s, const char *p, size_t n)
{
	while (n && s->client_fd >= 0) {
		struct pollfd pf = {.fd = s->client_fd, .events = POLLOUT};
		ssize_t w = send(s->client_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pf, 1, 1000) <= 0)
				client_drop(s);
		} else {
			client_drop(s);
		}
	}
	if (n)
		ring_put(s, p, n);
}

/*
 * Input for the container, written without blocking: what its terminal or
 * pipe cannot take now is dropped, as typing at a program that does not read.
 * A blocking write here would stop the whole shim (output, reaping) for as
 * long as the container does not read.
 */
static void input(struct shim *s, const char *p, size_t n)
{
	while (n && s->in_fd >= 0) {
		ssize_t w = write(s->in_fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else if (s->in_fd != s->out_fd) {
			close(s->in_fd); /* the container closed its stdin */
			s->in_fd = -1;
		} else {
			return;
		}
	}
}

static void accept_client(struct shim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	size_t first;

	if (fd < 0)
		return;
	client_drop(s); /* one client at a time: the newest wins */
	s->client_fd = fd;
	/* Replay what nobody read. */
	first = VK_MIN(s->ring_len, RING_SIZE - s->ring_head);
	if (s->ring_len) {
		size_t len = s->ring_len, head = s->ring_head;
		s->ring_len = 0;
		s->ring_head = 0;
		output(s, s->ring + head, first);
		if (len > first)
			output(s, s->ring, len - first);
	}
}

static int drain_output(struct shim *s)
{
	char buf[4096];
	ssize_t n = read(s->out_fd, buf, sizeof(buf));

	if (n > 0) {
		output(s, buf, (size_t)n);
		return 1;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		return -1; /* EIO: every slave end is closed */
	return 0;
}

static void console_loop(struct shim *s)
{
	bool out_open = true;

	while (!s->exited) {
		struct pollfd p[4] = {
		        {.fd = s->sigfd, .events = POLLIN},
		        {.fd = s->listen_fd, .events = POLLIN},
		        {.fd = out_open ? s->out_fd : -1, .events = POLLIN},
		        {.fd = s->client_fd, .events = POLLIN},
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			(void)!read(s->sigfd, &si, sizeof(si));
			reap(s);
		}
		if (p[1].revents)
			accept_client(s);
		if (p[2].revents && drain_output(s) < 0)
			out_open = false;
		if (s->client_fd >= 0 && p[3].revents) {
			char buf[4096];
			ssize_t n = read(s->client_fd, buf, sizeof(buf));
			if (n > 0) {
				input(s, buf, (size_t)n);
			} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				client_drop(s);
			}
		}
	}
	/* The init is gone: forward what is left in the pipe or pty. */
	vk_set_nonblock(s->out_fd, true);
	while (out_open && drain_output(s) > 0)
		;
	/*
	 * Output nobody has read yet (a short-lived container): give the
	 * daemon's console hub, which is connecting, a moment to take it.
	 */
	if (s->ring_len && s->client_fd < 0) {
		struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
		if (poll(&p, 1, 2000) > 0)
			accept_client(s);
	}
}

static const char *cfg_str(struct shim *s, const char *key)
{
	json_object *v = json_object_object_get(s->cfg, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static void runtime_error(struct shim *s, const char *what, int rc, const char *extra)
{
	char path[PATH_MAX], text[4096], last[300] = "";

	fmt_buf(path, sizeof(path), "%s/runtime.log", s->dir);
	if (read_small_file(path, text, sizeof(text)) > 0)
		proc_last_line(text, last, sizeof(last));
	if (!last[0] && extra)
		proc_last_line(extra, last, sizeof(last));
	/* One program name in the sentence: drop the runtime's own prefix (or logrus fields). */
	proc_strip_prog(last, cfg_str(s, "runtime"));
	report("error %s failed (status %d)%s%s", what, rc, last[0] ? ": " : "", last);
}

static int shim_container(struct shim *s)
{
	const char *rt = cfg_str(s, "runtime"), *root = cfg_str(s, "root"), *id = cfg_str(s, "id");
	const char *bundle = cfg_str(s, "bundle");
	/* A saved container (CRIU's images): `restore` replaces `create` + `start`. */
	const char *restore = json_object_get_string(json_object_object_get(s->cfg, "restore"));
	bool term = json_object_get_boolean(json_object_object_get(s->cfg, "terminal"));
	char ptysock[PATH_MAX], consock[PATH_MAX], pidfile[PATH_MAX], logf[PATH_MAX], buf[4096];
	int pty_listen = -1, in[2] = {-1, -1}, out[2] = {-1, -1}, rc;
	const char *create[20], *start[8], *del[8];
	int n = 0, fds[3] = {-1, -1, -1};

	fmt_buf(ptysock, sizeof(ptysock), "%s/pty.sock", s->dir);
	fmt_buf(consock, sizeof(consock), "%s/console.sock", s->dir);
	fmt_buf(pidfile, sizeof(pidfile), "%s/pid", s->dir);
	fmt_buf(logf, sizeof(logf), "%s/runtime.log", s->dir);
	s->listen_fd = listen_unix(consock);
	if (s->listen_fd < 0) {
		report("error cannot listen on '%s': %s", consock, strerror(-s->listen_fd));
		return 1;
	}
	create[n++] = rt;
	create[n++] = "--root";
	create[n++] = root;
	create[n++] = "--log";
	create[n++] = logf;
	if (restore) {
		create[n++] = "restore";
		create[n++] = "--detach";
		create[n++] = "--image-path";
		create[n++] = restore;
	} else {
		create[n++] = "create";
	}
	create[n++] = "--bundle";
	create[n++] = bundle;
	create[n++] = "--pid-file";
	create[n++] = pidfile;
	if (term) {
		pty_listen = listen_unix(ptysock);
		if (pty_listen < 0) {
			report("error cannot listen on '%s': %s", ptysock, strerror(-pty_listen));
			return 1;
		}
		create[n++] = "--console-socket";
		create[n++] = ptysock;
		fds[2] = 2;
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
			report("error cannot create pipes: %s", strerror(errno));
			return 1;
		}
		fds[0] = in[0];
		fds[1] = out[1];
		fds[2] = out[1];
	}
	create[n++] = id;
	create[n] = NULL;
	rc = run_wait(create, fds);
	if (!term) {
		close(in[0]);
		close(out[1]);
		s->in_fd = in[1];
		s->out_fd = out[0];
	}
	if (rc != 0) {
		ssize_t got = 0;
		buf[0] = '\0';
		if (!term) {
			vk_set_nonblock(s->out_fd, true);
			got = read(s->out_fd, buf, sizeof(buf) - 1);
			buf[got > 0 ? got : 0] = '\0';
		}
		runtime_error(s, restore ? "the OCI runtime's restore" : "the OCI runtime's create",
		              rc, buf);
		return 1;
	}
	if (term) {
		struct pollfd p = {.fd = pty_listen, .events = POLLIN};
		int c = poll(&p, 1, 5000) > 0 ? accept4(pty_listen, NULL, NULL, SOCK_CLOEXEC) : -1;
		int fd = c >= 0 ? proc_recv_fd(c) : -1;
		if (c >= 0)
			close(c);
		close(pty_listen);
		unlink(ptysock);
		if (fd < 0) {
			report("error the OCI runtime sent no console (pty) on '%s'", ptysock);
			goto undo;
		}
		s->in_fd = s->out_fd = fd;
	}
	vk_set_nonblock(s->out_fd, true);
	vk_set_nonblock(s->in_fd, true);
	if (restore)
		goto started;
	start[0] = rt;
	start[1] = "--root";
	start[2] = root;
	start[3] = "--log";
	start[4] = logf;
	start[5] = "start";
	start[6] = id;
	start[7] = NULL;
	{
		int sfds[3] = {-1, 2, 2};
		rc = run_wait(start, sfds);
	}
	if (rc != 0) {
		runtime_error(s, "the OCI runtime's start", rc, NULL);
		goto undo;
	}
started:
	if (proc_read_pid(s->dir, "pid", &s->pid) < 0) {
		report("error the OCI runtime wrote no pid file");
		goto undo;
	}
	report("ok %d", (int)s->pid);
	reap(s);
	console_loop(s);
	return 0;
undo:
	del[0] = rt;
	del[1] = "--root";
	del[2] = root;
	del[3] = "delete";
	del[4] = "--force";
	del[5] = id;
	del[6] = NULL;
	{
		int dfds[3] = {-1, 2, 2};
		run_wait(del, dfds);
	}
	return 1;
}

int shim_main(const char *dir)
{
	struct shim s = {.dir = dir, .listen_fd = -1, .client_fd = -1, .in_fd = -1, .out_fd = -1};
	char path[PATH_MAX], buf[64];
	uint64_t start = 0;
	sigset_t mask;
	const char *kind;
	int r;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	/* Identify ourselves first: a daemon restarted at any later point finds us. */
	proc_start_time(getpid(), &start);
	snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(), (unsigned long long)start);
	write_file(&s, "shim.pid", buf);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		report("error cannot become a child subreaper: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	fmt_buf(path, sizeof(path), "%s/shim.json", dir);
	s.cfg = json_object_from_file(path);
	if (!s.cfg || s.sigfd < 0) {
		report("error cannot read '%s'", path);
		return 1;
	}
	kind = cfg_str(&s, "kind");
	if (strcmp(kind, "vm") == 0)
		r = shim_vm(&s);
	else
		r = shim_container(&s);
	if (r == 0) {
		write_exit(&s);
	} else {
		write_file(&s, "exit", "failed to start\n");
	}
	json_object_put(s.cfg);
	return r;
}
