/* SPDX-License-Identifier: MIT */
/*
 * The CMOS RTC's interrupts through the IOAPIC (ISA IRQ 8, edge): the
 * periodic interrupt at 2 Hz and the update-ended one (register B PIE, UIE),
 * then the alarm with every byte "any" (AIE). Each interrupt's register C
 * must say IRQF and which source; reading C re-arms the line.
 */
#include "pvh.h"

#define VEC_RTC 0x48

static uint8_t cmos_get(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_put(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

/* Wait for one RTC interrupt; returns register C. */
static uint8_t rtc_irq(const char *what)
{
	uint8_t c;

	CHECK(wait_irq_timeout(3000, what) == VEC_RTC, "an interrupt other than the RTC's");
	c = cmos_get(0x0c);
	lapic_eoi();
	CHECK(c & 0x80, "RTC interrupt with IRQF clear (C = %x)", c);
	return c;
}

void guest_main(void)
{
	unsigned pf = 0, uf = 0, n = 0;
	uint8_t c;

	idt_init();
	lapic_init();
	ioapic_route(8, VEC_RTC, false);
	cmos_put(0x0a, 0x2f); /* 32.768 kHz divider, rate 15: 2 Hz */
	cmos_get(0x0c);
	cmos_put(0x0b, 0x02 | 0x40 | 0x10); /* 24 h, PIE, UIE */
	while ((pf < 2 || uf < 1) && n++ < 20) {
		c = rtc_irq("the periodic and update interrupts");
		pf += !!(c & 0x40);
		uf += !!(c & 0x10);
	}
	printf("RTC: %u periodic and %u update interrupts\n", pf, uf);
	CHECK(pf >= 2 && uf >= 1, "missing RTC interrupts");

	cmos_put(0x0b, 0x02); /* all off */
	cmos_put(0x0a, 0x20);
	cmos_get(0x0c);
	cmos_put(0x01, 0xc0); /* the alarm: any second, minute, hour */
	cmos_put(0x03, 0xc0);
	cmos_put(0x05, 0xc0);
	cmos_put(0x0b, 0x02 | 0x20); /* AIE */
	c = rtc_irq("the alarm interrupt");
	CHECK(c & 0x20, "the alarm interrupt without AF (C = %x)", c);
	puts_serial("RTC: alarm interrupt\n");
	cmos_put(0x0b, 0x02);
}
