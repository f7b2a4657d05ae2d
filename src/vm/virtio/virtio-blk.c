/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.x, 5.2) on a block backend: IN, OUT, FLUSH and GET_ID
 * on one request queue, processed synchronously when the driver notifies.
 *
 * A request is a readable 16-byte header, data (readable for OUT, writable
 * for IN and GET_ID) and a final writable status byte. Requests the device
 * cannot make sense of fail with VIRTIO_BLK_S_IOERR written to the status
 * byte when the chain ends in one, and are completed with length 0 when it
 * does not (there is nowhere to say more).
 *
 * Threads (docs/threading.md): the device runs under the machine lock, but
 * with virtio_blk_set_loop() it drops that lock around the image's file I/O,
 * so that other harts and the I/O thread go on meanwhile. One thread at a
 * time processes the queue (`busy`; a notify that finds it busy leaves the
 * work to that thread), and a request whose I/O spans a device reset is
 * dropped, not completed into the reset queue.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/block.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9

#define VIRTIO_BLK_T_IN       0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_FLUSH    4
#define VIRTIO_BLK_T_GET_ID   8

#define VIRTIO_BLK_S_OK       0
#define VIRTIO_BLK_S_IOERR    1
#define VIRTIO_BLK_S_UNSUPP   2

#define BLK_QUEUE_SIZE        256
#define BLK_SIZE_MAX          (1u << 20) /* largest single segment we announce */
#define BLK_ID_BYTES          20
#define SECTOR_SHIFT          9

/* struct virtio_blk_config up to and including blk_size (offset 20). */
#define BLK_CONFIG_SIZE 24

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct block_backend *be;
	char serial[BLK_ID_BYTES];
	uint8_t config[BLK_CONFIG_SIZE];
	struct virtq_elem elem; /* the request being handled (by the busy thread) */
	struct vm_loop *loop;   /* its lock is dropped around file I/O; NULL: kept */
	bool busy;              /* a thread is processing the queue */
	bool again;             /* the driver notified while it was */
	unsigned generation;    /* bumped by every reset */
};

static struct virtio_blk *to_blk(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_blk, vdev);
}

static void blk_config_read(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	memcpy(buf, to_blk(dev)->config + offset, len);
}

/* The image's file I/O runs without the machine lock (the caller holds it once). */
static void io_begin(struct virtio_blk *b)
{
	if (b->loop)
		vm_loop_unlock(b->loop);
}

static void io_end(struct virtio_blk *b)
{
	if (b->loop)
		vm_loop_lock(b->loop);
}

/* Is [sector, sector + bytes/512) inside the disk? bytes is a multiple of 512. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t off, end;

	if (vk_mul_overflow(sector, (uint64_t)512, &off) || vk_add_overflow(off, bytes, &end))
		return false;
	return end <= b->be->size;
}

/* Handle one well-formed chain; returns the status and sets *written (data bytes). */
static uint8_t blk_handle(struct virtio_blk *b, struct virtq_elem *e, uint32_t *written)
{
	struct blk_req_hdr hdr;
	struct iovec *data;
	unsigned ndata;
	uint64_t bytes, sector;
	int r;

	*written = 0;
	if (vk_iov_to_buf(e->rd, e->rd_num, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		virtio_dev_guest_error(&b->vdev, "request header is not 16 readable bytes");
		return VIRTIO_BLK_S_IOERR;
	}
	sector = le64toh(hdr.sector);
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		/* Data: every writable byte but the status; e->wr is about to be trimmed. */
		if (e->rd_len != sizeof(hdr)) {
			virtio_dev_guest_error(&b->vdev, "read request has readable data");
			return VIRTIO_BLK_S_IOERR;
		}
		bytes = e->wr_len - 1u;
		if (bytes % 512 || !range_ok(b, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		/* Leave the status byte out of the data list. */
		data = e->wr;
		ndata = e->wr_num;
		data[ndata - 1].iov_len--;
		io_begin(b);
		r = block_readv(b->be, data, ndata, sector << SECTOR_SHIFT);
		io_end(b);
		data[ndata - 1].iov_len++;
		if (r < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = (uint32_t)bytes;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT: {
		/* Data: the readable bytes after the header. */
		struct iovec first;
		unsigned i = 0;
		size_t skip = sizeof(hdr);

		if (e->wr_len != 1) {
			virtio_dev_guest_error(&b->vdev, "write request has writable data");
			return VIRTIO_BLK_S_IOERR;
		}
		if (b->be->readonly)
			return VIRTIO_BLK_S_IOERR;
		bytes = e->rd_len - sizeof(hdr);
		if (bytes % 512 || !range_ok(b, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		while (i < e->rd_num && skip >= e->rd[i].iov_len)
			skip -= e->rd[i++].iov_len;
		if (i == e->rd_num)
			return VIRTIO_BLK_S_OK; /* a write of 0 sectors */
		first = e->rd[i];
		e->rd[i].iov_base = (char *)e->rd[i].iov_base + skip;
		e->rd[i].iov_len -= skip;
		io_begin(b);
		r = block_writev(b->be, &e->rd[i], e->rd_num - i, sector << SECTOR_SHIFT);
		io_end(b);
		e->rd[i] = first;
		return r < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		io_begin(b);
		r = block_flush(b->be);
		io_end(b);
		return r < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = VK_MIN((size_t)e->wr_len - 1, sizeof(b->serial));

		*written = (uint32_t)vk_iov_from_buf(e->wr, e->wr_num, 0, b->serial, n);
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_blk *b = to_blk(dev);
	struct virtq *vq = virtio_dev_queue(dev, q);
	struct virtq_elem *e = &b->elem;

	if (b->busy) {
		b->again = true; /* the busy thread looks again before it leaves */
		return;
	}
	b->busy = true;
	do {
		unsigned generation = b->generation;

		b->again = false;
		while (virtq_pop(vq, e) > 0) {
			uint32_t written = 0;
			uint8_t status;

			if (!e->tail_writable) {
				/* No status byte: nothing can report the outcome. */
				if (!e->error)
					virtio_dev_guest_error(
					        dev, "request without a writable status byte");
				virtq_push(vq, e, 0);
				continue;
			}
			status = e->error ? VIRTIO_BLK_S_IOERR : blk_handle(b, e, &written);
			if (generation != b->generation)
				break; /* reset during the I/O: the request is gone with its queue */
			virtq_elem_set_status(e, status);
			virtq_push(vq, e, written + 1);
		}
		if (generation == b->generation)
			virtq_notify(vq);
	} while (b->again);
	b->busy = false;
}

static void blk_reset(struct virtio_dev *dev)
{
	to_blk(dev)->generation++;
}

void virtio_blk_set_loop(struct virtio_dev *dev, struct vm_loop *loop)
{
	to_blk(dev)->loop = loop;
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct virtio_blk *b = to_blk(dev);

	block_close(b->be);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .num_queues = 1,
        .queue_max_size = BLK_QUEUE_SIZE,
        .features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
                    (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH),
        .config_size = BLK_CONFIG_SIZE,
        .config_read = blk_config_read,
        .queue_notify = blk_queue_notify,
        .reset = blk_reset,
        .destroy = blk_destroy,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

struct virtio_dev *virtio_blk_create(const struct vm_mem *mem, struct block_backend *be,
                                     const char *serial, struct vk_error *err)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t capacity = htole64(be->size >> SECTOR_SHIFT);

	if (!b) {
		vk_error_errno(err, ENOMEM, "cannot create virtio-blk for '%s'", be->path);
		block_close(be);
		return NULL;
	}
	virtio_dev_init(&b->vdev, &blk_ops, mem);
	if (be->readonly)
		b->vdev.host_features |= 1ull << VIRTIO_BLK_F_RO;
	b->be = be;
	/* GET_ID: up to 20 bytes, NUL-padded (not terminated when 20 long). */
	strncpy(b->serial, serial ? serial : "virtkit", sizeof(b->serial));
	memcpy(b->config + 0, &capacity, 8);          /* capacity (sectors) */
	put_le32(b->config + 8, BLK_SIZE_MAX);        /* size_max */
	put_le32(b->config + 12, BLK_QUEUE_SIZE - 2); /* seg_max: header and status */
	put_le32(b->config + 20, 512);                /* blk_size */
	return &b->vdev;
}
