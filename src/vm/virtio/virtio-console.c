/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.x, 5.3) with one port and no multiport: receiveq 0
 * carries host input to the guest, transmitq 1 guest output to the host, both
 * on a struct chardev. VIRTIO_CONSOLE_F_EMERG_WRITE is offered so early
 * output can go through the emerg_wr config register.
 *
 * Input flow control: the device holds at most one popped receive buffer and
 * tells the chardev how much room it has left; when the guest adds buffers
 * (a receiveq notification) it asks the chardev for more input.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/chardev.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define CONSOLE_QUEUE_SIZE           64
#define CONSOLE_RXQ                  0
#define CONSOLE_TXQ                  1
#define CONSOLE_CONFIG_SIZE          12 /* cols, rows, max_nr_ports, emerg_wr */

struct virtio_console {
	struct virtio_dev vdev;
	struct chardev *chr;
	bool rx_held;   /* rx_elem is popped and not pushed yet */
	size_t rx_used; /* bytes already written into it */
	struct virtq_elem rx_elem;
	struct virtq_elem tx_elem;
};

static struct virtio_console *to_con(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_console, vdev);
}

static void console_config_read(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	/* cols = rows = 0 (no F_SIZE), max_nr_ports only with MULTIPORT, emerg_wr reads 0. */
	memset(buf, 0, len);
}

static void console_config_write(struct virtio_dev *dev, uint32_t offset, const void *buf,
                                 uint32_t len)
{
	struct virtio_console *c = to_con(dev);

	/* emerg_wr (offset 8): the low byte is one character of output. */
	if (offset == 8 && virtio_dev_has_feature(dev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		chardev_write(c->chr, buf, 1);
}

/* Make sure a receive buffer is held; false when the guest has none. */
static bool rx_hold(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_queue(&c->vdev, CONSOLE_RXQ);

	while (!c->rx_held) {
		if (!virtio_dev_driver_ok(&c->vdev) || virtq_pop(vq, &c->rx_elem) <= 0)
			return false;
		if (c->rx_elem.error || c->rx_elem.rd_num > 0 || c->rx_elem.wr_len == 0) {
			if (c->rx_elem.rd_num > 0)
				virtio_dev_guest_error(&c->vdev,
				                       "receive buffer is device-readable");
			virtq_push(vq, &c->rx_elem, 0);
			virtq_notify(vq);
			continue;
		}
		c->rx_held = true;
		c->rx_used = 0;
	}
	return true;
}

static size_t console_can_receive(void *opaque)
{
	struct virtio_console *c = opaque;

	if (!rx_hold(c))
		return 0;
	return c->rx_elem.wr_len - c->rx_used;
}

static void console_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = opaque;
	struct virtq *vq = virtio_dev_queue(&c->vdev, CONSOLE_RXQ);

	while (len > 0 && rx_hold(c)) {
		size_t n =
		        virtio_iov_from_buf(c->rx_elem.wr, c->rx_elem.wr_num, c->rx_used, buf, len);

		c->rx_used += n;
		buf += n;
		len -= n;
		/* Hand each buffer over at once: console input is interactive. */
		virtq_push(vq, &c->rx_elem, (uint32_t)c->rx_used);
		c->rx_held = false;
	}
	virtq_notify(vq);
	/* What did not fit is dropped: the chardev asked can_receive() first. */
}

static void console_tx(struct virtio_console *c, struct virtq *vq)
{
	struct virtq_elem *e = &c->tx_elem;

	while (virtq_pop(vq, e) > 0) {
		if (e->wr_num > 0)
			virtio_dev_guest_error(&c->vdev, "transmit buffer is device-writable");
		else if (!e->error)
			for (unsigned i = 0; i < e->rd_num; i++)
				chardev_write(c->chr, e->rd[i].iov_base, e->rd[i].iov_len);
		virtq_push(vq, e, 0);
	}
	virtq_notify(vq);
}

static void console_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *c = to_con(dev);

	if (q == CONSOLE_TXQ)
		console_tx(c, virtio_dev_queue(dev, q));
	else
		chardev_accept_input(c->chr);
}

static void console_reset(struct virtio_dev *dev)
{
	to_con(dev)->rx_held = false;
}

static void console_destroy(struct virtio_dev *dev)
{
	struct virtio_console *c = to_con(dev);

	chardev_close(c->chr);
	free(c);
}

static const struct virtio_dev_ops console_ops = {
        .name = "virtio-console",
        .device_id = VIRTIO_ID_CONSOLE,
        .num_queues = 2,
        .queue_max_size = CONSOLE_QUEUE_SIZE,
        .features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE,
        .config_size = CONSOLE_CONFIG_SIZE,
        .config_read = console_config_read,
        .config_write = console_config_write,
        .queue_notify = console_queue_notify,
        .reset = console_reset,
        .destroy = console_destroy,
};

struct virtio_dev *virtio_console_create(const struct vm_mem *mem, struct chardev *chr,
                                         struct vk_error *err)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	struct chardev_client client;

	if (!c) {
		chardev_close(chr);
		vk_error_errno(err, ENOMEM, "cannot create virtio-console");
		return NULL;
	}
	virtio_dev_init(&c->vdev, &console_ops, mem);
	c->chr = chr;
	client = (struct chardev_client){
	        .can_receive = console_can_receive,
	        .receive = console_receive,
	        .opaque = c,
	};
	chardev_attach(chr, &client);
	return &c->vdev;
}
