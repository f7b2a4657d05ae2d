/* SPDX-License-Identifier: MIT */
/*
 * Serial output and the PVH boot information: the start info magic, the
 * command line, the memory map (it must cover the RAM the VMM was given:
 * vk.mem=<MiB> on the command line) and the initrd module when there is one.
 */
#include "pvh.h"

void guest_main(void)
{
	const struct hvm_start_info *si = guest_start_info;
	const struct hvm_memmap_entry *mm;
	const char *p;
	uint64_t ram = 0, want;

	puts_serial("hello from the x86_64 test guest\n");
	CHECK(si->magic == HVM_START_MAGIC, "bad start info magic %x", si->magic);
	CHECK(si->version >= 1, "start info version %u has no memory map", si->version);
	printf("cmdline: %s\n", guest_cmdline);
	mm = (const void *)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		printf("memmap %lx-%lx type %u\n", mm[i].addr, mm[i].addr + mm[i].size - 1,
		       mm[i].type);
		if (mm[i].type == 1)
			ram += mm[i].size;
	}
	p = strstr(guest_cmdline, "vk.mem=");
	if (p) {
		want = parse_dec(p + 7, 0) << 20;
		/* Usable RAM is what was given minus the holes below 1 MiB. */
		CHECK(ram <= want && ram + (1u << 20) >= want,
		      "RAM in the memory map: %lu, want %lu", ram, want);
	}
	if (si->nr_modules) {
		const struct hvm_modlist_entry *m = (const void *)si->modlist_paddr;
		const char *data = (const char *)m->paddr;

		printf("initrd at %lx, %lu bytes: %c%c%c%c\n", m->paddr, m->size, data[0], data[1],
		       data[2], data[3]);
		CHECK(!memcmp(data, "VKINITRD", 8), "initrd content differs");
	}
}
