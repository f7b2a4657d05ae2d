/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.x, 5.2) on a block backend: IN, OUT, FLUSH, GET_ID,
 * DISCARD and WRITE_ZEROES on one request queue.
 *
 * A request is a readable 16-byte header, data (readable for OUT, DISCARD
 * and WRITE_ZEROES, writable for IN and GET_ID) and a final writable status
 * byte. Requests the device cannot make sense of fail with
 * VIRTIO_BLK_S_IOERR written to the status byte when the chain ends in one,
 * and are completed with length 0 when it does not (there is nowhere to say
 * more).
 *
 * I/O (docs/threading.md): with virtio_blk_set_loop() the device hands each
 * request's I/O to block-aio and returns at once; requests complete on the
 * loop's thread in whatever order their I/O finishes (the spec allows it),
 * so the notifying hart goes back to the guest and the machine lock is never
 * held across file I/O. A reset first waits for the I/O in flight (it writes
 * guest memory), and their completions are then dropped: the queue they
 * belonged to is gone. Without a loop (unit tests, fuzzers) each request is
 * done synchronously inside the notify.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/block-aio.h"
#include "vm/backend/block.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"
#include "vm/state.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2

#define BLK_QUEUE_SIZE            256
#define BLK_SIZE_MAX              (1u << 20) /* largest single segment we announce */
#define BLK_ID_BYTES              20
#define SECTOR_SHIFT              9
#define BLK_MAX_DISCARD_SECTORS   (1u << 22) /* 2 GiB per request */

/* struct virtio_blk_config up to and including write_zeroes_may_unmap and its padding. */
#define BLK_CONFIG_SIZE 60
#define CFG_CAPACITY    0
#define CFG_SIZE_MAX    8
#define CFG_SEG_MAX     12
#define CFG_BLK_SIZE    20
#define CFG_MAX_DISCARD 36
#define CFG_DISCARD_SEG 40
#define CFG_DISCARD_ALN 44
#define CFG_MAX_WZ      48
#define CFG_WZ_SEG      52
#define CFG_WZ_UNMAP    56

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* One segment of a DISCARD or WRITE_ZEROES request. */
struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct virtio_blk;

/* A request from pop to push; elem is large, so these are kept and reused. */
struct blk_req {
	struct block_req io;
	struct virtio_blk *blk;
	struct virtq *vq;
	unsigned generation; /* the device's when popped */
	uint32_t written;    /* data bytes written into the chain */
	bool trimmed;        /* the status byte is left out of elem.wr (IN) */
	struct blk_req *next_free;
	struct blk_req *next_all; /* every request made, for destroy */
	struct virtq_elem elem;
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct block_backend *be;
	struct block_aio *aio; /* NULL: synchronous */
	struct vm_loop *loop;  /* where aio completes (virtio_blk_set_loop) */
	char serial[BLK_ID_BYTES];
	uint8_t config[BLK_CONFIG_SIZE];
	struct blk_req *free_reqs;
	struct blk_req *all_reqs;
	unsigned generation; /* bumped by every reset */
};

static struct virtio_blk *to_blk(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_blk, vdev);
}

static void blk_config_read(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len)
{
	memcpy(buf, to_blk(dev)->config + offset, len);
}

/* Is [sector, sector + bytes/512) inside the disk? bytes is a multiple of 512. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t off, end;

	if (vk_mul_overflow(sector, (uint64_t)512, &off) || vk_add_overflow(off, bytes, &end))
		return false;
	return end <= b->be->size;
}

static struct blk_req *req_get(struct virtio_blk *b)
{
	struct blk_req *r = b->free_reqs;

	if (r) {
		b->free_reqs = r->next_free;
		return r;
	}
	r = malloc(sizeof(*r));
	if (r) {
		r->blk = b;
		r->next_all = b->all_reqs;
		b->all_reqs = r;
	}
	return r;
}

static void req_put(struct virtio_blk *b, struct blk_req *r)
{
	r->next_free = b->free_reqs;
	b->free_reqs = r;
}

/* Status into the chain, used element, interrupt; the request is free again. */
static void req_complete(struct blk_req *r, uint8_t status)
{
	struct virtio_blk *b = r->blk;

	if (r->trimmed) {
		r->elem.wr[r->elem.wr_num - 1].iov_len++;
		r->trimmed = false;
	}
	if (r->generation == b->generation) {
		virtq_elem_set_status(&r->elem, status);
		virtq_push(r->vq, &r->elem, r->written + 1);
		virtq_notify(r->vq);
	}
	req_put(b, r);
}

static void io_done(struct block_req *io)
{
	struct blk_req *r = container_of(io, struct blk_req, io);

	if (io->result < 0)
		r->written = 0;
	req_complete(r, io->result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/*
 * Parse a DISCARD or WRITE_ZEROES payload (one segment, as config says) into
 * r->io; the status when it cannot be done, or -1 to go on.
 */
static int parse_range(struct virtio_blk *b, struct blk_req *r, bool discard)
{
	struct virtq_elem *e = &r->elem;
	struct blk_range range;
	uint64_t bytes;

	if (e->wr_len != 1 || e->rd_len != sizeof(struct blk_req_hdr) + sizeof(range)) {
		virtio_dev_guest_error(&b->vdev, "%s request is not one 16-byte segment",
		                       discard ? "discard" : "write-zeroes");
		return VIRTIO_BLK_S_IOERR;
	}
	if (b->be->readonly)
		return VIRTIO_BLK_S_IOERR;
	vk_iov_to_buf(e->rd, e->rd_num, sizeof(struct blk_req_hdr), &range, sizeof(range));
	bytes = (uint64_t)le32toh(range.num_sectors) << SECTOR_SHIFT;
	/* Flags: only UNMAP (bit 0) of write zeroes is defined; a discard has none. */
	if ((le32toh(range.flags) & (discard ? ~0u : ~1u)) ||
	    !range_ok(b, le64toh(range.sector), bytes) ||
	    le32toh(range.num_sectors) > BLK_MAX_DISCARD_SECTORS)
		return VIRTIO_BLK_S_UNSUPP;
	r->io.op = discard ? BLOCK_OP_DISCARD : BLOCK_OP_WRITE_ZEROES;
	r->io.offset = le64toh(range.sector) << SECTOR_SHIFT;
	r->io.len = bytes;
	return -1;
}

/*
 * Turn a well-formed chain into r->io. Returns the status of a request that is
 * already complete (errors, GET_ID, empty writes), or -1 when r->io must run.
 */
static int blk_prepare(struct virtio_blk *b, struct blk_req *r)
{
	struct virtq_elem *e = &r->elem;
	struct blk_req_hdr hdr;
	uint64_t bytes, sector;

	r->written = 0;
	r->trimmed = false;
	r->io = (struct block_req){.done = io_done};
	if (vk_iov_to_buf(e->rd, e->rd_num, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		virtio_dev_guest_error(&b->vdev, "request header is not 16 readable bytes");
		return VIRTIO_BLK_S_IOERR;
	}
	sector = le64toh(hdr.sector);
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		/* Data: every writable byte but the status. */
		if (e->rd_len != sizeof(hdr)) {
			virtio_dev_guest_error(&b->vdev, "read request has readable data");
			return VIRTIO_BLK_S_IOERR;
		}
		bytes = e->wr_len - 1u;
		if (bytes % 512 || !range_ok(b, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		/* The status byte is left out of the data list until the request completes. */
		e->wr[e->wr_num - 1].iov_len--;
		r->trimmed = true;
		r->io.op = BLOCK_OP_READ;
		r->io.iov = e->wr;
		r->io.niov = e->wr_num;
		r->io.offset = sector << SECTOR_SHIFT;
		r->written = (uint32_t)bytes;
		return -1;
	case VIRTIO_BLK_T_OUT: {
		/* Data: the readable bytes after the header. */
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
		e->rd[i].iov_base = (char *)e->rd[i].iov_base + skip;
		e->rd[i].iov_len -= skip;
		r->io.op = BLOCK_OP_WRITE;
		r->io.iov = &e->rd[i];
		r->io.niov = e->rd_num - i;
		r->io.offset = sector << SECTOR_SHIFT;
		return -1;
	}
	case VIRTIO_BLK_T_FLUSH:
		r->io.op = BLOCK_OP_FLUSH;
		return -1;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = VK_MIN((size_t)e->wr_len - 1, sizeof(b->serial));

		r->written = (uint32_t)vk_iov_from_buf(e->wr, e->wr_num, 0, b->serial, n);
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
		if (!virtio_dev_has_feature(&b->vdev, VIRTIO_BLK_F_DISCARD))
			return VIRTIO_BLK_S_UNSUPP;
		return parse_range(b, r, true);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!virtio_dev_has_feature(&b->vdev, VIRTIO_BLK_F_WRITE_ZEROES))
			return VIRTIO_BLK_S_UNSUPP;
		return parse_range(b, r, false);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* The synchronous path (no loop): the same operations, done here. */
static int run_now(struct virtio_blk *b, struct block_req *io)
{
	switch (io->op) {
	case BLOCK_OP_READ:
		return block_readv(b->be, io->iov, io->niov, io->offset);
	case BLOCK_OP_WRITE:
		return block_writev(b->be, io->iov, io->niov, io->offset);
	case BLOCK_OP_FLUSH:
		return block_flush(b->be);
	case BLOCK_OP_DISCARD:
		return block_discard(b->be, io->offset, io->len);
	case BLOCK_OP_WRITE_ZEROES:
		return block_write_zeroes(b->be, io->offset, io->len);
	}
	return -EINVAL;
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_blk *b = to_blk(dev);
	struct virtq *vq = virtio_dev_queue(dev, q);

	for (;;) {
		struct blk_req *r = req_get(b);
		int status;

		if (!r) {
			/* No memory for another request: the rest waits for the next notify. */
			virtio_dev_guest_error(dev, "out of memory for requests");
			return;
		}
		if (virtq_pop(vq, &r->elem) <= 0) {
			req_put(b, r);
			return;
		}
		r->vq = vq;
		r->generation = b->generation;
		r->written = 0;
		r->trimmed = false;
		if (!r->elem.tail_writable) {
			/* No status byte: nothing can report the outcome. */
			if (!r->elem.error)
				virtio_dev_guest_error(dev,
				                       "request without a writable status byte");
			virtq_push(vq, &r->elem, 0);
			virtq_notify(vq);
			req_put(b, r);
			continue;
		}
		status = r->elem.error ? VIRTIO_BLK_S_IOERR : blk_prepare(b, r);
		if (status >= 0) {
			req_complete(r, (uint8_t)status);
		} else if (b->aio) {
			block_aio_submit(b->aio, &r->io);
		} else {
			r->io.result = run_now(b, &r->io);
			io_done(&r->io);
		}
	}
}

static void blk_reset(struct virtio_dev *dev)
{
	struct virtio_blk *b = to_blk(dev);

	/* Requests in flight write guest memory the driver may reuse after the reset:
	 * wait for their I/O; their completions see the new generation and go nowhere. */
	b->generation++;
	if (b->aio)
		block_aio_drain(b->aio);
}

int virtio_blk_set_loop(struct virtio_dev *dev, struct vm_loop *loop, struct vk_error *err)
{
	struct virtio_blk *b = to_blk(dev);

	b->loop = loop;
	b->aio = block_aio_new(b->be, loop, err);
	return b->aio ? 0 : -EINVAL;
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct virtio_blk *b = to_blk(dev);

	/* Drains first; requests whose completion was still pending are freed below. */
	block_aio_free(b->aio);
	while (b->all_reqs) {
		struct blk_req *r = b->all_reqs;
		b->all_reqs = r->next_all;
		free(r);
	}
	block_close(b->be);
	free(b);
}

/* Before the state is taken: every request's I/O done and pushed to the used ring. */
static void blk_quiesce(struct virtio_dev *dev)
{
	struct virtio_blk *b = to_blk(dev);

	if (b->aio)
		block_aio_settle(b->aio);
}

/* The disk's size: a restored guest must find the disk it had. */
static void blk_save(struct virtio_dev *dev, struct vm_state_buf *buf)
{
	vm_state_put_u64(buf, to_blk(dev)->be->size);
}

static int blk_load(struct virtio_dev *dev, struct vm_state_rd *r, uint32_t version,
                    struct vk_error *err)
{
	struct virtio_blk *b = to_blk(dev);
	uint64_t size = vm_state_get_u64(r);

	if (!r->bad && size != b->be->size)
		return vk_error_set(
		        err, EINVAL, "disk '%s' has %llu bytes, the saved machine's had %llu",
		        b->be->path, (unsigned long long)b->be->size, (unsigned long long)size);
	return 0;
}

/* The image's lock passes between two machine processes at a migration's switchover. */
static int blk_handover(struct virtio_dev *dev, bool take, struct vk_error *err)
{
	struct virtio_blk *b = to_blk(dev);

	if (!take) {
		block_unlock(b->be);
		return 0;
	}
	return block_relock(b->be, err);
}

/*
 * A qcow2 overlay over the image the guest writes (QEMU's blockdev-snapshot-sync):
 * the image is written no more and becomes the overlay's backing file, opened
 * read-only; the guest's writes go to the overlay. Every request in flight is
 * finished and the image flushed first. The image's exclusive lock is let go
 * only while the overlay opens (its backing file takes a shared one); if that
 * fails the image is taken back and the overlay removed: the disk is as it was.
 */
static int blk_disk_overlay(struct virtio_dev *dev, const char *path, struct vk_error *err)
{
	struct virtio_blk *b = to_blk(dev);
	struct block_open_opts o = {.format = BLOCK_FORMAT_QCOW2, .direct = b->be->direct_fd >= 0};
	struct block_backend *ov;
	struct block_aio *aio = NULL;
	char *base;
	int r;

	if (b->be->readonly)
		return vk_error_set(err, EROFS, "disk '%s' is read-only: it needs no overlay",
		                    b->be->path);
	if (b->aio)
		block_aio_settle(b->aio);
	if ((r = block_flush(b->be)) < 0)
		return vk_error_errno(err, -r, "cannot flush disk '%s'", b->be->path);
	/* Recorded absolute: the overlay may live in another folder than its base. */
	base = realpath(b->be->path, NULL);
	if (!base)
		return vk_error_errno(err, errno, "cannot resolve disk image '%s'", b->be->path);
	r = block_qcow2_create(path, b->be->size, base, b->be->format, err);
	free(base);
	if (r < 0)
		return r;
	block_unlock(b->be);
	ov = block_open(path, &o, err);
	if (ov && b->loop && !(aio = block_aio_new(ov, b->loop, err))) {
		block_close(ov);
		ov = NULL;
	}
	if (!ov) {
		struct vk_error e2 = {0};

		unlink(path);
		if (block_relock(b->be, &e2) < 0)
			vk_error_prefix(err, "%s; and disk '%s' cannot take its lock back (%s)",
			                err->msg, b->be->path, e2.msg);
		return -EIO;
	}
	block_aio_free(b->aio); /* settled above: nothing in flight */
	block_close(b->be);
	b->be = ov;
	b->aio = aio;
	return 0;
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
        .state_version = 1,
        .quiesce = blk_quiesce,
        .save = blk_save,
        .load = blk_load,
        .handover = blk_handover,
        .disk_overlay = blk_disk_overlay,
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
	if (be->readonly) {
		b->vdev.host_features |= 1ull << VIRTIO_BLK_F_RO;
	} else {
		b->vdev.host_features |=
		        (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
		put_le32(b->config + CFG_MAX_DISCARD, BLK_MAX_DISCARD_SECTORS);
		put_le32(b->config + CFG_DISCARD_SEG, 1);
		put_le32(b->config + CFG_DISCARD_ALN, 1);
		put_le32(b->config + CFG_MAX_WZ, BLK_MAX_DISCARD_SECTORS);
		put_le32(b->config + CFG_WZ_SEG, 1);
		b->config[CFG_WZ_UNMAP] = 1; /* zeroes may be left as holes */
	}
	b->be = be;
	/* GET_ID: up to 20 bytes, NUL-padded (not terminated when 20 long). */
	strncpy(b->serial, serial ? serial : "virtkit", sizeof(b->serial));
	memcpy(b->config + CFG_CAPACITY, &capacity, 8);
	put_le32(b->config + CFG_SIZE_MAX, BLK_SIZE_MAX);
	put_le32(b->config + CFG_SEG_MAX, BLK_QUEUE_SIZE - 2); /* header and status */
	put_le32(b->config + CFG_BLK_SIZE, 512);
	return &b->vdev;
}
