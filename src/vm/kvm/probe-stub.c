/* SPDX-License-Identifier: MIT */
/* The KVM probe on hosts that are not x86-64: KVM for x86 guests needs an x86 host. */
#include <stdio.h>

#include "vm/kvm/probe.h"

void kvm_probe_report(bool json)
{
	if (json)
		printf("{\n  \"available\": false,\n  \"classification\": \"unavailable\",\n"
		       "  \"reason\": \"this host is not x86-64\",\n"
		       "  \"summary\": \"kvm: unavailable (this host is not x86-64)\"\n}\n");
	else
		printf("kvm: unavailable (this host is not x86-64)\n");
}

enum kvm_verdict kvm_probe_verdict(char *summary, size_t len)
{
	snprintf(summary, len, "kvm: unavailable (this host is not x86-64)");
	return KVM_VERDICT_UNAVAILABLE;
}
