/* SPDX-License-Identifier: MIT */
/*
 * Minimal ACPI for the x86-64 PC board, so that kernels which rely on ACPI
 * (Debian's cloud kernel has no MP table parser) find every vCPU, the IOAPIC,
 * the PCI host bridge and a way to power off:
 *   x86-acpi.c       RSDP (at 0xE0000, where Linux scans), XSDT and RSDT, FADT
 *                    with a PM1 block, FACS, MADT; lengths and checksums
 *   x86-acpi-dsdt.c  a tiny AML encoder and the DSDT: \_S5, the PCI host bridge
 *                    (_CRS windows, _PRT), COM1, the virtio-mmio slots (LNRO0005)
 *
 * The FADT describes a "legacy" (not hardware-reduced) PC: the board keeps its
 * 8259 PIC, PIT, i8042 and RTC, and Linux's PC code path (ISA IRQ n = GSI n,
 * legacy probing of COM1, the i8042 and the RTC, virtio_mmio.device= IRQs)
 * stays the same as with the MP table. A hardware-reduced FADT would make
 * Linux drop the legacy PIC and with it the ISA IRQ numbers of every device
 * not listed in the DSDT. Power management is the fixed hardware of
 * hw/acpi-pm.c: PM1 event and control registers (S5 power-off, the power
 * button on the SCI) and the PM timer. Spec: ACPI 6.4, chapters 4, 5 and 19/20.
 */
#ifndef VK_BOOT_X86_ACPI_H
#define VK_BOOT_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/boot/x86-boot.h"

struct vm_mem;

/* Guest-physical layout: the RSDP first, the tables after it, all below the MP table. */
#define X86_ACPI_RSDP_ADDR  0xe0000u
#define X86_ACPI_TABLES_MAX 0x10000u /* 0xE0000 - 0xEFFFF */

/* A virtio-mmio transport, for kernels that find them in ACPI rather than on the command line. */
struct x86_acpi_mmio {
	uint32_t base, size;
	uint8_t irq; /* ISA IRQ, level-triggered, active high */
};

/* What the tables describe. */
struct x86_acpi_config {
	unsigned nr_cpus; /* APIC ids 0..nr_cpus-1, the IOAPIC gets id nr_cpus */
	/*
	 * The interrupts besides ISA IRQs 0-15 routed 1:1 and edge-triggered: PCI
	 * INTx (_PRT entries) and level-triggered ISA IRQs (MADT overrides). The
	 * same list the MP table gets.
	 */
	const struct x86_mp_irq *irqs;
	unsigned nr_irqs;
	uint16_t pm_base;   /* PM1a_EVT at +0 (4 bytes), PM1a_CNT at +4 (2), PM_TMR at +8 (4) */
	uint8_t sci_irq;    /* ISA IRQ of the SCI (level, active high) */
	uint8_t s5_slp_typ; /* the SLP_TYP value of \_S5 */
	uint16_t reset_port;
	uint8_t reset_value;
	uint16_t com1_port; /* 0: no COM1 in the DSDT */
	uint8_t com1_irq;
	uint32_t pci_mmio_base; /* the host bridge's memory window */
	uint32_t pci_mmio_size;
	const struct x86_acpi_mmio *virtio_mmio;
	unsigned nr_virtio_mmio; /* at most 100 */
};

/* Offsets of the PM registers from pm_base (hw/acpi-pm.c implements them). */
#define X86_ACPI_PM1_EVT 0
#define X86_ACPI_PM1_CNT 4
#define X86_ACPI_PM_TMR  8
#define X86_ACPI_PM_LEN  12

/*
 * Build every table into guest RAM at X86_ACPI_RSDP_ADDR. Returns 0, or
 * -EINVAL (a vCPU count the MADT cannot describe) / -E2BIG / -ENOMEM with err set.
 */
int x86_acpi_write(struct vm_mem *mem, const struct x86_acpi_config *c,
                   struct vk_error *err) VK_MUST_CHECK;

/*
 * Build the DSDT (header and AML, checksummed) at buf. Returns its length, or
 * -E2BIG when it does not fit in cap bytes.
 */
long x86_acpi_build_dsdt(const struct x86_acpi_config *c, uint8_t *buf, size_t cap);

/* ---- shared by the two files ---- */

#define ACPI_HEADER_SIZE 36
#define ACPI_OEM_ID      "VIRTKT"
#define ACPI_CREATOR_ID  "VKIT"

/* Fill a table header (checksum 0) for a table of len bytes. */
void x86_acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision,
                     const char table_id[8]);
/* The byte that makes the len bytes at p sum to 0. */
uint8_t x86_acpi_checksum(const uint8_t *p, size_t len);

#endif
