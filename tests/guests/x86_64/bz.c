/* SPDX-License-Identifier: MIT */
/*
 * Entered through the bzImage 64-bit boot protocol: check what the VMM put in
 * the zero page (setup header copy, loader type, e820 map, command line,
 * initrd below initrd_addr_max, the ACPI RSDP address) and that the entry
 * state is long mode.
 */
#include "guest.h"

struct e820 {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

void bz_main(const uint8_t *zp);
void bz_main(const uint8_t *zp)
{
	const struct e820 *e = (const void *)(zp + 0x2d0);
	uint32_t cmd = *(const uint32_t *)(zp + 0x228);
	uint32_t rd = *(const uint32_t *)(zp + 0x218), rd_size = *(const uint32_t *)(zp + 0x21c);
	uint64_t ram = 0, efer, rsdp = *(const uint64_t *)(zp + 0x70);
	uint32_t lo, hi;

	guest_cmdline = (const char *)(uint64_t)cmd;
	printf("bzImage guest: zero page at %lx\n", (uint64_t)zp);
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	efer = (uint64_t)hi << 32 | lo;
	CHECK(efer & (1u << 10), "not in long mode (EFER %lx)", efer);
	CHECK(!memcmp(zp + 0x202, "HdrS", 4), "the zero page lacks the setup header");
	CHECK(*(const uint16_t *)(zp + 0x206) == 0x020f, "setup header version not copied");
	CHECK(zp[0x210] == 0xff, "type_of_loader is %x, want 0xff", zp[0x210]);
	CHECK(cmd != 0, "no command line");
	printf("cmdline: %s\n", guest_cmdline);
	CHECK(zp[0x1e8] > 0 && zp[0x1e8] <= 128, "e820 entries: %u", zp[0x1e8]);
	for (unsigned i = 0; i < zp[0x1e8]; i++) {
		printf("e820 %lx-%lx type %u\n", e[i].addr, e[i].addr + e[i].size - 1, e[i].type);
		if (e[i].type == 1)
			ram += e[i].size;
	}
	CHECK(ram >= (8u << 20), "only %lu bytes of RAM in the e820 map", ram);
	CHECK(rsdp && !memcmp((const void *)rsdp, "RSD PTR ", 8),
	      "boot_params.acpi_rsdp_addr (%lx) does not point at the RSDP", rsdp);
	printf("RSDP at %lx\n", rsdp);
	if (strstr(guest_cmdline, "vk.initrd")) {
		CHECK(rd && rd_size, "no initrd in the zero page");
		CHECK((uint64_t)rd + rd_size - 1 <= 0x7fffffff, "initrd above initrd_addr_max");
		CHECK(!(rd & 0xfff), "initrd at %x is not page aligned", rd);
		printf("initrd at %x, %u bytes\n", rd, rd_size);
		CHECK(!memcmp((const void *)(uint64_t)rd, "VKINITRD", 8), "initrd content differs");
	}
	pass();
}
