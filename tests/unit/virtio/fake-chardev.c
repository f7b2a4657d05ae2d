/* SPDX-License-Identifier: MIT */
/*
 * A fake struct chardev for the virtio unit tests (linked only into them):
 * output is captured in a buffer, input is pushed by the test through the
 * client's can_receive/receive, like a real backend would. Output can be
 * limited to model a full queue (short writes, then write_ready).
 */
#include "fake-chardev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct chardev *last;

struct chardev *chardev_open(struct vm_loop *loop, const char *spec, struct vk_error *err)
{
	struct chardev *c;

	if (strcmp(spec, "fake") != 0) {
		vk_error_set(err, EINVAL, "fake chardev: unknown spec '%s'", spec);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	last = c;
	return c;
}

struct chardev *fake_chardev_last(void)
{
	return last;
}

void chardev_close(struct chardev *c)
{
	if (c == last)
		last = NULL;
	free(c);
}

void chardev_attach(struct chardev *c, const struct chardev_client *client)
{
	c->client = *client;
}

void chardev_accept_input(struct chardev *c)
{
	c->accept_calls++;
}

size_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	size_t n = VK_MIN(len, sizeof(c->out) - c->out_len);

	c->writes++;
	if (c->limited)
		n = VK_MIN(n, c->room);
	if (n < len && c->reenter) {
		/* The reader went away: the queue is dropped, output flows again. */
		c->reenter = false;
		c->limited = false;
		c->blocked = false;
		if (c->client.write_ready)
			c->client.write_ready(c->client.opaque);
		return 0;
	}
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	if (c->limited)
		c->room -= n;
	if (n < len)
		c->blocked = true;
	return n;
}

void fake_chardev_give_room(struct chardev *c, size_t n)
{
	c->room += n;
	if (c->blocked) {
		c->blocked = false;
		if (c->client.write_ready)
			c->client.write_ready(c->client.opaque);
	}
}

void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *opaque), void *opaque)
{
}

size_t fake_chardev_input(struct chardev *c, const void *buf, size_t len)
{
	size_t room = c->client.can_receive(c->client.opaque);
	size_t n = VK_MIN(room, len);

	if (n)
		c->client.receive(c->client.opaque, buf, n);
	return n;
}
