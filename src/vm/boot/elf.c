/* SPDX-License-Identifier: MIT */
/* ELF64 validation, PT_LOAD loading into guest RAM and symbol lookup (elf.h). */
#include "vm/boot/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vm/mem.h"

bool elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

bool elf_in_file(uint64_t off, uint64_t size, size_t len)
{
	uint64_t end;

	return !vk_add_overflow(off, size, &end) && end <= len;
}

static int check_header(const char *name, const uint8_t *buf, size_t len, uint16_t machine,
                        Elf64_Ehdr *eh, struct vk_error *err)
{
	if (!elf_is_elf(buf, len))
		return vk_error_set(err, ENOEXEC, "'%s' is not an ELF file (no ELF magic)", name);
	if (len < sizeof(*eh))
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is truncated: %zu bytes, no room for an "
		                    "ELF header",
		                    name, len);
	memcpy(eh, buf, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return vk_error_set(err, ENOEXEC, "'%s' is not a 64-bit ELF file", name);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return vk_error_set(err, ENOEXEC, "'%s' is not a little-endian ELF file", name);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return vk_error_set(err, ENOEXEC, "'%s' has an unknown ELF version", name);
	if (machine && eh->e_machine != machine)
		return vk_error_set(
		        err, ENOEXEC, "'%s' is an ELF file for machine %u, not for this one (%u%s)",
		        name, eh->e_machine, machine, machine == EM_RISCV ? ", RISC-V" : "");
	if (eh->e_ehsize < sizeof(*eh))
		return vk_error_set(err, ENOEXEC, "'%s' has a malformed ELF header", name);
	return 0;
}

int elf_check_exec(const char *name, const uint8_t *buf, size_t len, uint16_t machine,
                   Elf64_Ehdr *eh, struct vk_error *err)
{
	int ret;

	ret = check_header(name, buf, len, machine, eh, err);
	if (ret)
		return ret;
	if (eh->e_type != ET_EXEC)
		return vk_error_set(err, ENOEXEC, "'%s' is not an ELF executable (type %u)", name,
		                    eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
		return vk_error_set(err, ENOEXEC, "'%s' has no usable program headers", name);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return vk_error_set(err, ENOEXEC,
		                    "'%s' has program headers of an unknown size (%u)", name,
		                    eh->e_phentsize);
	if (!elf_in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is truncated: its program headers lie "
		                    "beyond the end of the file",
		                    name);
	return 0;
}

void elf_phdr(const uint8_t *buf, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, buf + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* Check PT_LOAD segment i and find where it goes in guest RAM (*dst). 0 or -errno. */
static int segment_target(const char *name, size_t len, const Elf64_Phdr *ph, unsigned i,
                          struct vm_mem *mem, uint64_t min_paddr, uint8_t **dst,
                          struct vk_error *err)
{
	if (ph->p_filesz > ph->p_memsz)
		return vk_error_set(err, ENOEXEC,
		                    "'%s': segment %u has more bytes in the file (%llu) than in "
		                    "memory (%llu)",
		                    name, i, (unsigned long long)ph->p_filesz,
		                    (unsigned long long)ph->p_memsz);
	if (!elf_in_file(ph->p_offset, ph->p_filesz, len))
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is truncated: segment %u lies beyond the end of the file",
		                    name, i);
	if (ph->p_paddr < min_paddr)
		return vk_error_set(err, ENOEXEC,
		                    "'%s': segment %u at 0x%llx overlaps the boot structures below "
		                    "%llu MiB",
		                    name, i, (unsigned long long)ph->p_paddr,
		                    (unsigned long long)(min_paddr >> 20));
	*dst = vm_mem_translate(mem, ph->p_paddr, ph->p_memsz);
	if (!*dst)
		return vk_error_set(
		        err, ENOMEM,
		        "'%s': segment %u (0x%llx, %llu KiB) does not fit in guest RAM%s", name, i,
		        (unsigned long long)ph->p_paddr, (unsigned long long)(ph->p_memsz >> 10),
		        vm_mem_find(mem, ph->p_paddr) ? "; give the machine more --memory" : "");
	return 0;
}

int elf_load_segments(const char *name, const uint8_t *buf, size_t len, const Elf64_Ehdr *eh,
                      struct vm_mem *mem, uint64_t min_paddr, struct elf_info *info,
                      struct vk_error *err)
{
	memset(info, 0, sizeof(*info));
	info->low = UINT64_MAX;
	/* Check every segment before copying any. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < eh->e_phnum; i++) {
			Elf64_Phdr ph;
			uint8_t *dst;
			int ret;

			elf_phdr(buf, eh, i, &ph);
			if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
				continue;
			ret = segment_target(name, len, &ph, i, mem, min_paddr, &dst, err);
			if (ret)
				return ret;
			if (pass == 0)
				continue;
			memcpy(dst, buf + ph.p_offset, ph.p_filesz);
			memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
			info->nr_segments++;
			info->low = VK_MIN(info->low, ph.p_paddr);
			info->high = VK_MAX(info->high, ph.p_paddr + ph.p_memsz);
		}
	}
	if (info->nr_segments == 0)
		return vk_error_set(err, ENOEXEC, "'%s' has nothing to load (no PT_LOAD segment)",
		                    name);
	return 0;
}

int elf_load(const char *name, const uint8_t *buf, size_t len, uint16_t machine, struct vm_mem *mem,
             struct elf_info *info, struct vk_error *err)
{
	Elf64_Ehdr eh;
	int ret;

	ret = elf_check_exec(name, buf, len, machine, &eh, err);
	if (ret == 0)
		ret = elf_load_segments(name, buf, len, &eh, mem, 0, info, err);
	if (ret)
		return ret;
	if (!vm_mem_translate(mem, eh.e_entry, 2))
		return vk_error_set(err, ENOEXEC, "'%s': entry point 0x%llx is not in guest RAM",
		                    name, (unsigned long long)eh.e_entry);
	info->entry = eh.e_entry;
	return 0;
}

static int section(const char *name, const uint8_t *buf, size_t len, const Elf64_Ehdr *eh,
                   unsigned idx, Elf64_Shdr *sh, struct vk_error *err)
{
	if (idx >= eh->e_shnum)
		return vk_error_set(err, ENOEXEC, "'%s': section index %u out of range", name, idx);
	memcpy(sh, buf + eh->e_shoff + (uint64_t)idx * sizeof(*sh), sizeof(*sh));
	if (sh->sh_type != SHT_NOBITS && !elf_in_file(sh->sh_offset, sh->sh_size, len))
		return vk_error_set(err, ENOEXEC,
		                    "'%s' is truncated: section %u lies beyond the end of the file",
		                    name, idx);
	return 0;
}

int elf_find_symbol(const char *name, const uint8_t *buf, size_t len, const char *sym,
                    uint64_t *value, struct vk_error *err)
{
	Elf64_Ehdr eh;
	size_t symlen = strlen(sym);
	int ret;

	ret = check_header(name, buf, len, 0, &eh, err);
	if (ret)
		return ret;
	if (eh.e_shnum == 0)
		return vk_error_set(err, ENOENT, "'%s' has no symbol table", name);
	if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !elf_in_file(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
		return vk_error_set(err, ENOEXEC, "'%s' has malformed section headers", name);

	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, strsh;

		ret = section(name, buf, len, &eh, i, &sh, err);
		if (ret)
			return ret;
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_entsize != sizeof(Elf64_Sym))
			return vk_error_set(err, ENOEXEC, "'%s' has a malformed symbol table",
			                    name);
		ret = section(name, buf, len, &eh, sh.sh_link, &strsh, err);
		if (ret)
			return ret;
		if (strsh.sh_type != SHT_STRTAB)
			return vk_error_set(err, ENOEXEC, "'%s': symbol table without string table",
			                    name);
		for (uint64_t j = 0; j < sh.sh_size / sizeof(Elf64_Sym); j++) {
			Elf64_Sym s;
			const char *str;

			memcpy(&s, buf + sh.sh_offset + j * sizeof(s), sizeof(s));
			/* The name, with its terminating NUL, must lie inside the string table. */
			if (s.st_name >= strsh.sh_size || strsh.sh_size - s.st_name <= symlen)
				continue;
			str = (const char *)buf + strsh.sh_offset + s.st_name;
			if (memcmp(str, sym, symlen + 1) == 0 && s.st_shndx != SHN_UNDEF) {
				*value = s.st_value;
				return 0;
			}
		}
	}
	return vk_error_set(err, ENOENT, "'%s' has no symbol '%s'", name, sym);
}
