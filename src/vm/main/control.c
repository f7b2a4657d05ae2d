/* SPDX-License-Identifier: MIT */
/*
 * Control socket server: accepts clients on a unix socket, reads one JSON
 * request per line (json-c), answers one JSON object per line in order and
 * broadcasts events. Clients are untrusted: lines are bounded, malformed JSON
 * gets an error reply, and a client that stops reading is dropped once its
 * output backlog passes a bound.
 */
#include "vm/main/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/loop.h"
#include "vm/main/migrate.h"

#define CONTROL_LINE_MAX    (64 * 1024)
#define CONTROL_OUT_MAX     (1024 * 1024)
#define CONTROL_MAX_CLIENTS 16

struct control_client {
	int fd;
	uint64_t serial; /* tells a client apart from a later one in the same slot */
	bool waiting;    /* a save or migrate is under way: its reply comes first */
	char in[CONTROL_LINE_MAX + 1];
	size_t in_len;
	bool discarding; /* inside an over-long line: drop until the newline */
	char *out;
	size_t out_len, out_cap;
};

struct vm_control {
	struct vm_loop *loop;
	char *path;
	struct vk_file_id id; /* the socket file we bound */
	int listen_fd;
	const struct vm_control_ops *ops;
	void *opaque;
	struct vm_migrator *migrator; /* save and migrate, NULL: not offered */
	uint64_t next_serial;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
};

/* A save or migrate whose reply goes to one client later. */
struct control_pending {
	struct vm_control *c;
	unsigned idx;
	uint64_t serial;
	struct json_object *id; /* the request's id, or NULL */
};

static void control_client_close(struct vm_control *c, unsigned idx)
{
	struct control_client *cl = c->clients[idx];

	vm_loop_del_fd(c->loop, cl->fd);
	close(cl->fd);
	free(cl->out);
	free(cl);
	c->clients[idx] = NULL;
}

static void control_flush(struct vm_control *c, unsigned idx)
{
	struct control_client *cl = c->clients[idx];

	while (cl->out_len) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			control_client_close(c, idx);
			return;
		}
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
	}
	vm_loop_mod_fd(c->loop, cl->fd, (cl->waiting ? 0 : POLLIN) | (cl->out_len ? POLLOUT : 0));
}

/* Queue one JSON object as a line; drop the client if it has stopped reading. */
static void control_send(struct vm_control *c, unsigned idx, struct json_object *obj)
{
	struct control_client *cl = c->clients[idx];
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);

	if (cl->out_len + len + 1 > CONTROL_OUT_MAX) {
		vk_warn("control: dropping a client that does not read its replies");
		control_client_close(c, idx);
		return;
	}
	if (cl->out_len + len + 1 > cl->out_cap) {
		size_t cap = VK_MAX(cl->out_cap * 2, cl->out_len + len + 1);
		char *p = realloc(cl->out, cap);
		if (!p) {
			control_client_close(c, idx);
			return;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, s, len);
	cl->out[cl->out_len + len] = '\n';
	cl->out_len += len + 1;
	control_flush(c, idx);
}

static struct json_object *control_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static void control_process(struct vm_control *c, unsigned idx);

/* The loop's thread, machine lock held: a save or migrate is over. */
static void control_job_done(void *ctx, struct json_object *reply)
{
	struct control_pending *p = ctx;
	struct vm_control *c = p->c;
	struct control_client *cl = c->clients[p->idx];

	if (p->id)
		json_object_object_add(reply, "id", p->id);
	if (cl && cl->serial == p->serial) {
		cl->waiting = false;
		control_send(c, p->idx, reply);
		if (c->clients[p->idx]) {
			vm_loop_mod_fd(c->loop, cl->fd, POLLIN | (cl->out_len ? POLLOUT : 0));
			control_process(c, p->idx);
		}
	}
	json_object_put(reply);
	free(p);
}

/* save / migrate / disk-overlay: NULL when started (the reply comes from control_job_done). */
static struct json_object *control_start_job(struct vm_control *c, unsigned idx, const char *name,
                                             struct json_object *req, struct json_object *id,
                                             struct vk_error *err)
{
	struct control_pending *p;
	int r;

	if (!c->migrator) {
		vk_error_set(err, ENOTSUP, "this machine cannot be saved");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	*p = (struct control_pending){
	        .c = c, .idx = idx, .serial = c->clients[idx]->serial, .id = json_object_get(id)};
	r = vm_migrator_start(c->migrator, name, req, control_job_done, p, err);
	if (r < 0) {
		json_object_put(p->id);
		free(p);
		return NULL;
	}
	c->clients[idx]->waiting = true;
	return NULL;
}

static struct json_object *control_execute(struct vm_control *c, unsigned idx, const char *line)
{
	struct json_object *req, *cmd, *id = NULL, *reply;
	struct vk_error err = {0};
	const char *name;
	int r = 0;

	req = json_tokener_parse(line);
	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return control_error("malformed request: expected one JSON object per line");
	}
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		json_object_put(req);
		return control_error("malformed request: missing string member \"cmd\"");
	}
	name = json_object_get_string(cmd);
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	if (!strcmp(name, "status")) {
		c->ops->status(c->opaque, reply);
	} else if (!strcmp(name, "pause")) {
		r = c->ops->pause(c->opaque, &err);
		if (r == 0)
			json_object_object_add(reply, "state", json_object_new_string("paused"));
	} else if (!strcmp(name, "resume")) {
		r = c->ops->resume(c->opaque, &err);
		if (r == 0)
			json_object_object_add(reply, "state", json_object_new_string("running"));
	} else if (!strcmp(name, "powerdown")) {
		r = c->ops->powerdown(c->opaque, &err);
	} else if (!strcmp(name, "quit")) {
		c->ops->quit(c->opaque);
	} else if (!strcmp(name, "save") || !strcmp(name, "migrate") ||
	           !strcmp(name, "disk-overlay")) {
		json_object_object_get_ex(req, "id", &id);
		control_start_job(c, idx, name, req, id, &err);
		if (c->clients[idx]->waiting) {
			json_object_put(reply);
			json_object_put(req);
			return NULL;
		}
		r = -EINVAL;
	} else {
		vk_error_set(&err, EINVAL,
		             "unknown command '%.64s' (expected status, pause, resume, powerdown, "
		             "quit, save, migrate or disk-overlay)",
		             name);
		r = -EINVAL;
	}
	if (r < 0) {
		json_object_put(reply);
		reply = control_error(err.msg[0] ? err.msg : strerror(-r));
	}
	if (json_object_object_get_ex(req, "id", &id))
		json_object_object_add(reply, "id", json_object_get(id));
	json_object_put(req);
	return reply;
}

static int control_index(struct vm_control *c, int fd)
{
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i] && c->clients[i]->fd == fd)
			return (int)i;
	return -1;
}

static void control_client_event(void *opaque, int fd, short revents)
{
	struct vm_control *c = opaque;
	int idx = control_index(c, fd);
	struct control_client *cl;

	if (idx < 0)
		return;
	cl = c->clients[idx];
	if (revents & POLLOUT)
		control_flush(c, (unsigned)idx);
	if (!c->clients[idx] || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		ssize_t n;

		if (cl->waiting) {
			/* Nothing more is read until the job's reply went out (in order); a
			 * client that hung up is gone (its reply goes nowhere). */
			if (revents & (POLLHUP | POLLERR))
				control_client_close(c, (unsigned)idx);
			else
				vm_loop_mod_fd(c->loop, cl->fd, cl->out_len ? POLLOUT : 0);
			return;
		}
		n = recv(fd, cl->in + cl->in_len, CONTROL_LINE_MAX - cl->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			control_client_close(c, (unsigned)idx);
			return;
		}
		cl->in_len += (size_t)n;
		cl->in[cl->in_len] = '\0';
		control_process(c, (unsigned)idx);
		if (!c->clients[idx])
			return;
	}
}

/* Execute the complete lines buffered for client idx, until one waits for a job. */
static void control_process(struct vm_control *c, unsigned idx)
{
	struct control_client *cl = c->clients[idx];
	char *nl;

	while (!cl->waiting && (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t used = (size_t)(nl - cl->in) + 1;
		*nl = '\0';
		if (cl->discarding) {
			cl->discarding = false;
		} else if (nl > cl->in) {
			struct json_object *reply = control_execute(c, idx, cl->in);
			if (reply) {
				control_send(c, idx, reply);
				json_object_put(reply);
			}
			if (!c->clients[idx])
				return;
		}
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
	}
	if (cl->in_len == CONTROL_LINE_MAX) {
		struct json_object *reply;

		reply = control_error("request line too long (limit 64 KiB)");
		cl->in_len = 0;
		cl->discarding = true;
		control_send(c, idx, reply);
		json_object_put(reply);
	}
}

static void control_accept(void *opaque, int fd, short revents)
{
	struct vm_control *c = opaque;
	struct control_client *cl;
	unsigned i;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS && c->clients[i]; i++)
		;
	if (i == CONTROL_MAX_CLIENTS) {
		static const char busy[] =
		        "{\"ok\":false,\"error\":\"too many control clients\"}\n";
		ssize_t n = send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		close(cfd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return;
	}
	cl->fd = cfd;
	cl->serial = ++c->next_serial;
	if (vm_loop_add_fd(c->loop, cfd, POLLIN, control_client_event, c) < 0) {
		close(cfd);
		free(cl);
		return;
	}
	c->clients[i] = cl;
}

struct vm_control *vm_control_create(struct vm_loop *loop, const char *path,
                                     const struct vm_control_ops *ops, void *opaque,
                                     struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vm_control *c;
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		vk_error_set(err, ENAMETOOLONG, "control socket path '%s' is too long", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	/* Replace a stale socket, but never delete something that is not a socket. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			vk_error_set(err, EEXIST,
			             "control socket path '%s' exists and is not a socket", path);
			return NULL;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vk_error_errno(err, errno, "cannot create the control socket");
		return NULL;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail_listen;
	}
	if (chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		r = -errno;
		unlink(path); /* bound: the file is ours */
		goto fail_listen;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		close(fd);
		unlink(path);
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	vk_file_id_get(path, &c->id);
	c->loop = loop;
	c->listen_fd = fd;
	c->ops = ops;
	c->opaque = opaque;
	r = vm_loop_add_fd(loop, fd, POLLIN, control_accept, c);
	if (r < 0) {
		vk_error_errno(err, -r, "cannot watch control socket '%s'", path);
		vm_control_destroy(c);
		return NULL;
	}
	return c;
fail_listen:
	vk_error_errno(err, -r, "cannot listen on control socket '%s'", path);
	close(fd);
	return NULL;
}

void vm_control_set_migrator(struct vm_control *c, struct vm_migrator *m)
{
	c->migrator = m;
}

void vm_control_event(struct vm_control *c, const char *event, const char *reason,
                      const char *detail)
{
	struct json_object *o;

	if (!c)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(event));
	if (reason)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	if (detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i])
			control_send(c, i, o);
	json_object_put(o);
}

void vm_control_destroy(struct vm_control *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = c->clients[i];
		if (!cl)
			continue;
		/* Last chance for pending replies and events (a short blocking flush). */
		if (cl->out_len) {
			struct pollfd p = {.fd = cl->fd, .events = POLLOUT};
			if (poll(&p, 1, 100) > 0)
				control_flush(c, i);
		}
		if (c->clients[i])
			control_client_close(c, i);
	}
	if (c->listen_fd >= 0) {
		vm_loop_del_fd(c->loop, c->listen_fd);
		close(c->listen_fd);
		/* Not a successor's socket on the same path (a restarted VM). */
		vk_unlink_if_same(c->path, &c->id);
	}
	free(c->path);
	free(c);
}
