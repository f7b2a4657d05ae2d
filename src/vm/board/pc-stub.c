/* SPDX-License-Identifier: MIT */
/* The PC board and probe on hosts that are not x86-64: KVM for x86 guests needs an x86 host. */
#include <errno.h>
#include <stdio.h>

#include "vm/main/config.h"

int pc_main(const struct vm_config *cfg, struct vk_error *err)
{
	(void)cfg;
	return vk_error_set(err, ENOTSUP,
	                    "x86_64 guests run on KVM, which needs an x86-64 host; use --arch "
	                    "riscv64 for the software CPU");
}

int kvm_probe_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kvm: unavailable (this host is not x86-64)\n");
	return 0;
}
