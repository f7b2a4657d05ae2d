/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory: RAM regions backed by anonymous mmap, and the one
 * bounds-checked helper every device uses to reach guest memory.
 *
 * Trust boundary: any (gpa, len) pair a guest hands us goes through
 * vm_mem_translate() (or vm_mem_read/write), which refuses ranges that are not
 * entirely inside one RAM region, including ranges whose end overflows.
 *
 * Regions are added while the machine is built and never change once vCPUs
 * run, so lookups need no lock.
 */
#ifndef VK_VM_MEM_H
#define VK_VM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VM_MEM_MAX_REGIONS 8

struct vm_mem_region {
	uint64_t gpa;  /* guest-physical base */
	uint64_t size; /* bytes, a multiple of the host page size */
	uint8_t *host; /* host mapping of gpa */
	/* While the dirty log runs: one bit per 4 KiB page written since the last harvest
	 * (atomic OR from any thread, atomic exchange by the harvester). */
	uint64_t *dirty;
};

struct vm_mem {
	unsigned nr;
	struct vm_mem_region regions[VM_MEM_MAX_REGIONS];
	/*
	 * Optional, set while the machine is built: told about every write into
	 * RAM that does not come from a CPU (device DMA through virtqueues,
	 * vm_mem_write), so that a binary translator can drop the code it
	 * translated from those bytes. Called from any thread.
	 */
	void (*write_hook)(void *opaque, const void *host, size_t len);
	void *write_hook_opaque;
	/* The dirty log runs (atomic; see vm_mem_dirty_log_start). */
	bool dirty_log;
};

#define VM_MEM_DIRTY_PAGE 4096u

/* Mark [host, host+len) dirty in the log (any thread; nothing when the log is off). */
void vm_mem_mark_dirty(const struct vm_mem *mem, const void *host, size_t len);

static inline bool vm_mem_dirty_logging(const struct vm_mem *mem)
{
	return __atomic_load_n(&mem->dirty_log, __ATOMIC_RELAXED);
}

/* Report a write of len bytes at host address host inside guest RAM (see write_hook): the
 * translator drops code, the dirty log records the pages. */
static inline void vm_mem_note_write(const struct vm_mem *mem, const void *host, size_t len)
{
	if (!len)
		return;
	if (vm_mem_dirty_logging(mem))
		vm_mem_mark_dirty(mem, host, len);
	if (mem->write_hook)
		mem->write_hook(mem->write_hook_opaque, host, len);
}

/*
 * The dirty log, for live migration: which 4 KiB pages of RAM were written
 * since the last harvest. Device writes are recorded by vm_mem_note_write();
 * CPU stores by the CPU backend, which must look at vm_mem_dirty_logging()
 * (the riscv64 CPU withholds write permission from its soft TLB for pages not
 * yet dirty: rv_cpu_track_dirty()). start clears (allocates) the bitmaps, stop
 * ends the log and keeps them until vm_mem_destroy(): call start with every
 * CPU stopped and the machine lock held (devices mark from the loop).
 */
int vm_mem_dirty_log_start(struct vm_mem *mem, struct vk_error *err) VK_MUST_CHECK;
void vm_mem_dirty_log_stop(struct vm_mem *mem);
/* True when the page holding host is marked (the log runs). */
bool vm_mem_page_dirty(const struct vm_mem *mem, const void *host);
/* Move region i's bits into out (size: vm_mem_dirty_words() words) and clear them;
 * returns the number of pages that were marked. */
uint64_t vm_mem_dirty_harvest(struct vm_mem *mem, unsigned i, uint64_t *out);
size_t vm_mem_dirty_words(const struct vm_mem_region *r);

void vm_mem_init(struct vm_mem *mem);

/*
 * Map size bytes of anonymous RAM at guest-physical gpa. Fails on overlap,
 * zero or unaligned sizes, gpa+size overflow, or when mmap fails.
 */
int vm_mem_add_ram(struct vm_mem *mem, uint64_t gpa, uint64_t size,
                   struct vk_error *err) VK_MUST_CHECK;

/* Unmap every region. */
void vm_mem_destroy(struct vm_mem *mem);

/*
 * Host pointer for [gpa, gpa+len), or NULL if any byte of it is outside RAM
 * or the range spans two regions. len 0 is accepted when gpa is inside RAM.
 */
void *vm_mem_translate(const struct vm_mem *mem, uint64_t gpa, uint64_t len);

/* The region containing gpa, or NULL. */
const struct vm_mem_region *vm_mem_find(const struct vm_mem *mem, uint64_t gpa);

/* Copy to/from guest memory: 0 or -EFAULT when the range is not all RAM. */
int vm_mem_read(const struct vm_mem *mem, uint64_t gpa, void *dst, uint64_t len) VK_MUST_CHECK;
int vm_mem_write(const struct vm_mem *mem, uint64_t gpa, const void *src,
                 uint64_t len) VK_MUST_CHECK;

/* Bytes of guest RAM currently resident in host memory (mincore). */
uint64_t vm_mem_resident(const struct vm_mem *mem);

/* Total RAM in bytes. */
uint64_t vm_mem_total(const struct vm_mem *mem);

#endif
