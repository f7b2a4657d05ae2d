/* SPDX-License-Identifier: MIT */
/*
 * Booting Linux on the x86-64 PC board without firmware:
 *   x86-linux.c    bzImage through the 64-bit boot protocol (zero page, setup
 *                  header, e820 map, command line, initrd below initrd_addr_max,
 *                  identity page tables), Documentation/arch/x86/boot.rst
 *   x86-pvh.c      ELF vmlinux (or any ELF64) through the PVH entry note
 *                  (Xen ELF note 18, XEN_ELFNOTE_PHYS32_ENTRY) and hvm_start_info
 *   x86-mptable.c  the MP table (Intel MP spec 1.4) listing every vCPU, the IOAPIC
 *                  and the interrupt routing, so Linux finds the SMP topology
 *   x86-acpi*.c    the ACPI tables (x86-acpi.h) for kernels that rely on ACPI
 *
 * Every byte of the kernel and initrd files is untrusted: header fields are
 * bounds-checked, every write into guest RAM goes through vm_mem_translate().
 */
#ifndef VK_BOOT_X86_BOOT_H
#define VK_BOOT_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/kvm/kvm.h"

struct vm_mem;

/* Low-memory layout of the boot structures (all below 1 MiB). */
#define X86_BOOT_GDT          0x500
#define X86_BOOT_PVH_INFO     0x6000 /* hvm_start_info, module list, memory map */
#define X86_BOOT_ZERO_PAGE    0x7000
#define X86_BOOT_STACK        0x8ff0
#define X86_BOOT_PML4         0x9000
#define X86_BOOT_PDPT         0xa000
#define X86_BOOT_PD           0xb000 /* four pages: 4 GiB of 2 MiB pages */
#define X86_BOOT_CMDLINE      0x20000
#define X86_BOOT_CMDLINE_MAX  0x10000
#define X86_EBDA_START        0x9fc00 /* from here to 1 MiB: reserved */
#define X86_MPTABLE_ADDR      0xf0000 /* in the BIOS area Linux scans */
#define X86_HIGH_MEMORY_START 0x100000
#define X86_BZIMAGE_LOAD      0x100000

#define E820_RAM              1
#define E820_RESERVED         2
#define E820_MAX              128

struct x86_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct x86_linux_params {
	const char *kernel_name; /* for messages */
	const uint8_t *kernel;
	size_t kernel_len;
	const char *initrd_name;
	const uint8_t *initrd; /* NULL: none */
	size_t initrd_len;
	const char *cmdline; /* NUL-terminated, may be "" */
	const struct x86_e820_entry *e820;
	unsigned nr_e820;
	uint64_t ram_below_4g; /* end of the RAM that starts at 0 */
	uint64_t acpi_rsdp;    /* guest-physical RSDP for the kernel, 0: none */
};

/* What a loader tells the board about the loaded kernel. */
struct x86_linux_info {
	bool pvh;             /* entered through the PVH note (else bzImage 64-bit entry) */
	uint64_t kernel_low;  /* [low, high): guest memory the kernel occupies */
	uint64_t kernel_high; /* including bzImage init_size */
	uint64_t initrd_addr; /* 0: no initrd */
	uint16_t version;     /* bzImage boot protocol version */
};

bool x86_is_bzimage(const uint8_t *buf, size_t len);

/*
 * Load a kernel: a bzImage (64-bit boot protocol) or an ELF with a PVH note,
 * chosen by the file's contents; anything else is refused with a sentence
 * naming the file. Fills the BSP's boot state.
 */
int x86_load_linux(struct vm_mem *mem, const struct x86_linux_params *p, struct x86_boot_state *bs,
                   struct x86_linux_info *info, struct vk_error *err) VK_MUST_CHECK;

int x86_bzimage_load(struct vm_mem *mem, const struct x86_linux_params *p,
                     struct x86_boot_state *bs, struct x86_linux_info *info,
                     struct vk_error *err) VK_MUST_CHECK;

int x86_pvh_load(struct vm_mem *mem, const struct x86_linux_params *p, struct x86_boot_state *bs,
                 struct x86_linux_info *info, struct vk_error *err) VK_MUST_CHECK;

/*
 * Place the initrd at the highest page-aligned address below `limit` (and
 * below ram_below_4g) that does not overlap [0, not_below). Returns 0 with
 * *addr set, or -ENOMEM with a sentence asking for more --memory.
 */
int x86_place_initrd(struct vm_mem *mem, const struct x86_linux_params *p, uint64_t limit,
                     uint64_t not_below, uint64_t *addr, struct vk_error *err) VK_MUST_CHECK;

/* Copy the command line to X86_BOOT_CMDLINE, checking it against max (bytes with the NUL). */
int x86_write_cmdline(struct vm_mem *mem, const struct x86_linux_params *p, size_t max,
                      struct vk_error *err) VK_MUST_CHECK;

/* GDT with flat 64-bit code (0x10), 32-bit data (0x18) and 32-bit code (0x08) segments. */
int x86_write_gdt(struct vm_mem *mem, struct x86_boot_state *bs) VK_MUST_CHECK;

/* ---- MP table ---- */

#define X86_IOAPIC_ADDR 0xfec00000u
#define X86_LAPIC_ADDR  0xfee00000u

enum x86_mp_trigger {
	X86_MP_CONFORMS, /* the bus default: ISA edge/high, PCI level/low */
	X86_MP_LEVEL_HIGH,
};

struct x86_mp_irq {
	bool pci;        /* source: PCI bus 0 (else ISA bus) */
	uint8_t src_irq; /* ISA IRQ, or (device << 2) | (pin - 1) for PCI */
	uint8_t gsi;     /* IOAPIC input */
	enum x86_mp_trigger trigger;
};

struct x86_mp_config {
	unsigned nr_cpus;
	const struct x86_mp_irq *irqs; /* besides the ISA IRQs 0-15 (all but 2) routed 1:1 */
	unsigned nr_irqs;
};

/* Build the MP floating pointer and configuration table at X86_MPTABLE_ADDR. */
int x86_mptable_write(struct vm_mem *mem, const struct x86_mp_config *c,
                      struct vk_error *err) VK_MUST_CHECK;

#endif
