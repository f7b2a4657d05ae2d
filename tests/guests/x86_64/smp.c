/* SPDX-License-Identifier: MIT */
/*
 * SMP bring-up: the BSP reads the MP table (as Linux does without ACPI),
 * checks its own CPUID topology, and starts every other processor with
 * INIT-SIPI-SIPI into a real-mode trampoline. Each AP reads its APIC id from
 * CPUID and reports in by setting its bit in a shared bitmap.
 */
#include "pvh.h"

#define TRAMPOLINE 0x8000
#define REPORT     0x4000 /* uint32_t bitmap, uint32_t count */

extern const char ap_trampoline[], ap_trampoline_end[];
__asm__(".pushsection .rodata\n"
        ".code16\n"
        "ap_trampoline:\n"
        "  cli\n"
        "  xorw %ax, %ax\n"
        "  movw %ax, %ds\n"
        "  movl $1, %eax\n"
        "  cpuid\n"
        "  shrl $24, %ebx\n"
        "  lock btsl %ebx, 0x4000\n"
        "  lock incl 0x4004\n"
        "1: hlt\n"
        "  jmp 1b\n"
        "ap_trampoline_end:\n"
        ".code64\n"
        ".popsection\n");

struct mpc_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features, reserved[2];
} __attribute__((packed));

static unsigned mptable_cpus(uint32_t *ids)
{
	const uint8_t *p;
	const uint8_t *table, *e;
	unsigned n = 0, count;

	for (p = (const uint8_t *)0xf0000; p < (const uint8_t *)0x100000; p += 16)
		if (!memcmp(p, "_MP_", 4))
			break;
	CHECK(p < (const uint8_t *)0x100000, "no MP floating pointer in 0xf0000-0xfffff");
	table = (const uint8_t *)(uint64_t) * (const uint32_t *)(p + 4);
	CHECK(!memcmp(table, "PCMP", 4), "MP configuration table signature missing");
	count = *(const uint16_t *)(table + 34);
	e = table + 44;
	for (unsigned i = 0; i < count; i++) {
		if (*e == 0) {
			const struct mpc_cpu *c = (const void *)e;
			CHECK(c->flags & 1, "processor entry %u disabled", i);
			CHECK(!!(c->flags & 2) == (n == 0), "BSP flag wrong on entry %u", i);
			ids[n++] = c->apic_id;
			e += 20;
		} else {
			e += 8;
		}
	}
	return n;
}

void guest_main(void)
{
	volatile uint32_t *report = (volatile uint32_t *)REPORT;
	uint32_t ids[64], r[4], want = 0;
	unsigned n;

	idt_init();
	lapic_init();
	n = mptable_cpus(ids);
	printf("MP table: %u processors\n", n);
	CHECK(n >= 1 && n <= 32, "MP table lists %u processors", n);
	CHECK(lapic_id() == 0 && ids[0] == 0, "the BSP is not APIC id 0");
	cpuid(1, 0, r);
	CHECK(r[1] >> 24 == 0, "CPUID.1 APIC id of the BSP is %u", r[1] >> 24);
	CHECK(r[2] & (1u << 31), "CPUID.1 lacks the hypervisor bit");
	cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		cpuid(0xb, 1, r);
		printf("CPUID.B core level: %u logical processors\n", r[1] & 0xffff);
		CHECK((r[1] & 0xffff) == n, "CPUID.B reports %u processors, the MP table %u",
		      r[1] & 0xffff, n);
	}
	for (unsigned i = 1; i < n; i++)
		want |= 1u << ids[i];
	report[0] = 0;
	report[1] = 0;
	memcpy((void *)TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
	for (unsigned i = 1; i < n; i++) {
		mmio_write32(LAPIC_BASE + 0x310, ids[i] << 24);
		mmio_write32(LAPIC_BASE + 0x300, 0x4500); /* INIT */
		mmio_write32(LAPIC_BASE + 0x310, ids[i] << 24);
		mmio_write32(LAPIC_BASE + 0x300, 0x4600 | (TRAMPOLINE >> 12)); /* SIPI */
		mmio_write32(LAPIC_BASE + 0x310, ids[i] << 24);
		mmio_write32(LAPIC_BASE + 0x300, 0x4600 | (TRAMPOLINE >> 12)); /* SIPI again */
	}
	/* Wait for every AP, with the LAPIC timer (3 s of real time) as the limit. */
	lapic_timer_oneshot(3000 * 7812u);
	while (report[1] < n - 1 && mmio_read32(LAPIC_BASE + 0x390) != 0)
		barrier();
	lapic_timer_stop();
	for (unsigned i = 0; i < n; i++)
		if (i == 0 || (report[0] & (1u << ids[i])))
			printf("cpu %u (APIC id %u) is up\n", i, ids[i]);
	CHECK(report[0] == want, "APs that reported in: %x, want %x (count %u)", report[0], want,
	      report[1]);
	printf("all %u processors reported in\n", n);
}
