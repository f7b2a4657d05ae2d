/* SPDX-License-Identifier: MIT */
/* `virtkit-vm probe [--json | --format table|json]`: the command around the KVM probe. */
#include <stdio.h>
#include <string.h>

#include "vm/kvm/probe.h"
#include "vm/main/config.h"

void vm_probe_usage(FILE *out)
{
	fprintf(out, "virtkit-vm probe [--json | --format table|json] [--help]\n");
}

int vm_probe_main(int argc, char **argv)
{
	bool json = false;

	for (int i = 1; i < argc; i++) {
		const char *fmt = NULL;

		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: ");
			vm_probe_usage(stdout);
			printf("\nWhat this host's KVM offers and how fast it runs a guest: one "
			       "of\n"
			       "\"kvm: hardware-accelerated\", \"kvm: emulated (...)\" or "
			       "\"kvm: unavailable (reason)\".\n"
			       "--json (or --format json) prints one JSON object instead.\n");
			return 0;
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			fmt = argv[++i];
		} else if (!strncmp(argv[i], "--format=", 9)) {
			fmt = argv[i] + 9;
		} else {
			fprintf(stderr,
			        "virtkit-vm: probe: unknown option '%s' (see virtkit-vm probe "
			        "--help)\n",
			        argv[i]);
			return 2;
		}
		if (fmt && strcmp(fmt, "json") && strcmp(fmt, "table")) {
			fprintf(stderr, "virtkit-vm: probe: unknown format '%s' (table or json)\n",
			        fmt);
			return 2;
		}
		if (fmt)
			json = !strcmp(fmt, "json");
	}
	kvm_probe_report(json);
	return 0;
}
