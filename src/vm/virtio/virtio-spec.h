/* SPDX-License-Identifier: MIT */
/*
 * Numbers and wire layouts from the virtio 1.x specification (OASIS virtio
 * v1.1/v1.2): status bits, reserved feature bits, device ids, the split
 * virtqueue layout (section 2.7). No code: shared by the device core, the
 * transports, the unit tests and the fuzz harness (which play the driver).
 *
 * Everything in guest memory is little-endian.
 */
#ifndef VK_VM_VIRTIO_SPEC_H
#define VK_VM_VIRTIO_SPEC_H

#include <stdint.h>

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_RING_EVENT_IDX  29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED     34

/* Device ids (5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

/* ISR status bits (4.1.4.5): also the mmio InterruptStatus bits. */
#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

/* "No MSI-X vector" (4.1.4.3). */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Split virtqueue (2.7). */
#define VIRTQ_DESC_F_NEXT          1
#define VIRTQ_DESC_F_WRITE         2
#define VIRTQ_DESC_F_INDIRECT      4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Alignment the driver must respect for each part (2.7, table). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

struct virtq_desc {
	uint64_t addr; /* le64 guest-physical */
	uint32_t len;  /* le32 */
	uint16_t flags;
	uint16_t next;
};

/* Followed by ring[num] (le16) and used_event (le16, with EVENT_IDX). */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id; /* le32 head index, widened */
	uint32_t len;
};

/* Followed by ring[num] and avail_event (le16, with EVENT_IDX). */
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

/* Bytes of each part for a queue of num entries, event fields included. */
static inline uint64_t virtq_desc_size(unsigned num)
{
	return 16ull * num;
}

static inline uint64_t virtq_avail_size(unsigned num)
{
	return 6ull + 2ull * num;
}

static inline uint64_t virtq_used_size(unsigned num)
{
	return 6ull + 8ull * num;
}

/*
 * "Should the other side be notified?" (2.7.10 / 2.7.7.2): true when new_idx
 * moved past event_idx since old_idx. All arithmetic is modulo 2^16.
 */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif
