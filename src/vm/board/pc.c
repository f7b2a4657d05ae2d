/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 PC board on KVM (issue #4): `virtkit-vm run --arch x86_64`.
 * The main thread runs the event loop (host backends, ioeventfds, the
 * monitor's control socket, signals) while one thread per vCPU runs KVM_RUN; any of
 * them can end the run through pc_request_stop(). A guest reset ends the run
 * with status 0, or boots the machine again with --on-reset reboot.
 */
#include "vm/board/pc.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/board/board.h"
#include "vm/hw/acpi-pm.h"
#include "vm/hw/i8042.h"
#include "vm/loop.h"
#include "vm/virtio/virtio.h"

void pc_request_stop(struct pc *pc, enum pc_stop why, const char *detail)
{
	pthread_mutex_lock(&pc->stop_lock);
	/*
	 * The first reason wins, except that a quit or a signal overrides a pending reset:
	 * with --on-reset reboot the reset would otherwise restart the guest and the
	 * user's request to stop would be lost.
	 */
	if (pc->stop == PC_RUNNING ||
	    (pc->stop == PC_STOP_RESET && (why == PC_STOP_QUIT || why == PC_STOP_SIGNAL))) {
		pc->stop = why;
		free(pc->stop_detail);
		pc->stop_detail = detail ? strdup(detail) : NULL;
	}
	pthread_mutex_unlock(&pc->stop_lock);
	if (pc->cpus_created)
		kvm_cpus_request_stop(&pc->cpus);
	vm_loop_wakeup(pc->loop);
}

static enum pc_stop pc_get_stop(struct pc *pc)
{
	enum pc_stop s;

	pthread_mutex_lock(&pc->stop_lock);
	s = pc->stop;
	pthread_mutex_unlock(&pc->stop_lock);
	return s;
}

/* A vCPU ended (vCPU thread, machine lock not held). */
static void pc_vcpu_event(void *opaque, enum kvm_event ev, unsigned cpu, const char *detail)
{
	struct pc *pc = opaque;

	switch (ev) {
	case KVM_EVENT_RESET:
		pc_request_stop(pc, PC_STOP_RESET, detail);
		break;
	case KVM_EVENT_POWEROFF:
		pc_request_stop(pc, PC_STOP_POWEROFF, detail);
		break;
	case KVM_EVENT_ERROR:
		pc_request_stop(pc, PC_STOP_ERROR, detail);
		break;
	}
}

/* ---- controls, handed to the monitor (loop thread, machine lock held) ---- */

static void pc_ctl_status(void *opaque, struct json_object *reply)
{
	struct pc *pc = opaque;

	json_object_object_add(reply, "state",
	                       json_object_new_string(pc->paused ? "paused" : "running"));
	json_object_object_add(reply, "arch", json_object_new_string("x86_64"));
	json_object_object_add(reply, "accel", json_object_new_string("kvm"));
	json_object_object_add(reply, "cpus", json_object_new_int((int)pc->cfg->cpus));
	json_object_object_add(reply, "memory", json_object_new_int64((int64_t)pc->cfg->memory));
	json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(
	        reply, "uptime_ms",
	        json_object_new_int64((int64_t)((vk_now_ns() - pc->start_ns) / 1000000)));
	json_object_object_add(reply, "boots", json_object_new_int((int)pc->boots + 1));
}

static int pc_ctl_pause(void *opaque, struct vk_error *err)
{
	struct pc *pc = opaque;

	if (!pc->paused) {
		/* Does not wait: a vCPU may be queued on the machine lock we hold. */
		kvm_cpus_pause(&pc->cpus);
		pc->paused = true;
		vm_monitor_event(pc->monitor, "paused", NULL, NULL);
	}
	return 0;
}

static int pc_ctl_resume(void *opaque, struct vk_error *err)
{
	struct pc *pc = opaque;

	if (pc->paused) {
		kvm_cpus_resume(&pc->cpus);
		pc->paused = false;
		vm_monitor_event(pc->monitor, "resumed", NULL, NULL);
	}
	return 0;
}

static int pc_ctl_powerdown(void *opaque, struct vk_error *err)
{
	struct pc *pc = opaque;

	if (!pc->i8042)
		return vk_error_set(err, EAGAIN, "the machine is not running");
	/* An ACPI OS enabled the power button: press it; its S5 ends the run. */
	if (pc->acpi && acpi_pm_power_button(pc->acpi))
		return 0;
	/* Otherwise, like Firecracker, ask with Ctrl-Alt-Del; the guest's reset ends the run. */
	i8042_send_ctrl_alt_del(pc->i8042);
	return 0;
}

static void pc_ctl_quit(void *opaque)
{
	pc_request_stop(opaque, PC_STOP_QUIT, NULL);
}

static const struct vm_control_ops pc_control_ops = {
        .status = pc_ctl_status,
        .pause = pc_ctl_pause,
        .resume = pc_ctl_resume,
        .powerdown = pc_ctl_powerdown,
        .quit = pc_ctl_quit,
        .registry = pc_ctl_registry,
        .cpus_stop = pc_ctl_cpus_stop,
        .cpus_resume = pc_ctl_cpus_resume,
        .dirty_start = pc_ctl_dirty_start,
        .dirty_sync = pc_ctl_dirty_sync,
        .dirty_stop = pc_ctl_dirty_stop,
        .no_live = pc_ctl_no_live,
        .finish = pc_ctl_finish,
};

static void pc_signal(void *opaque, int fd, short revents)
{
	struct pc *pc = opaque;
	struct signalfd_siginfo si;
	char detail[64];

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(detail, sizeof(detail), "terminated by signal %u", si.ssi_signo);
	pc_request_stop(pc, PC_STOP_SIGNAL, detail);
}

static int pc_setup_host(struct pc *pc, struct vk_error *err)
{
	sigset_t sigs;
	int r;

	/* SIGINT/SIGTERM/SIGHUP end the run cleanly through the loop (vCPU threads inherit
	 * the blocked mask, so only the signalfd sees them). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pc->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (pc->signal_fd < 0)
		return vk_error_errno(err, errno, "cannot watch signals");
	r = vm_loop_add_fd(pc->loop, pc->signal_fd, POLLIN, pc_signal, pc);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot watch signals");
	return vm_monitor_attach(pc->monitor, pc->loop, &pc_control_ops, pc, err);
}

/* ---- running ---- */

static int pc_run_once(struct pc *pc, struct vk_error *err)
{
	bool restored = pc->restoring;
	int r;

	r = pc_boot(pc, err);
	if (r == 0 && pc->restoring) {
		/* A saved machine: its state replaces what the boot put in RAM and the CPUs. */
		vm_loop_lock(pc->loop);
		r = vm_monitor_restore(pc->monitor, &pc->reg, err);
		vm_loop_unlock(pc->loop);
		pc->restoring = false;
	}
	if (r == 0) {
		pc->cpus.event = pc_vcpu_event;
		pc->cpus.opaque = pc;
		r = kvm_cpus_start(&pc->cpus, err);
	}
	if (r == 0) {
		pc->cpus_started = true;
		pthread_mutex_lock(&pc->state_lock);
		pc->cpus_live = true;
		pthread_mutex_unlock(&pc->state_lock);
		/* Paused across a reboot, or saved paused: stays paused. */
		if (pc->paused)
			kvm_cpus_pause(&pc->cpus);
		if (pc->paused && restored) {
			vm_loop_lock(pc->loop);
			vm_monitor_event(pc->monitor, "paused", NULL, NULL);
			vm_loop_unlock(pc->loop);
		}
		while (pc_get_stop(pc) == PC_RUNNING)
			vm_loop_poll(pc->loop, -1);
	}
	/* A save or migration under way gets no further hold (pc-state.c). */
	pthread_mutex_lock(&pc->state_lock);
	pc->cpus_live = false;
	pthread_mutex_unlock(&pc->state_lock);
	if (pc->cpus_started) {
		kvm_cpus_request_stop(&pc->cpus);
		kvm_cpus_join(&pc->cpus);
		pc->cpus_started = false;
	}
	vm_loop_lock(pc->loop);
	pc_unboot(pc);
	vm_loop_unlock(pc->loop);
	return r;
}

static const char *pc_stop_reason(enum pc_stop s)
{
	switch (s) {
	case PC_STOP_POWEROFF:
		return "poweroff";
	case PC_STOP_RESET:
		return "reset";
	case PC_STOP_QUIT:
	case PC_STOP_SIGNAL:
		return "quit";
	default:
		return "error";
	}
}

static const char *pc_stop_reason_of(const struct pc *pc)
{
	return pc->stop == PC_STOP_FINISH && pc->finish_reason ? pc->finish_reason
	                                                       : pc_stop_reason(pc->stop);
}

static int pc_result(struct pc *pc, struct vk_error *err)
{
	const char *d = pc->stop_detail;
	const char *nl;

	if ((pc->stop == PC_STOP_SIGNAL || pc->stop == PC_STOP_RESET) && d)
		vk_info("%s", d);
	if (pc->stop != PC_STOP_ERROR)
		return 0;
	if (!d)
		return vk_error_set(err, EIO, "guest fatal error");
	/* The first line is the sentence; the rest (registers, code bytes) goes to stderr. */
	nl = strchr(d, '\n');
	if (nl)
		fprintf(stderr, "virtkit-vm: guest state at the error:\n%s\n", nl + 1);
	return vk_error_set(err, EIO, "guest fatal error: %.*s",
	                    nl ? (int)(nl - d) : (int)strlen(d), d);
}

int pc_main(const struct vm_machine_config *cfg, const struct vm_monitor *mon, struct vk_error *err)
{
	struct pc pc = {.cfg = cfg, .monitor = mon, .signal_fd = -1};
	int r;

	pc.kvm.sys_fd = pc.kvm.vm_fd = -1;
	pc.start_ns = vk_now_ns();
	pthread_mutex_init(&pc.stop_lock, NULL);
	pthread_mutex_init(&pc.state_lock, NULL);
	pc.restoring = vm_monitor_restores(mon);
	vm_registry_init(&pc.reg, &pc.mem, "x86_64", "pc");
	vm_mem_init(&pc.mem);
	bus_init(&pc.pio, "pio");
	bus_init(&pc.mmio, "mmio");
	pc.loop = vm_loop_new();
	if (!pc.loop)
		return vk_error_set(err, ENOMEM, "out of memory");

	r = pc_prepare(&pc, err);
	if (r == 0)
		r = pc_setup_host(&pc, err);
	while (r == 0) {
		r = pc_run_once(&pc, err);
		if (r < 0 || pc.stop != PC_STOP_RESET || cfg->on_reset != VM_ON_RESET_REBOOT)
			break;
		/* Reboot: the devices forget the guest; RAM keeps its bytes, as on hardware. */
		vm_loop_lock(pc.loop);
		for (unsigned i = 0; i < pc.nr_virtio; i++)
			virtio_reset(pc.virtio[i]);
		vm_loop_unlock(pc.loop);
		pthread_mutex_lock(&pc.stop_lock);
		pc.stop = PC_RUNNING;
		free(pc.stop_detail);
		pc.stop_detail = NULL;
		pthread_mutex_unlock(&pc.stop_lock);
		pc.boots++;
		vk_info("the guest reset the machine: booting again (boot %u)", pc.boots + 1);
	}
	if (r == 0) {
		vm_monitor_event(mon, "shutdown", pc_stop_reason_of(&pc), pc.stop_detail);
		r = pc_result(&pc, err);
	}
	vm_loop_lock(pc.loop);
	vm_monitor_detach(mon, &(struct vm_run_stats){.start_ns = pc.start_ns, .memory = &pc.mem});
	pc_release(&pc);
	if (pc.signal_fd >= 0) {
		vm_loop_del_fd(pc.loop, pc.signal_fd);
		close(pc.signal_fd);
	}
	vm_loop_unlock(pc.loop);
	bus_destroy(&pc.pio);
	bus_destroy(&pc.mmio);
	vm_mem_destroy(&pc.mem);
	vm_loop_free(pc.loop);
	free(pc.stop_detail);
	pthread_mutex_destroy(&pc.stop_lock);
	pthread_mutex_destroy(&pc.state_lock);
	return r;
}
