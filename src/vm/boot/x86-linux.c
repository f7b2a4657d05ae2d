/* SPDX-License-Identifier: MIT */
/*
 * Linux bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel goes to 1 MiB (or its preferred address when it is
 * not relocatable), the zero page gets a copy of the setup header plus the
 * e820 map, command line and initrd, and the BSP enters at load + 0x200 in
 * long mode with 4 GiB identity-mapped. Also the helpers the PVH loader
 * shares: command line, initrd placement, GDT.
 */
#include "vm/boot/x86-boot.h"

#include <errno.h>
#include <string.h>

#include "vm/boot/elf.h"
#include "vm/mem.h"

/* Setup header offsets (in the file and in the zero page). */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_VID_MODE        0x1fa
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGN    0x230
#define HDR_RELOCATABLE     0x234
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_END_MIN         0x264 /* the fields above, protocol 2.10+ */
/* Zero page offsets outside the setup header. */
#define ZP_ACPI_RSDP_ADDR      0x070 /* boot_params.acpi_rsdp_addr (Linux 5.0+) */
#define ZP_EXT_RAMDISK_IMAGE   0x0c0
#define ZP_EXT_RAMDISK_SIZE    0x0c4
#define ZP_EXT_CMD_LINE_PTR    0x0c8
#define ZP_E820_ENTRIES        0x1e8
#define ZP_E820_TABLE          0x2d0
#define ZP_SIZE                0x1000

#define LOADFLAGS_LOADED_HIGH  0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64          0x01
#define BOOT_PROTO_MIN         0x020c /* 2.12: xloadflags, 64-bit entry */

static uint16_t get16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] | b[off + 1] << 8);
}

static uint32_t get32(const uint8_t *b, size_t off)
{
	return (uint32_t)get16(b, off) | (uint32_t)get16(b, off + 2) << 16;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

bool x86_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= HDR_END_MIN && get16(buf, HDR_BOOT_FLAG) == 0xaa55 &&
	       memcmp(buf + HDR_MAGIC, "HdrS", 4) == 0;
}

int x86_write_cmdline(struct vm_mem *mem, const struct x86_linux_params *p, size_t max,
                      struct vk_error *err)
{
	const char *cmd = p->cmdline ? p->cmdline : "";
	size_t len = strlen(cmd) + 1;

	if (max > X86_BOOT_CMDLINE_MAX)
		max = X86_BOOT_CMDLINE_MAX;
	if (len > max)
		return vk_error_set(
		        err, E2BIG,
		        "the kernel command line is %zu bytes; '%s' accepts at most %zu", len - 1,
		        p->kernel_name, max - 1);
	if (vm_mem_write(mem, X86_BOOT_CMDLINE, cmd, len) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the kernel command line");
	return 0;
}

int x86_place_initrd(struct vm_mem *mem, const struct x86_linux_params *p, uint64_t limit,
                     uint64_t not_below, uint64_t *addr, struct vk_error *err)
{
	uint64_t top = p->ram_below_4g;
	uint64_t a;

	if (limit < UINT64_MAX && limit + 1 < top)
		top = limit + 1;
	if (p->initrd_len > top || ((top - p->initrd_len) & ~0xfffull) < not_below)
		return vk_error_set(err, ENOMEM,
		                    "initrd '%s' (%zu KiB) does not fit in guest RAM between the "
		                    "kernel (up to 0x%llx) and 0x%llx; give the machine more "
		                    "--memory",
		                    p->initrd_name, p->initrd_len >> 10,
		                    (unsigned long long)not_below, (unsigned long long)top);
	a = (top - p->initrd_len) & ~0xfffull;
	if (vm_mem_write(mem, a, p->initrd, p->initrd_len) < 0)
		return vk_error_set(err, ENOMEM, "initrd '%s' does not fit in guest RAM at 0x%llx",
		                    p->initrd_name, (unsigned long long)a);
	*addr = a;
	return 0;
}

int x86_write_gdt(struct vm_mem *mem, struct x86_boot_state *bs)
{
	static const uint64_t gdt[4] = {
	        0, 0x00cf9b000000ffffull, /* 0x08: 32-bit code, flat */
	        0x00af9b000000ffffull,    /* 0x10: 64-bit code (__BOOT_CS) */
	        0x00cf93000000ffffull,    /* 0x18: data, flat (__BOOT_DS) */
	};

	bs->gdt_base = X86_BOOT_GDT;
	bs->gdt_limit = sizeof(gdt) - 1;
	return vm_mem_write(mem, X86_BOOT_GDT, gdt, sizeof(gdt));
}

/* Identity-map the first 4 GiB with 2 MiB pages. */
static int x86_write_page_tables(struct vm_mem *mem, struct x86_boot_state *bs)
{
	uint64_t *pml4 = vm_mem_translate(mem, X86_BOOT_PML4, 0x1000);
	uint64_t *pdpt = vm_mem_translate(mem, X86_BOOT_PDPT, 0x1000);
	uint64_t *pd = vm_mem_translate(mem, X86_BOOT_PD, 0x4000);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = X86_BOOT_PDPT | 0x3; /* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (X86_BOOT_PD + i * 0x1000ull) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB page */
	bs->cr3 = X86_BOOT_PML4;
	return 0;
}

int x86_bzimage_load(struct vm_mem *mem, const struct x86_linux_params *p,
                     struct x86_boot_state *bs, struct x86_linux_info *info, struct vk_error *err)
{
	const uint8_t *k = p->kernel;
	uint8_t zp[ZP_SIZE];
	uint16_t version;
	uint32_t setup_sects, init_size, initrd_max, cmdline_size;
	uint64_t setup_size, load, pref, high, hdr_end;
	uint64_t initrd_addr = 0;
	int r;

	if (!x86_is_bzimage(k, p->kernel_len))
		return vk_error_set(err, ENOEXEC, "'%s' is not a bzImage (no 'HdrS' setup header)",
		                    p->kernel_name);
	version = get16(k, HDR_VERSION);
	if (version < BOOT_PROTO_MIN)
		return vk_error_set(err, ENOEXEC,
		                    "'%s' uses boot protocol %u.%02u; the 64-bit entry needs 2.12 "
		                    "or newer",
		                    p->kernel_name, version >> 8, version & 0xff);
	if (!(get16(k, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return vk_error_set(err, ENOEXEC, "'%s' is not a 64-bit kernel (no 64-bit entry)",
		                    p->kernel_name);
	if (!(k[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
		return vk_error_set(err, ENOEXEC, "'%s' is a zImage, not a bzImage",
		                    p->kernel_name);
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1ull) * 512;
	if (setup_size >= p->kernel_len)
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is truncated: %zu bytes, its setup code alone is %llu",
		                    p->kernel_name, p->kernel_len, (unsigned long long)setup_size);
	hdr_end = HDR_MAGIC + (uint64_t)k[HDR_JUMP + 1];
	if (hdr_end < HDR_END_MIN || hdr_end > setup_size || hdr_end > ZP_E820_TABLE)
		return vk_error_set(err, ENOEXEC, "'%s' has a malformed setup header",
		                    p->kernel_name);

	pref = (uint64_t)get32(k, HDR_PREF_ADDRESS) | (uint64_t)get32(k, HDR_PREF_ADDRESS + 4)
	                                                      << 32;
	init_size = get32(k, HDR_INIT_SIZE);
	load = X86_BZIMAGE_LOAD;
	if (!k[HDR_RELOCATABLE]) {
		if (pref < X86_HIGH_MEMORY_START)
			return vk_error_set(err, ENOEXEC,
			                    "'%s' is not relocatable and wants to load at 0x%llx",
			                    p->kernel_name, (unsigned long long)pref);
		load = pref;
	}
	/* The decompressor may move the kernel up to pref before it unpacks there. */
	if (vk_add_overflow(VK_MAX(load, pref), (uint64_t)init_size, &high) ||
	    high < load + (p->kernel_len - setup_size))
		high = load + (p->kernel_len - setup_size);
	if (!vm_mem_translate(mem, load, high - load))
		return vk_error_set(err, ENOMEM,
		                    "kernel '%s' needs guest RAM up to 0x%llx; give the machine "
		                    "more --memory",
		                    p->kernel_name, (unsigned long long)high);
	r = vm_mem_write(mem, load, k + setup_size, p->kernel_len - setup_size);
	if (r < 0)
		return vk_error_set(err, ENOMEM, "kernel '%s' does not fit in guest RAM",
		                    p->kernel_name);

	cmdline_size = version >= 0x0206 ? get32(k, HDR_CMDLINE_SIZE) : 255;
	r = x86_write_cmdline(mem, p, (size_t)cmdline_size + 1, err);
	if (r < 0)
		return r;
	if (p->initrd) {
		initrd_max = get32(k, HDR_INITRD_ADDR_MAX);
		r = x86_place_initrd(mem, p, initrd_max ? initrd_max : 0x37ffffff, high,
		                     &initrd_addr, err);
		if (r < 0)
			return r;
	}

	memset(zp, 0, sizeof(zp));
	memcpy(zp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	put16(zp, HDR_VID_MODE, 0xffff); /* "normal" */
	zp[HDR_TYPE_OF_LOADER] = 0xff;   /* undefined boot loader */
	zp[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	put16(zp, HDR_HEAP_END_PTR, 0xfe00);
	put32(zp, HDR_CMD_LINE_PTR, X86_BOOT_CMDLINE);
	put32(zp, ZP_EXT_CMD_LINE_PTR, 0);
	put32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put32(zp, HDR_RAMDISK_SIZE, p->initrd ? (uint32_t)p->initrd_len : 0);
	put32(zp, ZP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
	put32(zp, ZP_EXT_RAMDISK_SIZE, 0);
	/* Older kernels ignore it and scan 0xE0000-0xFFFFF for the RSDP instead. */
	put32(zp, ZP_ACPI_RSDP_ADDR, (uint32_t)p->acpi_rsdp);
	put32(zp, ZP_ACPI_RSDP_ADDR + 4, (uint32_t)(p->acpi_rsdp >> 32));
	if (p->nr_e820 > E820_MAX)
		return vk_error_set(err, E2BIG, "too many e820 entries (%u)", p->nr_e820);
	zp[ZP_E820_ENTRIES] = (uint8_t)p->nr_e820;
	memcpy(zp + ZP_E820_TABLE, p->e820, p->nr_e820 * sizeof(p->e820[0]));
	if (vm_mem_write(mem, X86_BOOT_ZERO_PAGE, zp, sizeof(zp)) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the zero page");

	memset(bs, 0, sizeof(*bs));
	if (x86_write_gdt(mem, bs) < 0 || x86_write_page_tables(mem, bs) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the boot page tables");
	bs->mode = X86_BOOT_LONG64;
	bs->rip = load + 0x200;
	bs->rsi = X86_BOOT_ZERO_PAGE;
	bs->rsp = X86_BOOT_STACK;

	memset(info, 0, sizeof(*info));
	info->kernel_low = load;
	info->kernel_high = high;
	info->initrd_addr = initrd_addr;
	info->version = version;
	return 0;
}

int x86_load_linux(struct vm_mem *mem, const struct x86_linux_params *p, struct x86_boot_state *bs,
                   struct x86_linux_info *info, struct vk_error *err)
{
	if (x86_is_bzimage(p->kernel, p->kernel_len))
		return x86_bzimage_load(mem, p, bs, info, err);
	if (elf_is_elf(p->kernel, p->kernel_len))
		return x86_pvh_load(mem, p, bs, info, err);
	if (p->kernel_len < HDR_END_MIN)
		return vk_error_set(err, ENOEXEC, "'%s' is too small to be a kernel (%zu bytes)",
		                    p->kernel_name, p->kernel_len);
	return vk_error_set(err, ENOEXEC,
	                    "'%s' is neither a bzImage (no 'HdrS' setup header) nor an ELF "
	                    "vmlinux",
	                    p->kernel_name);
}
