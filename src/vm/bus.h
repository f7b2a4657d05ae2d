/* SPDX-License-Identifier: MIT */
/*
 * The bus: address ranges (MMIO or port I/O) mapped to device handlers.
 *
 * A CPU backend turns every guest access it cannot satisfy from RAM into one
 * bus_read()/bus_write(); it never knows which devices exist. Handlers receive
 * the offset inside their range and an access size of 1, 2, 4 or 8 bytes;
 * a written value holds only the bytes of the access (bus_write() masks it).
 *
 * Concurrency: registration and removal happen while no CPU runs. Dispatch is
 * serialized by the machine lock (loop.h): the KVM backend takes it around its
 * accesses; a bus given a lock with bus_set_lock() takes it around each
 * bus_read()/bus_write() itself (the riscv64 board's hart threads).
 */
#ifndef VK_VM_BUS_H
#define VK_VM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"

struct bus_ops {
	/* Return the value read; unimplemented registers read as 0. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "mmio" or "pio", for messages */
	unsigned nr, cap;
	struct bus_range *ranges; /* sorted by base, never overlapping */
	/* Optional lock held around each dispatch (bus_set_lock). */
	void (*lock)(void *opaque);
	void (*unlock)(void *opaque);
	void *lock_opaque;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/*
 * Map [base, base+len) to ops/opaque. Returns 0, -EINVAL (len 0 or wraps),
 * -EEXIST (overlaps an existing range) or -ENOMEM.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
                 void *opaque, const char *name) VK_MUST_CHECK;

/* Take lock(opaque) / unlock(opaque) around every bus_read() and bus_write(). */
void bus_set_lock(struct bus *bus, void (*lock)(void *opaque), void (*unlock)(void *opaque),
                  void *opaque);

/* Remove the range that starts at base. Returns 0 or -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base);

/* The range containing addr, or NULL. */
const struct bus_range *bus_lookup(const struct bus *bus, uint64_t addr);

/*
 * Dispatch an access of size 1, 2, 4 or 8. Returns false when no range covers
 * [addr, addr+size) (the CPU backend decides what that means: an access
 * fault, or reads of all-ones on x86 port I/O). An access that straddles the
 * end of a range is refused the same way.
 */
bool bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *value);
bool bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t value);

#endif
