/* SPDX-License-Identifier: MIT */
/*
 * Pieces the fuzz harnesses share: a reader over the fuzz input (reads past
 * the end give zeros), guest RAM between two PROT_NONE guard pages (a host
 * access outside it faults at once), and an in-memory block backend (no file
 * I/O while fuzzing; it aborts on a range the device should have refused).
 */
#ifndef VK_FUZZ_COMMON_H
#define VK_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/backend/block.h"

struct fz_reader {
	const uint8_t *p;
	size_t left;
};

uint8_t fz_get8(struct fz_reader *r);
uint16_t fz_get16(struct fz_reader *r);
uint32_t fz_get32(struct fz_reader *r);
uint64_t fz_get64(struct fz_reader *r);

/* size bytes of zeroed RAM between guard pages (aborts on failure; never freed). */
uint8_t *fz_guarded_ram(size_t size);

#define FZ_DISK_SIZE (64 * 512)

struct fz_disk {
	struct block_backend be;
	uint8_t data[FZ_DISK_SIZE];
};

/* Set up d as a writable disk of FZ_DISK_SIZE bytes (its close does nothing). */
void fz_disk_init(struct fz_disk *d);

#endif
