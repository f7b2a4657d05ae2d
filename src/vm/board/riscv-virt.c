/* SPDX-License-Identifier: MIT */
/* The riscv64 QEMU-virt-compatible board (issue #3). Placeholder. */
#include <errno.h>

#include "vm/main/config.h"

int riscv_virt_main(const struct vm_config *cfg, struct vk_error *err)
{
	return vk_error_set(err, ENOSYS, "the riscv64 machine is not implemented yet");
}
