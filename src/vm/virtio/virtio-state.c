/* SPDX-License-Identifier: MIT */
/*
 * Saving and restoring a virtio device (virtio.h): the transport-independent
 * core, then the device's own part through its ops. The core's record:
 *   u32 device id, u32 queues, u64 offered features, u64 driver features,
 *   u8 status, u8 ISR, u32 config generation, u16 config vector, u16 queue
 *   select, bool broken, then per queue: u16 num, bool ready, u64 desc,
 *   driver and device areas, u16 vector, u16 last_avail, used and
 *   signalled_used indexes; then u32 the device's state version and its part.
 * A file is hostile: a queue marked ready is validated as the driver's
 * QueueReady write would be, and refused (not reset) when it is not valid.
 */
#include <errno.h>

#include "vm/state.h"
#include "vm/virtio/virtio.h"

#define STATUS_BITS                                                                   \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK | \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

void virtio_dev_quiesce(struct virtio_dev *dev)
{
	if (dev->ops->quiesce)
		dev->ops->quiesce(dev);
}

void virtio_dev_save(struct virtio_dev *dev, struct vm_state_buf *b)
{
	unsigned nq = dev->ops->num_queues;

	vm_state_put_u32(b, dev->ops->device_id);
	vm_state_put_u32(b, nq);
	vm_state_put_u64(b, dev->host_features);
	vm_state_put_u64(b, dev->driver_features);
	vm_state_put_u8(b, dev->status);
	vm_state_put_u8(b, dev->isr);
	vm_state_put_u32(b, dev->config_generation);
	vm_state_put_u16(b, dev->config_vector);
	vm_state_put_u16(b, dev->queue_sel);
	vm_state_put_bool(b, dev->broken);
	for (unsigned q = 0; q < nq && q < VIRTIO_MAX_QUEUES; q++) {
		const struct virtq *vq = &dev->vqs[q];

		vm_state_put_u16(b, vq->num);
		vm_state_put_bool(b, vq->ready);
		for (unsigned a = 0; a < 3; a++)
			vm_state_put_u64(b, vq->addr[a]);
		vm_state_put_u16(b, vq->vector);
		vm_state_put_u16(b, vq->last_avail_idx);
		vm_state_put_u16(b, vq->used_idx);
		vm_state_put_u16(b, vq->signalled_used);
	}
	vm_state_put_u32(b, dev->ops->state_version);
	if (dev->ops->save)
		dev->ops->save(dev, b);
}

/* The host view of a queue area, as virtio_queue_set_ready() checks it. */
static void *area(const struct virtio_dev *dev, uint64_t gpa, uint64_t size, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return vm_mem_translate(dev->mem, gpa, size);
}

static int load_queue(struct virtio_dev *dev, struct virtq *vq, struct vm_state_rd *r,
                      struct vk_error *err)
{
	uint16_t num = vm_state_get_u16(r);
	bool ready = vm_state_get_bool(r);
	uint64_t addr[3];

	for (unsigned a = 0; a < 3; a++)
		addr[a] = vm_state_get_u64(r);
	vq->vector = vm_state_get_u16(r);
	vq->last_avail_idx = vm_state_get_u16(r);
	vq->used_idx = vm_state_get_u16(r);
	vq->signalled_used = vm_state_get_u16(r);
	if (r->bad)
		return 0; /* vm_state_rd_finish() reports it */
	vq->num = num;
	for (unsigned a = 0; a < 3; a++)
		vq->addr[a] = addr[a];
	vq->ready = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	if (!ready)
		return 0;
	if (num == 0 || num > vq->num_max || (num & (num - 1)))
		return vk_error_set(err, EINVAL, "queue %u: size %u is not a power of two <= %u",
		                    vq->index, num, vq->num_max);
	vq->desc = area(dev, addr[VIRTQ_AREA_DESC], virtq_desc_size(num), VIRTQ_DESC_ALIGN);
	vq->avail = area(dev, addr[VIRTQ_AREA_DRIVER], virtq_avail_size(num), VIRTQ_AVAIL_ALIGN);
	vq->used = area(dev, addr[VIRTQ_AREA_DEVICE], virtq_used_size(num), VIRTQ_USED_ALIGN);
	if (!vq->desc || !vq->avail || !vq->used)
		return vk_error_set(err, EINVAL,
		                    "queue %u: its areas are not aligned or not in guest RAM",
		                    vq->index);
	vq->ready = true;
	return 0;
}

int virtio_dev_load(struct virtio_dev *dev, struct vm_state_rd *r, struct vk_error *err)
{
	uint32_t id = vm_state_get_u32(r), nq = vm_state_get_u32(r), version;
	uint64_t host = vm_state_get_u64(r);
	int ret;

	if (r->bad)
		return 0;
	if (id != dev->ops->device_id || nq != dev->ops->num_queues)
		return vk_error_set(err, EINVAL,
		                    "the saved device is virtio device %u with %u queues; this "
		                    "machine has %s here",
		                    id, nq, dev->ops->name);
	if (host != dev->host_features)
		return vk_error_set(err, EINVAL,
		                    "%s: the saved device offered features 0x%llx, this one offers "
		                    "0x%llx (another option, such as readonly?)",
		                    dev->ops->name, (unsigned long long)host,
		                    (unsigned long long)dev->host_features);
	dev->driver_features = vm_state_get_u64(r);
	dev->status = vm_state_get_u8(r);
	dev->isr = vm_state_get_u8(r);
	dev->config_generation = vm_state_get_u32(r);
	dev->config_vector = vm_state_get_u16(r);
	dev->queue_sel = vm_state_get_u16(r);
	dev->broken = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (dev->driver_features & ~dev->host_features)
		return vk_error_set(err, EINVAL,
		                    "%s: the driver's features 0x%llx were not offered",
		                    dev->ops->name, (unsigned long long)dev->driver_features);
	if ((dev->status & ~STATUS_BITS) || (dev->isr & ~(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG)))
		return vk_error_set(err, EINVAL, "%s: status 0x%x or ISR 0x%x is invalid",
		                    dev->ops->name, dev->status, dev->isr);
	for (unsigned q = 0; q < nq && q < VIRTIO_MAX_QUEUES; q++) {
		ret = load_queue(dev, &dev->vqs[q], r, err);
		if (ret < 0)
			return vk_error_prefix(err, "%s", dev->ops->name);
	}
	version = vm_state_get_u32(r);
	if (r->bad)
		return 0;
	if (version != dev->ops->state_version &&
	    (version == 0 || version > dev->ops->state_version))
		return vk_error_set(err, EINVAL,
		                    "%s: its own state is version %u, this virtkit-vm reads up to "
		                    "%u",
		                    dev->ops->name, version, dev->ops->state_version);
	if (dev->ops->load) {
		ret = dev->ops->load(dev, r, version, err);
		if (ret < 0)
			return vk_error_prefix(err, "%s", dev->ops->name);
	}
	return 0;
}

int virtio_dev_post_load(struct virtio_dev *dev, struct vk_error *err)
{
	if (dev->ops->post_load) {
		int r = dev->ops->post_load(dev, err);
		if (r < 0)
			return vk_error_prefix(err, "%s", dev->ops->name);
	}
	for (unsigned q = 0; q < dev->ops->num_queues && q < VIRTIO_MAX_QUEUES; q++)
		if (dev->vqs[q].ready && virtio_dev_driver_ok(dev))
			dev->ops->queue_notify(dev, q);
	return 0;
}
