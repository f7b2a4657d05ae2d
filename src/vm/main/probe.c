/* SPDX-License-Identifier: MIT */
/* `virtkit-vm probe [--json]`: the command around the KVM probe (kvm/probe.c). */
#include <stdio.h>
#include <string.h>

#include "vm/kvm/probe.h"
#include "vm/main/config.h"

int vm_probe_main(int argc, char **argv)
{
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr,
			        "virtkit-vm: probe: unknown option '%s' (expected --json)\n",
			        argv[i]);
			return 2;
		}
	}
	kvm_probe_report(json);
	return 0;
}
