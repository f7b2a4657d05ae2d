/* SPDX-License-Identifier: MIT */
/*
 * Console attach, container exec and the event stream (see api-stream.h).
 * Connections run one thread each (libmicrohttpd thread-per-connection), so
 * the exec relay and the event reader may block, always with a timeout and a
 * look at the shutdown flag and at the peer.
 */
#include "daemon/api-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/console.h"
#include "daemon/driver.h"
#include "daemon/events.h"
#include "daemon/paths.h"
#include "daemon/proc.h"

#define ARGS_MAX 256

static volatile int shutting_down;
static const struct vkd_paths *paths;

void api_streams_init(const struct vkd_paths *p)
{
	paths = p;
}

void api_streams_shutdown(void)
{
	__atomic_store_n(&shutting_down, 1, __ATOMIC_RELEASE);
	events_shutdown();
}

bool api_streams_stopping(void)
{
	return __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE) != 0;
}

static enum MHD_Result queue_upgrade(struct http_req *req, const char *proto,
                                     MHD_UpgradeHandler handler, void *ctx)
{
	struct MHD_Response *resp = MHD_create_response_for_upgrade(handler, ctx);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, proto);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	r = MHD_queue_response(req->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return r;
}

/* --- console ----------------------------------------------------------------- */

static void upgraded_close(void *opaque)
{
	MHD_upgrade_action(opaque, MHD_UPGRADE_ACTION_CLOSE);
}

static void console_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
                             const char *extra_in, size_t extra_in_size, MHD_socket sock,
                             struct MHD_UpgradeResponseHandle *urh)
{
	struct console *c = cls;

	(void)conn;
	(void)con_cls;
	/* On failure console_attach calls upgraded_close itself. */
	(void)console_attach(c, sock, extra_in, extra_in_size, upgraded_close, urh);
	console_unref(c);
}

enum MHD_Result api_console(struct http_req *req, struct instance *inst)
{
	struct console *c = NULL;
	enum MHD_Result r;

	if (!http_wants_upgrade(req->conn, "virtkit-console"))
		return http_error(
		        req->conn, MHD_HTTP_BAD_REQUEST,
		        "the console endpoint needs the headers 'Connection: Upgrade' and "
		        "'Upgrade: virtkit-console'");
	pthread_mutex_lock(&inst->lock);
	if ((inst->state == ST_RUNNING || inst->state == ST_PAUSED) && inst->rt.console)
		c = console_ref(inst->rt.console);
	pthread_mutex_unlock(&inst->lock);
	if (!c)
		return http_error(req->conn, MHD_HTTP_CONFLICT, "instance '%s' is not running",
		                  inst->name);
	r = queue_upgrade(req, "virtkit-console", console_upgraded, c);
	if (r != MHD_YES)
		console_unref(c);
	return r;
}

/* --- exec ---------------------------------------------------------------------- */

struct exec_ctx {
	struct instance *inst;
	char *args[ARGS_MAX];
	size_t nargs;
	bool bad; /* too many arguments, or out of memory: refuse, never run a part */
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
};

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
			if (f->stream != 0 || f->left > EXEC_FRAME_MAX)
				return -EPROTO;
			if (f->left == 0)
				q->eof = true;
			continue;
		}
		{
			size_t c = VK_MIN(n, f->left);
			if (q->len + c > q->cap)
				return -EPROTO; /* cannot happen: the caller bounds n */
			if (!q->eof) {          /* after the end of input, data is dropped */
				memcpy(q->buf + q->len, p, c);
				q->len += c;
			}
			p += c;
			n -= c;
			f->left -= c;
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

/* Write what the queue holds without blocking; stdin closes at its end or on EPIPE. */
static void stdin_flush(struct stdin_q *q, int *in_fd)
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
	if (q->eof && *in_fd >= 0) {
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
	if (container_exec_spawn(x->inst, (const char *const *)x->args, x->nargs, fds, path, &pid,
	                         &err) < 0) {
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
	stdin_flush(&q, &in[1]);
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
			stdin_flush(&q, &in[1]);
		if (p[0].revents && !(p[0].events & POLLIN))
			goto kill; /* the client left while its input waited */
		if (p[0].revents) {
			ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				goto kill; /* the client left: so does the command */
			if (n > 0 && feed(&f, buf, (size_t)n, &q) < 0)
				goto kill;
			stdin_flush(&q, &in[1]);
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

static void exec_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
                          const char *extra_in, size_t extra_in_size, MHD_socket sock,
                          struct MHD_UpgradeResponseHandle *urh)
{
	struct exec_ctx *x = cls;

	(void)conn;
	(void)con_cls;
	/* Thread-per-connection: blocking here is allowed (libmicrohttpd docs). */
	exec_relay(x, sock, extra_in, extra_in_size);
	exec_ctx_free(x);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

enum MHD_Result api_exec(struct http_req *req, struct instance *inst)
{
	struct exec_ctx *x;
	enum MHD_Result r;
	bool running;

	if (inst->type != DEF_CONTAINER)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "exec is only available for containers ('%s' is a vm)",
		                  inst->name);
	if (!http_wants_upgrade(req->conn, "virtkit-exec"))
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "the exec endpoint needs the headers 'Connection: Upgrade' and "
		                  "'Upgrade: virtkit-exec'");
	x = calloc(1, sizeof(*x));
	if (!x)
		return MHD_NO;
	x->inst = instance_ref(inst);
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, x);
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
	running = inst->state == ST_RUNNING;
	pthread_mutex_unlock(&inst->lock);
	if (!running) {
		exec_ctx_free(x);
		return http_error(req->conn, MHD_HTTP_CONFLICT, "instance '%s' is not running",
		                  inst->name);
	}
	r = queue_upgrade(req, "virtkit-exec", exec_upgraded, x);
	if (r != MHD_YES)
		exec_ctx_free(x);
	return r;
}

/* --- events ---------------------------------------------------------------------- */

struct ev_stream {
	int64_t after;
	bool follow; /* false: end once caught up (?follow=0) */
	char instance[DEF_NAME_MAX + 1];
	int fd; /* the client's socket, to notice it leaving */
	char buf[1024];
	size_t len, off;
};

static bool peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t ev_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *s = cls;

	(void)pos;
	while (s->off == s->len) {
		struct vk_event ev;
		json_object *o;
		int r = events_next(s->after, &ev, s->follow ? 500 : 0);

		if (r < 0 || (r == 0 && !s->follow))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r == 0) {
			if (peer_gone(s->fd))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		s->after = ev.seq;
		/* ?instance= names it or gives its uuid. */
		if (s->instance[0] && strcmp(s->instance, ev.instance) != 0 &&
		    strcasecmp(s->instance, ev.uuid) != 0)
			continue;
		o = event_to_json(&ev);
		s->len = (size_t)snprintf(
		        s->buf, sizeof(s->buf), "%s\n",
		        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
		if (s->len >= sizeof(s->buf))
			s->len = sizeof(s->buf) - 1;
		s->off = 0;
		json_object_put(o);
	}
	{
		size_t n = VK_MIN(max, s->len - s->off);
		memcpy(buf, s->buf + s->off, n);
		s->off += n;
		return (ssize_t)n;
	}
}

enum MHD_Result api_events(struct http_req *req)
{
	const char *since = http_arg(req->conn, "since"), *name = http_arg(req->conn, "instance");
	const char *follow = http_arg(req->conn, "follow");
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *resp;
	struct ev_stream *s;
	enum MHD_Result r;
	uint64_t v = 0;

	if (since && vk_parse_uint(since, 0, INT64_MAX, &v) < 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "'since' must be an event sequence number");
	if (name && !def_name_valid(name))
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST, "invalid instance name");
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->after = since ? (int64_t)v : events_last_seq();
	s->follow = !follow || strcmp(follow, "0") != 0;
	s->fd = ci ? ci->connect_fd : -1;
	if (name)
		snprintf(s->instance, sizeof(s->instance), "%s", name);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, ev_reader, s, free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	/* An event stream may stay quiet for hours: no idle timeout. */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	r = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}
