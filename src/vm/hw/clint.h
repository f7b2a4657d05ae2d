/* SPDX-License-Identifier: MIT */
/*
 * RISC-V CLINT (SiFive layout, compatible with ACLINT MSWI + MTIMER as on
 * QEMU's virt board): per-hart software interrupt (msip) and timer compare
 * (mtimecmp) registers, and the shared mtime counter.
 *
 * Time comes from the board (get_time, in mtime ticks) so that the board can
 * stop guest time while paused. MTIP is level, driven on every mtimecmp or
 * mtime write; as time passes, either the board calls clint_update() whenever
 * time may have passed a deadline (each run slice, after a sleep) and sleeps
 * no longer than clint_ticks_to_deadline(), or each hart thread compares
 * clint_mtime() with its clint_mtimecmp() itself (docs/threading.md).
 *
 * Locking: registers are accessed under the machine lock; mtimecmp and the
 * mtime offset are stored atomically so that clint_mtime() and
 * clint_mtimecmp() may be called from any thread without it.
 */
#ifndef VK_HW_CLINT_H
#define VK_HW_CLINT_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define CLINT_SIZE     0x10000
#define CLINT_FREQ_HZ  10000000ull
#define CLINT_MAX_HART 4095

struct clint;

struct clint *clint_create(struct bus *bus, uint64_t base, unsigned nr_harts,
                           const struct irq_line *msip, const struct irq_line *mtip,
                           uint64_t (*get_time)(void *opaque), void *opaque, struct vk_error *err);
void clint_destroy(struct clint *clint);

/* Enter clint in the machine's registry (registry.h). */
struct vm_registry;
int clint_register(struct clint *clint, struct vm_registry *reg, const char *name,
                   struct vk_error *err) VK_MUST_CHECK;

/* mtime now, and hart's mtimecmp (UINT64_MAX for a hart that does not exist). Any thread. */
uint64_t clint_mtime(const struct clint *clint);
uint64_t clint_mtimecmp(const struct clint *clint, unsigned hart);

/* Re-evaluate every hart's MTIP against the current time. */
void clint_update(struct clint *clint);

/*
 * Ticks until the earliest mtimecmp whose MTIP is not raised yet: 0 when time
 * has already passed it (call clint_update()), UINT64_MAX when none is armed
 * (an all-ones mtimecmp counts as disarmed).
 */
uint64_t clint_ticks_to_deadline(const struct clint *clint);

#endif
