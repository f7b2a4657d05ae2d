/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.x, 5.3), each port on a struct chardev.
 *
 * Two shapes:
 *   - one port, no multiport (virtio_console_create): receiveq 0 carries host
 *     input to the guest, transmitq 1 guest output to the host; the guest's
 *     hvc0.
 *   - multiport (virtio_console_create_ports, VIRTIO_CONSOLE_F_MULTIPORT,
 *     5.3.6.2): port n has its receiveq and transmitq at 2n and 2n + 1 for
 *     n = 0, at 2n + 2 and 2n + 3 above; queues 2 and 3 are the control
 *     receiveq and transmitq. Ports are announced by control messages: the
 *     driver's DEVICE_READY gets a DEVICE_ADD per port; its PORT_READY gets
 *     CONSOLE_PORT (a console port, hvc) or PORT_NAME (a named port,
 *     /dev/vportNpM with /sys/class/virtio-ports/vportNpM/name, as QEMU's
 *     virtserialport), then PORT_OPEN 1: the host end is always connected
 *     (the chardev is there for the machine's life). The guest's PORT_OPEN
 *     says whether a program holds the port open; input waits until one
 *     does (Linux drops what arrives at a closed port), except on a console
 *     port, which the kernel holds.
 * VIRTIO_CONSOLE_F_EMERG_WRITE is offered so early output can go through the
 * emerg_wr config register (to port 0's chardev, or the first port's).
 *
 * Input flow control: a port holds at most one popped receive buffer and
 * tells its chardev how much room it has left; when the guest adds buffers
 * (a receiveq notification) it asks the chardev for more input.
 *
 * Output flow control: chardev_write() comes up short when the host side
 * stops reading (a pty or socket client's 64 KiB queue is full). The port
 * then keeps the transmit chain it was writing, remembers how far it got,
 * and stops popping its transmitq until the chardev's write_ready callback:
 * the guest sees its transmitq fill up (back-pressure, like a UART whose
 * THRE stays clear) and no byte is lost. Memory stays bounded: one held
 * chain per port, no copy of its bytes. A reset drops the held chains (they
 * belonged to the old rings).
 *
 * Control messages the device sends wait in a bounded queue until the guest
 * gives control receive buffers; a driver that repeats DEVICE_READY without
 * reading them fills it, and what does not fit is dropped (logged once).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/chardev.h"
#include "vm/virtio/devices.h"
#include "vm/state.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define CONSOLE_QUEUE_SIZE           64
#define CONSOLE_CONFIG_SIZE          12 /* cols, rows, max_nr_ports, emerg_wr */
#define CONSOLE_CTRL_RXQ             2
#define CONSOLE_CTRL_TXQ             3

/* Control events (5.3.6.2.1). */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD   1
#define VIRTIO_CONSOLE_PORT_READY   3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_PORT_OPEN    6
#define VIRTIO_CONSOLE_PORT_NAME    7

#define CTRL_HDR_SIZE               8 /* le32 id, le16 event, le16 value */
#define CTRL_QUEUE_LEN              16

struct virtio_console;

struct console_port {
	struct virtio_console *con;
	unsigned id;
	struct chardev *chr; /* NULL: no such port */
	char name[VIRTIO_CONSOLE_NAME_MAX + 1];
	bool console;    /* a console port (hvc), else a named one */
	bool guest_open; /* multiport: a program in the guest holds it open */

	bool rx_held;   /* rx_elem is popped and not pushed yet */
	size_t rx_used; /* bytes already written into it */
	struct virtq_elem rx_elem;

	/* Transmit: tx_elem is popped and written up to (tx_iov, tx_off). */
	bool tx_held;
	unsigned tx_iov;
	size_t tx_off;
	bool tx_waiting;    /* the chardev came up short: wait for write_ready */
	bool tx_running;    /* inside port_tx(): write_ready must not re-enter */
	bool tx_ready_seen; /* write_ready came while port_tx() was writing */
	struct virtq_elem tx_elem;
};

struct ctrl_msg {
	uint8_t buf[CTRL_HDR_SIZE + VIRTIO_CONSOLE_NAME_MAX];
	size_t len;
};

struct virtio_console {
	struct virtio_dev vdev;
	bool multiport;
	unsigned nr_ports; /* max_nr_ports */
	struct console_port ports[VIRTIO_CONSOLE_MAX_PORTS];

	/* Multiport: control messages for the guest, oldest first. */
	struct ctrl_msg ctrl_out[CTRL_QUEUE_LEN];
	unsigned ctrl_head, ctrl_count;
	struct virtq_elem ctrl_elem;
};

static struct virtio_console *to_con(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_console, vdev);
}

static unsigned port_rxq(const struct console_port *p)
{
	return p->id == 0 ? 0 : 2 * p->id + 2;
}

static unsigned port_txq(const struct console_port *p)
{
	return port_rxq(p) + 1;
}

/* May input go to the guest at all? Linux drops input to a port nobody holds open. */
static bool port_accepts_input(const struct console_port *p)
{
	return !p->con->multiport || p->console || p->guest_open;
}

static void console_config_read(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct virtio_console *c = to_con(dev);
	uint8_t cfg[CONSOLE_CONFIG_SIZE] = {0};
	uint32_t max = htole32(c->nr_ports);

	/* cols = rows = 0 (no F_SIZE), max_nr_ports with MULTIPORT, emerg_wr reads 0. */
	if (c->multiport)
		memcpy(cfg + 4, &max, sizeof(max));
	memcpy(buf, cfg + offset, len);
}

static void console_config_write(struct virtio_dev *dev, uint32_t offset, const void *buf,
                                 uint32_t len)
{
	struct virtio_console *c = to_con(dev);

	/*
	 * emerg_wr (offset 8): the low byte is one character of output, for the
	 * first port. There is no way to push back on a config write: when the
	 * chardev is full, the character is dropped (early or panic output).
	 */
	if (offset != 8 || !virtio_dev_has_feature(dev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		return;
	for (unsigned i = 0; i < c->nr_ports; i++) {
		if (c->ports[i].chr) {
			chardev_write(c->ports[i].chr, buf, 1);
			return;
		}
	}
}

/* ---- data ports ----------------------------------------------------------- */

/* Make sure a receive buffer is held; false when the guest has none. */
static bool rx_hold(struct console_port *p)
{
	struct virtq *vq = virtio_dev_queue(&p->con->vdev, port_rxq(p));

	while (!p->rx_held) {
		if (!virtio_dev_driver_ok(&p->con->vdev) || !vq || !vq->ready ||
		    virtq_pop(vq, &p->rx_elem) <= 0)
			return false;
		if (p->rx_elem.error || p->rx_elem.rd_num > 0 || p->rx_elem.wr_len == 0) {
			if (p->rx_elem.rd_num > 0)
				virtio_dev_guest_error(&p->con->vdev,
				                       "receive buffer is device-readable");
			virtq_push(vq, &p->rx_elem, 0);
			virtq_notify(vq);
			continue;
		}
		p->rx_held = true;
		p->rx_used = 0;
	}
	return true;
}

static size_t port_can_receive(void *opaque)
{
	struct console_port *p = opaque;

	if (!port_accepts_input(p) || !rx_hold(p))
		return 0;
	return p->rx_elem.wr_len - p->rx_used;
}

static void port_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct console_port *p = opaque;
	struct virtq *vq = virtio_dev_queue(&p->con->vdev, port_rxq(p));

	while (len > 0 && port_accepts_input(p) && rx_hold(p)) {
		size_t n = vk_iov_from_buf(p->rx_elem.wr, p->rx_elem.wr_num, p->rx_used, buf, len);

		p->rx_used += n;
		buf += n;
		len -= n;
		/* Hand each buffer over at once: console input is interactive. */
		virtq_push(vq, &p->rx_elem, (uint32_t)p->rx_used);
		p->rx_held = false;
	}
	if (vq)
		virtq_notify(vq);
	/* What did not fit is dropped: the chardev asked can_receive() first. */
}

/*
 * Write the rest of the held chain. Returns true when all of it went out,
 * false when the chardev came up short (tx_waiting is set then).
 */
static bool tx_write_held(struct console_port *p)
{
	struct virtq_elem *e = &p->tx_elem;
	bool retried = false;

	while (p->tx_iov < e->rd_num) {
		const uint8_t *b = e->rd[p->tx_iov].iov_base;
		size_t len = e->rd[p->tx_iov].iov_len - p->tx_off;
		size_t n;

		p->tx_ready_seen = false;
		n = chardev_write(p->chr, b + p->tx_off, len);
		p->tx_off += VK_MIN(n, len);
		if (p->tx_off == e->rd[p->tx_iov].iov_len) {
			p->tx_iov++;
			p->tx_off = 0;
			continue;
		}
		/*
		 * Short. If write_ready came back from inside chardev_write()
		 * (the reader went away and the queue was dropped), there is room
		 * now: try once more. Otherwise wait for the callback.
		 */
		if (p->tx_ready_seen && !retried) {
			retried = true;
			continue;
		}
		p->tx_waiting = true;
		return false;
	}
	return true;
}

static void port_tx(struct console_port *p)
{
	struct virtq *vq = virtio_dev_queue(&p->con->vdev, port_txq(p));
	struct virtq_elem *e = &p->tx_elem;
	bool pushed = false;

	if (p->tx_running || !vq)
		return;
	p->tx_running = true;
	while (!p->tx_waiting && virtio_dev_driver_ok(&p->con->vdev) && vq->ready) {
		if (!p->tx_held) {
			if (virtq_pop(vq, e) <= 0)
				break;
			if (e->wr_num > 0 || e->error) {
				if (e->wr_num > 0)
					virtio_dev_guest_error(
					        &p->con->vdev,
					        "transmit buffer is device-writable");
				virtq_push(vq, e, 0);
				pushed = true;
				continue;
			}
			p->tx_held = true;
			p->tx_iov = 0;
			p->tx_off = 0;
		}
		if (!tx_write_held(p))
			break;
		p->tx_held = false;
		virtq_push(vq, e, 0);
		pushed = true;
	}
	if (pushed)
		virtq_notify(vq);
	p->tx_running = false;
}

static void port_write_ready(void *opaque)
{
	struct console_port *p = opaque;

	p->tx_waiting = false;
	if (p->tx_running) {
		/* Called back from inside our own chardev_write(): the loop goes on. */
		p->tx_ready_seen = true;
		return;
	}
	port_tx(p);
}

/* ---- the control queues (multiport) ---------------------------------------- */

static void ctrl_flush(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_queue(&c->vdev, CONSOLE_CTRL_RXQ);
	bool pushed = false;

	while (c->ctrl_count && virtio_dev_driver_ok(&c->vdev) && vq->ready) {
		struct ctrl_msg *m = &c->ctrl_out[c->ctrl_head];
		size_t n;

		if (virtq_pop(vq, &c->ctrl_elem) <= 0)
			break;
		if (c->ctrl_elem.error || c->ctrl_elem.wr_len < m->len) {
			/* Too short for the message (or malformed): give it back unused. */
			virtio_dev_guest_error(&c->vdev,
			                       "control receive buffer of %u bytes (message: %zu)",
			                       (unsigned)c->ctrl_elem.wr_len, m->len);
			virtq_push(vq, &c->ctrl_elem, 0);
			pushed = true;
			continue;
		}
		n = vk_iov_from_buf(c->ctrl_elem.wr, c->ctrl_elem.wr_num, 0, m->buf, m->len);
		virtq_push(vq, &c->ctrl_elem, (uint32_t)n);
		pushed = true;
		c->ctrl_head = (c->ctrl_head + 1) % CTRL_QUEUE_LEN;
		c->ctrl_count--;
	}
	if (pushed)
		virtq_notify(vq);
}

static void ctrl_send(struct virtio_console *c, unsigned id, uint16_t event, uint16_t value,
                      const char *name)
{
	struct ctrl_msg *m;
	uint32_t id_le = htole32(id);
	uint16_t ev_le = htole16(event), val_le = htole16(value);
	size_t name_len = name ? strlen(name) : 0;

	if (c->ctrl_count == CTRL_QUEUE_LEN) {
		virtio_dev_guest_error(&c->vdev, "control messages not read: dropping event %u",
		                       (unsigned)event);
		return;
	}
	m = &c->ctrl_out[(c->ctrl_head + c->ctrl_count++) % CTRL_QUEUE_LEN];
	memcpy(m->buf, &id_le, 4);
	memcpy(m->buf + 4, &ev_le, 2);
	memcpy(m->buf + 6, &val_le, 2);
	if (name_len) /* no NUL: the buffer's length ends it */
		memcpy(m->buf + CTRL_HDR_SIZE, name, name_len);
	m->len = CTRL_HDR_SIZE + name_len;
}

static void ctrl_port_ready(struct virtio_console *c, struct console_port *p)
{
	if (p->console)
		ctrl_send(c, p->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	else
		ctrl_send(c, p->id, VIRTIO_CONSOLE_PORT_NAME, 1, p->name);
	ctrl_send(c, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
}

/* One message from the driver; ids and events are guest values. */
static void ctrl_handle(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value)
{
	struct console_port *p = id < c->nr_ports && c->ports[id].chr ? &c->ports[id] : NULL;

	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (!value)
			return; /* the driver could not set up: nothing to announce */
		for (unsigned i = 0; i < c->nr_ports; i++)
			if (c->ports[i].chr)
				ctrl_send(c, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
		return;
	case VIRTIO_CONSOLE_PORT_READY:
		if (p && value)
			ctrl_port_ready(c, p);
		return;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (!p)
			return;
		p->guest_open = value != 0;
		if (p->guest_open)
			chardev_accept_input(p->chr); /* input that waited may flow now */
		return;
	default:
		return; /* RESIZE and others are the device's to send, not the driver's */
	}
}

static void ctrl_tx(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_queue(&c->vdev, CONSOLE_CTRL_TXQ);
	struct virtq_elem *e = &c->ctrl_elem;
	bool pushed = false;

	while (virtio_dev_driver_ok(&c->vdev) && vq->ready && virtq_pop(vq, e) > 0) {
		uint8_t hdr[CTRL_HDR_SIZE];
		uint32_t id;
		uint16_t event, value;

		if (!e->error &&
		    vk_iov_to_buf(e->rd, e->rd_num, 0, hdr, sizeof(hdr)) == sizeof(hdr)) {
			memcpy(&id, hdr, 4);
			memcpy(&event, hdr + 4, 2);
			memcpy(&value, hdr + 6, 2);
			ctrl_handle(c, le32toh(id), le16toh(event), le16toh(value));
		} else {
			virtio_dev_guest_error(&c->vdev, "control message shorter than %d bytes",
			                       CTRL_HDR_SIZE);
		}
		virtq_push(vq, e, 0);
		pushed = true;
	}
	if (pushed)
		virtq_notify(vq);
	ctrl_flush(c);
}

/* ---- device ops ----------------------------------------------------------- */

static struct console_port *port_of_queue(struct virtio_console *c, unsigned q)
{
	unsigned id = q < 2 ? 0 : (q - 2) / 2;

	if (c->multiport && (q == CONSOLE_CTRL_RXQ || q == CONSOLE_CTRL_TXQ))
		return NULL;
	return id < c->nr_ports && c->ports[id].chr ? &c->ports[id] : NULL;
}

static void console_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *c = to_con(dev);
	struct console_port *p;

	if (c->multiport && q == CONSOLE_CTRL_TXQ) {
		ctrl_tx(c);
		return;
	}
	if (c->multiport && q == CONSOLE_CTRL_RXQ) {
		ctrl_flush(c);
		return;
	}
	p = port_of_queue(c, q);
	if (!p)
		return; /* the queues of a port the device does not have */
	if (q == port_txq(p))
		port_tx(p);
	else
		chardev_accept_input(p->chr);
}

static void console_reset(struct virtio_dev *dev)
{
	struct virtio_console *c = to_con(dev);

	for (unsigned i = 0; i < c->nr_ports; i++) {
		c->ports[i].rx_held = false;
		/*
		 * tx_waiting stays: the chardev is still full and will call write_ready,
		 * so the next driver's output waits for room like any other.
		 */
		c->ports[i].tx_held = false;
		c->ports[i].guest_open = false;
	}
	c->ctrl_head = c->ctrl_count = 0;
}

static void console_destroy(struct virtio_dev *dev)
{
	struct virtio_console *c = to_con(dev);

	for (unsigned i = 0; i < c->nr_ports; i++)
		chardev_close(c->ports[i].chr);
	free(c);
}

/* ---- saving and restoring ------------------------------------------------------- */

/*
 * Per port: whether the guest holds it open, and the chains the port holds
 * (receive: its head and the bytes used; transmit: its head and how far it was
 * written); then the control messages not delivered yet. The chains are taken
 * up again from guest RAM once it is back (console_post_load).
 */
static void console_save(struct virtio_dev *dev, struct vm_state_buf *b)
{
	struct virtio_console *c = to_con(dev);

	vm_state_put_u32(b, c->nr_ports);
	for (unsigned i = 0; i < c->nr_ports; i++) {
		const struct console_port *p = &c->ports[i];

		vm_state_put_bool(b, p->guest_open);
		vm_state_put_bool(b, p->rx_held);
		vm_state_put_u16(b, p->rx_held ? p->rx_elem.head : 0);
		vm_state_put_u64(b, p->rx_held ? p->rx_used : 0);
		vm_state_put_bool(b, p->tx_held);
		vm_state_put_u16(b, p->tx_held ? p->tx_elem.head : 0);
		vm_state_put_u32(b, p->tx_held ? p->tx_iov : 0);
		vm_state_put_u64(b, p->tx_held ? p->tx_off : 0);
	}
	vm_state_put_u32(b, c->ctrl_count);
	for (unsigned i = 0; i < c->ctrl_count; i++) {
		const struct ctrl_msg *m = &c->ctrl_out[(c->ctrl_head + i) % CTRL_QUEUE_LEN];

		vm_state_put_u32(b, (uint32_t)m->len);
		vm_state_put_bytes(b, m->buf, m->len);
	}
}

static int console_load(struct virtio_dev *dev, struct vm_state_rd *r, uint32_t version,
                        struct vk_error *err)
{
	struct virtio_console *c = to_con(dev);
	uint32_t n = vm_state_get_u32(r);

	if (!r->bad && n != c->nr_ports)
		return vk_error_set(err, EINVAL, "%u ports saved, this device has %u", n,
		                    c->nr_ports);
	for (unsigned i = 0; i < c->nr_ports && !r->bad; i++) {
		struct console_port *p = &c->ports[i];

		p->guest_open = vm_state_get_bool(r);
		p->rx_held = vm_state_get_bool(r);
		p->rx_elem.head = vm_state_get_u16(r);
		p->rx_used = (size_t)vm_state_get_u64(r);
		p->tx_held = vm_state_get_bool(r);
		p->tx_elem.head = vm_state_get_u16(r);
		p->tx_iov = vm_state_get_u32(r);
		p->tx_off = (size_t)vm_state_get_u64(r);
		p->tx_waiting = p->tx_running = p->tx_ready_seen = false;
		if ((p->rx_held || p->tx_held || p->guest_open) && !p->chr)
			return vk_error_set(err, EINVAL, "port %u is in use but does not exist", i);
	}
	c->ctrl_head = 0;
	c->ctrl_count = vm_state_get_u32(r);
	if (!r->bad && c->ctrl_count > CTRL_QUEUE_LEN)
		return vk_error_set(err, EINVAL, "%u control messages (at most %d)", c->ctrl_count,
		                    CTRL_QUEUE_LEN);
	for (unsigned i = 0; i < c->ctrl_count && !r->bad; i++) {
		struct ctrl_msg *m = &c->ctrl_out[i];

		m->len = vm_state_get_u32(r);
		if (m->len < CTRL_HDR_SIZE || m->len > sizeof(m->buf))
			return vk_error_set(err, EINVAL, "a control message of %zu bytes", m->len);
		vm_state_get_bytes(r, m->buf, m->len);
	}
	if (r->bad)
		c->ctrl_count = 0;
	return 0;
}

/* Take up the held chains again: the same chain, at the same progress. */
static int console_post_load(struct virtio_dev *dev, struct vk_error *err)
{
	struct virtio_console *c = to_con(dev);

	for (unsigned i = 0; i < c->nr_ports; i++) {
		struct console_port *p = &c->ports[i];
		struct virtq *rxq = virtio_dev_queue(dev, port_rxq(p));
		struct virtq *txq = virtio_dev_queue(dev, port_txq(p));

		if (p->rx_held &&
		    (virtq_elem_reload(rxq, p->rx_elem.head, &p->rx_elem) < 0 || p->rx_elem.error ||
		     p->rx_elem.rd_num > 0 || p->rx_used >= p->rx_elem.wr_len))
			return vk_error_set(err, EINVAL,
			                    "port %u: the receive chain it held is not valid", i);
		if (p->tx_held &&
		    (virtq_elem_reload(txq, p->tx_elem.head, &p->tx_elem) < 0 || p->tx_elem.error ||
		     p->tx_elem.wr_num > 0 || p->tx_iov > p->tx_elem.rd_num ||
		     (p->tx_iov < p->tx_elem.rd_num &&
		      p->tx_off >= p->tx_elem.rd[p->tx_iov].iov_len) ||
		     (p->tx_iov == p->tx_elem.rd_num && p->tx_off != 0)))
			return vk_error_set(err, EINVAL,
			                    "port %u: the transmit chain it held is not valid", i);
	}
	return 0;
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
        .state_version = 1,
        .save = console_save,
        .load = console_load,
        .post_load = console_post_load,
};

/* Queues for VIRTIO_CONSOLE_MAX_PORTS ports: two per port and the control pair. */
static const struct virtio_dev_ops console_multiport_ops = {
        .name = "virtio-console",
        .device_id = VIRTIO_ID_CONSOLE,
        .num_queues = 2 * VIRTIO_CONSOLE_MAX_PORTS + 2,
        .queue_max_size = CONSOLE_QUEUE_SIZE,
        .features = (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE) | (1ull << VIRTIO_CONSOLE_F_MULTIPORT),
        .config_size = CONSOLE_CONFIG_SIZE,
        .config_read = console_config_read,
        .config_write = console_config_write,
        .queue_notify = console_queue_notify,
        .reset = console_reset,
        .destroy = console_destroy,
        .state_version = 1,
        .save = console_save,
        .load = console_load,
        .post_load = console_post_load,
};

static void port_attach(struct virtio_console *c, unsigned id, struct chardev *chr)
{
	struct console_port *p = &c->ports[id];
	struct chardev_client client = {
	        .can_receive = port_can_receive,
	        .receive = port_receive,
	        .opaque = p,
	        .write_ready = port_write_ready,
	};

	p->con = c;
	p->id = id;
	p->chr = chr;
	chardev_attach(chr, &client);
}

struct virtio_dev *virtio_console_create(const struct vm_mem *mem, struct chardev *chr,
                                         struct vk_error *err)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c) {
		chardev_close(chr);
		vk_error_errno(err, ENOMEM, "cannot create virtio-console");
		return NULL;
	}
	virtio_dev_init(&c->vdev, &console_ops, mem);
	c->nr_ports = 1;
	c->ports[0].console = true;
	port_attach(c, 0, chr);
	return &c->vdev;
}

struct virtio_dev *virtio_console_create_ports(const struct vm_mem *mem,
                                               const struct virtio_console_port *ports, unsigned n,
                                               struct vk_error *err)
{
	struct virtio_console *c = NULL;
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *name = ports[i].name;

		if (ports[i].id >= VIRTIO_CONSOLE_MAX_PORTS) {
			vk_error_set(err, EINVAL, "virtio-console: port %u (at most %d ports)",
			             ports[i].id, VIRTIO_CONSOLE_MAX_PORTS);
			goto fail;
		}
		if (name && (!*name || strlen(name) > VIRTIO_CONSOLE_NAME_MAX)) {
			vk_error_set(err, EINVAL, "virtio-console: port name '%s' (1 to %d bytes)",
			             name, VIRTIO_CONSOLE_NAME_MAX);
			goto fail;
		}
		for (unsigned j = 0; j < i; j++) {
			if (ports[j].id == ports[i].id) {
				vk_error_set(err, EINVAL, "virtio-console: port %u given twice",
				             ports[i].id);
				goto fail;
			}
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		vk_error_errno(err, ENOMEM, "cannot create virtio-console");
		goto fail;
	}
	virtio_dev_init(&c->vdev, &console_multiport_ops, mem);
	c->multiport = true;
	c->nr_ports = VIRTIO_CONSOLE_MAX_PORTS;
	for (i = 0; i < n; i++) {
		struct console_port *p = &c->ports[ports[i].id];

		p->console = !ports[i].name;
		if (ports[i].name)
			snprintf(p->name, sizeof(p->name), "%s", ports[i].name);
		port_attach(c, ports[i].id, ports[i].chr);
	}
	return &c->vdev;
fail:
	for (i = 0; i < n; i++)
		chardev_close(ports[i].chr);
	return NULL;
}
