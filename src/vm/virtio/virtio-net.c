/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.x, 5.1) on a net backend: one receive and one
 * transmit queue, a virtio_net_hdr_v1 in front of every frame, no offloads,
 * no mergeable receive buffers (so each receive buffer holds one frame),
 * VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (link always up).
 *
 * Receive path: a frame from the backend goes straight into the next guest
 * receive buffer. When the guest has none, up to NET_BACKLOG frames wait in
 * a backlog (memory bounded by NET_BACKLOG * NET_FRAME_MAX); beyond that,
 * frames are dropped, as a full NIC ring would. When the guest adds buffers
 * (a receive queue notification) the backlog drains and the backend is told
 * to resume.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/net.h"
#include "vm/state.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_QUEUE_SIZE       256
#define NET_RXQ              0
#define NET_TXQ              1
#define NET_HDR_LEN          12 /* struct virtio_net_hdr_v1 */
#define NET_BACKLOG          64
#define NET_CONFIG_SIZE      10 /* mac, status, max_virtqueue_pairs */

struct rx_frame {
	size_t len;
	uint8_t data[];
};

struct virtio_net {
	struct virtio_dev vdev;
	struct net_backend *be;
	uint8_t config[NET_CONFIG_SIZE];
	struct rx_frame *backlog[NET_BACKLOG];
	unsigned backlog_head, backlog_len;
	uint64_t rx_dropped, tx_dropped;
	struct virtq_elem rx_elem;
	struct virtq_elem tx_elem;
	/* Restored over a user-mode backend: the link shows down until the guest has read
	 * it so, then up again (net_load). */
	bool link_flap;
};

static struct virtio_net *to_net(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_net, vdev);
}

static void net_config_read(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct virtio_net *n = to_net(dev);

	memcpy(buf, n->config + offset, len);
	/* The guest has seen the link down: up again, and a config interrupt says so. */
	if (n->link_flap && offset <= 6 && offset + len > 6) {
		n->link_flap = false;
		n->config[6] = VIRTIO_NET_S_LINK_UP;
		virtio_dev_config_changed(dev);
	}
}

/*
 * Put one frame into the next receive buffer.
 * Returns 1 when the frame is done with (delivered, or dropped because the
 * buffer was unusable), 0 when the guest has no buffer.
 */
static int rx_one(struct virtio_net *n, const void *frame, size_t len)
{
	struct virtq *vq = virtio_dev_queue(&n->vdev, NET_RXQ);
	struct virtq_elem *e = &n->rx_elem;
	uint8_t hdr[NET_HDR_LEN] = {0};

	if (!virtio_dev_driver_ok(&n->vdev) || virtq_pop(vq, e) <= 0)
		return 0;
	if (e->error || e->rd_num > 0 || e->wr_len < NET_HDR_LEN + len) {
		if (e->rd_num > 0)
			virtio_dev_guest_error(&n->vdev, "receive buffer is device-readable");
		/* Unusable buffer: the frame is lost with it (the guest sees length 0). */
		virtq_push(vq, e, 0);
		n->rx_dropped++;
		return 1;
	}
	hdr[10] = 1; /* num_buffers, le16 */
	vk_iov_from_buf(e->wr, e->wr_num, 0, hdr, sizeof(hdr));
	vk_iov_from_buf(e->wr, e->wr_num, NET_HDR_LEN, frame, len);
	virtq_push(vq, e, (uint32_t)(NET_HDR_LEN + len));
	return 1;
}

static void backlog_drop_all(struct virtio_net *n)
{
	while (n->backlog_len) {
		free(n->backlog[n->backlog_head]);
		n->backlog_head = (n->backlog_head + 1) % NET_BACKLOG;
		n->backlog_len--;
	}
}

/* Move backlog frames into guest buffers; true when the backlog is empty. */
static bool backlog_flush(struct virtio_net *n)
{
	while (n->backlog_len) {
		struct rx_frame *f = n->backlog[n->backlog_head];

		if (!rx_one(n, f->data, f->len))
			return false;
		free(f);
		n->backlog_head = (n->backlog_head + 1) % NET_BACKLOG;
		n->backlog_len--;
	}
	return true;
}

static bool net_can_receive(void *opaque)
{
	struct virtio_net *n = opaque;

	return virtio_dev_driver_ok(&n->vdev) && n->backlog_len < NET_BACKLOG;
}

static void net_receive(void *opaque, const void *frame, size_t len)
{
	struct virtio_net *n = opaque;
	struct rx_frame *f;

	if (!virtio_dev_driver_ok(&n->vdev) || len > NET_FRAME_MAX) {
		n->rx_dropped++;
		return;
	}
	/* Keep the order: older frames first. */
	if (backlog_flush(n) && rx_one(n, frame, len)) {
		virtq_notify(virtio_dev_queue(&n->vdev, NET_RXQ));
		return;
	}
	virtq_notify(virtio_dev_queue(&n->vdev, NET_RXQ));
	if (n->backlog_len == NET_BACKLOG || !(f = malloc(sizeof(*f) + len))) {
		n->rx_dropped++;
		return;
	}
	f->len = len;
	memcpy(f->data, frame, len);
	n->backlog[(n->backlog_head + n->backlog_len) % NET_BACKLOG] = f;
	n->backlog_len++;
}

static void net_tx(struct virtio_net *n, struct virtq *vq)
{
	struct virtq_elem *e = &n->tx_elem;

	while (virtq_pop(vq, e) > 0) {
		size_t skip = NET_HDR_LEN;
		unsigned i = 0;

		if (e->error || e->wr_num > 0 || e->rd_len < NET_HDR_LEN) {
			if (!e->error)
				virtio_dev_guest_error(
				        &n->vdev, "transmit buffer is writable or has no header");
			n->tx_dropped++;
			virtq_push(vq, e, 0);
			continue;
		}
		/* Skip the header (no offloads: nothing in it matters). */
		while (i < e->rd_num && skip >= e->rd[i].iov_len)
			skip -= e->rd[i++].iov_len;
		if (i < e->rd_num) {
			e->rd[i].iov_base = (uint8_t *)e->rd[i].iov_base + skip;
			e->rd[i].iov_len -= skip;
			if (net_backend_send(n->be, &e->rd[i], e->rd_num - i) < 0)
				n->tx_dropped++;
		}
		virtq_push(vq, e, 0);
	}
	virtq_notify(vq);
}

static void net_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_net *n = to_net(dev);

	if (q == NET_TXQ) {
		net_tx(n, virtio_dev_queue(dev, q));
		return;
	}
	/* New receive buffers: drain the backlog, then let the backend go on. */
	backlog_flush(n);
	virtq_notify(virtio_dev_queue(dev, NET_RXQ));
	if (n->backlog_len < NET_BACKLOG)
		net_backend_resume(n->be);
}

static void net_reset(struct virtio_dev *dev)
{
	struct virtio_net *n = to_net(dev);

	backlog_drop_all(n);
	n->link_flap = false;
	n->config[6] = VIRTIO_NET_S_LINK_UP;
}

static void net_destroy(struct virtio_dev *dev)
{
	struct virtio_net *n = to_net(dev);

	net_backend_close(n->be);
	backlog_drop_all(n);
	free(n);
}

/*
 * Saved: the MAC address the guest knows, and the frames waiting for a receive
 * buffer. The backend's own state (libslirp's connections, a tap's queue) stays
 * with the old process: a restored guest keeps its address (slirp hands out the
 * same one), and the connections it had through slirp are gone. libslirp exports
 * none of them (its state holds only guestfwd sockets, which virtkit does not
 * make, and its DHCP table), so over a user-mode backend the restored link is
 * reset where the guest sees it: its status reads down once (a config
 * interrupt after the load), then up (net_config_read), as a cable pulled and
 * put back; the guest's carrier goes off and on.
 */
static void net_save(struct virtio_dev *dev, struct vm_state_buf *b)
{
	struct virtio_net *n = to_net(dev);

	vm_state_put_bytes(b, n->config, 6);
	vm_state_put_u32(b, n->backlog_len);
	for (unsigned i = 0; i < n->backlog_len; i++) {
		const struct rx_frame *f = n->backlog[(n->backlog_head + i) % NET_BACKLOG];

		vm_state_put_u32(b, (uint32_t)f->len);
		vm_state_put_bytes(b, f->data, f->len);
	}
}

static int net_load(struct virtio_dev *dev, struct vm_state_rd *r, uint32_t version,
                    struct vk_error *err)
{
	struct virtio_net *n = to_net(dev);
	uint32_t count;

	backlog_drop_all(n);
	n->backlog_head = 0;
	vm_state_get_bytes(r, n->config, 6);
	count = vm_state_get_u32(r);
	if (!r->bad && count > NET_BACKLOG)
		return vk_error_set(err, EINVAL, "%u frames waiting (at most %d)", count,
		                    NET_BACKLOG);
	for (uint32_t i = 0; i < count && !r->bad; i++) {
		uint32_t len = vm_state_get_u32(r);
		struct rx_frame *f;

		if (len > NET_FRAME_MAX || len > vm_state_rd_left(r))
			return vk_error_set(err, EINVAL, "a waiting frame of %u bytes", len);
		f = malloc(sizeof(*f) + len);
		if (!f)
			return vk_error_set(err, ENOMEM, "out of memory");
		f->len = len;
		vm_state_get_bytes(r, f->data, len);
		n->backlog[n->backlog_len++] = f;
	}
	if (!r->bad && strcmp(n->be->kind, "user") == 0) {
		n->config[6] = 0;
		n->link_flap = true;
	}
	return 0;
}

static int net_post_load(struct virtio_dev *dev, struct vk_error *err)
{
	(void)err;
	if (to_net(dev)->link_flap)
		virtio_dev_config_changed(dev);
	return 0;
}

static const struct virtio_dev_ops net_ops = {
        .name = "virtio-net",
        .device_id = VIRTIO_ID_NET,
        .num_queues = 2,
        .queue_max_size = NET_QUEUE_SIZE,
        .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
        .config_size = NET_CONFIG_SIZE,
        .config_read = net_config_read,
        .queue_notify = net_queue_notify,
        .reset = net_reset,
        .destroy = net_destroy,
        .state_version = 1,
        .save = net_save,
        .load = net_load,
        .post_load = net_post_load,
};

struct virtio_dev *virtio_net_create(const struct vm_mem *mem, struct net_backend *be,
                                     const uint8_t mac[6], struct vk_error *err)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	struct net_client client;

	if (!n) {
		vk_error_errno(err, ENOMEM, "cannot create virtio-net");
		net_backend_close(be);
		return NULL;
	}
	virtio_dev_init(&n->vdev, &net_ops, mem);
	n->be = be;
	memcpy(n->config, mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP; /* status, le16 */
	n->config[8] = 1;                    /* max_virtqueue_pairs, le16 */
	client = (struct net_client){
	        .can_receive = net_can_receive,
	        .receive = net_receive,
	        .opaque = n,
	};
	net_backend_attach(be, &client);
	return &n->vdev;
}
