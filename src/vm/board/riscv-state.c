/* SPDX-License-Identifier: MIT */
/*
 * Saving and restoring the riscv64 virt board: what it enters in its machine
 * object (registry.h), in this order, which is also the order of a state
 * file's records:
 *   "virt"           the guest clock (mtime) and whether the machine is paused, below
 *   "cpu0".."cpuN"   the harts (emu/riscv64/cpu-state.c); reset = the boot entry
 *   "clint", "plic", "uart", "virtio-mmio.0".. (their own files)
 * and the state controls main/ drives (machine.h): stopping the harts with a
 * hold (riscv-harts.h), the dirty log through the soft TLB
 * (rv_cpu_track_dirty()), and ending the run once the state has gone.
 *
 * The guest clock: mtime = (host ns - clock_base_ns) / 100. The record keeps
 * mtime and the host's wall clock at the save; a restore sets clock_base_ns
 * so that mtime goes on from the saved value (the guest does not see the
 * time it spent in a file), and for a migration (reg->live_clock) also adds
 * the wall-clock time the switchover took, as a guest on real hardware would
 * see it pass.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "common/util.h"
#include "vm/board/riscv-virt-board.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/uart16550.h"
#include "vm/loop.h"
#include "vm/state.h"
#include "vm/virtio/transport-mmio.h"

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the board's own record: the guest clock -------------------------------------- */

static void clock_save(void *opaque, struct vm_state_buf *buf)
{
	struct virt_board *b = opaque;
	/* Paused: guest time stood still at the pause. */
	uint64_t now = b->pause_reported ? b->paused_at_ns : vk_now_ns();

	vm_state_put_u64(buf, (now - b->clock_base_ns) / NS_PER_TICK);
	vm_state_put_u64(buf, realtime_ns());
	vm_state_put_bool(buf, b->reg.live_clock);
	vm_state_put_bool(buf, b->paused); /* version 2 */
}

static int clock_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct virt_board *b = opaque;
	uint64_t mtime = vm_state_get_u64(r), wall = vm_state_get_u64(r), now;
	bool live = vm_state_get_bool(r);
	bool paused = version >= 2 && vm_state_get_bool(r);

	if (r->bad)
		return 0;
	now = realtime_ns();
	/* A paused guest's time stands still, across a switchover too. */
	if (live && !paused && now > wall)
		mtime += (now - wall) / NS_PER_TICK;
	if (mtime > UINT64_MAX / 2 / NS_PER_TICK)
		return vk_error_set(err, EINVAL, "guest time %llu ticks is out of range",
		                    (unsigned long long)mtime);
	/* Modulo 2^64, as virt_mtime() subtracts. */
	__atomic_store_n(&b->clock_base_ns, vk_now_ns() - mtime * NS_PER_TICK, __ATOMIC_RELEASE);
	/* riscv_virt_main() parks the harts before they run (the paused event follows). */
	b->paused = paused;
	b->pause_reported = false;
	return 0;
}

/* Version 2 added whether the machine was paused: a paused machine comes back paused. */
static const struct vm_device_ops clock_ops = {
        .kind = "riscv-virt clock",
        .version = 2,
        .save = clock_save,
        .load = clock_load,
};

/* ---- harts ------------------------------------------------------------------------ */

static void hart_reset(void *opaque)
{
	struct virt_hart_ref *ref = opaque;

	virt_reset_hart(ref->b, ref->h);
}

static void hart_save(void *opaque, struct vm_state_buf *buf)
{
	struct virt_hart_ref *ref = opaque;

	rv_cpu_save(ref->b->harts[ref->h], buf);
}

static int hart_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct virt_hart_ref *ref = opaque;

	return rv_cpu_load(ref->b->harts[ref->h], r, version, err);
}

static const struct vm_device_ops hart_ops = {
        .kind = "riscv64 hart",
        .version = RV_CPU_STATE_VERSION,
        .reset = hart_reset,
        .save = hart_save,
        .load = hart_load,
};

int virt_state_register(struct virt_board *b, struct vk_error *err)
{
	char name[32];
	int r;

	vm_registry_init(&b->reg, &b->mem, "riscv64", "virt");
	r = vm_registry_add(&b->reg, "virt", &clock_ops, b, err);
	for (unsigned h = 0; r == 0 && h < b->nr_harts; h++) {
		b->hart_ref[h] = (struct virt_hart_ref){.b = b, .h = h};
		snprintf(name, sizeof(name), "cpu%u", h);
		r = vm_registry_add(&b->reg, name, &hart_ops, &b->hart_ref[h], err);
	}
	if (r == 0)
		r = clint_register(b->clint, &b->reg, "clint", err);
	if (r == 0)
		r = plic_register(b->plic, &b->reg, "plic", err);
	if (r == 0)
		r = uart16550_register(b->uart, &b->reg, "uart", err);
	for (unsigned i = 0; r == 0 && i < b->nr_virtio; i++) {
		snprintf(name, sizeof(name), "virtio-mmio.%u", i);
		r = virtio_mmio_register(b->virtio_mmio[i], &b->reg, name, err);
	}
	return r;
}

/* ---- the state controls (machine.h) ---------------------------------------------- */

struct vm_registry *virt_ctl_registry(void *opaque)
{
	struct virt_board *b = opaque;

	return &b->reg;
}

int virt_ctl_cpus_stop(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	rv_harts_hold(&b->threads);
	if (rv_harts_wait_held(&b->threads) < 0) {
		rv_harts_release(&b->threads);
		return vk_error_set(err, ESHUTDOWN, "the machine is shutting down");
	}
	return 0;
}

void virt_ctl_cpus_resume(void *opaque)
{
	struct virt_board *b = opaque;

	rv_harts_release(&b->threads);
}

int virt_ctl_dirty_start(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;
	int r = vm_mem_dirty_log_start(&b->mem, err);

	if (r == 0)
		virt_ctl_dirty_sync(b);
	return r;
}

/* Every hart is parked: no TLB fill or store is under way, so none races the re-arming. */
void virt_ctl_dirty_sync(void *opaque)
{
	struct virt_board *b = opaque;

	for (unsigned h = 0; h < b->nr_harts; h++)
		rv_cpu_track_dirty(b->harts[h]);
}

void virt_ctl_dirty_stop(void *opaque)
{
	struct virt_board *b = opaque;

	vm_mem_dirty_log_stop(&b->mem);
}

const char *virt_ctl_no_live(void *opaque)
{
	return NULL; /* the software CPU tracks every store */
}

void virt_ctl_finish(void *opaque, const char *reason)
{
	struct virt_board *b = opaque;

	if (b->stop == VIRT_RUNNING)
		b->finish_reason = reason;
	virt_request_stop(b, VIRT_STOP_FINISH, 0);
}
