/* SPDX-License-Identifier: MIT */
/*
 * The transport-independent virtio device state machine: feature negotiation,
 * device status and reset, queue configuration, config space with its
 * generation, the ISR and the DEVICE_NEEDS_RESET path (virtio 1.x, 2.1-3.1).
 * The rings themselves are in virtqueue.c.
 */
#include "vm/virtio/virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static void queue_reset(struct virtio_dev *dev, unsigned q)
{
	struct virtq *vq = &dev->vqs[q];

	memset(vq, 0, sizeof(*vq));
	vq->dev = dev;
	vq->index = q;
	vq->num_max = dev->ops->queue_max_size;
	vq->num = vq->num_max;
	vq->vector = VIRTIO_MSI_NO_VECTOR;
}

void virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
                     const struct vm_mem *mem)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->mem = mem;
	dev->host_features = VIRTIO_CORE_FEATURES | ops->features;
	dev->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned q = 0; q < ops->num_queues && q < VIRTIO_MAX_QUEUES; q++)
		queue_reset(dev, q);
}

void virtio_dev_destroy(struct virtio_dev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

/* Queue q for reading, or NULL when the device has no such queue. */
static const struct virtq *cqueue(const struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->ops->num_queues || q >= VIRTIO_MAX_QUEUES)
		return NULL;
	return &dev->vqs[q];
}

struct virtq *virtio_dev_queue(struct virtio_dev *dev, unsigned q)
{
	return (struct virtq *)cqueue(dev, q); /* dev is not const here */
}

void virtio_dev_attach_transport(struct virtio_dev *dev, const struct virtio_transport_ops *ops,
                                 void *opaque)
{
	dev->transport = ops;
	dev->transport_opaque = opaque;
}

static void vlog_once(struct virtio_dev *dev, const char *fmt, va_list ap) VK_PRINTF(2, 0);
static void vlog_once(struct virtio_dev *dev, const char *fmt, va_list ap)
{
	char msg[256];

	if (dev->logged)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	vk_log_once(&dev->logged, VK_LOG_WARN, "%s: %s (further guest errors not logged)",
	            dev->ops->name, msg);
}

void virtio_dev_guest_error(struct virtio_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_once(dev, fmt, ap);
	va_end(ap);
}

static void notify_config(struct virtio_dev *dev)
{
	dev->isr |= VIRTIO_ISR_CONFIG;
	if (dev->transport && dev->transport->notify_config)
		dev->transport->notify_config(dev->transport_opaque, dev);
}

void virtio_dev_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		notify_config(dev);
}

void virtio_dev_needs_reset(struct virtio_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_once(dev, fmt, ap);
	va_end(ap);
	if (dev->broken)
		return;
	dev->broken = true;
	dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	/* 2.1.2: with DRIVER_OK set, tell the driver through a config change. */
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		notify_config(dev);
}

/* ---- features and status ----------------------------------------------- */

uint32_t virtio_read_device_features(const struct virtio_dev *dev, uint32_t sel)
{
	if (sel > 1)
		return 0;
	return (uint32_t)(dev->host_features >> (32 * sel));
}

uint32_t virtio_read_driver_features(const struct virtio_dev *dev, uint32_t sel)
{
	if (sel > 1)
		return 0;
	return (uint32_t)(dev->driver_features >> (32 * sel));
}

void virtio_write_driver_features(struct virtio_dev *dev, uint32_t sel, uint32_t value)
{
	uint64_t mask;

	if (sel > 1 || (dev->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	mask = 0xffffffffull << (32 * sel);
	dev->driver_features = (dev->driver_features & ~mask) | ((uint64_t)value << (32 * sel));
}

uint8_t virtio_get_status(const struct virtio_dev *dev)
{
	return dev->status;
}

void virtio_reset(struct virtio_dev *dev)
{
	dev->driver_features = 0;
	dev->status = 0;
	dev->isr = 0;
	dev->config_vector = VIRTIO_MSI_NO_VECTOR;
	dev->queue_sel = 0;
	dev->broken = false;
	for (unsigned q = 0; q < dev->ops->num_queues && q < VIRTIO_MAX_QUEUES; q++)
		queue_reset(dev, q);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	if (dev->transport && dev->transport->reset)
		dev->transport->reset(dev->transport_opaque, dev);
}

static bool features_acceptable(struct virtio_dev *dev)
{
	uint64_t unknown = dev->driver_features & ~dev->host_features;

	if (unknown) {
		virtio_dev_guest_error(dev, "driver accepted features 0x%llx that were not offered",
		                       (unsigned long long)unknown);
		return false;
	}
	if (!(dev->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
		virtio_dev_guest_error(dev, "driver did not accept VIRTIO_F_VERSION_1 (legacy "
		                            "drivers are not supported)");
		return false;
	}
	return true;
}

void virtio_set_status(struct virtio_dev *dev, uint8_t status)
{
	uint8_t old = dev->status;
	uint8_t set;

	if (status == 0) {
		virtio_reset(dev);
		return;
	}
	/* The driver cannot clear bits (only reset does) nor set NEEDS_RESET. */
	status &= (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	set = (uint8_t)(status & ~old);
	if ((set & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(dev))
		set &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* DRIVER_OK without FEATURES_OK is a driver bug: refuse to run. */
	if ((set & VIRTIO_STATUS_DRIVER_OK) && !((old | set) & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_dev_guest_error(dev, "driver set DRIVER_OK before FEATURES_OK");
		set &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	dev->status = old | set;
	if ((set & VIRTIO_STATUS_DRIVER_OK) && !dev->broken) {
		/* Kicks that came before DRIVER_OK were ignored: look now. */
		for (unsigned q = 0; q < dev->ops->num_queues && q < VIRTIO_MAX_QUEUES; q++)
			if (dev->vqs[q].ready && virtio_dev_driver_ok(dev))
				dev->ops->queue_notify(dev, q);
	}
}

/* ---- queues ------------------------------------------------------------ */

uint16_t virtio_queue_num_max(const struct virtio_dev *dev, unsigned q)
{
	const struct virtq *vq = cqueue(dev, q);

	return vq ? vq->num_max : 0;
}

uint16_t virtio_queue_get_num(const struct virtio_dev *dev, unsigned q)
{
	const struct virtq *vq = cqueue(dev, q);

	return vq ? vq->num : 0;
}

void virtio_queue_set_num(struct virtio_dev *dev, unsigned q, uint16_t num)
{
	struct virtq *vq = virtio_dev_queue(dev, q);

	if (vq && !vq->ready)
		vq->num = num;
}

bool virtio_queue_get_ready(const struct virtio_dev *dev, unsigned q)
{
	const struct virtq *vq = cqueue(dev, q);

	return vq && vq->ready;
}

static bool area_ok(struct virtio_dev *dev, struct virtq *vq, enum virtq_area area, uint64_t size,
                    uint64_t align, void **host)
{
	uint64_t gpa = vq->addr[area];

	if (gpa & (align - 1)) {
		virtio_dev_needs_reset(dev, "queue %u: area %d at 0x%llx is not %llu-byte aligned",
		                       vq->index, (int)area, (unsigned long long)gpa,
		                       (unsigned long long)align);
		return false;
	}
	*host = vm_mem_translate(dev->mem, gpa, size);
	if (!*host) {
		virtio_dev_needs_reset(dev, "queue %u: area %d at 0x%llx (+%llu) is not in RAM",
		                       vq->index, (int)area, (unsigned long long)gpa,
		                       (unsigned long long)size);
		return false;
	}
	return true;
}

void virtio_queue_set_ready(struct virtio_dev *dev, unsigned q, bool ready)
{
	struct virtq *vq = virtio_dev_queue(dev, q);
	void *desc, *avail, *used;

	if (!vq)
		return;
	if (!ready) {
		vq->ready = false;
		return;
	}
	if (vq->ready)
		return;
	if (vq->num == 0 || vq->num > vq->num_max || (vq->num & (vq->num - 1))) {
		virtio_dev_needs_reset(dev, "queue %u: size %u is not a power of two <= %u", q,
		                       vq->num, vq->num_max);
		return;
	}
	if (!area_ok(dev, vq, VIRTQ_AREA_DESC, virtq_desc_size(vq->num), VIRTQ_DESC_ALIGN, &desc) ||
	    !area_ok(dev, vq, VIRTQ_AREA_DRIVER, virtq_avail_size(vq->num), VIRTQ_AVAIL_ALIGN,
	             &avail) ||
	    !area_ok(dev, vq, VIRTQ_AREA_DEVICE, virtq_used_size(vq->num), VIRTQ_USED_ALIGN, &used))
		return;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->ready = true;
}

uint64_t virtio_queue_get_addr(const struct virtio_dev *dev, unsigned q, enum virtq_area area)
{
	const struct virtq *vq = cqueue(dev, q);

	if (!vq || (unsigned)area > VIRTQ_AREA_DEVICE)
		return 0;
	return vq->addr[area];
}

void virtio_queue_set_addr(struct virtio_dev *dev, unsigned q, enum virtq_area area, uint64_t addr)
{
	struct virtq *vq = virtio_dev_queue(dev, q);

	if (!vq || vq->ready || (unsigned)area > VIRTQ_AREA_DEVICE)
		return;
	vq->addr[area] = addr;
}

uint32_t virtio_queue_read_addr32(const struct virtio_dev *dev, unsigned q, enum virtq_area area,
                                  bool high)
{
	uint64_t a = virtio_queue_get_addr(dev, q, area);

	return (uint32_t)(high ? a >> 32 : a);
}

void virtio_queue_write_addr32(struct virtio_dev *dev, unsigned q, enum virtq_area area, bool high,
                               uint32_t value)
{
	uint64_t a = virtio_queue_get_addr(dev, q, area);

	if (high)
		a = (a & 0xffffffffull) | ((uint64_t)value << 32);
	else
		a = (a & ~0xffffffffull) | value;
	virtio_queue_set_addr(dev, q, area, a);
}

uint16_t virtio_queue_get_vector(const struct virtio_dev *dev, unsigned q)
{
	const struct virtq *vq = cqueue(dev, q);

	return vq ? vq->vector : VIRTIO_MSI_NO_VECTOR;
}

void virtio_queue_set_vector(struct virtio_dev *dev, unsigned q, uint16_t vector)
{
	struct virtq *vq = virtio_dev_queue(dev, q);

	if (vq)
		vq->vector = vector;
}

void virtio_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtq *vq = virtio_dev_queue(dev, q);

	if (!vq || !vq->ready || !virtio_dev_driver_ok(dev))
		return;
	dev->ops->queue_notify(dev, q);
}

/* ---- configuration space and ISR --------------------------------------- */

static bool config_range_ok(const struct virtio_dev *dev, uint32_t offset, unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return offset < dev->ops->config_size && size <= dev->ops->config_size - offset;
}

uint64_t virtio_config_read(struct virtio_dev *dev, uint32_t offset, unsigned size)
{
	uint8_t buf[8] = {0};
	uint64_t v = 0;

	if (!config_range_ok(dev, offset, size) || !dev->ops->config_read)
		return 0;
	dev->ops->config_read(dev, offset, buf, size);
	for (unsigned i = size; i-- > 0;)
		v = (v << 8) | buf[i];
	return v;
}

void virtio_config_write(struct virtio_dev *dev, uint32_t offset, unsigned size, uint64_t value)
{
	uint8_t buf[8];

	if (!config_range_ok(dev, offset, size) || !dev->ops->config_write)
		return;
	for (unsigned i = 0; i < size; i++)
		buf[i] = (uint8_t)(value >> (8 * i));
	dev->ops->config_write(dev, offset, buf, size);
}

uint32_t virtio_config_generation(const struct virtio_dev *dev)
{
	return dev->config_generation;
}

uint8_t virtio_isr_read_clear(struct virtio_dev *dev)
{
	uint8_t v = dev->isr;

	dev->isr = 0;
	return v;
}

void virtio_isr_ack(struct virtio_dev *dev, uint8_t bits)
{
	dev->isr &= (uint8_t)~bits;
}
