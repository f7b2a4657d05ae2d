/* SPDX-License-Identifier: MIT */
/*
 * The static ACPI tables of the PC board (ACPI 6.4, chapter 5.2), built in a
 * host buffer and copied to guest RAM at 0xE0000:
 *
 *   0xE0000  RSDP (revision 2: RSDT and XSDT)
 *   0xE0040  FACS (64-byte aligned)
 *   0xE0080  DSDT, then FADT, MADT, XSDT, RSDT (16-byte aligned each)
 *
 * The FADT (revision 6) describes the PM1 block, PM timer and SCI of
 * hw/acpi-pm.c, the reset register (0xCF9), the century byte of the RTC and
 * the legacy devices; the MADT one enabled local APIC per vCPU (APIC id and
 * processor UID = vCPU index), the IOAPIC with every GSI from 0, interrupt
 * source overrides for the level-triggered ISA IRQs (virtio-mmio, the SCI)
 * and LINT1 = NMI on every processor. ISA IRQ 0 (the PIT) stays on GSI 0:
 * KVM's default routing wires it to IOAPIC pin 0, as the MP table says.
 */
#include "vm/boot/x86-acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/mem.h"

#define RSDP_SIZE        36
#define FACS_OFF         0x40
#define FACS_SIZE        64
#define DSDT_OFF         0x80
#define FADT_SIZE        276 /* ACPI 6.x, revision 6 */
#define MADT_HEADER_SIZE 44

/* FADT field offsets (table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_PM1A_EVT      56
#define FADT_PM1A_CNT      64
#define FADT_PM_TMR        76
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_P_LVL2_LAT    96
#define FADT_P_LVL3_LAT    98
#define FADT_CENTURY       108
#define FADT_IAPC_BOOT     109
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_MINOR         131
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT    148
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM_TMR      208
#define FADT_HYPERVISOR_ID 268

#define FADT_F_WBINVD      (1u << 0)
#define FADT_F_PROC_C1     (1u << 2)
#define FADT_F_SLP_BUTTON  (1u << 5) /* no fixed-feature sleep button */
#define FADT_F_RESET_REG   (1u << 10)
#define IAPC_LEGACY        (1u << 0)
#define IAPC_8042          (1u << 1)
#define IAPC_NO_VGA        (1u << 2)
#define RTC_CENTURY_REG    0x32

#define GAS_SYSTEM_IO      1
#define GAS_ACCESS_BYTE    1
#define GAS_ACCESS_WORD    2
#define GAS_ACCESS_DWORD   3

/* MADT entries (5.2.12). */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC       0
#define MADT_IOAPIC      1
#define MADT_ISO         2
#define MADT_LAPIC_NMI   4
#define MADT_ENABLED     1u
#define MPS_LEVEL_HIGH   0x000d /* polarity active high (01), trigger level (11) */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t x86_acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

void x86_acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision,
                     const char table_id[8])
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = revision;
	t[9] = 0;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, table_id, 8);
	put32(t + 24, 1); /* OEM revision */
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put32(t + 32, 1); /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = x86_acpi_checksum(t, len);
}

/* A Generic Address Structure in system I/O space (5.2.3.2). */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = bits;
	p[2] = 0;
	p[3] = access;
	put64(p + 4, port);
}

static uint32_t align16(uint32_t v)
{
	return (v + 15) & ~15u;
}

static uint32_t build_fadt(const struct x86_acpi_config *c, uint8_t *t, uint32_t facs,
                           uint32_t dsdt)
{
	memset(t, 0, FADT_SIZE);
	x86_acpi_header(t, "FACP", FADT_SIZE, 6, "VKPCFACP");
	put32(t + FADT_FIRMWARE_CTRL, facs);
	put32(t + FADT_DSDT, dsdt);
	put16(t + FADT_SCI_INT, c->sci_irq);
	/* SMI_CMD stays 0: the machine is always in ACPI mode (SCI_EN reads 1). */
	put32(t + FADT_PM1A_EVT, c->pm_base + X86_ACPI_PM1_EVT);
	put32(t + FADT_PM1A_CNT, c->pm_base + X86_ACPI_PM1_CNT);
	put32(t + FADT_PM_TMR, c->pm_base + X86_ACPI_PM_TMR);
	t[FADT_PM1_EVT_LEN] = 4;
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	/* No GPE blocks. C2 and C3 not supported (latencies above 100 and 1000 us). */
	put16(t + FADT_P_LVL2_LAT, 101);
	put16(t + FADT_P_LVL3_LAT, 1001);
	t[FADT_CENTURY] = RTC_CENTURY_REG;
	put16(t + FADT_IAPC_BOOT, IAPC_LEGACY | IAPC_8042 | IAPC_NO_VGA);
	put32(t + FADT_FLAGS,
	      FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG);
	gas_io(t + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, c->reset_port);
	t[FADT_RESET_VALUE] = c->reset_value;
	t[FADT_MINOR] = 4;
	put64(t + FADT_X_DSDT, dsdt);
	gas_io(t + FADT_X_PM1A_EVT, 32, GAS_ACCESS_WORD, c->pm_base + X86_ACPI_PM1_EVT);
	gas_io(t + FADT_X_PM1A_CNT, 16, GAS_ACCESS_WORD, c->pm_base + X86_ACPI_PM1_CNT);
	gas_io(t + FADT_X_PM_TMR, 32, GAS_ACCESS_DWORD, c->pm_base + X86_ACPI_PM_TMR);
	memcpy(t + FADT_HYPERVISOR_ID, "VIRTKIT ", 8);
	finish(t, FADT_SIZE);
	return FADT_SIZE;
}

static uint8_t *madt_entry(uint8_t *t, uint32_t *len, uint8_t type, uint8_t size)
{
	uint8_t *e = t + *len;

	memset(e, 0, size);
	e[0] = type;
	e[1] = size;
	*len += size;
	return e;
}

static void madt_iso(uint8_t *t, uint32_t *len, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t *e = madt_entry(t, len, MADT_ISO, 10);

	e[2] = 0; /* ISA */
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
}

/* The MADT's size for c, to check the buffer first. */
static uint32_t madt_size(const struct x86_acpi_config *c)
{
	return MADT_HEADER_SIZE + 8 * c->nr_cpus + 12 + 10 * (c->nr_irqs + 1) + 6;
}

static uint32_t build_madt(const struct x86_acpi_config *c, uint8_t *t)
{
	uint32_t len = MADT_HEADER_SIZE;
	bool sci_listed = false;
	uint8_t *e;

	memset(t, 0, MADT_HEADER_SIZE);
	put32(t + 36, X86_LAPIC_ADDR);
	put32(t + 40, MADT_PCAT_COMPAT); /* the 8259s exist (in KVM) */
	for (unsigned i = 0; i < c->nr_cpus; i++) {
		e = madt_entry(t, &len, MADT_LAPIC, 8);
		e[2] = (uint8_t)i; /* processor UID */
		e[3] = (uint8_t)i; /* APIC id, what CPUID and the MP table say */
		put32(e + 4, MADT_ENABLED);
	}
	e = madt_entry(t, &len, MADT_IOAPIC, 12);
	e[2] = (uint8_t)c->nr_cpus;
	put32(e + 4, X86_IOAPIC_ADDR);
	put32(e + 8, 0); /* GSI base */
	for (unsigned i = 0; i < c->nr_irqs; i++) {
		const struct x86_mp_irq *q = &c->irqs[i];

		if (q->pci || q->trigger != X86_MP_LEVEL_HIGH)
			continue;
		madt_iso(t, &len, q->src_irq, q->gsi, MPS_LEVEL_HIGH);
		sci_listed |= q->src_irq == c->sci_irq;
	}
	if (!sci_listed)
		madt_iso(t, &len, c->sci_irq, c->sci_irq, MPS_LEVEL_HIGH);
	e = madt_entry(t, &len, MADT_LAPIC_NMI, 6);
	e[2] = 0xff; /* every processor */
	put16(e + 3, 0);
	e[5] = 1; /* LINT1 */
	x86_acpi_header(t, "APIC", len, 5, "VKPCAPIC");
	finish(t, len);
	return len;
}

static uint32_t build_sdt(uint8_t *t, const char sig[4], const char id[8], const uint32_t *addr,
                          unsigned n, unsigned width)
{
	uint32_t len = ACPI_HEADER_SIZE + n * width;

	for (unsigned i = 0; i < n; i++) {
		if (width == 8)
			put64(t + ACPI_HEADER_SIZE + 8 * i, addr[i]);
		else
			put32(t + ACPI_HEADER_SIZE + 4 * i, addr[i]);
	}
	x86_acpi_header(t, sig, len, 1, id);
	finish(t, len);
	return len;
}

static void build_rsdp(uint8_t *p, uint32_t rsdt, uint32_t xsdt)
{
	memset(p, 0, RSDP_SIZE);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	p[15] = 2; /* ACPI 2.0+: XSDT present */
	put32(p + 16, rsdt);
	put32(p + 20, RSDP_SIZE);
	put64(p + 24, xsdt);
	p[8] = x86_acpi_checksum(p, 20);
	p[32] = x86_acpi_checksum(p, RSDP_SIZE);
}

int x86_acpi_write(struct vm_mem *mem, const struct x86_acpi_config *c, struct vk_error *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	const uint32_t base = X86_ACPI_RSDP_ADDR;
	uint32_t off, fadt, madt, xsdt, rsdt, tables[2];
	long dsdt_len;

	if (c->nr_cpus == 0 || c->nr_cpus > 254)
		return vk_error_set(err, EINVAL, "the ACPI MADT cannot describe %u CPUs",
		                    c->nr_cpus);
	if (c->sci_irq > 15)
		return vk_error_set(err, EINVAL, "the SCI must be an ISA IRQ, not %u", c->sci_irq);
	buf = calloc(1, X86_ACPI_TABLES_MAX);
	if (!buf)
		return vk_error_errno(err, ENOMEM, "ACPI tables");

	/* FACS: signature, length, version 2; no global lock, no waking vector. */
	memcpy(buf + FACS_OFF, "FACS", 4);
	put32(buf + FACS_OFF + 4, FACS_SIZE);
	buf[FACS_OFF + 32] = 2;

	dsdt_len = x86_acpi_build_dsdt(c, buf + DSDT_OFF, X86_ACPI_TABLES_MAX / 2);
	if (dsdt_len < 0)
		return vk_error_set(err, E2BIG, "the ACPI DSDT does not fit in %u bytes",
		                    X86_ACPI_TABLES_MAX / 2);
	fadt = align16(DSDT_OFF + (uint32_t)dsdt_len);
	madt = align16(fadt + FADT_SIZE);
	if (madt + madt_size(c) + 2 * ACPI_HEADER_SIZE + 64 > X86_ACPI_TABLES_MAX)
		return vk_error_set(err, E2BIG, "the ACPI tables do not fit in %u bytes",
		                    X86_ACPI_TABLES_MAX);
	build_fadt(c, buf + fadt, base + FACS_OFF, base + DSDT_OFF);
	xsdt = align16(madt + build_madt(c, buf + madt));
	tables[0] = base + fadt;
	tables[1] = base + madt;
	rsdt = align16(xsdt + build_sdt(buf + xsdt, "XSDT", "VKPCXSDT", tables, 2, 8));
	off = rsdt + build_sdt(buf + rsdt, "RSDT", "VKPCRSDT", tables, 2, 4);
	build_rsdp(buf, base + rsdt, base + xsdt);

	if (vm_mem_write(mem, base, buf, off) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the ACPI tables at 0x%x", base);
	return 0;
}
