/* SPDX-License-Identifier: MIT */
/*
 * What the host can give a run, checked before the board builds anything:
 *   - guest RAM against the host's RAM + swap (sysinfo(2)): a guest bigger
 *     than both would grow until the host's OOM killer ends something;
 *     --overcommit runs it anyway (sparse guests, memory ballooned later);
 *   - for x86_64 guests on KVM, the KVM probe's verdict: on a host whose KVM
 *     only emulates (nested without hardware help, PVM) a Linux guest runs at
 *     a few MIPS, one warning line says so at start (--quiet hides it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/kvm/probe.h"
#include "vm/main/config.h"

int vm_check_host_memory(const struct vm_config *cfg, struct vk_error *err)
{
	struct sysinfo si;
	uint64_t ram, swap, want = cfg->machine.memory;
	char req[VK_SIZE_STR_MAX];

	if (cfg->overcommit)
		return 0;
	if (sysinfo(&si) < 0)
		return vk_error_errno(err, errno, "cannot read the host's memory size");
	ram = (uint64_t)si.totalram * si.mem_unit;
	swap = (uint64_t)si.totalswap * si.mem_unit;
	if (want <= ram + swap)
		return 0;
	return vk_error_set(err, ENOMEM,
	                    "--memory %s is more than this host has: RAM %" PRIu64
	                    " MiB + swap %" PRIu64 " MiB (--overcommit runs it anyway)",
	                    vk_format_size(want, req, sizeof(req)), ram >> 20, swap >> 20);
}

void vm_warn_host_accel(const struct vm_config *cfg)
{
	char summary[VK_ERROR_MSG_MAX + 64];

	if (cfg->quiet || strcmp(cfg->machine.arch, "x86_64") || strcmp(cfg->machine.accel, "kvm"))
		return;
	/* Unavailable KVM fails the run with its own reason; hardware needs no word. */
	if (kvm_probe_verdict(summary, sizeof(summary)) != KVM_VERDICT_EMULATED)
		return;
	vk_warn("%s: this host's KVM emulates guest code, so a Linux guest boots in minutes "
	        "and may stop on an instruction it cannot emulate (--quiet hides this)",
	        summary);
}
