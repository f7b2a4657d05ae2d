/* SPDX-License-Identifier: MIT */
/*
 * The socket:PATH character device: a listening unix stream socket with one
 * client at a time. A new client REPLACES the current one (the old connection
 * is closed): a console relay that restarts, or a user who lost their
 * terminal, gets the console back without waiting for a dead peer to time
 * out. Output while nobody is connected is dropped.
 *
 * A stale socket file at PATH (nobody accepts on it) is removed first; a
 * live one, or anything that is not a socket, is an error. The socket file is
 * removed on close if it is still ours.
 */
#include "vm/backend/chardev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

#define CHARDEV_SOCKET_BACKLOG 65536u

struct chardev_socket {
	struct chardev chr;
	struct chardev_stream stream;
	char *path;
	int listen_fd;
	int client_fd;
	struct vk_file_id id; /* the socket file we created */
	uint8_t *backlog;     /* ring of the newest output while disconnected */
	size_t backlog_head, backlog_len;
};

/* Keep buf in the backlog, dropping the oldest bytes beyond its size. */
static void socket_backlog_add(struct chardev_socket *s, const uint8_t *buf, size_t len)
{
	if (!s->backlog)
		s->backlog = malloc(CHARDEV_SOCKET_BACKLOG);
	if (!s->backlog)
		return;
	if (len > CHARDEV_SOCKET_BACKLOG) {
		buf += len - CHARDEV_SOCKET_BACKLOG;
		len = CHARDEV_SOCKET_BACKLOG;
	}
	for (size_t i = 0; i < len; i++) {
		size_t tail = (s->backlog_head + s->backlog_len) % CHARDEV_SOCKET_BACKLOG;
		s->backlog[tail] = buf[i];
		if (s->backlog_len < CHARDEV_SOCKET_BACKLOG)
			s->backlog_len++;
		else
			s->backlog_head = (s->backlog_head + 1) % CHARDEV_SOCKET_BACKLOG;
	}
}

/* Hand the backlog to a new client (its output queue is as large as the backlog). */
static void socket_backlog_flush(struct chardev_socket *s)
{
	while (s->backlog_len) {
		size_t n = VK_MIN(s->backlog_len, CHARDEV_SOCKET_BACKLOG - s->backlog_head);
		size_t done = chardev_stream_write(&s->stream, s->backlog + s->backlog_head, n);
		s->backlog_head = (s->backlog_head + done) % CHARDEV_SOCKET_BACKLOG;
		s->backlog_len -= done;
		if (done < n)
			break;
	}
	s->backlog_head = s->backlog_len = 0;
}

static void socket_drop_client(struct chardev_socket *s)
{
	if (s->client_fd < 0)
		return;
	chardev_stream_stop(&s->stream);
	close(s->client_fd);
	s->client_fd = -1;
}

static void socket_client_closed(struct chardev_stream *st, int err)
{
	socket_drop_client(st->opaque);
}

static void socket_accept_cb(void *opaque, int fd, short revents)
{
	struct chardev_socket *s = opaque;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd < 0)
		return; /* EAGAIN, or a client that gave up already */
	socket_drop_client(s);
	s->client_fd = cfd;
	s->stream.in_fd = s->stream.out_fd = cfd;
	s->stream.out_socket = true;
	if (chardev_stream_start(&s->stream) < 0) {
		s->stream.in_fd = s->stream.out_fd = -1;
		close(cfd);
		s->client_fd = -1;
		return;
	}
	socket_backlog_flush(s);
}

static size_t socket_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct chardev_socket *s = container_of(c, struct chardev_socket, chr);

	if (s->client_fd < 0) {
		socket_backlog_add(s, buf, len);
		return len;
	}
	return chardev_stream_write(&s->stream, buf, len);
}

static void socket_accept_input(struct chardev *c)
{
	struct chardev_socket *s = container_of(c, struct chardev_socket, chr);

	chardev_stream_accept_input(&s->stream);
}

static void socket_close(struct chardev *c)
{
	struct chardev_socket *s = container_of(c, struct chardev_socket, chr);

	socket_drop_client(s);
	chardev_stream_destroy(&s->stream);
	if (s->listen_fd >= 0) {
		vm_loop_del_fd(c->loop, s->listen_fd);
		close(s->listen_fd);
	}
	vk_unlink_if_same(s->path, &s->id);
	free(s->backlog);
	free(s->path);
	free(s);
}

static const struct chardev_ops socket_ops = {
        .name = "socket",
        .write = socket_write,
        .accept_input = socket_accept_input,
        .close = socket_close,
};

/* Remove PATH if it is a socket nobody listens on. Returns 0 or -errno. */
static int socket_remove_stale(const struct sockaddr_un *addr, struct vk_error *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT
		               ? 0
		               : vk_error_errno(err, errno, "cannot use console socket '%s'",
		                                addr->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return vk_error_set(err, EEXIST,
		                    "cannot use console socket '%s': a file that is "
		                    "not a socket is in the way",
		                    addr->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create console socket '%s'",
		                      addr->sun_path);
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	if (ret == 0)
		return vk_error_set(err, EADDRINUSE,
		                    "cannot use console socket '%s': another process listens on it",
		                    addr->sun_path);
	if (errno != ECONNREFUSED)
		return vk_error_errno(err, errno, "cannot use console socket '%s'", addr->sun_path);
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return vk_error_errno(err, errno, "cannot remove stale console socket '%s'",
		                      addr->sun_path);
	return 0;
}

struct chardev *chardev_socket_open(struct vm_loop *loop, const char *path, struct vk_error *err)
{
	struct chardev_socket *s = calloc(1, sizeof(*s));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int ret;

	if (!s || chardev_stream_init(&s->stream, &s->chr, s) < 0) {
		vk_error_errno(err, ENOMEM, "cannot create console socket '%s'", path);
		goto fail_alloc;
	}
	s->listen_fd = s->client_fd = -1;
	s->chr.ops = &socket_ops;
	s->chr.loop = loop;
	s->stream.in_closed = socket_client_closed;
	s->stream.out_closed = socket_client_closed;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		vk_error_set(err, ENAMETOOLONG,
		             "cannot use console socket '%s': the path is longer than %zu bytes",
		             path, sizeof(addr.sun_path) - 1);
		goto fail;
	}
	strcpy(addr.sun_path, path);
	s->path = strdup(path);
	if (!s->path) {
		vk_error_errno(err, ENOMEM, "cannot create console socket '%s'", path);
		goto fail;
	}
	s->chr.path = s->path;
	if (socket_remove_stale(&addr, err) < 0)
		goto fail;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		vk_error_errno(err, errno, "cannot create console socket '%s'", path);
		goto fail;
	}
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		vk_error_errno(err, errno, "cannot bind console socket '%s'", path);
		goto fail;
	}
	vk_file_id_get(path, &s->id);
	if (listen(s->listen_fd, 4) < 0) {
		vk_error_errno(err, errno, "cannot listen on console socket '%s'", path);
		goto fail;
	}
	ret = vm_loop_add_fd(loop, s->listen_fd, POLLIN, socket_accept_cb, s);
	if (ret < 0) {
		vk_error_errno(err, -ret, "cannot watch console socket '%s'", path);
		goto fail;
	}
	return &s->chr;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	vk_unlink_if_same(s->path, &s->id); /* nothing recorded before bind() */
	chardev_stream_destroy(&s->stream);
	free(s->path);
fail_alloc:
	free(s);
	return NULL;
}
