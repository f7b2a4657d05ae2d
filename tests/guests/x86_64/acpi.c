/* SPDX-License-Identifier: MIT */
/*
 * ACPI as an OS finds it: the RSDP from the PVH start info (and by scanning
 * 0xE0000-0xFFFFF, as Linux does without one), every table's checksum, the
 * XSDT -> MADT walk (one enabled local APIC per vCPU: vk.cpus=N), the FADT's
 * PM1 registers, \_S5 in the DSDT's AML; then the machine is powered off
 * through S5, which must end the run with status 0.
 *   vk.acpi=button  first enable the power button event, route the SCI, and
 *                   wait (printing "waiting for the power button") until the
 *                   control socket's `powerdown` presses it.
 */
#include "pvh.h"

#define VEC_SCI 0x41

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static bool sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s == 0;
}

static const uint8_t *sdt(uint64_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)addr;

	CHECK(addr && addr < (1u << 20), "%s at %lx is not below 1 MiB", sig, addr);
	CHECK(!memcmp(t, sig, 4), "no %s signature at %lx", sig, addr);
	CHECK(rd32(t + 4) >= 36 && rd32(t + 4) < 0x10000, "%s length %u", sig, rd32(t + 4));
	CHECK(sum_ok(t, rd32(t + 4)), "%s checksum is wrong", sig);
	return t;
}

static const uint8_t *find_rsdp(void)
{
	const struct hvm_start_info *si = guest_start_info;
	const uint8_t *p, *scanned = 0;

	for (p = (const uint8_t *)0xe0000; p < (const uint8_t *)0x100000; p += 16)
		if (!memcmp(p, "RSD PTR ", 8) && sum_ok(p, 20)) {
			scanned = p;
			break;
		}
	CHECK(scanned, "no RSDP in 0xe0000-0xfffff");
	CHECK(si->rsdp_paddr == (uint64_t)scanned, "start info rsdp_paddr %lx, the RSDP is at %lx",
	      si->rsdp_paddr, (uint64_t)scanned);
	CHECK(scanned[15] >= 2 && rd32(scanned + 20) == 36 && sum_ok(scanned, 36),
	      "RSDP revision %u: no valid XSDT pointer", scanned[15]);
	printf("RSDP at %lx\n", (uint64_t)scanned);
	return scanned;
}

/* The first element of the package named name (a 4-byte NameSeg) in the AML. */
static unsigned aml_package_int(const uint8_t *aml, uint32_t len, const char *name)
{
	for (uint32_t i = 0; i + 12 < len; i++) {
		const uint8_t *p = aml + i;

		if (p[0] != 0x08 || memcmp(p + 1, name, 4) || p[5] != 0x12)
			continue;
		p += 6 + 1 + (p[6] >> 6); /* PkgLength: 1 + (bits 7-6) bytes */
		p++;                      /* NumElements */
		if (*p == 0x00 || *p == 0x01)
			return *p;
		CHECK(*p == 0x0a, "%s: first element is not an integer (opcode %x)", name, *p);
		return p[1];
	}
	fail("no %s package in the DSDT", name);
}

static unsigned madt_lapics(const uint8_t *m, unsigned sci)
{
	uint32_t len = rd32(m + 4);
	unsigned n = 0;
	bool sci_level = false;

	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		CHECK(e[1] >= 2 && off + e[1] <= len, "MADT entry at %u is malformed", off);
		if (e[0] == 0 && (rd32(e + 4) & 1)) {
			CHECK(e[3] == n, "local APIC %u has APIC id %u", n, e[3]);
			n++;
		} else if (e[0] == 1) {
			CHECK(rd32(e + 4) == IOAPIC_BASE, "IOAPIC at %x", rd32(e + 4));
		} else if (e[0] == 2 && e[3] == sci) {
			sci_level = (e[8] & 0xc) == 0xc;
		}
	}
	CHECK(sci_level, "no level-triggered override for the SCI (IRQ %u)", sci);
	return n;
}

static void wait_power_button(uint16_t evt, unsigned sci)
{
	idt_init();
	lapic_init();
	CHECK(inw(evt) == 0, "PM1_STS is %x before anything happened", inw(evt));
	outw(evt + 2, 0x100); /* PWRBTN_EN */
	ioapic_route(sci, VEC_SCI, true);
	puts_serial("waiting for the power button\n");
	CHECK(wait_irq_timeout(30000, "the power button") == VEC_SCI, "not the SCI");
	CHECK(inw(evt) & 0x100, "SCI without PWRBTN_STS (PM1_STS %x)", inw(evt));
	outw(evt, 0x100); /* clear it: the level-triggered SCI drops */
	lapic_eoi();
	CHECK(inw(evt) == 0, "PWRBTN_STS did not clear");
	puts_serial("power button pressed\n");
}

void guest_main(void)
{
	const uint8_t *rsdp = find_rsdp(), *xsdt, *rsdt, *fadt = 0, *madt = 0, *dsdt;
	const char *arg = strstr(guest_cmdline, "vk.cpus=");
	unsigned n, want, slp_typ, sci;
	uint16_t cnt, evt;

	xsdt = sdt(rd64(rsdp + 24), "XSDT");
	rsdt = sdt(rd32(rsdp + 16), "RSDT");
	n = (rd32(xsdt + 4) - 36) / 8;
	CHECK(rd32(rsdt + 4) == 36 + 4 * n, "the RSDT and XSDT list different tables");
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = rd64(xsdt + 36 + 8 * i);

		CHECK(rd32(rsdt + 36 + 4 * i) == a, "RSDT entry %u differs from the XSDT's", i);
		if (!memcmp((const void *)a, "FACP", 4))
			fadt = sdt(a, "FACP");
		else if (!memcmp((const void *)a, "APIC", 4))
			madt = sdt(a, "APIC");
	}
	CHECK(fadt && madt, "the XSDT lacks the FADT or the MADT");
	CHECK(!(rd32(fadt + 112) & (1u << 20)), "the FADT is hardware-reduced");
	sci = rd32(fadt + 46) & 0xffff;
	evt = (uint16_t)rd32(fadt + 56);
	cnt = (uint16_t)rd32(fadt + 64);
	CHECK(evt && cnt && fadt[88] == 4 && fadt[89] == 2, "no PM1 event/control block");
	CHECK(inw(cnt) & 1, "SCI_EN is clear: not in ACPI mode");
	dsdt = sdt(rd64(fadt + 140) ? rd64(fadt + 140) : rd32(fadt + 40), "DSDT");
	CHECK(!memcmp((const void *)(uint64_t)rd32(fadt + 36), "FACS", 4), "no FACS");

	n = madt_lapics(madt, sci);
	printf("MADT: %u local APICs\n", n);
	want = arg ? (unsigned)parse_dec(arg + 8, 0) : 1;
	CHECK(n == want, "the MADT lists %u processors, the machine has %u", n, want);

	slp_typ = aml_package_int(dsdt + 36, rd32(dsdt + 4) - 36, "_S5_");
	printf("\\_S5: SLP_TYP %u, PM1a_CNT at %x, SCI on IRQ %u\n", slp_typ, cnt, sci);
	if (strstr(guest_cmdline, "vk.acpi=button"))
		wait_power_button(evt, sci);

	puts_serial("PASS\npowering off through ACPI S5\n");
	outw(cnt, (uint16_t)(slp_typ << 10));
	outw(cnt, (uint16_t)(slp_typ << 10 | 1u << 13)); /* SLP_EN */
	for (unsigned i = 0; i < 3; i++)
		puts_serial("still running after S5\n");
	fail("S5 did not power the machine off");
}
