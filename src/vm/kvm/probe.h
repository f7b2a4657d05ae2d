/* SPDX-License-Identifier: MIT */
/* The KVM probe: what this host's KVM offers and how fast it really runs a guest. */
#ifndef VK_VM_KVM_PROBE_H
#define VK_VM_KVM_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Probe the host and print the verdict on stdout, as text or as one JSON
 * object (docs/virtkit-vm.md). The verdict is never an error: an unusable KVM
 * is reported as "kvm: unavailable (reason)".
 */
void kvm_probe_report(bool json);

enum kvm_verdict {
	KVM_VERDICT_UNAVAILABLE,
	KVM_VERDICT_EMULATED, /* nested without hardware help, or PVM: a few MIPS */
	KVM_VERDICT_HARDWARE,
};

/* Probe the host quietly: the verdict, and its one-line summary ("kvm: emulated (...)"). */
enum kvm_verdict kvm_probe_verdict(char *summary, size_t len);

#endif
