/* SPDX-License-Identifier: MIT */
/*
 * The pty character device: a new pseudo-terminal whose slave side a user
 * opens (screen, minicom, socat, tmux...). The slave is put in raw mode once
 * and its path printed on stderr.
 *
 * Connected or not: Linux reports POLLHUP on the master while no process has
 * the slave open (after it was opened once, which we do ourselves to set raw
 * mode). While disconnected the master is not watched (POLLHUP would wake the
 * loop forever), output is dropped instead of filling the kernel buffer, and
 * a timer checks every CHARDEV_PTY_POLL_NS whether somebody opened the slave.
 */
#include "vm/backend/chardev-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"

#define CHARDEV_PTY_POLL_NS (200 * 1000 * 1000ull)

struct chardev_pty {
	struct chardev chr;
	struct chardev_stream stream;
	struct vm_timer *timer;
	int master;
	bool connected;
	char *slave_path;
};

static void pty_check(void *opaque);

static void pty_disconnect(struct chardev_pty *p)
{
	chardev_stream_stop(&p->stream);
	p->connected = false;
	vm_timer_mod(p->timer, vk_now_ns() + CHARDEV_PTY_POLL_NS);
}

static void pty_closed(struct chardev_stream *s, int err)
{
	pty_disconnect(s->opaque);
}

static void pty_check(void *opaque)
{
	struct chardev_pty *p = opaque;
	struct pollfd pfd = {.fd = p->master, .events = POLLIN};

	if (p->connected)
		return;
	if (poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP)) {
		p->stream.in_fd = p->stream.out_fd = p->master;
		if (chardev_stream_start(&p->stream) == 0) {
			p->connected = true;
			return;
		}
		p->stream.in_fd = p->stream.out_fd = -1;
	}
	vm_timer_mod(p->timer, vk_now_ns() + CHARDEV_PTY_POLL_NS);
}

static size_t pty_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct chardev_pty *p = container_of(c, struct chardev_pty, chr);

	return chardev_stream_write(&p->stream, buf, len);
}

static void pty_accept_input(struct chardev *c)
{
	struct chardev_pty *p = container_of(c, struct chardev_pty, chr);

	chardev_stream_accept_input(&p->stream);
}

static void pty_close(struct chardev *c)
{
	struct chardev_pty *p = container_of(c, struct chardev_pty, chr);

	chardev_stream_destroy(&p->stream);
	vm_timer_free(p->timer);
	if (p->master >= 0)
		close(p->master);
	free(p->slave_path);
	free(p);
}

static const struct chardev_ops pty_ops = {
        .name = "pty",
        .write = pty_write,
        .accept_input = pty_accept_input,
        .close = pty_close,
};

/* Raw mode on the slave: the guest does its own echo and line editing. */
static int pty_setup_slave(const char *path)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) < 0) {
		ret = -errno;
	} else {
		cfmakeraw(&t);
		if (tcsetattr(fd, TCSANOW, &t) < 0)
			ret = -errno;
	}
	/* Closing it marks the slave unused: the master reports POLLHUP. */
	close(fd);
	return ret;
}

struct chardev *chardev_pty_open(struct vm_loop *loop, struct vk_error *err)
{
	struct chardev_pty *p = calloc(1, sizeof(*p));
	const char *name;
	int ret;

	if (!p || chardev_stream_init(&p->stream, &p->chr, p) < 0) {
		vk_error_errno(err, ENOMEM, "cannot create a pty console");
		goto fail_alloc;
	}
	p->chr.ops = &pty_ops;
	p->chr.loop = loop;
	p->stream.in_closed = pty_closed;
	p->stream.out_closed = pty_closed;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->master < 0) {
		vk_error_errno(err, errno, "cannot open a pseudo-terminal");
		goto fail;
	}
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0 || !(name = ptsname(p->master))) {
		vk_error_errno(err, errno, "cannot set up a pseudo-terminal");
		goto fail;
	}
	p->slave_path = strdup(name);
	if (!p->slave_path) {
		vk_error_errno(err, ENOMEM, "cannot set up a pseudo-terminal");
		goto fail;
	}
	p->chr.path = p->slave_path;
	ret = pty_setup_slave(p->slave_path);
	if (ret < 0) {
		vk_error_errno(err, -ret, "cannot put pseudo-terminal '%s' in raw mode",
		               p->slave_path);
		goto fail;
	}
	p->timer = vm_timer_new(loop, pty_check, p);
	if (!p->timer) {
		vk_error_errno(err, ENOMEM, "cannot set up a pseudo-terminal");
		goto fail;
	}
	pty_check(p);
	fprintf(stderr, "virtkit-vm: console on %s\n", p->slave_path);
	return &p->chr;
fail:
	if (p->master >= 0)
		close(p->master);
	chardev_stream_destroy(&p->stream);
	free(p->slave_path);
fail_alloc:
	free(p);
	return NULL;
}
