/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (virtio 1.x, 4.2.2): the register
 * file on the bus, mapped onto the device core's transport-facing calls, and
 * the level interrupt line that follows InterruptStatus.
 */
#include "vm/virtio/transport-mmio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm/registry.h"

struct virtio_mmio {
	struct bus *bus;
	uint64_t base;
	struct irq_line irq;
	struct virtio_dev *dev;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	char name[32];
};

static void update_irq(struct virtio_mmio *m)
{
	irq_set(&m->irq, virtio_isr_get(m->dev) != 0);
}

static void mmio_notify(void *opaque, struct virtio_dev *dev, unsigned q)
{
	update_irq(opaque);
}

static void mmio_notify_config(void *opaque, struct virtio_dev *dev)
{
	update_irq(opaque);
}

static void mmio_reset(void *opaque, struct virtio_dev *dev)
{
	struct virtio_mmio *m = opaque;

	m->device_features_sel = 0;
	m->driver_features_sel = 0;
	update_irq(m);
}

static const struct virtio_transport_ops mmio_transport_ops = {
        .notify_queue = mmio_notify,
        .notify_config = mmio_notify_config,
        .reset = mmio_reset,
};

static enum virtq_area area_of(uint64_t offset)
{
	switch (offset & ~0xfull) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return VIRTQ_AREA_DESC;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return VIRTQ_AREA_DRIVER;
	default:
		return VIRTQ_AREA_DEVICE;
	}
}

static uint32_t reg_read(struct virtio_mmio *m, uint64_t offset)
{
	struct virtio_dev *dev = m->dev;
	unsigned q = dev->queue_sel;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR:
		return VIRTIO_MMIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_read_device_features(dev, m->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return virtio_queue_num_max(dev, q);
	case VIRTIO_MMIO_QUEUE_READY:
		return virtio_queue_get_ready(dev, q);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return virtio_isr_get(dev);
	case VIRTIO_MMIO_STATUS:
		return virtio_get_status(dev);
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return virtio_queue_read_addr32(dev, q, area_of(offset), offset & 4);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return virtio_config_generation(dev);
	default:
		return 0; /* write-only and reserved registers */
	}
}

static void reg_write(struct virtio_mmio *m, uint64_t offset, uint32_t value)
{
	struct virtio_dev *dev = m->dev;
	unsigned q = dev->queue_sel;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_write_driver_features(dev, m->driver_features_sel, value);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		/* Kept as written: a queue the device lacks reads QueueNumMax 0. */
		dev->queue_sel = value > UINT16_MAX ? UINT16_MAX : (uint16_t)value;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		virtio_queue_set_num(dev, q, value > UINT16_MAX ? 0 : (uint16_t)value);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_queue_set_ready(dev, q, value & 1);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* With VIRTIO_F_NOTIFICATION_DATA (not offered) the high bits carry data. */
		virtio_queue_notify(dev, value & 0xffff);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		virtio_isr_ack(dev, (uint8_t)value);
		update_irq(m);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(dev, (uint8_t)value); /* 0 resets: mmio_reset() runs */
		update_irq(m);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		virtio_queue_write_addr32(dev, q, area_of(offset), offset & 4, value);
		break;
	default:
		break; /* read-only and reserved registers */
	}
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct virtio_mmio *m = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG)
		return virtio_config_read(m->dev, (uint32_t)(offset - VIRTIO_MMIO_CONFIG), size);
	if (size != 4 || (offset & 3))
		return 0;
	return reg_read(m, offset);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct virtio_mmio *m = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		virtio_config_write(m->dev, (uint32_t)(offset - VIRTIO_MMIO_CONFIG), size, value);
		return;
	}
	if (size != 4 || (offset & 3))
		return;
	reg_write(m, offset, (uint32_t)value);
}

static const struct bus_ops mmio_bus_ops = {
        .read = mmio_read,
        .write = mmio_write,
};

struct virtio_mmio *virtio_mmio_create(struct bus *bus, uint64_t base, struct irq_line irq,
                                       struct virtio_dev *dev, struct vk_error *err)
{
	struct virtio_mmio *m = calloc(1, sizeof(*m));
	int r;

	if (!m) {
		vk_error_errno(err, ENOMEM, "cannot create the virtio-mmio transport of %s",
		               virtio_dev_name(dev));
		return NULL;
	}
	m->bus = bus;
	m->base = base;
	m->irq = irq;
	m->dev = dev;
	snprintf(m->name, sizeof(m->name), "%s", virtio_dev_name(dev));
	r = bus_register(bus, base, VIRTIO_MMIO_SIZE, &mmio_bus_ops, m, m->name);
	if (r < 0) {
		vk_error_errno(err, -r, "cannot map %s at 0x%llx on the %s bus",
		               virtio_dev_name(dev), (unsigned long long)base, bus->name);
		free(m);
		return NULL;
	}
	virtio_dev_attach_transport(dev, &mmio_transport_ops, m);
	return m;
}

void virtio_mmio_destroy(struct virtio_mmio *m)
{
	if (!m)
		return;
	irq_lower(&m->irq);
	virtio_dev_attach_transport(m->dev, NULL, NULL);
	(void)bus_unregister(m->bus, m->base);
	free(m);
}

/* ---- the registry's record: the two feature selects, then the device -------- */

static void mmio_state_reset(void *opaque)
{
	struct virtio_mmio *m = opaque;

	virtio_reset(m->dev);
}

/* Its interrupt is a line the board sets synchronously: nothing to wait for after. */
static void mmio_state_quiesce(void *opaque)
{
	struct virtio_mmio *m = opaque;

	virtio_dev_quiesce(m->dev);
}

static void mmio_state_save(void *opaque, struct vm_state_buf *b)
{
	struct virtio_mmio *m = opaque;

	vm_state_put_u32(b, m->device_features_sel);
	vm_state_put_u32(b, m->driver_features_sel);
	virtio_dev_save(m->dev, b);
}

static int mmio_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                           struct vk_error *err)
{
	struct virtio_mmio *m = opaque;

	m->device_features_sel = vm_state_get_u32(r);
	m->driver_features_sel = vm_state_get_u32(r);
	return virtio_dev_load(m->dev, r, err);
}

static int mmio_state_post_load(void *opaque, struct vk_error *err)
{
	struct virtio_mmio *m = opaque;

	update_irq(m);
	return virtio_dev_post_load(m->dev, err);
}

static int mmio_state_handover(void *opaque, bool take, struct vk_error *err)
{
	struct virtio_mmio *m = opaque;

	return m->dev->ops->handover ? m->dev->ops->handover(m->dev, take, err) : 0;
}

static int mmio_state_disk_overlay(void *opaque, const char *path, struct vk_error *err)
{
	struct virtio_mmio *m = opaque;

	return m->dev->ops->disk_overlay(m->dev, path, err);
}

static const struct vm_device_ops mmio_state_ops = {
        .kind = "virtio-mmio",
        .version = 1,
        .reset = mmio_state_reset,
        .quiesce = mmio_state_quiesce,
        .save = mmio_state_save,
        .load = mmio_state_load,
        .post_load = mmio_state_post_load,
        .handover = mmio_state_handover,
};

/* The same for a disk: the registry counts disks by this op. */
static const struct vm_device_ops mmio_disk_state_ops = {
        .kind = "virtio-mmio",
        .version = 1,
        .reset = mmio_state_reset,
        .quiesce = mmio_state_quiesce,
        .save = mmio_state_save,
        .load = mmio_state_load,
        .post_load = mmio_state_post_load,
        .handover = mmio_state_handover,
        .disk_overlay = mmio_state_disk_overlay,
};

int virtio_mmio_register(struct virtio_mmio *m, struct vm_registry *reg, const char *name,
                         struct vk_error *err)
{
	return vm_registry_add(reg, name,
	                       m->dev->ops->disk_overlay ? &mmio_disk_state_ops : &mmio_state_ops,
	                       m, err);
}
