/* SPDX-License-Identifier: MIT */
/*
 * The interface between a board and the program that runs it, in both directions:
 *   - struct vm_machine_config: the machine to build, board-neutral (no command line, no
 *     control socket); main/config.c fills it from `virtkit-vm run` options.
 *   - struct vm_control_ops: the machine's controls, which the board hands back once the
 *     machine is built (status, pause, resume, powerdown, quit).
 *   - struct vm_monitor: what the program offers a board to be watched and steered: the
 *     board attaches its loop and controls, reports events, and detaches with its run
 *     statistics before it tears the machine down. main/ wires the control socket and
 *     --stats to it; a board never knows either.
 *
 * Boards include this file and the device core below it, never main/.
 */
#ifndef VK_VM_MACHINE_H
#define VK_VM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define VM_MAX_DISKS 8
#define VM_MAX_NETS  4
#define VM_MAX_CPUS  64

struct json_object;
struct vm_loop;
struct vm_mem;
struct vm_registry;

enum vm_on_reset {
	VM_ON_RESET_EXIT,   /* a guest reset ends the run with status 0 (Firecracker) */
	VM_ON_RESET_REBOOT, /* restart the guest */
};

enum vm_boot {
	VM_BOOT_KERNEL, /* firmware enters --kernel (or the bare-metal program runs alone) */
	VM_BOOT_DISK,   /* firmware and a boot loader find the kernel on the first disk */
};

struct vm_machine_config {
	const char *arch;  /* "riscv64" or "x86_64" */
	const char *accel; /* "kvm" or "emu" */
	uint64_t memory;   /* bytes */
	unsigned cpus;
	enum vm_boot boot;
	const char *kernel;   /* NULL: none (VM_BOOT_DISK) */
	const char *initrd;   /* NULL: none */
	const char *cmdline;  /* NULL: empty */
	const char *firmware; /* NULL: the board's default; "none": boot the kernel directly */
	const char *disks[VM_MAX_DISKS]; /* "path[,readonly]" as given */
	unsigned nr_disks;
	const char *nets[VM_MAX_NETS]; /* "user[,hostfwd=...]", "tap,ifname=X", "echo" as given */
	unsigned nr_nets;
	bool rng;
	const char *console;        /* chardev spec of the serial console, default "stdio" */
	const char *virtio_console; /* chardev spec of a virtio-console (hvc0), NULL: none */
	/* A guest-agent port (org.qemu.guest_agent.0) on a multiport virtio-console, which the
	 * board's powerdown uses before anything else (riscv64). */
	bool agent;
	enum vm_on_reset on_reset;
	/* x86_64: virtio devices on virtio-mmio (with virtio_mmio.device= on the command
	 * line) instead of virtio-pci; riscv64 always uses virtio-mmio. */
	bool virtio_mmio;
	/* riscv64: run guest code on the binary translator (default on x86-64 hosts) or
	 * on the interpreter; jit_cache: bytes of code memory, 0 for the default. */
	bool jit;
	uint64_t jit_cache;
	/* The machine's state will come from a live migration (--incoming): open the disks
	 * without their locks, which the source hands over at the switchover. */
	bool incoming;
};

/* The machine's controls. Every callback runs on the loop's thread under the machine lock. */
struct vm_control_ops {
	/* Add the machine's fields to a status reply ("state", "arch", ...). */
	void (*status)(void *opaque, struct json_object *reply);
	int (*pause)(void *opaque, struct vk_error *err);
	int (*resume)(void *opaque, struct vk_error *err);
	int (*powerdown)(void *opaque, struct vk_error *err);
	/* Stop the machine; the process exits with status 0 once it has. */
	void (*quit)(void *opaque);

	/*
	 * Saving and migrating (main/migrate.c drives them, docs/virtkit-vm.md).
	 * registry: the machine object (registry.h); NULL: the board cannot save.
	 * The CPU calls are made from a thread of main's, WITHOUT the machine lock:
	 * cpus_stop() stops every CPU and waits until each has (0, or -errno with
	 * err set when the machine is ending); cpus_resume() undoes one cpus_stop().
	 * The dirty-log calls are made with every CPU stopped and the machine lock
	 * held: dirty_start() starts tracking guest RAM writes into the RAM's dirty
	 * log (vm_mem_dirty_*; all of RAM counts as sent), dirty_sync() makes the
	 * log complete up to now and re-arms the tracking for the next round, and
	 * dirty_stop() ends it. no_live: why this machine cannot track its RAM
	 * writes (live migration is refused with it), or NULL.
	 * finish(): the machine's state went to a file or another process and this
	 * one ends: like quit, with reason ("saved", "migrated") in the shutdown event.
	 */
	struct vm_registry *(*registry)(void *opaque);
	int (*cpus_stop)(void *opaque, struct vk_error *err);
	void (*cpus_resume)(void *opaque);
	int (*dirty_start)(void *opaque, struct vk_error *err);
	void (*dirty_sync)(void *opaque);
	void (*dirty_stop)(void *opaque);
	const char *(*no_live)(void *opaque);
	void (*finish)(void *opaque, const char *reason);
};

/* What a run cost, handed to the monitor when the board detaches. */
struct vm_run_stats {
	uint64_t start_ns;           /* vk_now_ns() when the board started building */
	uint64_t instructions;       /* guest instructions, 0 when the backend cannot count */
	const struct vm_mem *memory; /* guest RAM, still mapped */
	char cpu_detail[512];  /* the CPU backend's own figures ("jit=on blocks=..."), or "" */
	char boot_detail[512]; /* what the board booted ("firmware=opensbi,binary ..."), or "" */
};

struct vm_monitor {
	/*
	 * The machine is built: its loop and its controls (called with machine as opaque)
	 * until detach. Returns 0 or -errno with err set; the board then tears down.
	 */
	int (*attach)(void *opaque, struct vm_loop *loop, const struct vm_control_ops *ops,
	              void *machine, struct vk_error *err);
	/* Something happened: "paused", "resumed", "shutdown" (with a reason and a detail,
	 * each may be NULL). Loop thread, machine lock held. */
	void (*event)(void *opaque, const char *event, const char *reason, const char *detail);
	/* The run is over and the loop still exists: let go of it. Called once, attached or
	 * not, before the board frees the machine. */
	void (*detach)(void *opaque, const struct vm_run_stats *stats);
	/*
	 * Optional: the machine's state comes from a saved file or a migration, not from
	 * booting. Called once the machine is built and attached, before any CPU runs,
	 * with the machine lock held: load every device's state into reg
	 * (vm_registry_load()). 0 or -errno with err set; the board then tears down.
	 */
	int (*restore)(void *opaque, struct vm_registry *reg, struct vk_error *err);
	void *opaque;
};

/* Calls a board makes; each does nothing when mon or its callback is NULL. */
static inline int vm_monitor_attach(const struct vm_monitor *mon, struct vm_loop *loop,
                                    const struct vm_control_ops *ops, void *machine,
                                    struct vk_error *err)
{
	return mon && mon->attach ? mon->attach(mon->opaque, loop, ops, machine, err) : 0;
}

static inline void vm_monitor_event(const struct vm_monitor *mon, const char *event,
                                    const char *reason, const char *detail)
{
	if (mon && mon->event)
		mon->event(mon->opaque, event, reason, detail);
}

static inline bool vm_monitor_restores(const struct vm_monitor *mon)
{
	return mon && mon->restore;
}

static inline int vm_monitor_restore(const struct vm_monitor *mon, struct vm_registry *reg,
                                     struct vk_error *err)
{
	return mon->restore(mon->opaque, reg, err);
}

static inline void vm_monitor_detach(const struct vm_monitor *mon, const struct vm_run_stats *st)
{
	if (mon && mon->detach)
		mon->detach(mon->opaque, st);
}

#endif
