/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.x, 5.4): one request queue of device-writable buffers,
 * each filled with bytes from getrandom(2).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "vm/virtio/devices.h"
#include "vm/virtio/virtio.h"

#define RNG_QUEUE_SIZE 64
/* Bytes per request: a guest asking for more gets this many (used length says so). */
#define RNG_MAX_REQUEST (64u * 1024)

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq_elem elem;
};

static struct virtio_rng *to_rng(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_rng, vdev);
}

/* Fill up to max bytes of the writable buffers; returns the bytes written. */
static uint32_t fill(const struct virtq_elem *e, uint32_t max)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < e->wr_num && done < max; i++) {
		uint8_t *p = e->wr[i].iov_base;
		size_t want = VK_MIN(e->wr[i].iov_len, (size_t)(max - done));
		size_t got = 0;

		while (got < want) {
			ssize_t r = getrandom(p + got, want - got, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				return done + (uint32_t)got;
			}
			got += (size_t)r;
		}
		done += (uint32_t)got;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_rng *r = to_rng(dev);
	struct virtq *vq = virtio_dev_queue(dev, q);
	struct virtq_elem *e = &r->elem;

	while (virtq_pop(vq, e) > 0) {
		uint32_t len = 0;

		/* The driver only offers writable buffers (5.4.6.1). */
		if (e->rd_num > 0)
			virtio_dev_guest_error(dev, "request has device-readable buffers");
		else if (!e->error)
			len = fill(e, RNG_MAX_REQUEST);
		virtq_push(vq, e, len);
	}
	virtq_notify(vq);
}

static void rng_destroy(struct virtio_dev *dev)
{
	free(to_rng(dev));
}

static const struct virtio_dev_ops rng_ops = {
        .name = "virtio-rng",
        .device_id = VIRTIO_ID_RNG,
        .num_queues = 1,
        .queue_max_size = RNG_QUEUE_SIZE,
        .queue_notify = rng_queue_notify,
        .destroy = rng_destroy,
};

struct virtio_dev *virtio_rng_create(const struct vm_mem *mem, struct vk_error *err)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r) {
		vk_error_errno(err, ENOMEM, "cannot create virtio-rng");
		return NULL;
	}
	virtio_dev_init(&r->vdev, &rng_ops, mem);
	return &r->vdev;
}
