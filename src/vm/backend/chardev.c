/* SPDX-License-Identifier: MIT */
/*
 * Character devices, the common part: spec parsing, the device (client) side
 * of the API, and struct chardev_stream, the non-blocking fd plumbing that the
 * stdio, pty and socket backends share.
 */
#include "vm/backend/chardev-internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

struct chardev *chardev_open(struct vm_loop *loop, const char *spec, struct vk_error *err)
{
	if (!loop || !spec) {
		vk_error_set(err, EINVAL, "no character device given");
		return NULL;
	}
	if (strcmp(spec, "stdio") == 0)
		return chardev_stdio_open(loop, err);
	if (strcmp(spec, "pty") == 0)
		return chardev_pty_open(loop, err);
	if (strcmp(spec, "null") == 0)
		return chardev_null_open(loop, err);
	if (vk_startswith(spec, "socket:") && spec[7])
		return chardev_socket_open(loop, spec + 7, err);
	if (vk_startswith(spec, "file:") && spec[5])
		return chardev_file_open(loop, spec + 5, err);
	vk_error_set(err, EINVAL,
	             "unknown character device '%s' (expected stdio, pty, socket:PATH, "
	             "file:PATH or null)",
	             spec);
	return NULL;
}

void chardev_close(struct chardev *c)
{
	if (c)
		c->ops->close(c);
}

void chardev_attach(struct chardev *c, const struct chardev_client *client)
{
	if (!client) {
		c->attached = false;
		memset(&c->client, 0, sizeof(c->client));
		return;
	}
	c->client = *client;
	c->attached = true;
	/* Input waiting for a device can flow now. */
	chardev_accept_input(c);
}

void chardev_accept_input(struct chardev *c)
{
	if (c && c->ops->accept_input)
		c->ops->accept_input(c);
}

size_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	if (!c || len == 0)
		return len;
	return c->ops->write(c, buf, len);
}

void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *opaque), void *opaque)
{
	c->quit = quit;
	c->quit_opaque = opaque;
}

struct vm_loop *chardev_get_loop(const struct chardev *c)
{
	return c ? c->loop : NULL;
}

const char *chardev_path(const struct chardev *c)
{
	return c ? c->path : NULL;
}

size_t chardev_can_receive(struct chardev *c)
{
	if (!c->attached || !c->client.can_receive)
		return 0;
	return c->client.can_receive(c->client.opaque);
}

void chardev_deliver(struct chardev *c, const uint8_t *buf, size_t len)
{
	if (c->attached && c->client.receive && len)
		c->client.receive(c->client.opaque, buf, len);
}

void chardev_deliver_break(struct chardev *c)
{
	if (c->attached && c->client.receive_break)
		c->client.receive_break(c->client.opaque);
}

void chardev_notify_write_ready(struct chardev *c)
{
	if (c->attached && c->client.write_ready)
		c->client.write_ready(c->client.opaque);
}

void chardev_request_quit(struct chardev *c)
{
	if (c->quit) {
		c->quit(c->quit_opaque);
		return;
	}
	exit(EXIT_SUCCESS);
}

void chardev_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
	    sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

/* --- struct chardev_stream ---------------------------------------------- */

int chardev_stream_init(struct chardev_stream *s, struct chardev *chr, void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->chr = chr;
	s->opaque = opaque;
	s->in_fd = -1;
	s->out_fd = -1;
	s->outq = malloc(CHARDEV_OUTQ_SIZE);
	return s->outq ? 0 : -ENOMEM;
}

void chardev_stream_destroy(struct chardev_stream *s)
{
	chardev_stream_stop(s);
	free(s->outq);
	s->outq = NULL;
}

/* Bring the loop's view of our fds in line with what we want now. */
static void stream_sync(struct chardev_stream *s)
{
	short in = (s->in_fd >= 0 && !s->in_paused) ? POLLIN : 0;
	short out = (s->out_fd >= 0 && s->out_len) ? POLLOUT : 0;

	if (!s->running)
		return;
	if (s->in_fd >= 0 && s->in_fd == s->out_fd) {
		if (s->in_events != (in | out))
			vm_loop_mod_fd(s->chr->loop, s->in_fd, in | out);
		s->in_events = s->out_events = in | out;
		return;
	}
	if (s->in_fd >= 0 && s->in_events != in)
		vm_loop_mod_fd(s->chr->loop, s->in_fd, in);
	if (s->out_fd >= 0 && s->out_events != out)
		vm_loop_mod_fd(s->chr->loop, s->out_fd, out);
	s->in_events = in;
	s->out_events = out;
}

static void stream_input_closed(struct chardev_stream *s, int err)
{
	if (s->in_closed)
		s->in_closed(s, err);
	else
		chardev_stream_stop_input(s);
}

static void stream_output_closed(struct chardev_stream *s, int err)
{
	if (s->out_closed)
		s->out_closed(s, err);
	else
		chardev_stream_stop_output(s);
}

/* Read what the device has room for. Returns bytes read, 0 or -errno. */
static ssize_t stream_read(struct chardev_stream *s)
{
	uint8_t buf[4096];
	size_t room = chardev_can_receive(s->chr);
	ssize_t n;

	if (room == 0) {
		s->in_paused = true;
		stream_sync(s);
		return 0;
	}
	do {
		n = read(s->in_fd, buf, VK_MIN(room, sizeof(buf)));
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (s->filter)
			s->filter(s, buf, (size_t)n);
		else
			chardev_deliver(s->chr, buf, (size_t)n);
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* EOF, or EIO from a pty whose other side went away. */
	stream_input_closed(s, n == 0 ? 0 : errno);
	return n == 0 ? -EPIPE : -errno;
}

static ssize_t stream_send(struct chardev_stream *s, const uint8_t *buf, size_t len)
{
	ssize_t n;

	do {
		if (s->out_socket)
			n = send(s->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(s->out_fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	return -errno;
}

/* Write out queued output. Returns false when the output side went away. */
static bool stream_flush(struct chardev_stream *s)
{
	while (s->out_len) {
		size_t chunk = VK_MIN(s->out_len, CHARDEV_OUTQ_SIZE - s->out_head);
		ssize_t n = stream_send(s, s->outq + s->out_head, chunk);

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n <= 0) {
			stream_output_closed(s, n == 0 ? EPIPE : (int)-n);
			return false;
		}
		s->out_head = (s->out_head + (size_t)n) % CHARDEV_OUTQ_SIZE;
		s->out_len -= (size_t)n;
	}
	if (s->out_len == 0)
		s->out_head = 0;
	stream_sync(s);
	if (s->out_blocked && s->out_len <= CHARDEV_OUTQ_SIZE / 2) {
		s->out_blocked = false;
		chardev_notify_write_ready(s->chr);
	}
	return true;
}

static void stream_fd_cb(void *opaque, int fd, short revents)
{
	struct chardev_stream *s = opaque;
	bool hup = revents & (POLLHUP | POLLERR | POLLNVAL);

	if (fd == s->in_fd && !s->in_paused && (revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = stream_read(s);
		/* Data still came in: drain it before believing the hangup. */
		if (n > 0)
			hup = false;
		else if (n < 0)
			return; /* the backend has dealt with the close */
	}
	if (fd == s->out_fd && (revents & (POLLOUT | POLLHUP | POLLERR)) && s->out_len) {
		if (!stream_flush(s))
			return;
	}
	if (!hup || !s->running)
		return;
	/*
	 * A hangup that neither a read nor a write resolved (input paused,
	 * nothing queued, or a pty that takes writes after its slave closed):
	 * treat it as the end of that side, or poll would report it forever.
	 */
	if (fd == s->in_fd)
		stream_input_closed(s, EPIPE);
	else if (fd == s->out_fd)
		stream_output_closed(s, EPIPE);
}

int chardev_stream_start(struct chardev_stream *s)
{
	int ret;

	s->in_paused = false;
	s->in_events = s->out_events = 0;
	if (s->in_fd >= 0) {
		ret = vm_loop_add_fd(s->chr->loop, s->in_fd, 0, stream_fd_cb, s);
		if (ret < 0)
			return ret;
	}
	if (s->out_fd >= 0 && s->out_fd != s->in_fd) {
		ret = vm_loop_add_fd(s->chr->loop, s->out_fd, 0, stream_fd_cb, s);
		if (ret < 0) {
			if (s->in_fd >= 0)
				vm_loop_del_fd(s->chr->loop, s->in_fd);
			return ret;
		}
	}
	s->running = true;
	s->in_events = s->out_events = -1; /* force the first sync */
	stream_sync(s);
	return 0;
}

void chardev_stream_stop(struct chardev_stream *s)
{
	if (s->running) {
		if (s->in_fd >= 0)
			vm_loop_del_fd(s->chr->loop, s->in_fd);
		if (s->out_fd >= 0 && s->out_fd != s->in_fd)
			vm_loop_del_fd(s->chr->loop, s->out_fd);
	}
	s->running = false;
	s->in_fd = s->out_fd = -1;
	s->out_head = s->out_len = 0;
	if (s->out_blocked) {
		/* Queued output is gone: the device may send again (to nobody). */
		s->out_blocked = false;
		chardev_notify_write_ready(s->chr);
	}
}

void chardev_stream_stop_input(struct chardev_stream *s)
{
	if (s->in_fd < 0)
		return;
	if (s->running && s->in_fd != s->out_fd)
		vm_loop_del_fd(s->chr->loop, s->in_fd);
	s->in_fd = -1;
	stream_sync(s);
}

void chardev_stream_stop_output(struct chardev_stream *s)
{
	bool blocked = s->out_blocked;

	if (s->out_fd < 0)
		return;
	if (s->running && s->out_fd != s->in_fd)
		vm_loop_del_fd(s->chr->loop, s->out_fd);
	s->out_fd = -1;
	s->out_head = s->out_len = 0;
	s->out_blocked = false;
	stream_sync(s);
	if (blocked)
		chardev_notify_write_ready(s->chr);
}

size_t chardev_stream_write(struct chardev_stream *s, const uint8_t *buf, size_t len)
{
	size_t done = 0, room, tail, first;

	if (s->out_fd < 0)
		return len; /* nobody is listening: drop */
	if (s->out_len == 0) {
		/* Nothing queued: try the fd directly and queue only the rest. */
		ssize_t n = stream_send(s, buf, len);

		if (n < 0 && n != -EAGAIN && n != -EWOULDBLOCK) {
			stream_output_closed(s, (int)-n);
			return len;
		}
		if (n > 0)
			done = (size_t)n;
		if (done == len)
			return len;
	}
	room = CHARDEV_OUTQ_SIZE - s->out_len;
	first = VK_MIN(len - done, room);
	tail = (s->out_head + s->out_len) % CHARDEV_OUTQ_SIZE;
	for (size_t copied = 0; copied < first;) {
		size_t chunk = VK_MIN(first - copied, CHARDEV_OUTQ_SIZE - tail);

		memcpy(s->outq + tail, buf + done + copied, chunk);
		copied += chunk;
		tail = (tail + chunk) % CHARDEV_OUTQ_SIZE;
	}
	s->out_len += first;
	done += first;
	if (done < len)
		s->out_blocked = true;
	stream_sync(s);
	return done;
}

void chardev_stream_accept_input(struct chardev_stream *s)
{
	if (!s->in_paused)
		return;
	s->in_paused = false;
	stream_sync(s);
}
