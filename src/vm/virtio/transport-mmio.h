/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (virtio 1.x, 4.2; modern devices
 * only, the legacy version-1 register layout is not offered). One instance
 * puts one struct virtio_dev on the bus at [base, base + VIRTIO_MMIO_SIZE)
 * and drives one level-triggered interrupt line: high while InterruptStatus
 * (the device's ISR) is non-zero, lowered by InterruptACK or a reset.
 *
 * Registers 0x000-0x0ff take aligned 32-bit accesses only; other accesses
 * read as 0 and are ignored. The device configuration space at 0x100 takes
 * 1, 2, 4 and 8-byte accesses.
 */
#ifndef VK_VM_VIRTIO_TRANSPORT_MMIO_H
#define VK_VM_VIRTIO_TRANSPORT_MMIO_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_MMIO_SIZE      0x200
#define VIRTIO_MMIO_MAGIC     0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR_ID 0x54494b56 /* "VKIT" */

/* Register offsets (4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR              0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

struct virtio_mmio;

/*
 * Register dev at [base, base + VIRTIO_MMIO_SIZE) on bus, interrupting
 * through irq. The transport does not own dev: destroy the transport first,
 * then the device. Returns NULL with a reason in err (the range is taken).
 */
struct virtio_mmio *virtio_mmio_create(struct bus *bus, uint64_t base, struct irq_line irq,
                                       struct virtio_dev *dev, struct vk_error *err);
/* Unregister from the bus and free; NULL is accepted. */
void virtio_mmio_destroy(struct virtio_mmio *m);

/* Enter m (transport and device) in the machine's registry under name: reset is a device
 * reset, save/load carry the transport's registers and the device (virtio_dev_save()). */
struct vm_registry;
int virtio_mmio_register(struct virtio_mmio *m, struct vm_registry *reg, const char *name,
                         struct vk_error *err) VK_MUST_CHECK;

#endif
