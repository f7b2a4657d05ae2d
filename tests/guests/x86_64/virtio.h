/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio 1.x driver for the test guests: modern virtio-pci (with
 * MSI-X) or virtio-mmio version 2, split virtqueues of 16 entries, polling of
 * the used ring after an interrupt.
 */
#ifndef VK_GUEST_VIRTIO_H
#define VK_GUEST_VIRTIO_H

#include "guest.h"

#define VQ_SIZE            16
#define VQ_MAX             2
#define VIRTIO_F_VERSION_1 32

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define VRING_DESC_F_NEXT  1
#define VRING_DESC_F_WRITE 2

struct vring_avail {
	uint16_t flags, idx, ring[VQ_SIZE], used_event;
};

struct vring_used_elem {
	uint32_t id, len;
};

struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[VQ_SIZE];
	uint16_t avail_event;
};

struct vq {
	struct vring_desc desc[VQ_SIZE] __attribute__((aligned(16)));
	struct vring_avail avail __attribute__((aligned(2)));
	struct vring_used used __attribute__((aligned(4)));
	uint16_t last_used;
	uint16_t next_desc;
	uint16_t notify_off;
};

struct vdev {
	bool mmio;
	uint64_t base; /* mmio registers, or BAR-based windows below */
	unsigned slot;
	uint64_t common, isr, device, notify;
	uint32_t notify_mult;
	uint64_t msix_table;
	uint8_t msix_cap;
	struct vq *vq[VQ_MAX];
};

struct vbuf {
	void *addr;
	uint32_t len;
	bool write; /* device-writable */
};

/*
 * Bring a device to FEATURES_OK with VERSION_1 plus `features` (bits 0-31).
 * PCI: find the capabilities, and when msix_vector_base is non-zero enable
 * MSI-X with vector i (IDT vector msix_vector_base + i) for queue i.
 */
void vdev_pci_init(struct vdev *d, unsigned slot, uint32_t features, uint8_t msix_vector_base);
void vdev_mmio_init(struct vdev *d, uint64_t base, uint32_t device_id, uint32_t features);
void vdev_setup_queue(struct vdev *d, unsigned q, struct vq *vq);
void vdev_driver_ok(struct vdev *d);
uint8_t vdev_status(struct vdev *d);
/* Device configuration space. */
uint8_t vdev_cfg8(struct vdev *d, unsigned off);
uint32_t vdev_cfg32(struct vdev *d, unsigned off);

/* Post a chain and notify. Returns the head descriptor. */
uint16_t vq_submit(struct vdev *d, unsigned q, const struct vbuf *bufs, unsigned n);
/* A used element, or false when there is none yet. */
bool vq_used(struct vdev *d, unsigned q, uint32_t *id, uint32_t *len);
/* mmio: read InterruptStatus and acknowledge it. pci: read (and clear) the ISR. */
uint32_t vdev_ack_interrupt(struct vdev *d);

#endif
