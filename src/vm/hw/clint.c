/* SPDX-License-Identifier: MIT */
/* RISC-V CLINT / ACLINT (MSWI + MTIMER): msip, mtimecmp and mtime registers. */
#include "vm/hw/clint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/registry.h"

#define CLINT_MSIP_BASE     0x0000
#define CLINT_MTIMECMP_BASE 0x4000
#define CLINT_MTIME         0xbff8

struct clint_hart {
	uint32_t msip;
	uint64_t mtimecmp;
	bool mtip;
	struct irq_line msip_line, mtip_line;
};

struct clint {
	struct bus *bus;
	uint64_t base;
	unsigned nr_harts;
	uint64_t (*get_time)(void *opaque);
	void *opaque;
	/* Guest writes to mtime move it relative to the board clock: mtime = board + offset,
	 * modulo 2^64 (unsigned, so a guest writing any value cannot overflow anything). */
	uint64_t time_offset;
	struct clint_hart *harts;
};

static uint64_t clint_time(const struct clint *clint)
{
	return clint->get_time(clint->opaque) +
	       __atomic_load_n(&clint->time_offset, __ATOMIC_ACQUIRE);
}

uint64_t clint_mtime(const struct clint *clint)
{
	return clint_time(clint);
}

uint64_t clint_mtimecmp(const struct clint *clint, unsigned hart)
{
	return hart < clint->nr_harts
	               ? __atomic_load_n(&clint->harts[hart].mtimecmp, __ATOMIC_ACQUIRE)
	               : UINT64_MAX;
}

/* Drive MTIP, always (a board whose harts also drive it themselves may have changed it). */
static void clint_update_hart(struct clint *clint, struct clint_hart *h, uint64_t now)
{
	h->mtip = now >= h->mtimecmp;
	irq_set(&h->mtip_line, h->mtip);
}

void clint_update(struct clint *clint)
{
	uint64_t now = clint_time(clint);

	for (unsigned i = 0; i < clint->nr_harts; i++)
		clint_update_hart(clint, &clint->harts[i], now);
}

uint64_t clint_ticks_to_deadline(const struct clint *clint)
{
	uint64_t now = clint_time(clint), best = UINT64_MAX;

	/*
	 * A raised MTIP needs no wake-up, and an all-ones mtimecmp is how firmware
	 * disarms the timer. MTIP is only re-evaluated by clint_update(), so time
	 * may have passed a deadline since: that hart needs an update now (0), not
	 * a sleep until a deadline that will never come again.
	 */
	for (unsigned i = 0; i < clint->nr_harts; i++) {
		const struct clint_hart *h = &clint->harts[i];
		if (h->mtip || h->mtimecmp == UINT64_MAX)
			continue;
		if (h->mtimecmp <= now)
			return 0;
		best = VK_MIN(best, h->mtimecmp - now);
	}
	return best;
}

/* Read size bytes at byte offset sub within a 64-bit register value. */
static uint64_t reg_read(uint64_t reg, uint64_t sub, unsigned size)
{
	uint64_t v = reg >> (8 * sub);
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static uint64_t reg_write(uint64_t reg, uint64_t sub, uint64_t value, unsigned size)
{
	uint64_t mask = size == 8 ? UINT64_MAX : ((1ull << (8 * size)) - 1);
	return (reg & ~(mask << (8 * sub))) | ((value & mask) << (8 * sub));
}

static uint64_t clint_read(void *opaque, uint64_t off, unsigned size)
{
	struct clint *clint = opaque;

	if (off & (size - 1))
		return 0;
	if (off < CLINT_MTIMECMP_BASE) {
		unsigned h = (unsigned)(off / 4);
		return h < clint->nr_harts && size == 4 ? clint->harts[h].msip : 0;
	}
	if (off >= CLINT_MTIME && off + size <= CLINT_MTIME + 8)
		return reg_read(clint_time(clint), off - CLINT_MTIME, size);
	if (off >= CLINT_MTIMECMP_BASE && off < CLINT_MTIME) {
		unsigned h = (unsigned)((off - CLINT_MTIMECMP_BASE) / 8);
		if (h < clint->nr_harts && size >= 4)
			return reg_read(clint->harts[h].mtimecmp, off % 8, size);
	}
	return 0;
}

static void clint_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct clint *clint = opaque;

	if (off & (size - 1))
		return;
	if (off < CLINT_MTIMECMP_BASE) {
		unsigned h = (unsigned)(off / 4);
		if (h < clint->nr_harts && size == 4) {
			struct clint_hart *hart = &clint->harts[h];
			hart->msip = value & 1;
			irq_set(&hart->msip_line, hart->msip);
		}
	} else if (off >= CLINT_MTIME && off + size <= CLINT_MTIME + 8) {
		uint64_t now = clint_time(clint);
		uint64_t want = reg_write(now, off - CLINT_MTIME, value, size);
		/* wraps modulo 2^64, as mtime does */
		__atomic_store_n(&clint->time_offset, clint->time_offset + (want - now),
		                 __ATOMIC_RELEASE);
		clint_update(clint);
	} else if (off >= CLINT_MTIMECMP_BASE && off < CLINT_MTIME && size >= 4) {
		unsigned h = (unsigned)((off - CLINT_MTIMECMP_BASE) / 8);
		if (h < clint->nr_harts) {
			struct clint_hart *hart = &clint->harts[h];
			__atomic_store_n(&hart->mtimecmp,
			                 reg_write(hart->mtimecmp, off % 8, value, size),
			                 __ATOMIC_RELEASE);
			clint_update_hart(clint, hart, clint_time(clint));
		}
	}
}

static const struct bus_ops clint_ops = {.read = clint_read, .write = clint_write};

struct clint *clint_create(struct bus *bus, uint64_t base, unsigned nr_harts,
                           const struct irq_line *msip, const struct irq_line *mtip,
                           uint64_t (*get_time)(void *opaque), void *opaque, struct vk_error *err)
{
	struct clint *clint;
	int r;

	if (nr_harts == 0 || nr_harts > CLINT_MAX_HART || !get_time) {
		vk_error_set(err, EINVAL, "CLINT: unsupported hart count %u", nr_harts);
		return NULL;
	}
	clint = calloc(1, sizeof(*clint));
	if (!clint || !(clint->harts = calloc(nr_harts, sizeof(*clint->harts)))) {
		free(clint);
		vk_error_set(err, ENOMEM, "CLINT: out of memory");
		return NULL;
	}
	clint->base = base;
	clint->nr_harts = nr_harts;
	clint->get_time = get_time;
	clint->opaque = opaque;
	for (unsigned i = 0; i < nr_harts; i++) {
		clint->harts[i].mtimecmp = UINT64_MAX; /* no timer until the guest sets one */
		clint->harts[i].msip_line = msip[i];
		clint->harts[i].mtip_line = mtip[i];
	}
	r = bus_register(bus, base, CLINT_SIZE, &clint_ops, clint, "clint");
	if (r < 0) {
		vk_error_errno(err, -r, "CLINT: cannot map at 0x%llx", (unsigned long long)base);
		clint_destroy(clint);
		return NULL;
	}
	clint->bus = bus;
	return clint;
}

void clint_destroy(struct clint *clint)
{
	if (!clint)
		return;
	if (clint->bus)
		bus_unregister(clint->bus, clint->base);
	free(clint->harts);
	free(clint);
}

/* ---- saving and restoring (registry.h) ------------------------------------------ */

/* msip and mtimecmp of every hart, and the offset of mtime from the board's clock (which
 * the board saves itself). MTIP follows from them once the clock is back (post_load). */
static void clint_state_save(void *opaque, struct vm_state_buf *b)
{
	struct clint *clint = opaque;

	vm_state_put_u32(b, clint->nr_harts);
	vm_state_put_u64(b, clint->time_offset);
	for (unsigned i = 0; i < clint->nr_harts; i++) {
		vm_state_put_u32(b, clint->harts[i].msip);
		vm_state_put_u64(b, clint->harts[i].mtimecmp);
	}
}

static int clint_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                            struct vk_error *err)
{
	struct clint *clint = opaque;
	uint32_t n = vm_state_get_u32(r);

	if (r->bad)
		return 0;
	if (n != clint->nr_harts)
		return vk_error_set(err, EINVAL, "CLINT of %u harts saved, this one has %u", n,
		                    clint->nr_harts);
	__atomic_store_n(&clint->time_offset, vm_state_get_u64(r), __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++) {
		struct clint_hart *h = &clint->harts[i];
		uint32_t msip = vm_state_get_u32(r);

		if (msip > 1)
			return vk_error_set(err, EINVAL, "CLINT: msip %u of hart %u", msip, i);
		h->msip = msip;
		__atomic_store_n(&h->mtimecmp, vm_state_get_u64(r), __ATOMIC_RELEASE);
		irq_set(&h->msip_line, h->msip);
	}
	return 0;
}

static int clint_state_post_load(void *opaque, struct vk_error *err)
{
	clint_update(opaque);
	return 0;
}

static const struct vm_device_ops clint_state_ops = {
        .kind = "clint",
        .version = 1,
        .save = clint_state_save,
        .load = clint_state_load,
        .post_load = clint_state_post_load,
};

int clint_register(struct clint *clint, struct vm_registry *reg, const char *name,
                   struct vk_error *err)
{
	return vm_registry_add(reg, name, &clint_state_ops, clint, err);
}
