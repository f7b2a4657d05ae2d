/* SPDX-License-Identifier: MIT */
/*
 * Saving and restoring the x86 PC board: what it enters in its machine object
 * (registry.h) at every boot, in this order, which is also the order of a
 * state file's records:
 *   "pc"              the interrupt lines' levels the board last sent to KVM, and
 *                     whether the machine is paused (it comes back paused)
 *   "kvm"             KVM's PICs, IOAPIC, PIT and guest clock (x86-state.c)
 *   "cpu0".."cpuN"    the vCPUs (x86-state.c)
 *   "uart", "i8042", "rtc", "acpi", "pci" (the host bridge's 0xCF8 register)
 *   "virtio-pci.N"    or "virtio-mmio.N" with --virtio-transport mmio
 * and the state controls main/ drives (machine.h): holding the vCPUs out of
 * KVM_RUN, KVM's dirty log when this host's KVM fills it (probed once: on
 * kvm_pvm it does not, and live migration is refused with that reason), and
 * ending the run once the state has gone.
 *
 * The line levels come first so that a device re-raising a line while it
 * loads (UART, i8042, INTx) finds the level already recorded and sends
 * nothing: the restored IOAPIC and PICs hold the lines' effect already, and a
 * second rising edge would be a spurious interrupt.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "vm/board/pc.h"
#include "vm/hw/acpi-pm.h"
#include "vm/hw/i8042.h"
#include "vm/hw/rtc.h"
#include "vm/hw/uart16550.h"
#include "vm/state.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/transport-pci.h"

/* ---- the board's record: line levels ------------------------------------------------ */

static void lines_save(void *opaque, struct vm_state_buf *b)
{
	struct pc *pc = opaque;

	vm_state_put_u32(b, PC_GSIS);
	for (unsigned i = 0; i < PC_GSIS; i++)
		vm_state_put_bool(b, pc->gsi_level[i]);
	vm_state_put_bool(b, pc->paused);
}

static int lines_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct pc *pc = opaque;
	uint32_t n = vm_state_get_u32(r);

	if (r->bad)
		return 0;
	if (n != PC_GSIS)
		return vk_error_set(err, EINVAL, "%u interrupt lines saved, this board has %u", n,
		                    PC_GSIS);
	for (unsigned i = 0; i < PC_GSIS; i++)
		pc->gsi_level[i] = vm_state_get_bool(r);
	/* pc.c parks the vCPUs before they run (the paused event follows the restore). */
	pc->paused = vm_state_get_bool(r);
	return 0;
}

static const struct vm_device_ops lines_ops = {
        .kind = "pc board",
        .version = 1,
        .save = lines_save,
        .load = lines_load,
};

/* ---- KVM's in-kernel devices ---------------------------------------------------------- */

static int kvm_save(void *opaque, struct vm_state_buf *b, struct vk_error *err)
{
	struct pc *pc = opaque;
	struct kvm_clock_data frozen;

	return kvm_vm_save(&pc->kvm, kvm_cpus_frozen_clock(&pc->cpus, &frozen) ? &frozen : NULL, b,
	                   err);
}

static int kvm_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct pc *pc = opaque;

	return kvm_vm_load(&pc->kvm, r, err);
}

static const struct vm_device_ops kvm_ops = {
        .kind = "kvm irqchip, pit and clock",
        .version = KVM_VM_STATE_VERSION,
        .save_checked = kvm_save,
        .load = kvm_load,
};

/* ---- vCPUs ------------------------------------------------------------------------------ */

static int cpu_save(void *opaque, struct vm_state_buf *b, struct vk_error *err)
{
	struct pc_cpu_ref *ref = opaque;
	struct pc *pc = ref->pc;

	return x86_vcpu_save(&pc->kvm, kvm_cpus_vcpu_fd(&pc->cpus, ref->cpu), b, err);
}

static int cpu_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct pc_cpu_ref *ref = opaque;
	struct pc *pc = ref->pc;

	return x86_vcpu_load(&pc->kvm, kvm_cpus_vcpu_fd(&pc->cpus, ref->cpu), r, err);
}

static const struct vm_device_ops cpu_ops = {
        .kind = "x86 vCPU",
        .version = X86_VCPU_STATE_VERSION,
        .save_checked = cpu_save,
        .load = cpu_load,
};

int pc_state_register(struct pc *pc, struct vk_error *err)
{
	char name[32];
	int r;

	vm_registry_init(&pc->reg, &pc->mem, "x86_64", "pc");
	r = vm_registry_add(&pc->reg, "pc", &lines_ops, pc, err);
	if (r == 0)
		r = vm_registry_add(&pc->reg, "kvm", &kvm_ops, pc, err);
	for (unsigned i = 0; r == 0 && i < pc->cpus.nr; i++) {
		pc->cpu_ref[i] = (struct pc_cpu_ref){.pc = pc, .cpu = i};
		snprintf(name, sizeof(name), "cpu%u", i);
		r = vm_registry_add(&pc->reg, name, &cpu_ops, &pc->cpu_ref[i], err);
	}
	if (r == 0)
		r = uart16550_register(pc->uart, &pc->reg, "uart", err);
	if (r == 0)
		r = i8042_register(pc->i8042, &pc->reg, "i8042", err);
	if (r == 0)
		r = rtc_register(pc->rtc, &pc->reg, "rtc", err);
	if (r == 0)
		r = acpi_pm_register(pc->acpi, &pc->reg, "acpi", err);
	if (r == 0)
		r = pci_host_register(&pc->pci, &pc->reg, "pci", err);
	for (unsigned i = 0; r == 0 && i < pc->nr_virtio; i++) {
		if (pc->virtio_pci[i]) {
			snprintf(name, sizeof(name), "virtio-pci.%u", i);
			r = virtio_pci_register(pc->virtio_pci[i], &pc->reg, name, err);
		} else {
			snprintf(name, sizeof(name), "virtio-mmio.%u", i);
			r = virtio_mmio_register(pc->virtio_mmio[i], &pc->reg, name, err);
		}
	}
	return r;
}

/* ---- the state controls (machine.h) ------------------------------------------------------ */

struct vm_registry *pc_ctl_registry(void *opaque)
{
	struct pc *pc = opaque;

	return &pc->reg;
}

int pc_ctl_cpus_stop(void *opaque, struct vk_error *err)
{
	struct pc *pc = opaque;
	int r = -ESHUTDOWN;

	/* Held across the wait: the run loop marks the vCPUs gone under it before it joins
	 * them, and the wait ends as soon as they are asked to stop. */
	pthread_mutex_lock(&pc->state_lock);
	if (pc->cpus_live)
		r = kvm_cpus_hold(&pc->cpus);
	pthread_mutex_unlock(&pc->state_lock);
	if (r < 0)
		return vk_error_set(err, ESHUTDOWN,
		                    "the machine is not running (it is starting, rebooting or "
		                    "ending)");
	return 0;
}

void pc_ctl_cpus_resume(void *opaque)
{
	struct pc *pc = opaque;

	pthread_mutex_lock(&pc->state_lock);
	if (pc->cpus_live)
		kvm_cpus_release(&pc->cpus);
	pthread_mutex_unlock(&pc->state_lock);
}

/* Everything counts as dirty: a harvest that failed must not lose a page. */
static void mark_all_dirty(struct pc *pc)
{
	for (unsigned i = 0; i < pc->mem.nr; i++)
		vm_mem_mark_dirty(&pc->mem, pc->mem.regions[i].host, pc->mem.regions[i].size);
}

int pc_ctl_dirty_start(void *opaque, struct vk_error *err)
{
	struct pc *pc = opaque;
	int r = vm_mem_dirty_log_start(&pc->mem, err);

	if (r == 0)
		r = kvm_vm_dirty_log(&pc->kvm, true, err);
	if (r < 0)
		pc_ctl_dirty_stop(pc);
	return r;
}

void pc_ctl_dirty_sync(void *opaque)
{
	struct pc *pc = opaque;
	long n = kvm_vm_dirty_harvest(&pc->kvm, &pc->mem);

	vk_debug("KVM's dirty log: %ld pages", n);
	if (n < 0) {
		vk_warn("KVM_GET_DIRTY_LOG failed (%s): sending all of RAM again",
		        strerror((int)-n));
		mark_all_dirty(pc);
	}
}

void pc_ctl_dirty_stop(void *opaque)
{
	struct pc *pc = opaque;

	struct vk_error e = {0};

	if (pc->kvm.vm_fd >= 0 && kvm_vm_dirty_log(&pc->kvm, false, &e) < 0)
		vk_warn("%s", e.msg);
	vm_mem_dirty_log_stop(&pc->mem);
}

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static const char *probe_device;
static char probe_why[256];
static bool probe_ok;

static void run_probe(void)
{
	probe_ok = kvm_dirty_log_probe(probe_device, probe_why, sizeof(probe_why)) == 0;
	vk_debug("dirty-log probe: %s", probe_why);
}

/* Once per process: a probe VM of its own (x86-state.c) tells whether the log works. */
const char *pc_ctl_no_live(void *opaque)
{
	struct pc *pc = opaque;

	probe_device = pc->kvm.device;
	pthread_once(&probe_once, run_probe);
	return probe_ok ? NULL : probe_why;
}

void pc_ctl_finish(void *opaque, const char *reason)
{
	struct pc *pc = opaque;

	pthread_mutex_lock(&pc->stop_lock);
	if (pc->stop == PC_RUNNING)
		pc->finish_reason = reason;
	pthread_mutex_unlock(&pc->stop_lock);
	pc_request_stop(pc, PC_STOP_FINISH, NULL);
}
