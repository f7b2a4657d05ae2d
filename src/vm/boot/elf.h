/* SPDX-License-Identifier: MIT */
/*
 * ELF64 executables (bare-metal test programs, firmware ELFs, the x86 PVH
 * vmlinux): validation, loading of PT_LOAD segments into guest RAM at their
 * physical addresses, and symbol lookup (the HTIF `tohost`/`fromhost` words).
 *
 * Everything in the file is untrusted: header fields, offsets and sizes are
 * bounds- and overflow-checked against the buffer, and every segment must lie
 * entirely inside guest RAM (vm_mem_translate). Errors are sentences naming
 * the file ("'test.elf' is not an ELF file").
 */
#ifndef VK_BOOT_ELF_H
#define VK_BOOT_ELF_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct vm_mem;

struct elf_info {
	uint64_t entry;       /* e_entry */
	uint64_t low, high;   /* guest-physical range the PT_LOAD segments cover: [low, high) */
	unsigned nr_segments; /* PT_LOAD segments loaded (those with p_memsz > 0) */
};

/* True when buf starts with the ELF magic. */
bool elf_is_elf(const uint8_t *buf, size_t len);

/*
 * Check that buf is a little-endian ELF64 executable for `machine` (EM_RISCV,
 * EM_X86_64...) and copy its PT_LOAD segments into guest RAM at p_paddr,
 * zero-filling up to p_memsz. name is only used in messages. The entry point
 * must lie inside RAM. Returns 0, -ENOEXEC (a malformed or foreign file) or
 * -ENOMEM (a segment outside guest RAM) with err set.
 */
int elf_load(const char *name, const uint8_t *buf, size_t len, uint16_t machine, struct vm_mem *mem,
             struct elf_info *info, struct vk_error *err) VK_MUST_CHECK;

/*
 * The two halves of elf_load(), for loaders with their own idea of the entry
 * point (PVH). elf_check_exec() makes the header checks: an ELF64 ET_EXEC for
 * `machine`, its program header table inside the file; it fills *eh.
 * elf_phdr() copies out program header i of such a file.
 * elf_load_segments() checks every PT_LOAD segment, then copies them all;
 * segments that start below min_paddr are refused (-ENOEXEC) as overlapping
 * the boot structures there. Both return 0 or -errno with err set.
 */
int elf_check_exec(const char *name, const uint8_t *buf, size_t len, uint16_t machine,
                   Elf64_Ehdr *eh, struct vk_error *err) VK_MUST_CHECK;
void elf_phdr(const uint8_t *buf, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph);
int elf_load_segments(const char *name, const uint8_t *buf, size_t len, const Elf64_Ehdr *eh,
                      struct vm_mem *mem, uint64_t min_paddr, struct elf_info *info,
                      struct vk_error *err) VK_MUST_CHECK;

/* [off, off + size) lies inside a buffer of len bytes (without overflow). */
bool elf_in_file(uint64_t off, uint64_t size, size_t len);

/*
 * The value of symbol `sym` in buf's symbol table (.symtab). Returns 0, or
 * -ENOENT (no such symbol, or no symbol table) / -ENOEXEC (malformed tables).
 * buf must already have passed elf_load()'s header checks or this function's
 * own (it does them again).
 */
int elf_find_symbol(const char *name, const uint8_t *buf, size_t len, const char *sym,
                    uint64_t *value, struct vk_error *err) VK_MUST_CHECK;

#endif
