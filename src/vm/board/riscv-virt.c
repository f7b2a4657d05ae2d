/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 virt board: builds the machine (RAM, harts, CLINT, PLIC, UART,
 * virtio-mmio slots, the test finisher, the device tree), loads firmware,
 * kernel and initrd, and runs it: one host thread per hart (riscv-harts.c)
 * and the event loop on the calling thread (the I/O thread), which also
 * performs resets and ends the run (docs/threading.md). Also the HTIF
 * tohost/fromhost protocol for bare-metal test programs.
 *
 * Threads: every device, the board's stop reason and pause state are guarded
 * by the machine lock (vm_loop_lock); hart threads take it around each MMIO
 * access (the bus lock) and around the board callbacks below that say so.
 * The guest clock base is atomic: harts read it without the lock.
 */
#include "vm/board/riscv-virt.h"
#include "vm/board/riscv-virt-board.h"

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
#include "vm/board/guest-poweroff.h"
#include "vm/board/riscv-boot.h"
#include "vm/board/riscv-harts.h"
#include "vm/bus.h"
#include "vm/chardev.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/sifive-test.h"
#include "vm/hw/uart16550.h"
#include "vm/loop.h"
#include "vm/mem.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"

/* Harts read it without a lock. */
uint64_t virt_mtime(void *opaque)
{
	struct virt_board *b = opaque;

	return (vk_now_ns() - __atomic_load_n(&b->clock_base_ns, __ATOMIC_ACQUIRE)) / NS_PER_TICK;
}

/* Machine lock held. Harts are asked to park (reset with reboot) or to stop, not awaited. */
void virt_request_stop(struct virt_board *b, enum virt_stop why, int status)
{
	/* The first reason wins, but a quit or a signal overrides a pending reset (reboot). */
	if (b->stop != VIRT_RUNNING &&
	    !(b->stop == VIRT_STOP_RESET && (why == VIRT_STOP_QUIT || why == VIRT_STOP_SIGNAL)))
		return;
	b->stop = why;
	b->exit_status = status;
	if (b->threads_ready)
		rv_harts_request(&b->threads,
		                 why == VIRT_STOP_RESET && b->cfg->on_reset == VM_ON_RESET_REBOOT
		                         ? RV_HARTS_PARK
		                         : RV_HARTS_STOP);
	vm_loop_wakeup(b->loop);
}

/* ---- hart threads' callbacks (riscv-harts.h) ------------------------------- */

/* MTIP of hart h from the CLINT; no lock (atomics only), and no wake-up of h. */
static uint64_t virt_hart_timer(void *opaque, unsigned h)
{
	struct virt_board *b = opaque;
	uint64_t now = clint_mtime(b->clint), cmp = clint_mtimecmp(b->clint, h), ns;
	bool due = now >= cmp;

	rv_cpu_set_irq(b->harts[h], RV_MIP_MTIP, due);
	if (due || cmp == UINT64_MAX)
		return UINT64_MAX;
	ns = cmp - now > UINT64_MAX / NS_PER_TICK ? UINT64_MAX : (cmp - now) * NS_PER_TICK;
	return ns > UINT64_MAX - vk_now_ns() ? UINT64_MAX : vk_now_ns() + ns;
}

static void virt_hart_after_run(void *opaque, unsigned h, enum rv_exit why)
{
	struct virt_board *b = opaque;
	int status;

	if (why == RV_EXIT_FATAL) {
		vm_loop_lock(b->loop);
		if (b->stop == VIRT_RUNNING)
			snprintf(b->stop_detail, sizeof(b->stop_detail), "%s",
			         rv_cpu_fatal_reason(b->harts[h]));
		virt_request_stop(b, VIRT_STOP_ERROR, 1);
		vm_loop_unlock(b->loop);
	}
	if (b->boot.htif) {
		vm_loop_lock(b->loop);
		if (riscv_boot_htif_poll(&b->boot, &b->mem, b->console, &status))
			virt_request_stop(b, VIRT_STOP_HTIF, status);
		vm_loop_unlock(b->loop);
	}
}

/* Every hart parked for the latest request, or every thread ended. */
static void virt_harts_settled(void *opaque)
{
	struct virt_board *b = opaque;

	vm_loop_lock(b->loop);
	if (b->paused && !b->pause_reported && rv_harts_want(&b->threads) == RV_HARTS_PAUSE &&
	    rv_harts_parked(&b->threads)) {
		/* Guest time stops now, when no hart can read it any more. */
		b->paused_at_ns = vk_now_ns();
		b->pause_reported = true;
		vm_monitor_event(b->monitor, "paused", NULL, NULL);
	}
	/* A reset to perform, or the end of the run: the I/O thread looks. */
	vm_loop_wakeup(b->loop);
	vm_loop_unlock(b->loop);
}

static void virt_bus_lock(void *opaque)
{
	vm_loop_lock(opaque);
}

static void virt_bus_unlock(void *opaque)
{
	vm_loop_unlock(opaque);
}

/* ---- interrupt wiring ---------------------------------------------------- */

/* Lines into a hart: n = hart * 64 + bit number of mip. */
static void virt_hart_irq(void *opaque, unsigned n, bool level)
{
	struct virt_board *b = opaque;
	unsigned hart = n / 64;

	if (hart >= b->nr_harts)
		return;
	rv_cpu_set_irq(b->harts[hart], 1ull << (n % 64), level);
	/* Always: a write of mtimecmp that leaves MTIP low still moves the deadline the
	 * hart sleeps until. */
	rv_harts_wake(&b->threads, hart);
}

static struct irq_line virt_hart_line(struct virt_board *b, unsigned hart, uint64_t mip_bit)
{
	return (struct irq_line){.set = virt_hart_irq,
	                         .opaque = b,
	                         .n = hart * 64 + (unsigned)__builtin_ctzll(mip_bit)};
}

static void virt_test_event(void *opaque, enum sifive_test_event ev, uint32_t code)
{
	struct virt_board *b = opaque;

	switch (ev) {
	case SIFIVE_TEST_POWEROFF:
		virt_request_stop(b, VIRT_STOP_POWEROFF, 0);
		break;
	case SIFIVE_TEST_FAIL:
		snprintf(b->stop_detail, sizeof(b->stop_detail), "guest reported failure code %u",
		         code);
		virt_request_stop(b, VIRT_STOP_POWEROFF, code ? (int)VK_MIN(code, 255u) : 1);
		break;
	case SIFIVE_TEST_RESET:
		virt_request_stop(b, VIRT_STOP_RESET, 0);
		break;
	}
}

/* ---- controls, handed to the monitor ------------------------------------ */

static void virt_ctl_status(void *opaque, struct json_object *reply)
{
	struct virt_board *b = opaque;
	uint64_t instret = 0;

	for (unsigned i = 0; i < b->nr_harts; i++)
		instret += rv_cpu_instret(b->harts[i]);
	json_object_object_add(reply, "state",
	                       json_object_new_string(b->paused ? "paused" : "running"));
	json_object_object_add(reply, "arch", json_object_new_string("riscv64"));
	json_object_object_add(reply, "cpus", json_object_new_int((int)b->nr_harts));
	json_object_object_add(reply, "memory", json_object_new_int64((int64_t)b->cfg->memory));
	json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(
	        reply, "uptime_ms",
	        json_object_new_int64((int64_t)((vk_now_ns() - b->start_ns) / 1000000)));
	json_object_object_add(reply, "instructions", json_object_new_int64((int64_t)instret));
	json_object_object_add(reply, "jit", json_object_new_string(b->jit ? "on" : "off"));
}

/* Requested, not awaited: the last hart to park sends the paused event (virt_harts_settled). */
static int virt_ctl_pause(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	if (!b->paused) {
		b->paused = true;
		b->pause_reported = false;
		rv_harts_request(&b->threads, RV_HARTS_PAUSE);
	}
	return 0;
}

static int virt_ctl_resume(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	if (b->paused) {
		if (b->pause_reported)
			__atomic_store_n(&b->clock_base_ns,
			                 b->clock_base_ns + (vk_now_ns() - b->paused_at_ns),
			                 __ATOMIC_RELEASE);
		b->paused = false;
		b->pause_reported = false;
		/* A reset in progress keeps the harts parked; it resumes them itself. */
		if (rv_harts_want(&b->threads) == RV_HARTS_PAUSE)
			rv_harts_request(&b->threads, RV_HARTS_RUN);
		vm_monitor_event(b->monitor, "resumed", NULL, NULL);
	}
	return 0;
}

static int virt_ctl_powerdown(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	/* No power button on this board: the guest agent, else SysRq (guest-poweroff.c). */
	return guest_poweroff_request(b->poweroff, err);
}

static void virt_poweroff_progress(void *opaque, const char *method, const char *step)
{
	struct virt_board *b = opaque;

	vm_monitor_event(b->monitor, "powerdown", method, step);
}

static void virt_ctl_quit(void *opaque)
{
	virt_request_stop(opaque, VIRT_STOP_QUIT, 0);
}

static const struct vm_control_ops virt_control_ops = {
        .status = virt_ctl_status,
        .pause = virt_ctl_pause,
        .resume = virt_ctl_resume,
        .powerdown = virt_ctl_powerdown,
        .quit = virt_ctl_quit,
        .registry = virt_ctl_registry,
        .cpus_stop = virt_ctl_cpus_stop,
        .cpus_resume = virt_ctl_cpus_resume,
        .dirty_start = virt_ctl_dirty_start,
        .dirty_sync = virt_ctl_dirty_sync,
        .dirty_stop = virt_ctl_dirty_stop,
        .no_live = virt_ctl_no_live,
        .finish = virt_ctl_finish,
};

static void virt_console_quit(void *opaque)
{
	virt_request_stop(opaque, VIRT_STOP_QUIT, 0);
}

static void virt_signal(void *opaque, int fd, short revents)
{
	struct virt_board *b = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(b->stop_detail, sizeof(b->stop_detail), "terminated by signal %u", si.ssi_signo);
	virt_request_stop(b, VIRT_STOP_SIGNAL, 0);
}

/* ---- building the machine ------------------------------------------------ */

static int virt_add_virtio(struct virt_board *b, struct virtio_dev *dev, struct vk_error *err)
{
	unsigned n = b->nr_virtio;
	uint64_t base = VIRT_VIRTIO_BASE + n * VIRT_VIRTIO_STRIDE;

	if (n == VIRT_VIRTIO_COUNT) {
		virtio_dev_destroy(dev);
		return vk_error_set(err, ENOSPC, "too many virtio devices (the board has %d slots)",
		                    VIRT_VIRTIO_COUNT);
	}
	b->virtio[n] = dev;
	b->virtio_mmio[n] = virtio_mmio_create(&b->mmio, base,
	                                       plic_input(b->plic, VIRT_VIRTIO_IRQ + n), dev, err);
	b->nr_virtio++;
	return b->virtio_mmio[n] ? 0 : -EINVAL;
}

static int virt_create_devices(struct virt_board *b, struct vk_error *err)
{
	const struct vm_machine_config *cfg = b->cfg;
	struct {
		enum virtio_spec_kind kind;
		const char *spec;
	} want[VM_MAX_DISKS + VM_MAX_NETS + 2];
	unsigned n = 0;

	/* Slot order: disks, network cards, the entropy source, the virtio console. */
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		want[n++] = (typeof(want[0])){VIRTIO_SPEC_DISK, cfg->disks[i]};
	for (unsigned i = 0; i < cfg->nr_nets; i++)
		want[n++] = (typeof(want[0])){VIRTIO_SPEC_NET, cfg->nets[i]};
	if (cfg->rng)
		want[n++] = (typeof(want[0])){VIRTIO_SPEC_RNG, NULL};
	if (cfg->virtio_console && !cfg->agent)
		want[n++] = (typeof(want[0])){VIRTIO_SPEC_CONSOLE, cfg->virtio_console};
	for (unsigned i = 0; i < n; i++) {
		enum virtio_spec_kind kind = want[i].kind == VIRTIO_SPEC_DISK && cfg->incoming
		                                     ? VIRTIO_SPEC_DISK_INCOMING
		                                     : want[i].kind;
		struct virtio_dev *dev =
		        virtio_dev_from_spec(kind, want[i].spec, &b->mem, b->loop, err);
		int r;

		if (!dev)
			return -EINVAL;
		r = virt_add_virtio(b, dev, err);
		if (r < 0)
			return r;
	}
	if (cfg->agent) {
		/* The agent port, and hvc0 (port 0) when asked for, on one multiport device. */
		struct virtio_dev *dev = guest_poweroff_agent_port(cfg->virtio_console, &b->mem,
		                                                   b->loop, &b->agent, err);
		if (!dev)
			return -EINVAL;
		return virt_add_virtio(b, dev, err);
	}
	return 0;
}

static int virt_build(struct virt_board *b, struct vk_error *err)
{
	const struct vm_machine_config *cfg = b->cfg;
	struct irq_line msip[VM_MAX_CPUS], mtip[VM_MAX_CPUS], ctx[2 * VM_MAX_CPUS];
	sigset_t sigs;
	int r;

	b->nr_harts = cfg->cpus;
	r = vm_mem_add_ram(&b->mem, VIRT_DRAM_BASE, cfg->memory, err);
	if (r < 0)
		return r;
	if (cfg->jit) {
		b->jit = rv_jit_new(&b->mem, cfg->jit_cache, err);
		if (!b->jit)
			return -EINVAL;
		/* Device DMA into RAM drops the code translated from what it overwrote. */
		b->mem.write_hook = rv_jit_mem_write_hook;
		b->mem.write_hook_opaque = b->jit;
	}
	for (unsigned h = 0; h < b->nr_harts; h++) {
		struct rv_cpu_config cc = {
		        .hartid = h,
		        .mem = &b->mem,
		        .mmio = &b->mmio,
		        .rdtime = virt_mtime,
		        .opaque = b,
		        .max_satp_mode = RV_SATP_MODE_SV48,
		        /* Each hart has a decode memo of its own: they run on different threads. */
		        .pause_yields = true,
		        .wfi_naps = true,
		        .jit = b->jit,
		};
		b->harts[h] = rv_cpu_new(&cc, err);
		if (!b->harts[h])
			return -EINVAL;
		msip[h] = virt_hart_line(b, h, RV_MIP_MSIP);
		mtip[h] = virt_hart_line(b, h, RV_MIP_MTIP);
		ctx[2 * h] = virt_hart_line(b, h, RV_MIP_MEIP);
		ctx[2 * h + 1] = virt_hart_line(b, h, RV_MIP_SEIP);
	}
	rv_harts_init(&b->threads, b->harts, b->nr_harts, VIRT_SLICE,
	              &(struct rv_harts_ops){.timer = virt_hart_timer,
	                                     .after_run = virt_hart_after_run,
	                                     .settled = virt_harts_settled,
	                                     .opaque = b});
	b->threads_ready = true;
	/* Hart threads dispatch their MMIO under the machine lock. */
	bus_set_lock(&b->mmio, virt_bus_lock, virt_bus_unlock, b->loop);
	b->clint = clint_create(&b->mmio, VIRT_CLINT_BASE, b->nr_harts, msip, mtip, virt_mtime, b,
	                        err);
	if (!b->clint)
		return -EINVAL;
	b->plic =
	        plic_create(&b->mmio, VIRT_PLIC_BASE, VIRT_PLIC_SOURCES, 2 * b->nr_harts, ctx, err);
	if (!b->plic)
		return -EINVAL;
	b->test = sifive_test_create(&b->mmio, VIRT_TEST_BASE, virt_test_event, b, err);
	if (!b->test)
		return -EINVAL;
	b->console = chardev_open(b->loop, cfg->console, err);
	if (!b->console)
		return vk_error_prefix(err, "--console");
	chardev_set_quit_handler(b->console, virt_console_quit, b);
	/* The UART owns the chardev from here on, even when it fails. */
	b->uart = uart16550_create(&b->mmio, VIRT_UART0_BASE, 0,
	                           plic_input(b->plic, VIRT_UART0_IRQ), b->console, err);
	if (!b->uart)
		return -EINVAL;
	r = virt_create_devices(b, err);
	if (r < 0)
		return r;
	b->poweroff =
	        guest_poweroff_new(b->loop, b->uart, b->agent, virt_poweroff_progress, b, err);
	if (!b->poweroff)
		return -ENOMEM;

	/* SIGINT/SIGTERM/SIGHUP end the run cleanly through the loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	b->signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (b->signal_fd < 0)
		return vk_error_errno(err, errno, "cannot watch signals");
	r = vm_loop_add_fd(b->loop, b->signal_fd, POLLIN, virt_signal, b);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot watch signals");
	r = virt_state_register(b, err);
	if (r < 0)
		return r;

	return vm_monitor_attach(b->monitor, b->loop, &virt_control_ops, b, err);
}

static void virt_destroy(struct virt_board *b)
{
	guest_poweroff_free(b->poweroff); /* before the UART and the agent port it uses */
	for (unsigned i = 0; i < b->nr_virtio; i++) {
		virtio_mmio_destroy(b->virtio_mmio[i]);
		virtio_dev_destroy(b->virtio[i]);
	}
	uart16550_destroy(b->uart);
	sifive_test_destroy(b->test);
	plic_destroy(b->plic);
	clint_destroy(b->clint);
	if (b->threads_ready)
		rv_harts_destroy(&b->threads);
	for (unsigned h = 0; h < b->nr_harts; h++)
		rv_cpu_free(b->harts[h]);
	rv_jit_free(b->jit);
	if (b->signal_fd >= 0) {
		vm_loop_del_fd(b->loop, b->signal_fd);
		close(b->signal_fd);
	}
	bus_destroy(&b->mmio);
	vm_mem_destroy(&b->mem);
	riscv_boot_free(&b->boot);
	vm_loop_free(b->loop);
}

/* Put hart h at the firmware (or bare-metal) entry with the boot registers set.
 * Before the hart threads start, or while every one is parked (the harts lock orders it). */
void virt_reset_hart(struct virt_board *b, unsigned h)
{
	rv_cpu_reset(b->harts[h], b->boot.entry);
	rv_cpu_set_reg(b->harts[h], 10, h);                    /* a0: hart id */
	rv_cpu_set_reg(b->harts[h], 11, b->boot.fdt_addr);     /* a1: device tree */
	rv_cpu_set_reg(b->harts[h], 12, b->boot.dyninfo_addr); /* a2: fw_dynamic_info */
}

/* ---- running (the I/O thread) ---------------------------------------------- */

/* A guest reset with --on-reset reboot, once every hart has parked. Machine lock held. */
static int virt_reboot(struct virt_board *b, struct vk_error *err)
{
	int r = riscv_boot_load(&b->boot, b->cfg, &b->mem, b->nr_virtio, err);

	if (r < 0)
		return r;
	/* The images were written over whatever code the guest had. No hart is in
	 * rv_cpu_run() (all parked), so the flush waits for none. */
	if (b->jit)
		rv_jit_flush(b->jit);
	/* Every hart and device the machine object holds (riscv-state.c says which reset). */
	vm_registry_reset(&b->reg);
	b->stop = VIRT_RUNNING;
	/* Paused across a reboot stays paused (the paused event follows when they park). */
	rv_harts_request(&b->threads, b->paused ? RV_HARTS_PAUSE : RV_HARTS_RUN);
	return 0;
}

/*
 * Serve the loop until every hart thread has ended. The harts run on their own;
 * this thread only polls (without the machine lock), and after each wake-up
 * looks whether a reset is due or the run is over. It never waits for a hart
 * while it holds the machine lock.
 */
static int virt_run(struct virt_board *b, struct vk_error *err)
{
	int r = rv_harts_start(&b->threads, err), ret = 0;

	if (r < 0)
		return r;
	for (;;) {
		bool done;

		vm_loop_poll(b->loop, -1);
		vm_loop_lock(b->loop);
		if (b->stop == VIRT_STOP_RESET && b->cfg->on_reset == VM_ON_RESET_REBOOT &&
		    rv_harts_want(&b->threads) == RV_HARTS_PARK && rv_harts_parked(&b->threads)) {
			r = virt_reboot(b, err);
			if (r < 0) {
				/* Cannot load the images again: end the run with that error. */
				ret = r;
				b->stop = VIRT_STOP_ERROR;
				rv_harts_request(&b->threads, RV_HARTS_STOP);
			}
		}
		done = rv_harts_stopped(&b->threads);
		vm_loop_unlock(b->loop);
		if (done)
			break;
	}
	rv_harts_join(&b->threads);
	return ret;
}

/* The translator's figures for the run statistics (--stats). */
static void virt_jit_stats(struct virt_board *b, char *buf, size_t size)
{
	struct rv_jit_stats st;

	if (!b->jit) {
		snprintf(buf, size, "jit=off");
		return;
	}
	rv_jit_get_stats(b->jit, &st);
	snprintf(buf, size,
	         "jit=on blocks=%llu guest_insns=%llu code_kib=%llu cache_used_kib=%llu "
	         "cache_kib=%llu chained=%llu lookups=%llu jump_cache_hit_pct=%.1f "
	         "invalidated=%llu flushes=%llu",
	         (unsigned long long)st.blocks, (unsigned long long)st.guest_insns,
	         (unsigned long long)(st.code_bytes >> 10),
	         (unsigned long long)(st.cache_used >> 10),
	         (unsigned long long)(st.cache_size >> 10), (unsigned long long)st.chained,
	         (unsigned long long)st.lookups,
	         st.lookups ? 100.0 * (double)st.jc_hits / (double)st.lookups : 0.0,
	         (unsigned long long)st.invalidated, (unsigned long long)st.flushes);
}

static const char *virt_stop_reason(const struct virt_board *b)
{
	switch (b->stop) {
	case VIRT_STOP_FINISH:
		return b->finish_reason;
	case VIRT_STOP_POWEROFF:
	case VIRT_STOP_HTIF:
		return "poweroff";
	case VIRT_STOP_RESET:
		return "reset";
	case VIRT_STOP_QUIT:
	case VIRT_STOP_SIGNAL:
		return "quit";
	default:
		return "error";
	}
}

int riscv_virt_main(const struct vm_machine_config *cfg, const struct vm_monitor *mon,
                    struct vk_error *err)
{
	struct virt_board b = {.cfg = cfg, .monitor = mon, .signal_fd = -1};
	struct vm_run_stats stats = {0};
	int r;

	vm_mem_init(&b.mem);
	bus_init(&b.mmio, "mmio");
	b.loop = vm_loop_new();
	if (!b.loop)
		return vk_error_set(err, ENOMEM, "out of memory");
	b.start_ns = b.clock_base_ns = vk_now_ns();
	r = virt_build(&b, err);
	if (r == 0 && vm_monitor_restores(mon)) {
		/* A saved machine: its RAM holds what the images put there (a reboot loads them
		 * again, riscv_boot_load() in virt_reboot()). */
		vm_loop_lock(b.loop);
		r = vm_monitor_restore(mon, &b.reg, err);
		/* Saved or sent while paused: no hart runs until a resume. */
		if (r == 0 && b.paused)
			rv_harts_request(&b.threads, RV_HARTS_PAUSE);
		vm_loop_unlock(b.loop);
	} else if (r == 0) {
		r = riscv_boot_load(&b.boot, cfg, &b.mem, b.nr_virtio, err);
		for (unsigned h = 0; r == 0 && h < b.nr_harts; h++)
			virt_reset_hart(&b, h);
	}
	if (r == 0)
		r = virt_run(&b, err);
	if (r == 0) {
		vm_monitor_event(mon, "shutdown", virt_stop_reason(&b),
		                 b.stop_detail[0] ? b.stop_detail : NULL);
		if (b.stop == VIRT_STOP_ERROR)
			r = vk_error_set(err, EIO, "guest fatal error: %s", b.stop_detail);
		else
			r = b.exit_status;
		if (b.stop == VIRT_STOP_SIGNAL)
			vk_info("%s", b.stop_detail);
	}
	stats.start_ns = b.start_ns;
	stats.memory = &b.mem;
	for (unsigned h = 0; h < b.nr_harts; h++)
		stats.instructions += rv_cpu_instret(b.harts[h]);
	virt_jit_stats(&b, stats.cpu_detail, sizeof(stats.cpu_detail));
	riscv_boot_describe(&b.boot, stats.boot_detail, sizeof(stats.boot_detail));
	vm_monitor_detach(mon, &stats);
	virt_destroy(&b);
	return r;
}
