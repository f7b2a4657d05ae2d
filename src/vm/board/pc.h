/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 PC board on KVM: memory map, interrupt wiring and the machine
 * state shared by pc.c (run loop, controls, events) and pc-build.c
 * (machine assembly and boot).
 *
 * Memory map (guest-physical):
 *   0 - 3 GiB          RAM (as much as --memory gives), e820 holes at 0x9fc00-1 MiB
 *                      (ACPI tables at 0xe0000, the MP table at 0xf0000)
 *   0xd0000000         virtio-mmio slots, 4 KiB apart (--virtio-transport mmio)
 *   0xe0000000         PCI memory BARs, up to the IOAPIC
 *   0xfec00000         IOAPIC (in KVM)
 *   0xfee00000         LAPICs (in KVM)
 *   0xfeffc000         KVM's identity map (1 page) and TSS (3 pages), e820 reserved
 *   4 GiB -            the rest of RAM
 * Ports: COM1 0x3f8 (IRQ 4), i8042 0x60/0x64 (IRQ 1, 12), RTC 0x70 (IRQ 8), PIT and
 * PIC in KVM, ACPI PM 0x600-0x60b, PCI configuration 0xcf8/0xcfc, reset
 * control 0xcf9.
 * Interrupts: ISA IRQs on IOAPIC pins 0-15; the ACPI SCI on 9 and virtio-mmio
 * on 5, 6, 7, 10, 11, 13, 14, 15 (level, active high); PCI INTx on pins 16-23.
 * Firmware tables: an MP table and ACPI (RSDP, FADT, MADT, DSDT) describe the
 * same machine; the guest's ACPI S5 powers off (status 0), and `powerdown`
 * presses the ACPI power button, or types Ctrl-Alt-Del for guests without ACPI.
 *
 * Reboot (--on-reset reboot) keeps the host side (console, UART, virtio
 * devices and their backends, the monitor) and builds a fresh KVM VM and
 * fresh platform devices around it.
 */
#ifndef VK_VM_BOARD_PC_H
#define VK_VM_BOARD_PC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/bus.h"
#include "vm/hw/pci.h"
#include "vm/kvm/kvm.h"
#include "vm/machine.h"
#include "vm/mem.h"
#include "vm/registry.h"

#define PC_LOW_RAM_MAX     0xc0000000ull
#define PC_HIGH_RAM_START  0x100000000ull
#define PC_VIRTIO_MMIO     0xd0000000ull
#define PC_VIRTIO_MMIO_GAP 0x1000ull
#define PC_PCI_MMIO_START  0xe0000000ull
#define PC_PCI_MMIO_END    0xfec00000ull
#define PC_PCI_IO_START    0xc000u
#define PC_PCI_IO_END      0x10000u
#define PC_KVM_TSS         0xfeffd000ull
#define PC_KVM_RESERVED    0xfeffc000ull /* identity map + TSS: 4 pages */
#define PC_COM1            0x3f8
#define PC_COM1_IRQ        4
#define PC_RTC_IRQ         8
#define PC_PCI_GSI_BASE    16
#define PC_PCI_GSIS        8
#define PC_MAX_VIRTIO      (VM_MAX_DISKS + VM_MAX_NETS + 1)
#define PC_GSIS            24 /* IOAPIC inputs */
#define PC_ACPI_PM_BASE    0x600
#define PC_SCI_IRQ         9
#define PC_S5_SLP_TYP      5

enum pc_stop {
	PC_RUNNING,
	PC_STOP_POWEROFF,
	PC_STOP_RESET,
	PC_STOP_QUIT,
	PC_STOP_SIGNAL,
	PC_STOP_ERROR,
	PC_STOP_FINISH, /* the state went to a file or another process (pc->finish_reason) */
};

struct uart16550;
struct i8042;
struct acpi_pm;
struct rtc;
struct virtio_dev;
struct virtio_pci;
struct virtio_mmio;
struct vm_loop;

struct pc {
	const struct vm_machine_config *cfg;
	const struct vm_monitor *monitor;
	uint64_t start_ns;

	/* Host side: lives across reboots. */
	struct vm_loop *loop;
	struct vm_mem mem;
	uint64_t low_ram, high_ram;
	struct bus pio, mmio;
	uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	struct uart16550 *uart;
	struct virtio_dev *virtio[PC_MAX_VIRTIO];
	unsigned nr_virtio;
	int signal_fd;

	/* One boot: rebuilt on reboot. */
	bool booted;
	struct kvm_vm kvm;
	struct kvm_cpus cpus;
	bool cpus_created, cpus_started;
	struct pci_host pci;
	bool pci_ready;
	struct virtio_pci *virtio_pci[PC_MAX_VIRTIO];
	struct virtio_mmio *virtio_mmio[PC_MAX_VIRTIO];
	struct i8042 *i8042;
	struct rtc *rtc;
	struct acpi_pm *acpi;
	unsigned boots;
	bool gsi_level[PC_GSIS];          /* last level sent per line (machine lock) */
	bool logged_irq_line, logged_msi; /* interrupt injection failures, logged once a boot */

	/*
	 * Saving and restoring (pc-state.c): the machine object, rebuilt with every boot;
	 * restoring: the first boot takes its state from the monitor instead of the kernel.
	 * state_lock orders the state controls' holds against the vCPUs' end (cpus_live).
	 */
	struct vm_registry reg;
	struct pc_cpu_ref {
		struct pc *pc;
		unsigned cpu;
	} cpu_ref[VM_MAX_CPUS];
	bool restoring;
	pthread_mutex_t state_lock;
	bool cpus_live;
	const char *finish_reason;

	/* Why the run stops; written by any thread under stop_lock. */
	pthread_mutex_t stop_lock;
	enum pc_stop stop;
	char *stop_detail; /* malloc'd, may hold a multi-line register dump */
	bool paused;
};

/* Build the host side (RAM, kernel files, console + UART, virtio devices). */
int pc_prepare(struct pc *pc, struct vk_error *err) VK_MUST_CHECK;
/* Build a KVM VM and the platform around the host side and load the kernel. */
int pc_boot(struct pc *pc, struct vk_error *err) VK_MUST_CHECK;
/* Tear down what pc_boot() built (vCPU threads must be joined). */
void pc_unboot(struct pc *pc);
/* Tear down the host side. */
void pc_release(struct pc *pc);

/* Record why the run ends (the first reason wins) and stop the vCPUs. Any thread. */
void pc_request_stop(struct pc *pc, enum pc_stop why, const char *detail);

/* Enter the CPUs and devices of this boot in pc->reg (pc-state.c). Machine lock held. */
int pc_state_register(struct pc *pc, struct vk_error *err) VK_MUST_CHECK;
/* The state controls (machine.h), for pc.c's control table. */
struct vm_registry *pc_ctl_registry(void *opaque);
int pc_ctl_cpus_stop(void *opaque, struct vk_error *err);
void pc_ctl_cpus_resume(void *opaque);
int pc_ctl_dirty_start(void *opaque, struct vk_error *err);
void pc_ctl_dirty_sync(void *opaque);
void pc_ctl_dirty_stop(void *opaque);
const char *pc_ctl_no_live(void *opaque);
void pc_ctl_finish(void *opaque, const char *reason);

/* Interrupt lines into the IOAPIC / PIC (n = GSI). */
struct irq_line pc_gsi_line(struct pc *pc, unsigned gsi);

#endif
