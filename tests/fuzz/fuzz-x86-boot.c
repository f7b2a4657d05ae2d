/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the x86 Linux loaders (boot/x86-linux.c, boot/x86-pvh.c):
 * a kernel image is untrusted input, so arbitrary bytes go in as a bzImage
 * (setup header, 64-bit boot protocol) and as an ELF (program headers, PT_NOTE
 * walk for the PVH entry, PT_LOAD segments), with a command line and an
 * initrd, into small guest RAM between guard pages.
 *
 * Input:
 *   byte 0    bits 0-1  loader: x86_load_linux() (0, 3), the bzImage (1) or PVH (2) one
 *             bit 2     with an initrd
 *             bit 3     a second RAM region at 4 GiB (1 MiB)
 *             bits 4-5  RAM from 0: 1, 2, 4 or 16 MiB
 *             bit 6     patch the magic in (boot flag + "HdrS", or the ELF64 x86-64
 *                       ident) so that random bytes get past the first checks
 *             bit 7     patch the other one's magic instead
 *   byte 1    command line length L
 *   bytes 2-3 initrd length in 64-byte units (little-endian)
 *   L bytes   command line (a NUL ends it early)
 *   the rest  the kernel image
 *
 * Checked after every load (abort when it does not hold):
 *   failure   the return value is -err.code and err holds a sentence
 *   success   the entry point and the boot state match the protocol (long mode at
 *             kernel + 0x200 with the zero page in rsi, or flat 32-bit at an entry
 *             below 4 GiB inside RAM with the start info in rbx); the kernel range
 *             lies in RAM at or above 1 MiB; the zero page / start info carry the
 *             command line, the e820 map and the RSDP address; the initrd is in RAM,
 *             page-aligned, below ram_below_4g (and initrd_addr_max for a bzImage),
 *             above the kernel, and holds the initrd's bytes.
 * Guard pages around RAM, ASan and UBSan catch the rest.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fuzz-common.h"
#include "fuzz.h"
#include "vm/boot/x86-boot.h"
#include "vm/mem.h"

#define HIGH_RAM_BASE  0x100000000ull
#define HIGH_RAM_SIZE  (1u << 20)
#define INITRD_MAX     (4u << 20)
#define KERNEL_MAX     (1u << 20)
#define RSDP           0xe0000u
#define ZP_RSDP        0x070
#define ZP_CMD_LINE    0x228
#define ZP_RAMDISK     0x218
#define ZP_RAMDISK_LEN 0x21c
#define ZP_INITRD_MAX  0x22c
#define ZP_E820_N      0x1e8

static const uint64_t low_sizes[4] = {1u << 20, 2u << 20, 4u << 20, 16u << 20};
static uint8_t *low_ram[4];
static uint8_t *high_ram;
static uint8_t initrd[INITRD_MAX]; /* pattern bytes */
static uint8_t kernel[KERNEL_MAX]; /* a copy of the image, patched when asked */

static void setup_once(void)
{
	if (high_ram)
		return;
	vk_log_set_level(VK_LOG_ERROR);
	for (unsigned i = 0; i < 4; i++)
		low_ram[i] = fz_guarded_ram(low_sizes[i]);
	high_ram = fz_guarded_ram(HIGH_RAM_SIZE);
	for (size_t i = 0; i < INITRD_MAX; i++)
		initrd[i] = (uint8_t)(i * 13 + 7);
}

static void check(bool ok)
{
	if (!ok)
		abort();
}

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

static void patch_bzimage(uint8_t *k, size_t len)
{
	if (len >= 0x206) {
		k[0x1fe] = 0x55;
		k[0x1ff] = 0xaa;
		memcpy(k + 0x202, "HdrS", 4);
	}
}

static void patch_elf(uint8_t *k, size_t len)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return;
	memcpy(&eh, k, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_machine = EM_X86_64;
	eh.e_type = ET_EXEC;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	memcpy(k, &eh, sizeof(eh));
}

/* The initrd landed where the protocol allows and holds its bytes. */
static void check_initrd(const struct vm_mem *mem, const struct x86_linux_params *p,
                         const struct x86_linux_info *info, uint64_t limit)
{
	const uint8_t *at;

	if (!p->initrd) {
		check(info->initrd_addr == 0);
		return;
	}
	check(info->initrd_addr % 4096 == 0);
	check(info->initrd_addr >= info->kernel_high);
	check(info->initrd_addr + p->initrd_len <= p->ram_below_4g);
	check(info->initrd_addr + p->initrd_len - 1 <= limit || p->initrd_len == 0);
	at = vm_mem_translate(mem, info->initrd_addr, p->initrd_len);
	check(at && memcmp(at, p->initrd, p->initrd_len) == 0);
}

static void check_bzimage(const struct vm_mem *mem, const struct x86_linux_params *p,
                          const struct x86_boot_state *bs, const struct x86_linux_info *info)
{
	const uint8_t *zp = vm_mem_translate(mem, X86_BOOT_ZERO_PAGE, 4096);
	uint32_t limit;

	check(!info->pvh && zp);
	check(bs->mode == X86_BOOT_LONG64 && bs->rsi == X86_BOOT_ZERO_PAGE);
	check(bs->rip == info->kernel_low + 0x200 && bs->cr3 == X86_BOOT_PML4);
	check(info->kernel_low >= X86_HIGH_MEMORY_START && info->kernel_high > info->kernel_low);
	check(vm_mem_translate(mem, info->kernel_low, info->kernel_high - info->kernel_low));
	check(rd32(zp + ZP_CMD_LINE) == X86_BOOT_CMDLINE);
	check(strcmp(vm_mem_translate(mem, X86_BOOT_CMDLINE, 1), p->cmdline) == 0);
	check(zp[ZP_E820_N] == p->nr_e820 && rd64(zp + ZP_RSDP) == RSDP);
	check(rd32(zp + ZP_RAMDISK) == (uint32_t)info->initrd_addr);
	check(rd32(zp + ZP_RAMDISK_LEN) == (p->initrd ? p->initrd_len : 0));
	limit = rd32(zp + ZP_INITRD_MAX);
	check_initrd(mem, p, info, limit ? limit : 0x37ffffff);
}

static void check_pvh(const struct vm_mem *mem, const struct x86_linux_params *p,
                      const struct x86_boot_state *bs, const struct x86_linux_info *info)
{
	const uint8_t *si = vm_mem_translate(mem, X86_BOOT_PVH_INFO, 56);

	check(info->pvh && si);
	check(bs->mode == X86_BOOT_FLAT32 && bs->rbx == X86_BOOT_PVH_INFO);
	check(bs->rip <= UINT32_MAX && vm_mem_translate(mem, bs->rip, 1));
	check(info->kernel_low >= X86_HIGH_MEMORY_START && info->kernel_high > info->kernel_low);
	check(rd32(si) == 0x336ec578 && rd64(si + 24) == X86_BOOT_CMDLINE);
	check(strcmp(vm_mem_translate(mem, X86_BOOT_CMDLINE, 1), p->cmdline) == 0);
	check(rd64(si + 32) == RSDP && rd32(si + 48) == p->nr_e820);
	check(rd32(si + 12) == (p->initrd ? 1u : 0u));
	check_initrd(mem, p, info, UINT64_MAX);
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};
	uint8_t flags = fz_get8(&r), cmd_len = fz_get8(&r);
	size_t initrd_len = (size_t)fz_get16(&r) * 64;
	char cmdline[256];
	struct x86_e820_entry e820[3];
	struct vm_mem mem;
	struct x86_boot_state bs;
	struct x86_linux_info info;
	struct vk_error err = {0};
	size_t klen;
	unsigned n = 0, i;
	int ret;

	setup_once();
	for (i = 0; i < cmd_len && r.left; i++)
		cmdline[i] = (char)fz_get8(&r);
	cmdline[i] = '\0';
	klen = VK_MIN(r.left, (size_t)KERNEL_MAX);
	memcpy(kernel, r.p, klen);
	if (flags & 0x40)
		(flags & 3) == 2 ? patch_elf(kernel, klen) : patch_bzimage(kernel, klen);
	if (flags & 0x80)
		(flags & 3) == 2 ? patch_bzimage(kernel, klen) : patch_elf(kernel, klen);

	vm_mem_init(&mem);
	mem.regions[mem.nr++] = (struct vm_mem_region){
	        .gpa = 0, .size = low_sizes[flags >> 4 & 3], .host = low_ram[flags >> 4 & 3]};
	if (flags & 8)
		mem.regions[mem.nr++] = (struct vm_mem_region){
		        .gpa = HIGH_RAM_BASE, .size = HIGH_RAM_SIZE, .host = high_ram};
	e820[n++] = (struct x86_e820_entry){0, X86_EBDA_START, E820_RAM};
	if (mem.regions[0].size > X86_HIGH_MEMORY_START)
		e820[n++] = (struct x86_e820_entry){X86_HIGH_MEMORY_START,
		                                    mem.regions[0].size - X86_HIGH_MEMORY_START,
		                                    E820_RAM};
	if (flags & 8)
		e820[n++] = (struct x86_e820_entry){HIGH_RAM_BASE, HIGH_RAM_SIZE, E820_RAM};

	struct x86_linux_params p = {
	        .kernel_name = "fuzz-kernel",
	        .kernel = kernel,
	        .kernel_len = klen,
	        .initrd_name = "fuzz-initrd",
	        .initrd = flags & 4 ? initrd : NULL,
	        .initrd_len = flags & 4 ? VK_MIN(initrd_len, (size_t)INITRD_MAX) : 0,
	        .cmdline = cmdline,
	        .e820 = e820,
	        .nr_e820 = n,
	        .ram_below_4g = mem.regions[0].size,
	        .acpi_rsdp = RSDP,
	};
	switch (flags & 3) {
	case 1:
		ret = x86_bzimage_load(&mem, &p, &bs, &info, &err);
		break;
	case 2:
		ret = x86_pvh_load(&mem, &p, &bs, &info, &err);
		break;
	default:
		ret = x86_load_linux(&mem, &p, &bs, &info, &err);
		break;
	}
	if (ret < 0) {
		check(err.code > 0 && ret == -err.code && err.msg[0] != '\0');
		return 0;
	}
	check(ret == 0);
	if (info.pvh)
		check_pvh(&mem, &p, &bs, &info);
	else
		check_bzimage(&mem, &p, &bs, &info);
	return 0;
}

/* A few inputs of our own (seeds: tests/fuzz/corpus/x86-boot, from gen-seeds-x86-boot.py). */
static const uint8_t builtin0[] = {0};
/* Magic patched in, everything else zero: refused for its protocol version. */
static const uint8_t builtin1[0x700] = {0x41, 3, 1, 0, 'a', 'b', 'c'};
/* The same as an ELF: no program headers. */
static const uint8_t builtin2[0x100] = {0x42};

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)},
        {builtin1, sizeof(builtin1)},
        {builtin2, sizeof(builtin2)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "x86-boot";
