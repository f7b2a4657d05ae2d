/* SPDX-License-Identifier: MIT */
/* PVH boot information (Xen's hvm_start_info, version 1) as the test guests see it. */
#ifndef VK_GUEST_PVH_H
#define VK_GUEST_PVH_H

#include "guest.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

extern const struct hvm_start_info *guest_start_info;

/* Each PVH test guest defines this; returning means PASS. */
void guest_main(void);

#endif
