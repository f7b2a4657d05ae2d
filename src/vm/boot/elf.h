/* SPDX-License-Identifier: MIT */
/*
 * ELF64 executables (bare-metal test programs, firmware ELFs): validation,
 * loading of PT_LOAD segments into guest RAM at their physical addresses,
 * and symbol lookup (the HTIF `tohost`/`fromhost` words).
 *
 * Everything in the file is untrusted: header fields, offsets and sizes are
 * bounds- and overflow-checked against the buffer, and every segment must lie
 * entirely inside guest RAM (vm_mem_translate). Errors are sentences naming
 * the file ("'test.elf' is not an ELF file").
 */
#ifndef VK_BOOT_ELF_H
#define VK_BOOT_ELF_H

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
 * must lie inside RAM. Returns 0 or -ENOEXEC/-EFBIG with err set.
 */
int elf_load(const char *name, const uint8_t *buf, size_t len, uint16_t machine, struct vm_mem *mem,
             struct elf_info *info, struct vk_error *err) VK_MUST_CHECK;

/*
 * The value of symbol `sym` in buf's symbol table (.symtab). Returns 0, or
 * -ENOENT (no such symbol, or no symbol table) / -ENOEXEC (malformed tables).
 * buf must already have passed elf_load()'s header checks or this function's
 * own (it does them again).
 */
int elf_find_symbol(const char *name, const uint8_t *buf, size_t len, const char *sym,
                    uint64_t *value, struct vk_error *err) VK_MUST_CHECK;

#endif
