/* SPDX-License-Identifier: MIT */
/*
 * A guest that lives for a while: it prints "tick N" every 50 ms of LAPIC
 * timer time, 60 times, then passes. The control-socket tests pause and
 * resume it (no ticks while paused), or ask it to power down: Ctrl-Alt-Del
 * arrives through the i8042 on IRQ 1 and the guest resets the machine.
 */
#include "pvh.h"

#define VEC_KBD 0x31

static bool keyboard(void)
{
	static uint8_t last;
	bool cad = false;

	while (inb(0x64) & 1) {
		uint8_t b = inb(0x60);

		if (last == 0xe0 && b == 0x53) /* Delete, after Ctrl and Alt */
			cad = true;
		last = b;
	}
	return cad;
}

void guest_main(void)
{
	idt_init();
	lapic_init();
	ioapic_route(1, VEC_KBD, false);
	puts_serial("ticking\n");
	for (unsigned i = 1; i <= 60;) {
		unsigned v;

		lapic_timer_oneshot(50 * 7812u);
		v = wait_irq();
		lapic_timer_stop();
		lapic_eoi();
		if (v == VEC_KBD && keyboard()) {
			puts_serial("got ctrl-alt-del: powering down\n");
			reset_machine();
		}
		if (v == IRQ_TIMEOUT)
			printf("tick %u\n", i++);
	}
}
