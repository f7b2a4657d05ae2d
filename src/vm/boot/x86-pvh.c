/* SPDX-License-Identifier: MIT */
/*
 * PVH direct boot of an ELF64 kernel (Linux vmlinux built with CONFIG_PVH, or
 * a freestanding test program): PT_LOAD segments go to their physical
 * addresses, the 32-bit entry point comes from the Xen ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY (type 18), and the BSP starts in 32-bit protected
 * mode with paging off and %ebx pointing at an hvm_start_info (version 1: with
 * a memory map), as Xen's docs/misc/pvh.pandoc specifies.
 */
#include "vm/boot/x86-boot.h"

#include <errno.h>
#include <string.h>

#include "vm/boot/elf.h"
#include "vm/mem.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578
#define PVH_CMDLINE_MAX          2048 /* Linux's COMMAND_LINE_SIZE on x86 */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define PVH_MODLIST (X86_BOOT_PVH_INFO + 0x40)
#define PVH_MEMMAP  (X86_BOOT_PVH_INFO + 0x80)

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ull;
}

/* Look for the PVH note in one PT_NOTE segment. Returns true when found. */
static bool pvh_find_note(const uint8_t *n, uint64_t size, uint64_t *entry)
{
	uint64_t off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, n + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + align4(nh.n_namesz);
		next = desc_off + align4(nh.n_descsz);
		if (next > size || next <= off)
			return false;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(n + name_off, "Xen", 4) == 0) {
			uint32_t e32;

			if (nh.n_descsz == 8) {
				memcpy(entry, n + desc_off, 8);
				return true;
			}
			if (nh.n_descsz == 4) {
				memcpy(&e32, n + desc_off, 4);
				*entry = e32;
				return true;
			}
			return false;
		}
		off = next;
	}
	return false;
}

/* The PVH entry point from the PT_NOTE segments. */
static int pvh_find_entry(const struct x86_linux_params *p, const Elf64_Ehdr *eh, uint64_t *entry,
                          bool *found, struct vk_error *err)
{
	for (unsigned i = 0; i < eh->e_phnum && !*found; i++) {
		Elf64_Phdr ph;

		elf_phdr(p->kernel, eh, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		if (!elf_in_file(ph.p_offset, ph.p_filesz, p->kernel_len))
			return vk_error_set(
			        err, ENOEXEC,
			        "'%s' is truncated: note segment %u lies beyond the end of "
			        "the file",
			        p->kernel_name, i);
		*found = pvh_find_note(p->kernel + ph.p_offset, ph.p_filesz, entry);
	}
	return 0;
}

int x86_pvh_load(struct vm_mem *mem, const struct x86_linux_params *p, struct x86_boot_state *bs,
                 struct x86_linux_info *info, struct vk_error *err)
{
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[E820_MAX];
	struct elf_info img;
	Elf64_Ehdr eh;
	uint64_t entry = 0, initrd_addr = 0;
	bool have_entry = false;
	int r;

	/* Before elf.c's finer reasons (class, byte order, machine): not for x86-64. */
	if (p->kernel_len >= sizeof(eh) && elf_is_elf(p->kernel, p->kernel_len)) {
		memcpy(&eh, p->kernel, sizeof(eh));
		if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
		    eh.e_machine != EM_X86_64)
			return vk_error_set(err, ENOEXEC,
			                    "'%s' is an ELF file, but not an x86-64 one",
			                    p->kernel_name);
	}
	r = elf_check_exec(p->kernel_name, p->kernel, p->kernel_len, EM_X86_64, &eh, err);
	if (r < 0)
		return r;
	memset(info, 0, sizeof(*info));
	info->pvh = true;
	r = pvh_find_entry(p, &eh, &entry, &have_entry, err);
	if (r < 0)
		return r;
	if (!have_entry)
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is an ELF file without a PVH entry note (Xen note 18); "
		                    "use a bzImage or a kernel built with CONFIG_PVH",
		                    p->kernel_name);
	if (entry > UINT32_MAX || !vm_mem_translate(mem, entry, 1))
		return vk_error_set(err, ENOEXEC,
		                    "'%s': PVH entry point 0x%llx is not in guest RAM",
		                    p->kernel_name, (unsigned long long)entry);
	r = elf_load_segments(p->kernel_name, p->kernel, p->kernel_len, &eh, mem,
	                      X86_HIGH_MEMORY_START, &img, err);
	if (r < 0)
		return r;
	info->kernel_low = img.low;
	info->kernel_high = img.high;

	r = x86_write_cmdline(mem, p, PVH_CMDLINE_MAX, err);
	if (r < 0)
		return r;
	memset(&si, 0, sizeof(si));
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = X86_BOOT_CMDLINE;
	si.rsdp_paddr = p->acpi_rsdp;
	if (p->initrd) {
		r = x86_place_initrd(mem, p, UINT64_MAX, info->kernel_high, &initrd_addr, err);
		if (r < 0)
			return r;
		mod = (struct hvm_modlist_entry){.paddr = initrd_addr, .size = p->initrd_len};
		if (vm_mem_write(mem, PVH_MODLIST, &mod, sizeof(mod)) < 0)
			return vk_error_set(err, ENOMEM, "no guest RAM for the PVH module list");
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST;
	}
	if (p->nr_e820 > E820_MAX)
		return vk_error_set(err, E2BIG, "too many e820 entries (%u)", p->nr_e820);
	for (unsigned i = 0; i < p->nr_e820; i++)
		mm[i] = (struct hvm_memmap_table_entry){
		        .addr = p->e820[i].addr, .size = p->e820[i].size, .type = p->e820[i].type};
	si.memmap_paddr = PVH_MEMMAP;
	si.memmap_entries = p->nr_e820;
	if (vm_mem_write(mem, PVH_MEMMAP, mm, p->nr_e820 * sizeof(mm[0])) < 0 ||
	    vm_mem_write(mem, X86_BOOT_PVH_INFO, &si, sizeof(si)) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the PVH start info");

	memset(bs, 0, sizeof(*bs));
	if (x86_write_gdt(mem, bs) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the boot GDT");
	bs->mode = X86_BOOT_FLAT32;
	bs->rip = entry;
	bs->rbx = X86_BOOT_PVH_INFO;
	bs->rsp = X86_BOOT_STACK;
	info->initrd_addr = initrd_addr;
	return 0;
}
