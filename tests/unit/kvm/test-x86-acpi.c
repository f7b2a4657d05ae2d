/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the x86 ACPI tables and the ACPI PM device. The tables are
 * built into guest RAM and parsed back the way an OS finds them (RSDP at
 * 0xE0000, XSDT, FADT, MADT, FACS, DSDT): signatures, lengths, checksums,
 * one enabled local APIC per vCPU, the IOAPIC, the interrupt overrides, the
 * FADT's PM registers and flags, \_S5 in the AML. tests/unit/kvm/acpica.sh
 * has ACPICA's own tools check them too. The PM device is driven through
 * its ports: S5 power-off, refused sleep states, the power button and the
 * SCI, byte-wise access, the PM timer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/boot/x86-acpi.h"
#include "vm/bus.h"
#include "vm/hw/acpi-pm.h"
#include "vm/mem.h"

#define MEM (4u << 20)

static struct vm_mem mem;

static int setup(void **state)
{
	vm_mem_init(&mem);
	return vm_mem_add_ram(&mem, 0, MEM, NULL);
}

static int teardown(void **state)
{
	vm_mem_destroy(&mem);
	return 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table at gpa: signature, length inside the ACPI area, checksum 0. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = vm_mem_translate(&mem, gpa, ACPI_HEADER_SIZE);
	uint32_t len;

	assert_non_null(t);
	assert_memory_equal(t, sig, 4);
	len = get32(t + 4);
	assert_true(len >= ACPI_HEADER_SIZE);
	assert_true(gpa >= X86_ACPI_RSDP_ADDR &&
	            gpa + len <= X86_ACPI_RSDP_ADDR + X86_ACPI_TABLES_MAX);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "VIRTKT", 6);
	return t;
}

static const struct x86_mp_irq irqs[] = {
        {.pci = true, .src_irq = 1 << 2, .gsi = 17, .trigger = X86_MP_CONFORMS},
        {.pci = true, .src_irq = 2 << 2, .gsi = 18, .trigger = X86_MP_CONFORMS},
        {.src_irq = 5, .gsi = 5, .trigger = X86_MP_LEVEL_HIGH},
        {.src_irq = 6, .gsi = 6, .trigger = X86_MP_LEVEL_HIGH},
};

static const struct x86_acpi_mmio mmio[] = {
        {.base = 0xd0000000, .size = 0x200, .irq = 5},
        {.base = 0xd0001000, .size = 0x200, .irq = 6},
};

static struct x86_acpi_config config(unsigned cpus)
{
	return (struct x86_acpi_config){
	        .nr_cpus = cpus,
	        .irqs = irqs,
	        .nr_irqs = 4,
	        .pm_base = 0x600,
	        .sci_irq = 9,
	        .s5_slp_typ = 5,
	        .reset_port = 0xcf9,
	        .reset_value = 6,
	        .com1_port = 0x3f8,
	        .com1_irq = 4,
	        .pci_mmio_base = 0xe0000000,
	        .pci_mmio_size = 0x1ec00000,
	        .virtio_mmio = mmio,
	        .nr_virtio_mmio = 2,
	};
}

/* Find an SDT named sig through the XSDT; check the RSDT lists the same tables. */
static const uint8_t *find(const char *sig)
{
	const uint8_t *rsdp = vm_mem_translate(&mem, X86_ACPI_RSDP_ADDR, 36);
	const uint8_t *xsdt = table(get64(rsdp + 24), "XSDT");
	const uint8_t *rsdt = table(get32(rsdp + 16), "RSDT");
	unsigned n = (get32(xsdt + 4) - ACPI_HEADER_SIZE) / 8;
	const uint8_t *found = NULL;

	assert_int_equal(get32(rsdt + 4), ACPI_HEADER_SIZE + 4 * n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = get64(xsdt + ACPI_HEADER_SIZE + 8 * i);

		assert_int_equal(a, get32(rsdt + ACPI_HEADER_SIZE + 4 * i));
		if (!memcmp(vm_mem_translate(&mem, a, 4), sig, 4))
			found = table(a, sig);
	}
	assert_non_null(found);
	return found;
}

static void check_rsdp(void)
{
	const uint8_t *p = vm_mem_translate(&mem, X86_ACPI_RSDP_ADDR, 36);

	/* Where Linux scans (16-byte aligned in 0xE0000-0xFFFFF), both checksums right. */
	assert_int_equal(X86_ACPI_RSDP_ADDR % 16, 0);
	assert_memory_equal(p, "RSD PTR ", 8);
	assert_int_equal(sum(p, 20), 0);
	assert_int_equal(p[15], 2);
	assert_int_equal(get32(p + 20), 36);
	assert_int_equal(sum(p, 36), 0);
	assert_int_equal(get32((const uint8_t *)find("FACP") + 4), 276);
	assert_int_equal(get32((const uint8_t *)find("APIC") + 4) > 44, true);
}

static void check_fadt(void)
{
	const uint8_t *f = find("FACP");
	const uint8_t *facs = vm_mem_translate(&mem, get32(f + 36), 64);
	const uint8_t *dsdt = table(get32(f + 40), "DSDT");
	uint32_t flags = get32(f + 112);

	assert_int_equal(f[8], 6); /* revision */
	assert_int_equal(get32(f + 36) % 64, 0);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get32(facs + 4), 64);
	assert_int_equal(get64(f + 140), get32(f + 40)); /* X_DSDT */
	assert_int_equal(get16(f + 46), 9);              /* SCI_INT */
	assert_int_equal(get32(f + 48), 0);              /* no SMI_CMD: always in ACPI mode */
	assert_int_equal(get32(f + 56), 0x600);          /* PM1a_EVT_BLK */
	assert_int_equal(get32(f + 64), 0x604);          /* PM1a_CNT_BLK */
	assert_int_equal(get32(f + 76), 0x608);          /* PM_TMR_BLK */
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	assert_int_equal(f[92], 0); /* no GPE0 block */
	/* The 64-bit forms agree: SystemIO GAS at the same ports. */
	assert_int_equal(f[148], 1);
	assert_int_equal(get64(f + 152), 0x600);
	assert_int_equal(f[172], 1);
	assert_int_equal(get64(f + 176), 0x604);
	assert_int_equal(f[208], 1);
	assert_int_equal(get64(f + 212), 0x608);
	assert_int_equal(flags & (1u << 20), 0); /* not hardware-reduced */
	assert_int_equal(flags & (1u << 4), 0);  /* a fixed-feature power button */
	assert_true(flags & (1u << 10));         /* RESET_REG_SUP */
	assert_int_equal(f[116], 1);             /* reset register: SystemIO 0xCF9, value 6 */
	assert_int_equal(get64(f + 120), 0xcf9);
	assert_int_equal(f[128], 6);
	assert_int_equal(get16(f + 109) & 3, 3); /* legacy devices, 8042 */
	assert_int_equal(f[108], 0x32);          /* RTC century register */
	assert_int_equal(dsdt[8], 2);
}

/* Walk the MADT: one enabled LAPIC per vCPU, the IOAPIC, overrides, LINT1 NMI. */
static void check_madt(unsigned cpus)
{
	const uint8_t *m = find("APIC");
	uint32_t len = get32(m + 4), off = 44;
	unsigned lapics = 0, ioapics = 0, nmis = 0;
	bool iso[16] = {false};

	assert_int_equal(get32(m + 36), 0xfee00000);
	assert_int_equal(get32(m + 40) & 1, 1); /* PCAT_COMPAT */
	while (off < len) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics); /* APIC ids 0, 1, 2... */
			assert_int_equal(e[2], lapics);
			assert_int_equal(get32(e + 4) & 1, 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cpus); /* IOAPIC id after the LAPICs */
			assert_int_equal(get32(e + 4), 0xfec00000);
			assert_int_equal(get32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			assert_true(e[3] < 16);
			assert_int_equal(get32(e + 4), e[3]);
			assert_int_equal(get16(e + 8), 0xd); /* level, active high */
			assert_false(iso[e[3]]);
			iso[e[3]] = true;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	/* Overrides for the level-triggered ISA IRQs and the SCI only; IRQ 0 stays on GSI 0. */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(iso[i], i == 5 || i == 6 || i == 9);
}

static const uint8_t *memmem_(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
	for (size_t i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

static void check_dsdt(void)
{
	const uint8_t *f = find("FACP");
	const uint8_t *d = table(get32(f + 40), "DSDT");
	uint32_t len = get32(d + 4);
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12};
	static const uint8_t pnp0a03[] = {0x0c, 0x41, 0xd0, 0x0a, 0x03};
	static const uint8_t pnp0501[] = {0x0c, 0x41, 0xd0, 0x05, 0x01};
	const uint8_t *p = memmem_(d, len, s5, sizeof(s5));

	/* Name (_S5, Package (4) { 5, 5, 0, 0 }) */
	assert_non_null(p);
	p += sizeof(s5);
	assert_int_equal(p[0], 8); /* PkgLength: itself, count, 2 * (0x0a, 5), 2 zeros */
	assert_int_equal(p[1], 4);
	assert_int_equal(p[2], 0x0a);
	assert_int_equal(p[3], 5);
	assert_non_null(memmem_(d, len, pnp0a03, sizeof(pnp0a03)));
	assert_non_null(memmem_(d, len, pnp0501, sizeof(pnp0501)));
	assert_non_null(memmem_(d, len, "PCI0", 4));
	assert_non_null(memmem_(d, len, "_PRT", 4));
	assert_non_null(memmem_(d, len, "_CRS", 4));
	/* The virtio-mmio slots: _HID "LNRO0005", Memory32Fixed at their base, their IRQ. */
	p = memmem_(d, len, "VR00", 4);
	assert_non_null(p);
	assert_non_null(memmem_(p, len - (size_t)(p - d), "LNRO0005", 9));
	assert_non_null(memmem_(p, len - (size_t)(p - d),
	                        (const uint8_t[]){0x86, 9, 0, 1, 0, 0, 0, 0xd0}, 8));
	assert_non_null(memmem_(p, len - (size_t)(p - d),
	                        (const uint8_t[]){0x89, 6, 0, 1, 1, 5, 0, 0, 0}, 9));
	assert_non_null(memmem_(d, len, "VR01", 4));
	assert_null(memmem_(d, len, "VR02", 4));
}

static void test_tables(void **state)
{
	static const unsigned counts[] = {1, 2, 4, 64};

	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct x86_acpi_config c = config(counts[i]);
		struct vk_error err = {0};

		memset(vm_mem_translate(&mem, X86_ACPI_RSDP_ADDR, X86_ACPI_TABLES_MAX), 0xee,
		       X86_ACPI_TABLES_MAX);
		assert_int_equal(x86_acpi_write(&mem, &c, &err), 0);
		check_rsdp();
		check_fadt();
		check_madt(counts[i]);
		check_dsdt();
	}
}

static void test_refusals(void **state)
{
	struct x86_acpi_config c = config(0);
	struct vk_error err = {0};
	struct vm_mem small;
	uint8_t buf[4096];
	long len;

	assert_int_equal(x86_acpi_write(&mem, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "0 CPUs"));
	c = config(255);
	assert_int_equal(x86_acpi_write(&mem, &c, &err), -EINVAL);
	c = config(1);
	c.sci_irq = 16;
	assert_int_equal(x86_acpi_write(&mem, &c, &err), -EINVAL);
	/* Guest RAM ending below the tables. */
	c = config(1);
	vm_mem_init(&small);
	assert_int_equal(vm_mem_add_ram(&small, 0, 0x80000, NULL), 0);
	assert_int_equal(x86_acpi_write(&small, &c, &err), -ENOMEM);
	vm_mem_destroy(&small);
	/* The DSDT builder never writes past its buffer, whatever the size. */
	len = x86_acpi_build_dsdt(&c, buf, sizeof(buf));
	assert_true(len > ACPI_HEADER_SIZE && len < (long)sizeof(buf));
	for (size_t cap = 0; cap < (size_t)len; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);

		assert_int_equal(x86_acpi_build_dsdt(&c, b, cap), -E2BIG);
		free(b);
	}
}

/* ---- the PM device ---- */

static struct {
	unsigned sets, poweroffs;
	bool level;
} pm_seen;

static void sci_record(void *opaque, unsigned n, bool level)
{
	assert_int_equal(n, 9);
	pm_seen.sets++;
	pm_seen.level = level;
}

static void poweroff_record(void *opaque)
{
	pm_seen.poweroffs++;
}

static uint64_t in(struct bus *b, uint16_t port, unsigned size)
{
	uint64_t v = 0;

	assert_true(bus_read(b, port, size, &v));
	return v;
}

static void out(struct bus *b, uint16_t port, unsigned size, uint64_t v)
{
	assert_true(bus_write(b, port, size, v));
}

static void test_pm(void **state)
{
	struct bus pio;
	struct vk_error err = {0};
	struct acpi_pm *pm;
	uint32_t t0, t1;

	memset(&pm_seen, 0, sizeof(pm_seen));
	bus_init(&pio, "pio");
	assert_null(acpi_pm_create(&pio, 0x600, 8, (struct irq_line){0}, NULL, NULL, &err));
	pm = acpi_pm_create(&pio, 0x600, 5, (struct irq_line){.set = sci_record, .n = 9},
	                    poweroff_record, NULL, &err);
	assert_non_null(pm);
	assert_null(acpi_pm_create(&pio, 0x600, 5, (struct irq_line){0}, NULL, NULL, &err));

	/* Always in ACPI mode; nothing pending. */
	assert_int_equal(in(&pio, 0x604, 2), 1);
	assert_int_equal(in(&pio, 0x600, 2), 0);
	/* The power button is ignored until the guest enables it. */
	assert_false(acpi_pm_power_button(pm));
	assert_int_equal(in(&pio, 0x600, 2), 0);
	out(&pio, 0x602, 2, 0x0100);
	assert_int_equal(in(&pio, 0x602, 2), 0x0100);
	assert_false(pm_seen.level);
	assert_true(acpi_pm_power_button(pm));
	assert_int_equal(in(&pio, 0x600, 2), 0x0100);
	assert_true(pm_seen.level);
	/* Writing 0 clears nothing; writing 1 to the status bit (a byte access) clears it. */
	out(&pio, 0x600, 2, 0);
	assert_true(pm_seen.level);
	out(&pio, 0x601, 1, 0x01);
	assert_int_equal(in(&pio, 0x600, 2), 0);
	assert_false(pm_seen.level);
	/* Disabling the event while pending drops the SCI, enabling raises it again. */
	assert_true(acpi_pm_power_button(pm));
	out(&pio, 0x602, 2, 0);
	assert_false(pm_seen.level);
	out(&pio, 0x602, 4, 0x00000100); /* 32-bit write over EN and CNT */
	assert_int_equal(in(&pio, 0x602, 2), 0x0100);
	assert_true(pm_seen.level);
	out(&pio, 0x600, 4, 0x01000100); /* clear STS, keep EN */
	assert_false(pm_seen.level);
	assert_int_equal(in(&pio, 0x600, 4), 0x01000000);

	/* A sleep state other than S5 is refused: WAK_STS set at once, no power-off. */
	out(&pio, 0x604, 2, ACPI_PM1_SLP_TYP(3));
	assert_int_equal(pm_seen.poweroffs, 0);
	assert_int_equal(in(&pio, 0x604, 2), ACPI_PM1_SLP_TYP(3) | 1);
	out(&pio, 0x604, 2, ACPI_PM1_SLP_TYP(3) | ACPI_PM1_SLP_EN);
	assert_int_equal(pm_seen.poweroffs, 0);
	assert_int_equal(in(&pio, 0x600, 2) & ACPI_PM1_WAK_STS, ACPI_PM1_WAK_STS);
	out(&pio, 0x600, 2, ACPI_PM1_WAK_STS);
	assert_int_equal(in(&pio, 0x600, 2), 0);
	/* S5, the way ACPICA writes it: SLP_TYP first, then SLP_TYP | SLP_EN. */
	out(&pio, 0x604, 2, ACPI_PM1_SLP_TYP(5));
	assert_int_equal(pm_seen.poweroffs, 0);
	out(&pio, 0x604, 2, ACPI_PM1_SLP_TYP(5) | ACPI_PM1_SLP_EN);
	assert_int_equal(pm_seen.poweroffs, 1);
	/* ...or as one byte write of the high half. */
	out(&pio, 0x605, 1, (ACPI_PM1_SLP_TYP(5) | ACPI_PM1_SLP_EN) >> 8);
	assert_int_equal(pm_seen.poweroffs, 2);

	/* The PM timer: 24 bits, counting; the timer is read-only. */
	t0 = (uint32_t)in(&pio, 0x608, 4);
	for (volatile unsigned i = 0; i < 200000; i++)
		;
	t1 = (uint32_t)in(&pio, 0x608, 4);
	assert_true(t0 <= 0xffffff && t1 <= 0xffffff);
	assert_true(t1 != t0);
	out(&pio, 0x608, 4, 0);
	assert_int_equal(in(&pio, 0x60b, 1), 0); /* bits 24-31 */
	/* Accesses past the block are not ours. */
	assert_false(bus_read(&pio, 0x60a, 4, &(uint64_t){0}));

	acpi_pm_destroy(pm);
	assert_false(bus_read(&pio, 0x600, 1, &(uint64_t){0}));
	bus_destroy(&pio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test(test_pm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
