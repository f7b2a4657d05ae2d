/* SPDX-License-Identifier: MIT */
/*
 * POST /1.0/instances/NAME/exec: a command in a running container, on an
 * upgraded connection carrying frames (api-stream.h). Without a terminal the
 * command's stdin, stdout and stderr are pipes; with ?tty=1 the runtime makes
 * a terminal in the container (`exec --tty --console-socket`), hands us its
 * master, and the relay forwards the client's input and window size to it
 * and its output back. Either way the command's exit status ends the stream,
 * and the client leaving ends the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api-stream.h"
#include "daemon/driver.h"
#include "daemon/paths.h"
#include "daemon/proc.h"

#define ARGS_MAX 256

static const struct vkd_paths *paths;

void api_exec_init(const struct vkd_paths *p)
{
	paths = p;
}

/* --- exec ---------------------------------------------------------------------- */

struct exec_ctx {
	struct instance *inst;
	char *args[ARGS_MAX];
	size_t nargs;
	bool bad;          /* too many arguments, or out of memory: refuse, never run a part */
	bool tty;          /* ?tty=1: a terminal in the container */
	struct winsize ws; /* its first size (?rows=, ?cols=) */
};

static void exec_ctx_free(struct exec_ctx *x)
{
	size_t i;

	for (i = 0; i < x->nargs; i++)
		free(x->args[i]);
	instance_unref(x->inst);
	free(x);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct exec_ctx *x = cls;

	(void)kind;
	if (strcmp(key, "cmd") != 0 || !value)
		return MHD_YES;
	if (x->nargs == ARGS_MAX || !(x->args[x->nargs] = strdup(value))) {
		x->bad = true;
		return MHD_NO;
	}
	x->nargs++;
	return MHD_YES;
}

/* Blocking send on the (non-blocking) upgraded socket, 10 s at most per call. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			if (poll(&pf, 1, 10000) <= 0)
				return -ETIMEDOUT;
		} else {
			return -EPIPE;
		}
	}
	return 0;
}

static int send_frame(int fd, int stream, const void *buf, size_t len)
{
	unsigned char h[8] = {(unsigned char)stream,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(len >> 24),
	                      (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len};
	int r = send_all(fd, h, sizeof(h));

	return r < 0 || !len ? r : send_all(fd, buf, len);
}

struct frame_in {
	unsigned char hdr[8];
	size_t hdr_len;
	size_t left; /* payload bytes still to come */
	int stream;
	/* A resize frame (stream 4, {"rows":R,"cols":C}): collected, then parsed. */
	char ctl[64];
	size_t ctl_len;
	bool resized; /* ws holds a new size for the terminal */
	struct winsize ws;
};

/* {"rows":R,"cols":C} with both from 1 to 1000. */
static bool parse_size(const char *text, struct winsize *ws)
{
	json_object *o = json_tokener_parse(text), *r, *c;
	bool ok = json_object_object_get_ex(o, "rows", &r) &&
	          json_object_object_get_ex(o, "cols", &c) &&
	          json_object_is_type(r, json_type_int) && json_object_is_type(c, json_type_int) &&
	          json_object_get_int(r) >= 1 && json_object_get_int(r) <= 1000 &&
	          json_object_get_int(c) >= 1 && json_object_get_int(c) <= 1000;

	if (ok) {
		ws->ws_row = (unsigned short)json_object_get_int(r);
		ws->ws_col = (unsigned short)json_object_get_int(c);
	}
	json_object_put(o);
	return ok;
}

/*
 * Standard input on its way to the command. The relay takes more from the
 * client only once the queue is empty, so a command that does not read its
 * input slows the client down (TCP-like back-pressure) and never blocks the
 * relay: output, the command's exit and the client leaving are still seen.
 */
struct stdin_q {
	char *buf;
	size_t cap, len, off;
	bool eof; /* a zero-length frame came: close once the rest is written */
};

/* Parse client bytes (at most q->cap of them, q empty): stdin data is queued. */
static int feed(struct frame_in *f, const char *p, size_t n, struct stdin_q *q)
{
	while (n) {
		if (f->left == 0 && f->hdr_len < 8) {
			size_t c = VK_MIN(n, 8 - f->hdr_len);
			memcpy(f->hdr + f->hdr_len, p, c);
			f->hdr_len += c;
			p += c;
			n -= c;
			if (f->hdr_len < 8)
				break;
			f->stream = f->hdr[0];
			f->left = (size_t)f->hdr[4] << 24 | (size_t)f->hdr[5] << 16 |
			          (size_t)f->hdr[6] << 8 | f->hdr[7];
			f->hdr_len = 0;
			if ((f->stream != 0 && f->stream != 4) || f->left > EXEC_FRAME_MAX ||
			    (f->stream == 4 && f->left >= sizeof(f->ctl)))
				return -EPROTO;
			f->ctl_len = 0;
			if (f->stream == 0 && f->left == 0)
				q->eof = true;
			continue;
		}
		{
			size_t c = VK_MIN(n, f->left);
			if (f->stream == 4) {
				memcpy(f->ctl + f->ctl_len, p, c);
				f->ctl_len += c;
			} else if (q->len + c > q->cap) {
				return -EPROTO; /* cannot happen: the caller bounds n */
			} else if (!q->eof) {   /* after the end of input, data is dropped */
				memcpy(q->buf + q->len, p, c);
				q->len += c;
			}
			p += c;
			n -= c;
			f->left -= c;
			if (f->stream == 4 && f->left == 0) {
				f->ctl[f->ctl_len] = '\0';
				if (!parse_size(f->ctl, &f->ws))
					return -EPROTO;
				f->resized = true;
			}
		}
	}
	return 0;
}

/*
 * The command itself, from the runtime's --pid-file, as a pidfd; -1 when it
 * is not (or no longer) there. Killing the runtime alone would leave the
 * command running in the container: runtimes cannot pass SIGKILL on.
 */
static int command_pidfd(const char *dir, const char *pid_file, pid_t runtime)
{
	char path[64], text[1024], *p;
	pid_t pid;
	int fd;

	if (proc_read_pid(dir, pid_file, &pid) < 0 || (fd = proc_pidfd_open(pid)) < 0)
		return -1;
	/*
	 * The pidfd first, then the check that this pid is the runtime's child
	 * (and still alive after the check): a pid reused meanwhile is refused.
	 */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small_file(path, text, sizeof(text)) < 0 || !(p = strstr(text, "\nPPid:")) ||
	    strtol(p + 6, NULL, 10) != runtime || proc_pidfd_signal(fd, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Write what the queue holds without blocking; stdin closes at its end or on
 * EPIPE. A terminal (keep) stays open at the end of input: closing the master
 * would hang up the command.
 */
static void stdin_flush(struct stdin_q *q, int *in_fd, bool keep)
{
	while (*in_fd >= 0 && q->off < q->len) {
		ssize_t w = write(*in_fd, q->buf + q->off, q->len - q->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0) { /* the command closed its standard input */
			close(*in_fd);
			*in_fd = -1;
			break;
		}
		q->off += (size_t)w;
	}
	q->len = q->off = 0;
	if (q->eof && !keep && *in_fd >= 0) {
		close(*in_fd);
		*in_fd = -1;
	}
}

static void exec_relay(struct exec_ctx *x, int sock, const char *extra, size_t extra_len)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, fds[3], st = 0, pidfd = -1;
	struct frame_in f = {0};
	struct vk_error err = {0};
	char buf[16384], msg[64], dir[PATH_MAX], pid_file[32], path[PATH_MAX + 32];
	struct stdin_q q = {.cap = VK_MAX(sizeof(buf), extra_len)};
	bool out_open = true, err_open = true, exited = false;
	static unsigned exec_seq;
	pid_t pid;

	/* The command's pid file, in the instance's run folder (gone with it). */
	snprintf(pid_file, sizeof(pid_file), "exec-%u.pid",
	         __atomic_add_fetch(&exec_seq, 1, __ATOMIC_RELAXED));
	path[0] = '\0';
	if (paths_instance_dir(paths, x->inst->uuid, dir, sizeof(dir)) < 0 ||
	    fmt_buf(path, sizeof(path), "%s/%s", dir, pid_file) < 0) {
		path[0] = '\0';
		send_frame(sock, 2, "the run folder path is too long\n", 32);
		goto out;
	}
	q.buf = malloc(q.cap);
	if (!q.buf) {
		send_frame(sock, 2, "out of memory\n", 14);
		goto out;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		send_frame(sock, 2, "cannot create pipes\n", 20);
		goto out;
	}
	fds[0] = in[0];
	fds[1] = out[1];
	fds[2] = errp[1];
	if (container_exec_spawn(x->inst, (const char *const *)x->args, x->nargs, fds, path, NULL,
	                         &pid, &err) < 0) {
		send_frame(sock, 2, err.msg, strlen(err.msg));
		snprintf(msg, sizeof(msg), "{\"exit_code\":126}");
		send_frame(sock, 3, msg, strlen(msg));
		goto out;
	}
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	in[0] = out[1] = errp[1] = -1;
	vk_set_nonblock(in[1], true);
	pidfd = proc_pidfd_open(pid);
	if (extra_len && feed(&f, extra, extra_len, &q) < 0)
		goto kill;
	stdin_flush(&q, &in[1], false);
	while (out_open || err_open || !exited) {
		/* While input waits, only the client's leaving is watched for. */
		struct pollfd p[5] = {
		        {.fd = sock, .events = (short)(q.len ? POLLRDHUP : POLLIN)},
		        {.fd = out_open ? out[0] : -1, .events = POLLIN},
		        {.fd = err_open ? errp[0] : -1, .events = POLLIN},
		        {.fd = exited ? -1 : pidfd, .events = POLLIN},
		        {.fd = q.len ? in[1] : -1, .events = POLLOUT},
		};
		int i;
		if (api_streams_stopping())
			goto kill;
		if (poll(p, 5, 500) < 0 && errno != EINTR)
			goto kill;
		for (i = 1; i <= 2; i++) {
			ssize_t n;
			if (!p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0) {
				if (send_frame(sock, i, buf, (size_t)n) < 0)
					goto kill;
			} else if (n == 0 || errno != EINTR) {
				if (i == 1)
					out_open = false;
				else
					err_open = false;
			}
		}
		if (p[4].revents)
			stdin_flush(&q, &in[1], false);
		if (p[0].revents && !(p[0].events & POLLIN))
			goto kill; /* the client left while its input waited */
		if (p[0].revents) {
			ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				goto kill; /* the client left: so does the command */
			if (n > 0 && feed(&f, buf, (size_t)n, &q) < 0)
				goto kill;
			stdin_flush(&q, &in[1], false);
		}
		/* Without a pidfd, look every round (poll wakes at least twice a second). */
		if (!exited && (pidfd < 0 || p[3].revents) && waitpid(pid, &st, WNOHANG) == pid)
			exited = true;
	}
	snprintf(msg, sizeof(msg), "{\"exit_code\":%d}",
	         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	send_frame(sock, 3, msg, strlen(msg));
	goto out;
kill:
	/* Once reaped, pid may already name another process: leave it alone. */
	if (!exited) {
		int cmd = command_pidfd(dir, pid_file, pid);
		if (cmd >= 0) {
			proc_pidfd_signal(cmd, SIGKILL); /* the runtime cannot pass SIGKILL on */
			close(cmd);
		}
		if (pidfd < 0 || proc_pidfd_signal(pidfd, SIGKILL) < 0)
			kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
out:
	if (path[0])
		unlink(path);
	free(q.buf);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
}

/* The runtime's console socket in the run folder; the listening fd, or -1 with path empty. */
static int console_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The terminal's master from the runtime, or -1 when it ended (or 10 s passed) first. */
static int console_accept(int listen_fd, int runtime_pidfd)
{
	uint64_t deadline = vk_now_ns() + 10000000000ull;

	for (;;) {
		struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN},
		                      {.fd = runtime_pidfd, .events = POLLIN}};
		int64_t left = (int64_t)(deadline - vk_now_ns()) / 1000000;
		int c, fd;

		if (left <= 0 || poll(p, 2, (int)left) < 0) {
			if (left > 0 && errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].revents) {
			c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			fd = proc_recv_fd(c);
			close(c);
			return fd;
		}
		if (p[1].revents)
			return -1; /* the runtime ended without a terminal: its stderr says why */
	}
}

/* Send what the terminal holds now (to the end, or until it would block). false: error. */
static bool drain_master(int master, int sock, bool *open)
{
	char buf[16384];

	while (*open) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n > 0) {
			if (send_frame(sock, 1, buf, (size_t)n) < 0)
				return false;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			*open = false; /* EIO: every holder of the terminal closed it */
		}
	}
	return true;
}

/*
 * With a terminal: the runtime's stderr (a pipe) carries its own messages, the
 * master the command's input and output; resize frames set the window size,
 * which the kernel passes to the command as SIGWINCH.
 */
static void exec_tty_relay(struct exec_ctx *x, int sock, const char *extra, size_t extra_len)
{
	int errp[2] = {-1, -1}, fds[3] = {-1, -1, -1}, lfd = -1, master = -1, pidfd = -1, st = 0;
	char buf[16384], msg[64], dir[PATH_MAX], pid_file[32], path[PATH_MAX + 32];
	char csock[PATH_MAX + 32];
	struct frame_in f = {0};
	struct vk_error err = {0};
	struct stdin_q q = {.cap = VK_MAX(sizeof(buf), extra_len)};
	bool master_open = true, exited = false, err_open = true;
	static unsigned tty_seq;
	unsigned seq = __atomic_add_fetch(&tty_seq, 1, __ATOMIC_RELAXED);
	pid_t pid = -1;

	snprintf(pid_file, sizeof(pid_file), "exec-tty-%u.pid", seq);
	path[0] = csock[0] = '\0';
	if (paths_instance_dir(paths, x->inst->uuid, dir, sizeof(dir)) < 0 ||
	    fmt_buf(path, sizeof(path), "%s/%s", dir, pid_file) < 0 ||
	    fmt_buf(csock, sizeof(csock), "%s/exec-tty-%u.sock", dir, seq) < 0 ||
	    (lfd = console_listen(csock)) < 0) {
		path[0] = csock[0] = '\0';
		send_frame(sock, 2, "cannot make the terminal's socket\n", 34);
		goto fail;
	}
	q.buf = malloc(q.cap);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!q.buf || fds[0] < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		send_frame(sock, 2, "out of resources\n", 17);
		goto fail;
	}
	fds[1] = fds[2] = errp[1];
	if (container_exec_spawn(x->inst, (const char *const *)x->args, x->nargs, fds, path, csock,
	                         &pid, &err) < 0) {
		send_frame(sock, 2, err.msg, strlen(err.msg));
		pid = -1;
		goto fail;
	}
	close(errp[1]);
	errp[1] = -1;
	pidfd = proc_pidfd_open(pid);
	master = console_accept(lfd, pidfd);
	if (master < 0) {
		ssize_t n = read(errp[0], buf, sizeof(buf) - 1); /* why, from the runtime */
		if (n > 0)
			send_frame(sock, 2, buf, (size_t)n);
		goto kill;
	}
	vk_set_nonblock(master, true);
	vk_set_nonblock(errp[0], true);
	if (x->ws.ws_row)
		ioctl(master, TIOCSWINSZ, &x->ws);
	if (extra_len && feed(&f, extra, extra_len, &q) < 0)
		goto kill;
	stdin_flush(&q, &master, true);
	while (!exited || master_open) {
		struct pollfd p[4] = {
		        {.fd = sock, .events = (short)(q.len ? POLLRDHUP : POLLIN)},
		        {.fd = master_open ? master : -1,
		         .events = (short)(POLLIN | (q.len ? POLLOUT : 0))},
		        {.fd = exited ? -1 : pidfd, .events = POLLIN},
		        {.fd = err_open ? errp[0] : -1, .events = POLLIN},
		};
		if (api_streams_stopping())
			goto kill;
		if (exited) { /* the command is gone: what the terminal still holds, then the end */
			if (!drain_master(master, sock, &master_open))
				goto out;
			break;
		}
		if (poll(p, 4, 500) < 0 && errno != EINTR)
			goto kill;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !drain_master(master, sock, &master_open))
			goto kill;
		if (p[1].revents & POLLOUT)
			stdin_flush(&q, &master, true);
		if (p[3].revents) {
			ssize_t n = read(errp[0], buf, sizeof(buf));
			if (n > 0 && send_frame(sock, 2, buf, (size_t)n) < 0)
				goto kill;
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				err_open = false;
		}
		if (p[0].revents && !(p[0].events & POLLIN))
			goto kill; /* the client left while its input waited */
		if (p[0].revents) {
			ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				goto kill; /* the client left: so does the command */
			if (n > 0 && feed(&f, buf, (size_t)n, &q) < 0)
				goto kill;
			if (f.resized) {
				ioctl(master, TIOCSWINSZ, &f.ws);
				f.resized = false;
			}
			stdin_flush(&q, &master, true);
		}
		/* Without a pidfd, look every round (poll wakes at least twice a second). */
		if ((pidfd < 0 || p[2].revents) && waitpid(pid, &st, WNOHANG) == pid)
			exited = true;
	}
	snprintf(msg, sizeof(msg), "{\"exit_code\":%d}",
	         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	send_frame(sock, 3, msg, strlen(msg));
	goto out;
kill:
	if (!exited && pid > 0) {
		int cmd = command_pidfd(dir, pid_file, pid);
		if (cmd >= 0) {
			proc_pidfd_signal(cmd, SIGKILL); /* the runtime cannot pass SIGKILL on */
			close(cmd);
		}
		if (pidfd < 0 || proc_pidfd_signal(pidfd, SIGKILL) < 0)
			kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		exited = true;
		if (master < 0) { /* it never ran: say so with the runtime's status */
			snprintf(msg, sizeof(msg), "{\"exit_code\":%d}",
			         WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 126);
			send_frame(sock, 3, msg, strlen(msg));
		}
	}
	goto out;
fail:
	snprintf(msg, sizeof(msg), "{\"exit_code\":126}");
	send_frame(sock, 3, msg, strlen(msg));
out:
	if (path[0])
		unlink(path);
	if (csock[0])
		unlink(csock);
	free(q.buf);
	for (int i = 0; i < 2; i++)
		if (errp[i] >= 0)
			close(errp[i]);
	if (fds[0] >= 0)
		close(fds[0]);
	if (lfd >= 0)
		close(lfd);
	if (master >= 0)
		close(master);
	if (pidfd >= 0)
		close(pidfd);
}

static void exec_upgraded(void *ctx, int sock, const char *extra, size_t extra_len,
                          struct api_upgraded *u)
{
	struct exec_ctx *x = ctx;

	if (!u) {
		exec_ctx_free(x);
		return;
	}
	/* Thread-per-connection: blocking here is allowed (libmicrohttpd docs). */
	if (x->tty)
		exec_tty_relay(x, sock, extra, extra_len);
	else
		exec_relay(x, sock, extra, extra_len);
	exec_ctx_free(x);
	api_upgraded_close(u);
}

enum MHD_Result api_exec(struct http_req *req, struct instance *inst)
{
	struct exec_ctx *x;
	enum MHD_Result r;
	enum inst_state st;
	const char *v;

	if (inst->type != DEF_CONTAINER)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "exec is only available for containers ('%s' is a vm)",
		                  inst->name);
	if (strcmp(req->method, "GET") == 0 && !api_wants_websocket(req->conn))
		return http_json_hdr(req->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		                     http_error_json(MHD_HTTP_METHOD_NOT_ALLOWED,
		                                     "exec is POST (GET only opens a WebSocket)"),
		                     MHD_HTTP_HEADER_ALLOW, "POST");
	if (!api_wants_stream(req->conn, "virtkit-exec"))
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "the exec endpoint needs the headers 'Connection: Upgrade' and "
		                  "'Upgrade: virtkit-exec' (or 'Upgrade: websocket')");
	x = calloc(1, sizeof(*x));
	if (!x)
		return MHD_NO;
	x->inst = instance_ref(inst);
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, x);
	if ((v = http_arg(req->conn, "tty")) && strcmp(v, "0") != 0) {
		const char *rows = http_arg(req->conn, "rows"), *cols = http_arg(req->conn, "cols");
		uint64_t nr = 0, nc = 0;

		x->tty = true;
		if ((rows || cols) && (!rows || !cols || vk_parse_uint(rows, 1, 1000, &nr) < 0 ||
		                       vk_parse_uint(cols, 1, 1000, &nc) < 0)) {
			exec_ctx_free(x);
			return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
			                  "'rows' and 'cols' go together, each from 1 to 1000");
		}
		x->ws.ws_row = (unsigned short)nr;
		x->ws.ws_col = (unsigned short)nc;
	}
	if (x->bad) {
		exec_ctx_free(x);
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "exec takes at most %d 'cmd' arguments", ARGS_MAX);
	}
	if (x->nargs == 0) {
		exec_ctx_free(x);
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "exec needs a command: ?cmd=PROGRAM&cmd=ARG...");
	}
	pthread_mutex_lock(&inst->lock);
	st = inst->state;
	pthread_mutex_unlock(&inst->lock);
	if (st != ST_RUNNING) {
		exec_ctx_free(x);
		if (st == ST_PAUSED)
			return http_error(req->conn, MHD_HTTP_CONFLICT,
			                  "instance '%s' is paused: resume it first", inst->name);
		return http_error(req->conn, MHD_HTTP_CONFLICT, "instance '%s' is not running",
		                  inst->name);
	}
	r = api_queue_upgrade(req, "virtkit-exec", exec_upgraded, x);
	if (r != MHD_YES)
		exec_ctx_free(x);
	return r;
}
