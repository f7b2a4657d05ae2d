/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 virt board: builds the machine (RAM, harts, CLINT, PLIC, UART,
 * virtio-mmio slots, the test finisher, the device tree), loads firmware,
 * kernel and initrd, and runs the harts round-robin on one host thread
 * together with the event loop. Also the HTIF tohost/fromhost protocol for
 * bare-metal test programs.
 */
#include "vm/board/riscv-virt.h"

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

/* Instructions a hart runs before the next one gets its turn. */
#define VIRT_SLICE 20000
/* How often the event loop is polled while harts are busy. */
#define VIRT_POLL_INTERVAL_NS 1000000ull

enum virt_stop {
	VIRT_RUNNING,
	VIRT_STOP_POWEROFF,
	VIRT_STOP_RESET,
	VIRT_STOP_QUIT,
	VIRT_STOP_SIGNAL,
	VIRT_STOP_ERROR,
	VIRT_STOP_HTIF,
};

struct virt_board {
	const struct vm_machine_config *cfg;
	const struct vm_monitor *monitor;
	struct vm_mem mem;
	struct bus mmio;
	struct vm_loop *loop;

	unsigned nr_harts;
	struct rv_jit *jit; /* the binary translator, NULL: the harts interpret */
	struct rv_cpu *harts[VM_MAX_CPUS];
	bool waiting[VM_MAX_CPUS];

	struct clint *clint;
	struct plic *plic;
	struct sifive_test *test;
	struct chardev *console; /* owned by the UART (which closes it); HTIF borrows it */
	struct uart16550 *uart;
	struct virtio_dev *virtio[VIRT_VIRTIO_COUNT];
	struct virtio_mmio *virtio_mmio[VIRT_VIRTIO_COUNT];
	unsigned nr_virtio;
	struct guest_agent *agent;       /* the agent port's host end, NULL: none */
	struct guest_poweroff *poweroff; /* powerdown: agent, else SysRq on the UART */
	int signal_fd;

	struct riscv_boot boot;

	/* Guest time: mtime = (host ns - clock_base_ns) / 100, frozen while paused. */
	uint64_t clock_base_ns;
	uint64_t paused_at_ns;
	bool paused;
	uint64_t start_ns;

	enum virt_stop stop;
	int exit_status;
	char stop_detail[256];
};

static uint64_t virt_host_ns(const struct virt_board *b)
{
	return b->paused ? b->paused_at_ns : vk_now_ns();
}

static uint64_t virt_mtime(void *opaque)
{
	struct virt_board *b = opaque;

	return (virt_host_ns(b) - b->clock_base_ns) / (1000000000ull / VIRT_TIMEBASE_HZ);
}

static void virt_request_stop(struct virt_board *b, enum virt_stop why, int status)
{
	/* The first reason wins, but a quit or a signal overrides a pending reset (reboot). */
	if (b->stop != VIRT_RUNNING &&
	    !(b->stop == VIRT_STOP_RESET && (why == VIRT_STOP_QUIT || why == VIRT_STOP_SIGNAL)))
		return;
	b->stop = why;
	b->exit_status = status;
	for (unsigned i = 0; i < b->nr_harts; i++)
		rv_cpu_request_exit(b->harts[i]);
	vm_loop_wakeup(b->loop);
}

/* ---- interrupt wiring ---------------------------------------------------- */

/* Lines into a hart: n = hart * 64 + bit number of mip. */
static void virt_hart_irq(void *opaque, unsigned n, bool level)
{
	struct virt_board *b = opaque;
	unsigned hart = n / 64;

	if (hart < b->nr_harts)
		rv_cpu_set_irq(b->harts[hart], 1ull << (n % 64), level);
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

static int virt_ctl_pause(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	if (!b->paused) {
		b->paused_at_ns = vk_now_ns();
		b->paused = true;
		vm_monitor_event(b->monitor, "paused", NULL, NULL);
	}
	return 0;
}

static int virt_ctl_resume(void *opaque, struct vk_error *err)
{
	struct virt_board *b = opaque;

	if (b->paused) {
		b->clock_base_ns += vk_now_ns() - b->paused_at_ns;
		b->paused = false;
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
		struct virtio_dev *dev =
		        virtio_dev_from_spec(want[i].kind, want[i].spec, &b->mem, b->loop, err);
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
		        /* One decoded-instruction memo for all harts: they run the same code. */
		        .share_decode_cache_with = h ? b->harts[0] : NULL,
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

/* Put every hart at the firmware (or bare-metal) entry with the boot registers set. */
static void virt_reset_harts(struct virt_board *b)
{
	for (unsigned h = 0; h < b->nr_harts; h++) {
		rv_cpu_reset(b->harts[h], b->boot.entry);
		rv_cpu_set_reg(b->harts[h], 10, h);                    /* a0: hart id */
		rv_cpu_set_reg(b->harts[h], 11, b->boot.fdt_addr);     /* a1: device tree */
		rv_cpu_set_reg(b->harts[h], 12, b->boot.dyninfo_addr); /* a2: fw_dynamic_info */
		b->waiting[h] = false;
	}
}

/* ---- running ------------------------------------------------------------- */

static void virt_sleep(struct virt_board *b)
{
	const uint64_t ns_per_tick = 1000000000ull / VIRT_TIMEBASE_HZ;
	uint64_t ticks = clint_ticks_to_deadline(b->clint);
	int64_t timeout = -1;

	if (ticks != UINT64_MAX)
		timeout = ticks > (uint64_t)INT64_MAX / ns_per_tick
		                  ? INT64_MAX
		                  : (int64_t)(ticks * ns_per_tick);
	vm_loop_poll(b->loop, timeout);
}

static int virt_run(struct virt_board *b, struct vk_error *err)
{
	uint64_t last_poll = vk_now_ns();

	while (b->stop == VIRT_RUNNING) {
		bool all_waiting = true;
		uint64_t now;

		if (b->paused) {
			vm_loop_poll(b->loop, -1);
			continue;
		}
		clint_update(b->clint);
		for (unsigned h = 0; h < b->nr_harts && b->stop == VIRT_RUNNING; h++) {
			enum rv_exit why;

			if (b->waiting[h] && !rv_cpu_interrupt_pending(b->harts[h]))
				continue;
			b->waiting[h] = false;
			why = rv_cpu_run(b->harts[h], VIRT_SLICE);
			if (why == RV_EXIT_WFI)
				b->waiting[h] = true;
			else if (why == RV_EXIT_FATAL) {
				snprintf(b->stop_detail, sizeof(b->stop_detail), "%s",
				         rv_cpu_fatal_reason(b->harts[h]));
				virt_request_stop(b, VIRT_STOP_ERROR, 1);
			}
			if (!b->waiting[h])
				all_waiting = false;
		}
		if (b->boot.htif) {
			int status;
			if (riscv_boot_htif_poll(&b->boot, &b->mem, b->console, &status))
				virt_request_stop(b, VIRT_STOP_HTIF, status);
		}
		if (b->stop == VIRT_STOP_RESET && b->cfg->on_reset == VM_ON_RESET_REBOOT) {
			int r = riscv_boot_load(&b->boot, b->cfg, &b->mem, b->nr_virtio, err);
			if (r < 0)
				return r;
			/* The images were written over whatever code the guest had. */
			if (b->jit)
				rv_jit_flush(b->jit);
			for (unsigned i = 0; i < b->nr_virtio; i++)
				virtio_reset(b->virtio[i]);
			virt_reset_harts(b);
			b->stop = VIRT_RUNNING;
			continue;
		}
		if (b->stop != VIRT_RUNNING)
			break;
		now = vk_now_ns();
		if (all_waiting) {
			virt_sleep(b);
			last_poll = vk_now_ns();
		} else if (now - last_poll >= VIRT_POLL_INTERVAL_NS) {
			vm_loop_poll(b->loop, 0);
			last_poll = now;
		}
	}
	return 0;
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

static const char *virt_stop_reason(enum virt_stop s)
{
	switch (s) {
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
	if (r == 0)
		r = riscv_boot_load(&b.boot, cfg, &b.mem, b.nr_virtio, err);
	if (r == 0) {
		virt_reset_harts(&b);
		vm_loop_lock(b.loop);
		r = virt_run(&b, err);
		vm_loop_unlock(b.loop);
	}
	if (r == 0) {
		vm_monitor_event(mon, "shutdown", virt_stop_reason(b.stop),
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
