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
 *
 * Output flow control: chardev_write() comes up short when the host side
 * stops reading (a pty or socket client's 64 KiB queue is full). The device
 * then keeps the transmit chain it was writing, remembers how far it got,
 * and stops popping the transmitq until the chardev's write_ready callback:
 * the guest sees its transmitq fill up (back-pressure, like a UART whose
 * THRE stays clear) and no byte is lost. Memory stays bounded: one held
 * chain, no copy of its bytes. A reset drops the held chain (it belonged to
 * the old rings).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
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

	/* Transmit: tx_elem is popped and written up to (tx_iov, tx_off). */
	bool tx_held;
	unsigned tx_iov;
	size_t tx_off;
	bool tx_waiting;    /* the chardev came up short: wait for write_ready */
	bool tx_running;    /* inside console_tx(): write_ready must not re-enter */
	bool tx_ready_seen; /* write_ready came while console_tx() was writing */
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

	/*
	 * emerg_wr (offset 8): the low byte is one character of output. There is
	 * no way to push back on a config write: when the chardev is full, the
	 * character is dropped (this is for early or panic output).
	 */
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
		size_t n = vk_iov_from_buf(c->rx_elem.wr, c->rx_elem.wr_num, c->rx_used, buf, len);

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

/*
 * Write the rest of the held chain. Returns true when all of it went out,
 * false when the chardev came up short (tx_waiting is set then).
 */
static bool tx_write_held(struct virtio_console *c)
{
	struct virtq_elem *e = &c->tx_elem;
	bool retried = false;

	while (c->tx_iov < e->rd_num) {
		const uint8_t *p = e->rd[c->tx_iov].iov_base;
		size_t len = e->rd[c->tx_iov].iov_len - c->tx_off;
		size_t n;

		c->tx_ready_seen = false;
		n = chardev_write(c->chr, p + c->tx_off, len);
		c->tx_off += VK_MIN(n, len);
		if (c->tx_off == e->rd[c->tx_iov].iov_len) {
			c->tx_iov++;
			c->tx_off = 0;
			continue;
		}
		/*
		 * Short. If write_ready came back from inside chardev_write()
		 * (the reader went away and the queue was dropped), there is room
		 * now: try once more. Otherwise wait for the callback.
		 */
		if (c->tx_ready_seen && !retried) {
			retried = true;
			continue;
		}
		c->tx_waiting = true;
		return false;
	}
	return true;
}

static void console_tx(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_queue(&c->vdev, CONSOLE_TXQ);
	struct virtq_elem *e = &c->tx_elem;
	bool pushed = false;

	if (c->tx_running)
		return;
	c->tx_running = true;
	while (!c->tx_waiting && virtio_dev_driver_ok(&c->vdev) && vq->ready) {
		if (!c->tx_held) {
			if (virtq_pop(vq, e) <= 0)
				break;
			if (e->wr_num > 0 || e->error) {
				if (e->wr_num > 0)
					virtio_dev_guest_error(
					        &c->vdev, "transmit buffer is device-writable");
				virtq_push(vq, e, 0);
				pushed = true;
				continue;
			}
			c->tx_held = true;
			c->tx_iov = 0;
			c->tx_off = 0;
		}
		if (!tx_write_held(c))
			break;
		c->tx_held = false;
		virtq_push(vq, e, 0);
		pushed = true;
	}
	if (pushed)
		virtq_notify(vq);
	c->tx_running = false;
}

static void console_write_ready(void *opaque)
{
	struct virtio_console *c = opaque;

	c->tx_waiting = false;
	if (c->tx_running) {
		/* Called back from inside our own chardev_write(): the loop goes on. */
		c->tx_ready_seen = true;
		return;
	}
	console_tx(c);
}

static void console_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *c = to_con(dev);

	if (q == CONSOLE_TXQ)
		console_tx(c);
	else
		chardev_accept_input(c->chr);
}

static void console_reset(struct virtio_dev *dev)
{
	struct virtio_console *c = to_con(dev);

	c->rx_held = false;
	/*
	 * tx_waiting stays: the chardev is still full and will call write_ready,
	 * so the next driver's output waits for room like any other.
	 */
	c->tx_held = false;
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
	        .write_ready = console_write_ready,
	};
	chardev_attach(chr, &client);
	return &c->vdev;
}
