/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, 2.7): taking available descriptor chains as
 * host iovecs, returning used elements, and interrupt suppression with
 * VIRTIO_F_RING_EVENT_IDX or VIRTQ_AVAIL_F_NO_INTERRUPT.
 *
 * Every byte of the rings is guest-writable at any time (a KVM vCPU can run
 * on another thread while we look), so:
 *   - each descriptor is copied once into a local struct and only the copy
 *     is checked and used;
 *   - avail->idx is read with acquire ordering before the ring entries it
 *     covers; used entries are written before used->idx is published with
 *     release ordering; a full fence separates "publish used->idx" from
 *     "read used_event / avail flags" and "publish avail_event" from
 *     "re-read avail->idx" (the two store-load races of 2.7.7 / 2.7.10);
 *   - the device keeps its own copies of last_avail_idx and used->idx.
 *
 * What a malformed ring leads to (the rule per case):
 *   - avail->idx more than num ahead of the device, or a head index >= num:
 *     the ring itself is corrupt and there is no chain one could complete,
 *     so the device sets DEVICE_NEEDS_RESET (virtio_dev_needs_reset()).
 *   - anything wrong inside one chain (loops, chains longer than the queue
 *     or the indirect table, next >= table size, nested indirect tables,
 *     INDIRECT with NEXT, indirect tables empty / not a multiple of 16 /
 *     too long / not in RAM, buffers not in RAM, a readable descriptor after
 *     a writable one, part lengths whose sum needs more than 32 bits): the
 *     chain is returned with elem->error set, holding only the valid
 *     buffers; the device fails that request (blk writes IOERR into the
 *     status byte when the chain ends in a valid writable descriptor) and
 *     the queue goes on.
 * Each case is logged at most once per device.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vm/virtio/virtio.h"

static inline uint16_t ring_load16(const uint16_t *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static inline void ring_store16(uint16_t *p, uint16_t v, int order)
{
	__atomic_store_n(p, htole16(v), order);
}

static inline bool event_idx(const struct virtq *vq)
{
	return virtio_dev_has_feature(vq->dev, VIRTIO_F_RING_EVENT_IDX);
}

/* used_event lives after avail->ring[num]; avail_event after used->ring[num]. */
static inline uint16_t *used_event_ptr(const struct virtq *vq)
{
	return &vq->avail->ring[vq->num];
}

static inline uint16_t *avail_event_ptr(const struct virtq *vq)
{
	return (uint16_t *)(void *)&vq->used->ring[vq->num];
}

static bool running(const struct virtq *vq)
{
	return vq->ready && (vq->dev->status & VIRTIO_STATUS_DRIVER_OK);
}

/*
 * Number of chains the driver made available that the device has not taken,
 * or -EIO when avail->idx is impossible. When the ring looks empty and
 * EVENT_IDX is on, ask for a notification first, then look again so that a
 * chain added meanwhile is not missed.
 */
static int avail_pending(struct virtq *vq)
{
	uint16_t pending =
	        (uint16_t)(ring_load16(&vq->avail->idx, __ATOMIC_ACQUIRE) - vq->last_avail_idx);

	if (pending == 0 && event_idx(vq)) {
		ring_store16(avail_event_ptr(vq), vq->last_avail_idx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		pending = (uint16_t)(ring_load16(&vq->avail->idx, __ATOMIC_ACQUIRE) -
		                     vq->last_avail_idx);
	}
	if (pending > vq->num) {
		virtio_dev_needs_reset(vq->dev,
		                       "queue %u: available index moved by %u, more than the "
		                       "queue size %u",
		                       vq->index, pending, vq->num);
		return -EIO;
	}
	return pending;
}

bool virtq_has_avail(struct virtq *vq)
{
	if (vq->dev->broken || !running(vq))
		return false;
	return avail_pending(vq) > 0;
}

static void read_desc(const struct virtq_desc *table, unsigned i, struct virtq_desc *d)
{
	/* One copy: the guest may rewrite the entry while we look at it. */
	memcpy(d, &table[i], sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static void chain_error(struct virtq *vq, struct virtq_elem *elem, int err, const char *what,
                        unsigned desc)
{
	if (!elem->error)
		elem->error = err;
	virtio_dev_guest_error(vq->dev, "queue %u: chain at head %u: descriptor %u: %s", vq->index,
	                       elem->head, desc, what);
}

/* Add one buffer descriptor to elem. */
static void add_buffer(struct virtq *vq, struct virtq_elem *elem, const struct virtq_desc *d,
                       unsigned i)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint32_t *total = writable ? &elem->wr_len : &elem->rd_len;
	uint32_t sum;
	void *host;

	elem->tail_writable = false;
	if (!writable && elem->wr_num > 0) {
		chain_error(vq, elem, -EINVAL, "device-readable buffer after a writable one", i);
		return;
	}
	if (d->len == 0)
		return;
	if (vk_add_overflow(*total, d->len, &sum)) {
		chain_error(vq, elem, -EOVERFLOW, "buffer lengths add up to more than 4 GiB", i);
		return;
	}
	host = vm_mem_translate(vq->dev->mem, d->addr, d->len);
	if (!host) {
		chain_error(vq, elem, -EFAULT, "buffer is not in guest RAM", i);
		return;
	}
	if (elem->rd_num + elem->wr_num >= VIRTQ_MAX_SIZE) {
		chain_error(vq, elem, -E2BIG, "chain has too many buffers", i);
		return;
	}
	elem->iov[elem->rd_num + elem->wr_num] =
	        (struct iovec){.iov_base = host, .iov_len = d->len};
	*total = sum;
	if (writable) {
		elem->wr_num++;
		elem->tail_writable = true;
	} else {
		elem->rd_num++;
	}
}

/*
 * Walk the chain at head. Stops at the first structural error (the rest of
 * the chain cannot be found); keeps walking past a bad buffer so that the
 * chain's last descriptor (blk's status byte) is still found.
 */
static void walk_chain(struct virtq *vq, uint16_t head, struct virtq_elem *elem)
{
	const struct virtq_desc *table = vq->desc;
	unsigned size = vq->num; /* entries in the current table */
	unsigned seen = 0;       /* descriptors visited in the current table */
	unsigned total = 0;      /* descriptors visited in all */
	bool indirect = false;
	unsigned i = head;
	struct virtq_desc d;

	memset(elem, 0, offsetof(struct virtq_elem, iov));
	elem->head = head;
	for (;;) {
		if (++seen > size) {
			chain_error(vq, elem, -ELOOP, "chain loops or is longer than its table", i);
			goto structural;
		}
		if (++total > VIRTQ_MAX_SIZE) {
			chain_error(vq, elem, -E2BIG, "chain has more than 1024 descriptors", i);
			goto structural;
		}
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			void *host;

			if (indirect) {
				chain_error(vq, elem, -EINVAL,
				            "indirect table inside an indirect table", i);
				goto structural;
			}
			if (d.flags & VIRTQ_DESC_F_NEXT) {
				chain_error(vq, elem, -EINVAL, "INDIRECT together with NEXT", i);
				goto structural;
			}
			if (d.len == 0 || d.len % sizeof(struct virtq_desc) ||
			    d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE) {
				chain_error(vq, elem, -EINVAL, "indirect table length is invalid",
				            i);
				goto structural;
			}
			host = vm_mem_translate(vq->dev->mem, d.addr, d.len);
			if (!host) {
				chain_error(vq, elem, -EFAULT, "indirect table is not in guest RAM",
				            i);
				goto structural;
			}
			table = host;
			size = d.len / sizeof(struct virtq_desc);
			seen = 0;
			indirect = true;
			i = 0;
			continue;
		}
		add_buffer(vq, elem, &d, i);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= size) {
			chain_error(vq, elem, -EINVAL, "next index is out of range", i);
			goto structural;
		}
		i = d.next;
	}
	goto done;
structural:
	elem->tail_writable = false;
done:
	elem->rd = elem->iov;
	elem->wr = elem->iov + elem->rd_num;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	int pending;
	uint16_t head;

	if (vq->dev->broken)
		return -EIO;
	if (!running(vq))
		return 0;
	pending = avail_pending(vq);
	if (pending <= 0)
		return pending;
	head = ring_load16(&vq->avail->ring[vq->last_avail_idx & (vq->num - 1)], __ATOMIC_RELAXED);
	if (head >= vq->num) {
		virtio_dev_needs_reset(vq->dev, "queue %u: available ring names head %u >= %u",
		                       vq->index, head, vq->num);
		return -EIO;
	}
	vq->last_avail_idx++;
	walk_chain(vq, head, elem);
	return 1;
}

void virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t len)
{
	struct virtq_used_elem *ue;

	if (vq->dev->broken || !vq->ready)
		return;
	if (len > elem->wr_len)
		len = elem->wr_len;
	/* The device wrote the first len bytes of the writable part: code there is stale. */
	for (unsigned i = 0, left = len; i < elem->wr_num && left; i++) {
		size_t n = VK_MIN(elem->wr[i].iov_len, (size_t)left);
		vm_mem_note_write(vq->dev->mem, elem->wr[i].iov_base, n);
		left -= (unsigned)n;
	}
	ue = &vq->used->ring[vq->used_idx & (vq->num - 1)];
	__atomic_store_n(&ue->id, htole32(elem->head), __ATOMIC_RELAXED);
	__atomic_store_n(&ue->len, htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	ring_store16(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void virtq_notify(struct virtq *vq)
{
	struct virtio_dev *dev = vq->dev;
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool need;

	if (dev->broken || !vq->ready)
		return;
	if (old == now)
		return; /* nothing pushed since the last decision */
	/* The used->idx store must be visible before we read the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx(vq)) {
		uint16_t ev = ring_load16(used_event_ptr(vq), __ATOMIC_RELAXED);

		/* old is exact: signalled_used starts at 0 with the ring. */
		need = virtq_need_event(ev, now, old);
	} else {
		need = !(ring_load16(&vq->avail->flags, __ATOMIC_RELAXED) &
		         VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	vq->signalled_used = now;
	if (!need)
		return;
	dev->isr |= VIRTIO_ISR_QUEUE;
	if (dev->transport && dev->transport->notify_queue)
		dev->transport->notify_queue(dev->transport_opaque, dev, vq->index);
}

uint32_t virtq_elem_set_status(const struct virtq_elem *elem, uint8_t status)
{
	const struct iovec *last;

	if (!elem->tail_writable || elem->wr_num == 0)
		return 0;
	last = &elem->wr[elem->wr_num - 1];
	((uint8_t *)last->iov_base)[last->iov_len - 1] = status;
	return 1;
}

int virtq_elem_reload(struct virtq *vq, uint16_t head, struct virtq_elem *elem)
{
	if (!running(vq) || head >= vq->num)
		return -EINVAL;
	walk_chain(vq, head, elem);
	return 0;
}
