/* SPDX-License-Identifier: MIT */
/*
 * The KVM backend: one VM on /dev/kvm (kvm.c), its vCPU threads (vcpu.c) and
 * the x86 CPU state a guest starts with (x86-cpu.c). The board builds the
 * machine through this interface; devices never see it (they get irq_line and
 * msi_target handles that the board wires to kvm_vm_irq_line() and
 * kvm_vm_signal_msi()).
 *
 * Threads: the board's main thread runs the event loop and owns the VM; each
 * vCPU runs KVM_RUN on its own thread and dispatches port I/O and MMIO exits
 * to the board's buses under the machine lock (loop.h). Pause, resume and stop
 * reach a vCPU through kvm_run.immediate_exit plus a signal that interrupts
 * KVM_RUN; threads are never cancelled.
 */
#ifndef VK_VM_KVM_H
#define VK_VM_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "common/error.h"

struct bus;
struct vm_loop;
struct vm_mem;

/* Where the device node is when nothing else is said; VIRTKIT_KVM_DEVICE overrides it. */
#define KVM_DEFAULT_DEVICE "/dev/kvm"

/* What the host's KVM offers (filled by kvm_vm_open(), printed by probe). */
struct kvm_host_caps {
	int api_version;
	bool irqchip, pit2, user_memory, set_tss_addr, set_identity_map_addr;
	bool ioeventfd, irqfd, signal_msi, irq_routing, immediate_exit;
	bool ext_cpuid, mp_state, xsave, x2apic_api, split_irqchip;
	bool xcrs, debugregs, vcpu_events; /* what a saved vCPU holds beyond registers */
	unsigned nr_vcpus;                 /* recommended (KVM_CAP_NR_VCPUS) */
	unsigned max_vcpus;                /* hard limit (KVM_CAP_MAX_VCPUS) */
	unsigned nr_memslots;
	unsigned max_gsi; /* KVM_CAP_IRQ_ROUTING: number of GSIs */
	bool pvm;         /* the host module is kvm_pvm (software emulation of non-PVM guests) */
};

#define KVM_MAX_MSI_ROUTES 256
#define KVM_MAX_RAM_SLOTS  8

/* One RAM slot as kvm_vm_add_ram() made it (the dirty log sets its flags again). */
struct kvm_ram_slot {
	uint64_t gpa, size;
	void *host;
};

struct kvm_vm {
	int sys_fd; /* /dev/kvm */
	int vm_fd;
	int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	const char *device;
	struct kvm_host_caps caps;
	unsigned next_slot;
	/*
	 * GSI routing: the default irqchip routes (GSI 0-15 to PIC and IOAPIC,
	 * 16-23 to the IOAPIC) plus one MSI route per irqfd-backed vector.
	 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep all of it.
	 */
	struct kvm_irq_routing *routing;
	unsigned nr_irqchip_routes;
	uint64_t msi_gsi_used[KVM_MAX_MSI_ROUTES / 64];
	struct kvm_ram_slot slots[KVM_MAX_RAM_SLOTS];
	/* Saving (x86-state.c): the MSRs KVM lists (KVM_GET_MSR_INDEX_LIST), and of them the
	 * ones a vCPU of this host lets us read, both malloc'd on first use. */
	uint32_t *msr_index;
	unsigned nr_msr_index;
	uint32_t *msr_save;
	unsigned nr_msr_save;
};

/* GSIs 24.. are ours for MSI routes (the IOAPIC has 24 pins). */
#define KVM_MSI_GSI_BASE 24

/*
 * Open the KVM device (path NULL: $VIRTKIT_KVM_DEVICE or /dev/kvm), check the
 * API version and the capabilities the machine needs, and fill vm->caps.
 * Does not create a VM. Errors name the device and say what to do.
 */
int kvm_vm_open(struct kvm_vm *vm, const char *path, struct vk_error *err) VK_MUST_CHECK;

/* Read the capabilities of an open /dev/kvm (used by kvm_vm_open and probe). */
void kvm_read_caps(int sys_fd, struct kvm_host_caps *caps);

/*
 * Create the VM and its x86 platform: TSS and identity-map pages at tss_addr
 * (three pages) and tss_addr - 4 KiB (one page), the in-kernel PIC + IOAPIC +
 * LAPICs and the PIT (speaker port dummy).
 */
int kvm_vm_create(struct kvm_vm *vm, uint64_t tss_addr, struct vk_error *err) VK_MUST_CHECK;

void kvm_vm_close(struct kvm_vm *vm);

/* Map host memory at guest-physical gpa as RAM (a new memory slot). */
int kvm_vm_add_ram(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *host,
                   struct vk_error *err) VK_MUST_CHECK;

/* Drive an IOAPIC/PIC input (level true = asserted). Returns 0 or -errno. */
int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, bool level);

/* Inject one MSI (KVM_SIGNAL_MSI). Returns 0 or -errno. */
int kvm_vm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data);

/*
 * ioeventfd: a guest write of len bytes (0: any length) to addr (port I/O
 * when pio) signals fd in the kernel instead of exiting to user space.
 */
int kvm_vm_ioeventfd(struct kvm_vm *vm, uint64_t addr, unsigned len, bool pio, int fd, bool assign);

/*
 * MSI routes for irqfds. kvm_vm_msi_route_add() allocates a GSI routed to the
 * message (addr, data); _update() re-targets it; _del() frees it. Each call
 * commits the whole routing table. Return the GSI / 0, or -errno.
 */
int kvm_vm_msi_route_add(struct kvm_vm *vm, uint64_t addr, uint32_t data);
int kvm_vm_msi_route_update(struct kvm_vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
void kvm_vm_msi_route_del(struct kvm_vm *vm, unsigned gsi);

/* Attach (assign) or detach an eventfd to a GSI: a write to fd raises it. */
int kvm_vm_irqfd(struct kvm_vm *vm, unsigned gsi, int fd, bool assign);

/* ---- vCPUs (vcpu.c) ---- */

enum kvm_event {
	KVM_EVENT_RESET,    /* triple fault or KVM_SYSTEM_EVENT_RESET */
	KVM_EVENT_POWEROFF, /* KVM_SYSTEM_EVENT_SHUTDOWN */
	KVM_EVENT_ERROR,    /* internal error, failed entry, crash: detail says what */
};

struct kvm_vcpu;

struct kvm_cpus {
	struct kvm_vm *vm;
	unsigned nr;
	struct kvm_vcpu *vcpus;
	struct bus *pio, *mmio;
	const struct vm_mem *mem; /* for instruction bytes in error reports */
	struct vm_loop *loop;     /* the machine lock */
	/* Called on a vCPU thread, without the machine lock. */
	void (*event)(void *opaque, enum kvm_event ev, unsigned cpu, const char *detail);
	void *opaque;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum { KVM_CPUS_RUN, KVM_CPUS_PAUSE, KVM_CPUS_STOP } want;
	unsigned nr_parked; /* vCPU threads waiting in the pause/stop state */
	unsigned nr_threads;
	unsigned holds; /* kvm_cpus_hold() calls not released yet */
	bool clock_saved;
	struct kvm_clock_data clock;
};

/*
 * Create nr vCPUs with their x86 state (CPUID filtered per vCPU, MSRs, FPU,
 * LAPIC LINT0 = ExtINT, LINT1 = NMI). They start in reset state (the BSP at
 * the reset vector, the APs waiting for INIT/SIPI); the boot loader then sets
 * the BSP's registers with kvm_vcpu_set_boot_state().
 */
int kvm_cpus_create(struct kvm_cpus *cpus, struct kvm_vm *vm, unsigned nr,
                    struct vk_error *err) VK_MUST_CHECK;

/* Start one thread per vCPU. The event callback and buses must be set. */
int kvm_cpus_start(struct kvm_cpus *cpus, struct vk_error *err) VK_MUST_CHECK;

/*
 * Ask every vCPU to park outside KVM_RUN. Does not wait for them (a vCPU may
 * be queued on the machine lock the caller holds); the guest clock freezes
 * when the last one has parked, and resume restores it.
 */
void kvm_cpus_pause(struct kvm_cpus *cpus);
void kvm_cpus_resume(struct kvm_cpus *cpus);
bool kvm_cpus_paused(struct kvm_cpus *cpus);

/*
 * Ask every vCPU to stop (safe from any thread, including a vCPU thread and
 * the device code it runs); kvm_cpus_join() then waits for the threads.
 */
void kvm_cpus_request_stop(struct kvm_cpus *cpus);
void kvm_cpus_join(struct kvm_cpus *cpus);

/* Close every vCPU (after join, or when they were never started). */
void kvm_cpus_destroy(struct kvm_cpus *cpus);

/*
 * Hold every vCPU outside KVM_RUN and wait until each has parked (or ended):
 * for saving and migrating. Holds nest with each other and with pause (a
 * paused machine stays paused after the last release). Not under the machine
 * lock (a vCPU may be waiting for it). -ESHUTDOWN when the vCPUs are stopping.
 */
int kvm_cpus_hold(struct kvm_cpus *cpus) VK_MUST_CHECK;
void kvm_cpus_release(struct kvm_cpus *cpus);
/* The vCPU's descriptor (for its saved state). */
int kvm_cpus_vcpu_fd(const struct kvm_cpus *cpus, unsigned cpu);
/* The guest clock frozen by a pause (true), or false when it runs. */
bool kvm_cpus_frozen_clock(struct kvm_cpus *cpus, struct kvm_clock_data *clock);

/* ---- x86 CPU state (x86-cpu.c) ---- */

enum x86_boot_mode {
	X86_BOOT_REAL16, /* real mode, cs:ip = 0:rip */
	X86_BOOT_FLAT32, /* 32-bit protected mode, flat segments, paging off (PVH) */
	X86_BOOT_LONG64, /* 64-bit long mode with identity page tables (bzImage 64-bit entry) */
};

struct x86_boot_state {
	enum x86_boot_mode mode;
	uint64_t rip;
	uint64_t rsp;
	uint64_t rsi;       /* bzImage: zero page */
	uint64_t rbx;       /* PVH: hvm_start_info */
	uint64_t gdt_base;  /* FLAT32/LONG64: the loader's GDT (code 0x08/0x10, data 0x18) */
	uint16_t gdt_limit; /* bytes - 1 */
	uint64_t cr3;       /* LONG64: the PML4 the loader wrote */
};

int kvm_vcpu_set_boot_state(struct kvm_cpus *cpus, unsigned cpu, const struct x86_boot_state *bs,
                            struct vk_error *err) VK_MUST_CHECK;

/*
 * CPUID filtering for one vCPU (pure function, unit-tested): rewrite the n
 * supported entries in place for vCPU `cpu` of `nr` (APIC ids, topology leaves
 * 1/4/0xB/0x80000008/0x8000001E, hypervisor bit; 0x1F is dropped). The table
 * has room for max entries; returns the new count.
 */
#define X86_CPUID_SPARE 4
unsigned x86_cpuid_filter(struct kvm_cpuid_entry2 *e, unsigned n, unsigned max, unsigned cpu,
                          unsigned nr);

/* Configure one vCPU's CPUID, MSRs, FPU and LAPIC. */
int x86_vcpu_init(struct kvm_vm *vm, int vcpu_fd, unsigned cpu, unsigned nr,
                  struct vk_error *err) VK_MUST_CHECK;

/* Load the registers of a boot mode into one vCPU. */
int x86_vcpu_set_boot_state(int vcpu_fd, const struct x86_boot_state *bs,
                            struct vk_error *err) VK_MUST_CHECK;

/* ---- saving and restoring (x86-state.c) ---- */

struct vm_state_buf;
struct vm_state_rd;

#define X86_VCPU_STATE_VERSION 1
#define KVM_VM_STATE_VERSION   1

/*
 * One vCPU's state, read with the vCPU out of KVM_RUN: general and segment
 * registers, XSAVE (or the legacy FPU area), XCRs, every MSR KVM lists that
 * the vCPU lets us read (the TSC among them), the LAPIC page, pending events,
 * the multiprocessing state and the debug registers. The load checks every
 * count and MSR index against this host before it hands the state to KVM,
 * which refuses what it does not accept (named in the error).
 */
int x86_vcpu_save(struct kvm_vm *vm, int vcpu_fd, struct vm_state_buf *b,
                  struct vk_error *err) VK_MUST_CHECK;
int x86_vcpu_load(struct kvm_vm *vm, int vcpu_fd, struct vm_state_rd *r,
                  struct vk_error *err) VK_MUST_CHECK;

/*
 * The VM's in-kernel devices: both PICs and the IOAPIC (KVM_GET_IRQCHIP), the
 * PIT (KVM_GET_PIT2) and the guest clock (KVM_GET_CLOCK; frozen: the value a
 * pause froze, NULL when the clock runs).
 */
int kvm_vm_save(struct kvm_vm *vm, const struct kvm_clock_data *frozen, struct vm_state_buf *b,
                struct vk_error *err) VK_MUST_CHECK;
int kvm_vm_load(struct kvm_vm *vm, struct vm_state_rd *r, struct vk_error *err) VK_MUST_CHECK;

/*
 * The dirty log (live migration): kvm_vm_dirty_log() sets or clears
 * KVM_MEM_LOG_DIRTY_PAGES on every RAM slot; kvm_vm_dirty_harvest() moves what
 * KVM_GET_DIRTY_LOG reports into the RAM's dirty log (vm_mem_mark_dirty) and
 * clears it in KVM. Returns the pages KVM reported, or -errno.
 */
int kvm_vm_dirty_log(struct kvm_vm *vm, bool on, struct vk_error *err) VK_MUST_CHECK;
long kvm_vm_dirty_harvest(struct kvm_vm *vm, struct vm_mem *mem);

/*
 * Does KVM's dirty log on this host report guest writes? A probe VM of its own
 * (4 pages, one vCPU in real mode) writes two pages and halts; the log must
 * name both. 0 when it works; otherwise -errno with the reason in why.
 */
int kvm_dirty_log_probe(const char *device, char *why, size_t len);

/* Write a readable dump of a vCPU's registers and instruction bytes (for errors). */
void x86_vcpu_dump(int vcpu_fd, const struct vm_mem *mem, char *buf, size_t len);

#endif
