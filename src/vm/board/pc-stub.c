/* SPDX-License-Identifier: MIT */
/* The PC board on hosts that are not x86-64: KVM for x86 guests needs an x86 host. */
#include <errno.h>

#include "vm/board/board.h"

int pc_main(const struct vm_machine_config *cfg, const struct vm_monitor *mon, struct vk_error *err)
{
	(void)cfg;
	(void)mon;
	return vk_error_set(err, ENOTSUP,
	                    "x86_64 guests run on KVM, which needs an x86-64 host; use --arch "
	                    "riscv64 for the software CPU");
}
