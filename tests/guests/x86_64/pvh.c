/* SPDX-License-Identifier: MIT */
/* The C side of the PVH entry: pick up the start info, then run the test. */
#include "pvh.h"

const struct hvm_start_info *guest_start_info;

void pvh_main(uint32_t start_info);
void pvh_main(uint32_t start_info)
{
	const struct hvm_start_info *si = (const void *)(uint64_t)start_info;

	guest_start_info = si;
	if (si && si->magic == HVM_START_MAGIC && si->cmdline_paddr)
		guest_cmdline = (const char *)si->cmdline_paddr;
	guest_main();
	pass();
}
