/* SPDX-License-Identifier: MIT */
/*
 * A tiny virtio driver for the unit tests: it plays the guest through the
 * virtio-mmio registers on a real struct bus, with rings and buffers in a
 * real struct vm_mem, and records the interrupt line the transport drives.
 */
#ifndef VK_TEST_VDRIVER_H
#define VK_TEST_VDRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm/bus.h"
#include "vm/mem.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/virtio.h"

#define VD_RAM_BASE  0x80000000ull
#define VD_RAM_SIZE  (4ull << 20)
#define VD_MMIO_BASE 0x10001000ull
#define VD_MAX_Q     6

struct vd_queue {
	uint16_t num;
	uint64_t desc, avail, used; /* guest-physical */
	uint16_t avail_idx;         /* driver's next avail index */
	uint16_t last_used;         /* driver's next used index to read */
	uint16_t next_desc;         /* next free descriptor (round robin) */
};

struct vdriver {
	struct vm_mem mem;
	struct bus bus;
	struct virtio_dev *dev;
	struct virtio_mmio *mmio;
	bool irq_level;
	unsigned irq_raises; /* low -> high transitions */
	uint64_t brk;        /* bump allocator for guest buffers */
	struct vd_queue q[VD_MAX_Q];
	FILE *log;         /* captured log lines */
	uint8_t *snapshot; /* copy of RAM for vd_check_untouched() */
	char blk_path[64]; /* the image of vd_init_blk(), removed by vd_fini() */
};

/* Set up RAM, bus and a log capture; then create the device on d->mem and attach it (owned). */
void vd_init(struct vdriver *d);
void vd_attach(struct vdriver *d, struct virtio_dev *dev);
void vd_fini(struct vdriver *d);

uint32_t vd_rd(struct vdriver *d, uint64_t off);
void vd_wr(struct vdriver *d, uint64_t off, uint32_t val);

/* ACKNOWLEDGE | DRIVER, write features, set FEATURES_OK; returns the status read back. */
uint32_t vd_negotiate(struct vdriver *d, uint64_t features);
/* Allocate rings for queue q of num entries and make it ready; returns QueueReady. */
uint32_t vd_setup_queue(struct vdriver *d, unsigned q, uint16_t num);
void vd_driver_ok(struct vdriver *d);
/* The usual bring-up: VERSION_1 + extra features, all queues of size num, DRIVER_OK. */
void vd_bringup(struct vdriver *d, uint64_t extra_features, unsigned nqueues, uint16_t num);

/* Guest memory. */
uint64_t vd_alloc(struct vdriver *d, uint64_t size, uint64_t align);
void *vd_ptr(struct vdriver *d, uint64_t gpa);

/* Descriptors and rings, written as a driver would (little-endian host). */
void vd_set_desc(struct vdriver *d, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next);
void vd_avail_push(struct vdriver *d, unsigned q, uint16_t head);
void vd_kick(struct vdriver *d, unsigned q);

struct vd_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};
/* Build a direct chain from free descriptors, publish it; returns the head. */
uint16_t vd_chain(struct vdriver *d, unsigned q, const struct vd_buf *bufs, unsigned n);
/* Build an indirect table in RAM and a one-descriptor chain pointing at it. */
uint16_t vd_chain_indirect(struct vdriver *d, unsigned q, const struct vd_buf *bufs, unsigned n);

/* Next used element, if any. */
bool vd_used(struct vdriver *d, unsigned q, uint32_t *id, uint32_t *len);
uint16_t vd_used_idx(struct vdriver *d, unsigned q);
void vd_set_used_event(struct vdriver *d, unsigned q, uint16_t v);
uint16_t vd_avail_event(struct vdriver *d, unsigned q);

/* Log capture: lines logged since vd_init. */
unsigned vd_log_lines(struct vdriver *d);
/* True when a captured log line contains s. */
bool vd_log_contains(struct vdriver *d, const char *s);

/* Remember RAM now; later, check nothing changed outside the allowed ranges. */
void vd_snapshot(struct vdriver *d);
struct vd_range {
	uint64_t gpa, len;
};
/* Returns the gpa of the first changed byte outside allowed, or 0 when none. */
uint64_t vd_changed_outside(struct vdriver *d, const struct vd_range *allowed, unsigned n);

/* ---- virtio-blk helpers ---- */

/* A temporary raw image of `sectors` sectors filled with vd_image_byte(); path is kept. */
void vd_blk_image(char path[64], unsigned sectors);
/* vd_init() with a virtio-blk attached on a fresh such image (d->blk_path). */
void vd_init_blk(struct vdriver *d, unsigned sectors, bool readonly, const char *serial);
static inline uint8_t vd_image_byte(uint64_t off)
{
	return (uint8_t)((off >> 9) * 7 + (off % 251));
}

struct vd_blkreq {
	uint64_t hdr, data, status; /* guest-physical */
	uint32_t data_len;
	uint16_t head;
};
#define VD_BLK_T_IN     0
#define VD_BLK_T_OUT    1
#define VD_BLK_T_FLUSH  4
#define VD_BLK_T_GET_ID 8
/* Build (and publish) a request on queue 0; status byte preset to 0xee. */
void vd_blk_submit(struct vdriver *d, struct vd_blkreq *r, uint32_t type, uint64_t sector,
                   uint32_t data_len, bool indirect);

#endif
