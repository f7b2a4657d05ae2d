/* SPDX-License-Identifier: MIT */
/* The x86-64 PC board on KVM (issue #4). Placeholder until the KVM backend lands. */
#include <errno.h>
#include <stdio.h>

#include "vm/main/config.h"

int pc_main(const struct vm_config *cfg, struct vk_error *err)
{
	return vk_error_set(err, ENOSYS, "the x86_64 KVM machine is not implemented yet");
}

