/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the character-device tests: a recording client and
 * bounded waits on the loop and on plain fds (every wait has a deadline).
 */
#ifndef VK_TEST_CHARDEV_UTIL_H
#define VK_TEST_CHARDEV_UTIL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/chardev.h"
#include "vm/loop.h"

#define WAIT_NS (10ull * 1000 * 1000 * 1000) /* give up after 10 s */

struct rec_client {
	uint8_t buf[4096];
	size_t len;
	size_t cap; /* accept input up to this many bytes in total */
	unsigned write_ready, breaks;
	struct chardev *echo; /* when set, received bytes are written back */
};

static inline size_t rec_can_receive(void *opaque)
{
	struct rec_client *r = opaque;
	size_t cap = r->cap < sizeof(r->buf) ? r->cap : sizeof(r->buf);

	return cap > r->len ? cap - r->len : 0;
}

static inline void rec_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct rec_client *r = opaque;

	if (len > sizeof(r->buf) - r->len)
		len = sizeof(r->buf) - r->len;
	memcpy(r->buf + r->len, buf, len);
	r->len += len;
	if (r->echo)
		chardev_write(r->echo, buf, len);
}

static inline void rec_write_ready(void *opaque)
{
	((struct rec_client *)opaque)->write_ready++;
}

static inline void rec_break(void *opaque)
{
	((struct rec_client *)opaque)->breaks++;
}

static inline void rec_attach(struct chardev *c, struct rec_client *r, size_t cap)
{
	struct chardev_client client = {
	        .can_receive = rec_can_receive,
	        .receive = rec_receive,
	        .opaque = r,
	        .write_ready = rec_write_ready,
	        .receive_break = rec_break,
	};

	memset(r, 0, sizeof(*r));
	r->cap = cap;
	chardev_attach(c, &client);
}

/* Run the loop until *counter reaches want or the deadline passes. */
static inline bool pump_until(struct vm_loop *loop, const size_t *counter, size_t want)
{
	uint64_t end = vk_now_ns() + WAIT_NS;

	while (*counter < want && vk_now_ns() < end)
		vm_loop_poll(loop, 20 * 1000 * 1000);
	return *counter >= want;
}

/* A few loop iterations that return at once when something is ready. */
static inline void pump_some(struct vm_loop *loop)
{
	for (int i = 0; i < 5; i++)
		vm_loop_poll(loop, 10 * 1000 * 1000);
}

/*
 * Read from a non-blocking fd until buf holds needle (or the deadline).
 * Returns the bytes read; with loop set, the loop runs meanwhile.
 */
static inline size_t read_until(int fd, struct vm_loop *loop, char *buf, size_t size,
                                const char *needle)
{
	uint64_t end = vk_now_ns() + WAIT_NS;
	size_t len = 0;

	buf[0] = '\0';
	while (vk_now_ns() < end && !strstr(buf, needle) && len + 1 < size) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (loop)
			vm_loop_poll(loop, 0);
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(fd, buf + len, size - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			break;
		}
	}
	return len;
}

#endif
