/* SPDX-License-Identifier: MIT */
/*
 * The machine object: the guest RAM, and the list of its CPUs and devices,
 * each with reset, save and load. Both boards build one while they build the
 * machine (CPUs first, then devices, in the order the guest sees them); a
 * guest reset, saving and restoring, and live migration walk it instead of
 * knowing the board's devices.
 *
 * A device's state is one DEVICE record of the state format (state.h), named
 * by its instance name ("cpu0", "uart", "virtio-mmio.2"), with the device's
 * own state version: load() gets the version the record was written with and
 * refuses what it does not know. load() treats the payload as hostile (every
 * index and length checked against the device as built) and may leave the
 * device half-loaded on error: a failed restore never runs the machine.
 *
 * Threads: every call runs under the machine lock with every CPU stopped
 * (parked riscv64 harts, KVM vCPUs out of KVM_RUN).
 */
#ifndef VK_VM_REGISTRY_H
#define VK_VM_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "common/error.h"
#include "vm/state.h"

#define VM_REGISTRY_MAX 96 /* VM_MAX_CPUS CPUs and the devices */

struct vm_mem;

struct vm_device_ops {
	const char *kind; /* "uart16550", for messages */
	uint32_t version; /* the state version save() writes, and the newest load() reads */
	/* Optional: back to the power-on state (a guest reset with --on-reset reboot). */
	void (*reset)(void *opaque);
	/* Optional: before any record is saved, finish the work in flight (a disk's requests)
	 * and see the interrupts it ends with delivered: the CPUs and the interrupt
	 * controllers are saved first, and must hold them. */
	void (*quiesce)(void *opaque);
	/* Optional (no state to keep): append the device's state to b. */
	void (*save)(void *opaque, struct vm_state_buf *b);
	/* Instead of save, for state that can fail to be read (a KVM ioctl): 0, or -errno
	 * with err set (the save fails, naming the device). */
	int (*save_checked)(void *opaque, struct vm_state_buf *b, struct vk_error *err);
	/* Required with save or save_checked: read what save() wrote (version <= ops->version). */
	int (*load)(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err);
	/* Optional: after every record (RAM included) was loaded: re-walk chains held in
	 * guest memory, look at queues the driver filled meanwhile. */
	int (*post_load)(void *opaque, struct vk_error *err);
	/* Optional: a migration's switchover: let go of (take false) or take (take true) the
	 * host resources another machine process needs (disk image locks). */
	int (*handover)(void *opaque, bool take, struct vk_error *err);
	/* Optional, disks only (the registry counts disks by it): put a new qcow2 image at
	 * path over the disk's image, which becomes its read-only backing file. */
	int (*disk_overlay)(void *opaque, const char *path, struct vk_error *err);
};

struct vm_registry_entry {
	char name[VM_STATE_NAME_MAX + 1];
	const struct vm_device_ops *ops;
	void *opaque;
	bool loaded; /* a record was loaded during the current restore */
};

struct vm_registry {
	struct vm_mem *mem;
	const char *arch;  /* "riscv64", "x86_64": the state header's */
	const char *board; /* "virt", "pc" */
	/* Set by whoever saves: the guest's clock goes on across the gap (a migration's
	 * switchover) instead of standing still while the state waits in a file. */
	bool live_clock;
	unsigned nr;
	struct vm_registry_entry entry[VM_REGISTRY_MAX];
};

void vm_registry_init(struct vm_registry *reg, struct vm_mem *mem, const char *arch,
                      const char *board);

/* Register a device under a unique name (format's name rules); -EEXIST, -ENOSPC. */
int vm_registry_add(struct vm_registry *reg, const char *name, const struct vm_device_ops *ops,
                    void *opaque, struct vk_error *err) VK_MUST_CHECK;

/* Reset every device that has a reset, in registration order. */
void vm_registry_reset(struct vm_registry *reg);

/* Every device's state as DEVICE records, in registration order, once every device
 * with a quiesce op has settled. */
int vm_registry_save(struct vm_registry *reg, struct vm_state_out *out,
                     struct vk_error *err) VK_MUST_CHECK;

/*
 * The pages of guest RAM that are not zero, as RAM records (what a saved file
 * holds). With only_dirty, the pages set in the RAM's dirty bitmaps instead
 * (vm_mem_dirty_*), zero or not, sent as they are now; *pages counts them.
 */
int vm_registry_save_ram(struct vm_registry *reg, struct vm_state_out *out,
                         const uint64_t *const *dirty, uint64_t *pages,
                         struct vk_error *err) VK_MUST_CHECK;

/*
 * Read records until END, applying RAM to guest memory and DEVICE records to
 * their devices; then check that every device that saves state got its
 * record, and run every post_load. Names the record or device at fault.
 * *ram_bytes (may be NULL) counts the RAM bytes received.
 */
int vm_registry_load(struct vm_registry *reg, struct vm_state_in *in, uint64_t *ram_bytes,
                     struct vk_error *err) VK_MUST_CHECK;

/*
 * Every device's handover: take false lets go of the host resources (never
 * fails); take true takes them, and on failure lets go of what it took.
 */
int vm_registry_handover(struct vm_registry *reg, bool take, struct vk_error *err) VK_MUST_CHECK;

/*
 * Put a qcow2 overlay at path over disk number disk (0: the first disk registered,
 * the order of --disk): the guest writes the overlay from now on, and the image it
 * wrote becomes the overlay's read-only backing file. -ENODEV when there is no such
 * disk; on any failure the disk is as it was.
 */
int vm_registry_disk_overlay(struct vm_registry *reg, unsigned disk, const char *path,
                             struct vk_error *err) VK_MUST_CHECK;

/* One DEVICE record's payload, applied to its device (for tests and fuzzing). */
int vm_registry_load_record(struct vm_registry *reg, const struct vm_state_record *rec,
                            struct vk_error *err) VK_MUST_CHECK;

#endif
