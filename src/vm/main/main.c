/* SPDX-License-Identifier: MIT */
/* virtkit-vm: runs one machine. Subcommand dispatch and the top-level error print. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vm/main/config.h"

#define VIRTKIT_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out, "usage: ");
	vm_config_usage(out);
	fprintf(out, "       ");
	vm_probe_usage(out);
	fprintf(out, "       ");
	vm_image_usage(out);
	fprintf(out, "       virtkit-vm --version | --help\n"
	             "\n"
	             "Runs one virtual machine: riscv64 guests on the software CPU, x86_64 guests "
	             "on KVM.\n"
	             "'virtkit-vm COMMAND --help' describes each command (run, probe, image).\n"
	             "See docs/virtkit-vm.md.\n");
}

int main(int argc, char **argv)
{
	vk_log_init("virtkit-vm", VK_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return vm_run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "probe"))
		return vm_probe_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "image"))
		return vm_image_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("virtkit-vm %s\n", VIRTKIT_VERSION);
		return 0;
	}
	fprintf(stderr, "virtkit-vm: unknown command '%s' (expected run, probe or image)\n",
	        argv[1]);
	return 2;
}
