/* SPDX-License-Identifier: MIT */
/*
 * Ways a guest resets the machine, chosen on the command line:
 *   vk.reset=kbd     i8042 command 0xFE (the default)
 *   vk.reset=cf9     the reset control register (0xCF9)
 *   vk.reset=triple  a triple fault (an exception with an empty IDT)
 *   vk.reset=int3    not a reset: a breakpoint, which kvm_pvm cannot emulate (the VMM
 *                    must report a KVM internal error); on other hosts it is a guest
 *                    exception and the test fails with "exception 3"
 * It prints "boot" first, so a reboot (--on-reset reboot) shows as another "boot".
 */
#include "pvh.h"

void guest_main(void)
{
	const char *how = strstr(guest_cmdline, "vk.reset=");

	puts_serial("boot\n");
	how = how ? how + 9 : "kbd";
	if (!memcmp(how, "cf9", 3)) {
		puts_serial("resetting through 0xcf9\n");
		outb(0xcf9, 0x06);
	} else if (!memcmp(how, "triple", 6)) {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) idtr = {0, 0};

		puts_serial("resetting with a triple fault\n");
		__asm__ volatile("lidt %0; ud2" : : "m"(idtr));
	} else if (!memcmp(how, "int3", 4)) {
		idt_init();
		puts_serial("executing int3\n");
		__asm__ volatile("int3");
	} else {
		puts_serial("resetting through the i8042\n");
		outb(0x64, 0xfe);
	}
	for (unsigned i = 0; i < 3; i++)
		puts_serial("still running after the reset\n");
	fail("the reset did not stop the machine");
}
