/* SPDX-License-Identifier: MIT */
/*
 * vCPU threads: KVM_RUN loops, exit dispatch (port I/O and MMIO to the board's
 * buses, shutdown, system events, internal errors), and pause / resume / stop.
 *
 * Getting a vCPU out of KVM_RUN: the controller changes cpus->want under
 * cpus->lock, then sets run->immediate_exit and sends KVM_KICK_SIGNAL to the
 * thread. A thread inside KVM_RUN returns with EINTR; one about to enter it
 * returns at once because of immediate_exit. The thread clears immediate_exit
 * before it looks at cpus->want, so no request is ever missed.
 *
 * cpus->lock also orders kicks against thread creation: a thread is created
 * and marked started under the lock, and kicks look at `started` under it.
 * A request made before a thread is marked started is seen by that thread's
 * first check (which waits for the lock); one made after reaches it by the
 * kick. Without that, a vCPU that stops the machine while later threads are
 * still being created (a guest that powers off at once) could leave an AP in
 * KVM_RUN, unkicked, and kvm_cpus_join() waiting for it forever.
 *
 * A vCPU parks only with its last exit finished: KVM completes a port or MMIO
 * exit (steps RIP past an OUT, puts an MMIO read's value in its register) at
 * the next KVM_RUN, and that pending step is in no state userspace can read
 * (api.rst, KVM_RUN). A vCPU about to park after such an exit enters KVM_RUN
 * once more with immediate_exit set: KVM finishes the step and returns before
 * any guest instruction. Without that, a vCPU saved while held would run its
 * OUT again after a restore (one console character twice).
 */
#include "vm/kvm/kvm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/bus.h"
#include "vm/loop.h"

#define KVM_KICK_SIGNAL (SIGRTMIN + 3)

struct kvm_vcpu {
	struct kvm_cpus *cpus;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;    /* thread created and not joined yet (cpus->lock) */
	bool io_pending; /* the last exit was port I/O or MMIO: KVM finishes it at KVM_RUN */
	bool warned_pio, warned_mmio, warned_mmio_len, warned_hlt;
};

static void kvm_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

static int kick_handler_result;

static void kvm_install_kick_handler_once(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kvm_kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return EINTR. */
	kick_handler_result = sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static int kvm_install_kick_handler(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, kvm_install_kick_handler_once);
	return kick_handler_result;
}

int kvm_cpus_create(struct kvm_cpus *cpus, struct kvm_vm *vm, unsigned nr, struct vk_error *err)
{
	int r;

	memset(cpus, 0, sizeof(*cpus));
	cpus->vm = vm;
	pthread_mutex_init(&cpus->lock, NULL);
	pthread_cond_init(&cpus->cond, NULL);
	if (nr == 0)
		return vk_error_set(err, EINVAL, "a machine needs at least one vCPU");
	if (nr > vm->caps.max_vcpus)
		return vk_error_set(err, EINVAL,
		                    "%u vCPUs requested, but KVM on this host allows at most %u",
		                    nr, vm->caps.max_vcpus);
	if (nr > vm->caps.nr_vcpus)
		vk_info("%u vCPUs is more than KVM recommends on this host (%u)", nr,
		        vm->caps.nr_vcpus);
	cpus->vcpus = calloc(nr, sizeof(*cpus->vcpus));
	if (!cpus->vcpus)
		return vk_error_errno(err, ENOMEM, "vCPU table");
	for (unsigned i = 0; i < nr; i++) {
		struct kvm_vcpu *v = &cpus->vcpus[i];

		v->cpus = cpus;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0)
			return vk_error_errno(err, errno, "cannot create vCPU %u", i);
		cpus->nr = i + 1;
		v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		              0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			return vk_error_errno(err, errno, "cannot map the run area of vCPU %u", i);
		}
		r = x86_vcpu_init(vm, v->fd, i, nr, err);
		if (r < 0)
			return vk_error_prefix(err, "vCPU %u", i);
	}
	return 0;
}

int kvm_vcpu_set_boot_state(struct kvm_cpus *cpus, unsigned cpu, const struct x86_boot_state *bs,
                            struct vk_error *err)
{
	if (cpu >= cpus->nr)
		return vk_error_set(err, EINVAL, "no vCPU %u", cpu);
	return x86_vcpu_set_boot_state(cpus->vcpus[cpu].fd, bs, err);
}

static void kvm_vcpu_kick(struct kvm_vcpu *v)
{
	if (!v->started || !v->run)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

/* With cpus->lock held, after changing cpus->want. */
static void kvm_cpus_kick_all(struct kvm_cpus *cpus)
{
	for (unsigned i = 0; i < cpus->nr; i++)
		kvm_vcpu_kick(&cpus->vcpus[i]);
}

/* Called with cpus->lock held whenever nr_parked or nr_threads changes. */
static void kvm_cpus_maybe_freeze_clock(struct kvm_cpus *cpus)
{
	if (cpus->want != KVM_CPUS_PAUSE || cpus->clock_saved || cpus->nr_parked < cpus->nr_threads)
		return;
	memset(&cpus->clock, 0, sizeof(cpus->clock));
	if (ioctl(cpus->vm->vm_fd, KVM_GET_CLOCK, &cpus->clock) == 0)
		cpus->clock_saved = true;
}

static bool kvm_vcpu_handle_exit(struct kvm_vcpu *v);

/* Let KVM finish the last I/O exit without running the guest (see the top). False when
 * an exit met meanwhile (the rest of a string instruction) stops the vCPU. */
static bool kvm_vcpu_finish_io(struct kvm_vcpu *v)
{
	for (unsigned i = 0; v->io_pending && i < 4096; i++) {
		int r;

		v->io_pending = false;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		r = ioctl(v->fd, KVM_RUN, 0);
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (r < 0)
			return true; /* EINTR: finished; anything else, the next KVM_RUN says */
		if (!kvm_vcpu_handle_exit(v))
			return false;
	}
	return true;
}

/* Park while paused or held. Returns false when the vCPU must stop. */
static bool kvm_vcpu_check_requests(struct kvm_vcpu *v)
{
	struct kvm_cpus *cpus = v->cpus;
	bool go;

	pthread_mutex_lock(&cpus->lock);
	while (cpus->want == KVM_CPUS_PAUSE || (cpus->holds && cpus->want != KVM_CPUS_STOP)) {
		if (v->io_pending) {
			bool ok;

			pthread_mutex_unlock(&cpus->lock);
			ok = kvm_vcpu_finish_io(v);
			pthread_mutex_lock(&cpus->lock);
			if (!ok) {
				pthread_mutex_unlock(&cpus->lock);
				return false;
			}
			continue;
		}
		cpus->nr_parked++;
		kvm_cpus_maybe_freeze_clock(cpus);
		pthread_cond_broadcast(&cpus->cond);
		pthread_cond_wait(&cpus->cond, &cpus->lock);
		cpus->nr_parked--;
	}
	go = cpus->want == KVM_CPUS_RUN;
	pthread_mutex_unlock(&cpus->lock);
	return go;
}

static void kvm_vcpu_event(struct kvm_vcpu *v, enum kvm_event ev, const char *detail)
{
	if (v->cpus->event)
		v->cpus->event(v->cpus->opaque, ev, v->id, detail);
}

static void kvm_vcpu_handle_io(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_cpus *cpus = v->cpus;
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* data_offset and count come from the kernel, but check the page anyway. */
	if (run->io.data_offset + (uint64_t)size * run->io.count > (uint64_t)cpus->vm->run_size)
		return;
	vm_loop_lock(cpus->loop);
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&val, data, size);
			if (!bus_write(cpus->pio, run->io.port, size, val))
				vk_log_once(&v->warned_pio, VK_LOG_DEBUG,
				            "vCPU %u: write to unassigned port 0x%x ignored", v->id,
				            run->io.port);
		} else {
			/* Unassigned ports float high, as on a PC. */
			if (!bus_read(cpus->pio, run->io.port, size, &val))
				val = UINT64_MAX;
			memcpy(data, &val, size);
		}
	}
	vm_loop_unlock(cpus->loop);
}

static void kvm_vcpu_handle_mmio(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_cpus *cpus = v->cpus;
	unsigned len = run->mmio.len;
	uint64_t val = 0;
	bool ok;

	if (len != 1 && len != 2 && len != 4 && len != 8) {
		vk_log_once(&v->warned_mmio_len, VK_LOG_WARN,
		            "vCPU %u: MMIO access of %u bytes at 0x%llx ignored", v->id, len,
		            (unsigned long long)run->mmio.phys_addr);
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return;
	}
	vm_loop_lock(cpus->loop);
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		ok = bus_write(cpus->mmio, run->mmio.phys_addr, len, val);
	} else {
		ok = bus_read(cpus->mmio, run->mmio.phys_addr, len, &val);
		if (!ok)
			val = UINT64_MAX;
		memcpy(run->mmio.data, &val, len);
	}
	vm_loop_unlock(cpus->loop);
	if (!ok)
		vk_log_once(&v->warned_mmio, VK_LOG_DEBUG,
		            "vCPU %u: %s of unassigned MMIO address 0x%llx", v->id,
		            run->mmio.is_write ? "write" : "read",
		            (unsigned long long)run->mmio.phys_addr);
}

/* Handle one exit. Returns false when this vCPU must stop. */
static bool kvm_vcpu_handle_exit(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	char detail[1536];
	char dump[1200];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		kvm_vcpu_handle_io(v);
		v->io_pending = true;
		return true;
	case KVM_EXIT_MMIO:
		kvm_vcpu_handle_mmio(v);
		v->io_pending = true;
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC, which we always create. */
		vk_log_once(&v->warned_hlt, VK_LOG_DEBUG, "vCPU %u: HLT exit", v->id);
		return true;
	case KVM_EXIT_SHUTDOWN:
		kvm_vcpu_event(v, KVM_EVENT_RESET, "triple fault");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			kvm_vcpu_event(v, KVM_EVENT_POWEROFF, "system event: shutdown");
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			kvm_vcpu_event(v, KVM_EVENT_RESET, "system event: reset");
			return false;
		case KVM_SYSTEM_EVENT_CRASH:
			kvm_vcpu_event(v, KVM_EVENT_ERROR, "the guest reported a crash");
			return false;
		default:
			snprintf(detail, sizeof(detail), "unexpected system event %u",
			         run->system_event.type);
			kvm_vcpu_event(v, KVM_EVENT_ERROR, detail);
			return false;
		}
	case KVM_EXIT_INTERNAL_ERROR:
		x86_vcpu_dump(v->fd, v->cpus->mem, dump, sizeof(dump));
		snprintf(detail, sizeof(detail),
		         "KVM internal error on vCPU %u (suberror %u%s)\n%s", v->id,
		         run->internal.suberror,
		         run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
		                 ? ": KVM could not emulate an instruction"
		                 : "",
		         dump);
		kvm_vcpu_event(v, KVM_EVENT_ERROR, detail);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		x86_vcpu_dump(v->fd, v->cpus->mem, dump, sizeof(dump));
		snprintf(detail, sizeof(detail),
		         "vCPU %u: the processor refused to enter the guest (reason 0x%llx)\n%s",
		         v->id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		         dump);
		kvm_vcpu_event(v, KVM_EVENT_ERROR, detail);
		return false;
	default:
		x86_vcpu_dump(v->fd, v->cpus->mem, dump, sizeof(dump));
		snprintf(detail, sizeof(detail), "vCPU %u: unexpected KVM exit %u\n%s", v->id,
		         run->exit_reason, dump);
		kvm_vcpu_event(v, KVM_EVENT_ERROR, detail);
		return false;
	}
}

static void *kvm_vcpu_thread(void *arg)
{
	struct kvm_vcpu *v = arg;
	struct kvm_cpus *cpus = v->cpus;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (kvm_vcpu_check_requests(v)) {
		int r = ioctl(v->fd, KVM_RUN, 0);
		int e = errno;

		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		v->io_pending = false; /* KVM finished it before anything else */
		if (r < 0) {
			char detail[128];

			/* EAGAIN: an AP received INIT/SIPI while waiting; run it again. */
			if (e == EINTR || e == EAGAIN)
				continue;
			snprintf(detail, sizeof(detail), "vCPU %u: KVM_RUN failed: %s", v->id,
			         strerror(e));
			kvm_vcpu_event(v, KVM_EVENT_ERROR, detail);
			break;
		}
		if (!kvm_vcpu_handle_exit(v))
			break;
	}

	pthread_mutex_lock(&cpus->lock);
	cpus->nr_threads--;
	kvm_cpus_maybe_freeze_clock(cpus);
	pthread_cond_broadcast(&cpus->cond);
	pthread_mutex_unlock(&cpus->lock);
	return NULL;
}

int kvm_cpus_start(struct kvm_cpus *cpus, struct vk_error *err)
{
	sigset_t set, old;
	int r;

	r = kvm_install_kick_handler();
	if (r < 0)
		return vk_error_errno(err, -r, "cannot install the vCPU kick signal handler");
	/* vCPU threads unblock the kick signal themselves; others keep it blocked. */
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned i = 0; i < cpus->nr; i++) {
		struct kvm_vcpu *v = &cpus->vcpus[i];

		pthread_mutex_lock(&cpus->lock);
		r = pthread_create(&v->thread, NULL, kvm_vcpu_thread, v);
		if (r == 0) {
			cpus->nr_threads++;
			v->started = true;
		}
		pthread_mutex_unlock(&cpus->lock);
		if (r != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			kvm_cpus_request_stop(cpus);
			kvm_cpus_join(cpus);
			return vk_error_errno(err, r, "cannot start the thread of vCPU %u", i);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void kvm_cpus_pause(struct kvm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	if (cpus->want == KVM_CPUS_RUN)
		cpus->want = KVM_CPUS_PAUSE;
	kvm_cpus_kick_all(cpus);
	pthread_mutex_unlock(&cpus->lock);
}

bool kvm_cpus_paused(struct kvm_cpus *cpus)
{
	bool p;

	pthread_mutex_lock(&cpus->lock);
	p = cpus->want == KVM_CPUS_PAUSE;
	pthread_mutex_unlock(&cpus->lock);
	return p;
}

void kvm_cpus_resume(struct kvm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	if (cpus->want == KVM_CPUS_PAUSE) {
		if (cpus->clock_saved) {
			/* Guest time did not pass while paused. */
			cpus->clock.flags = 0;
			if (ioctl(cpus->vm->vm_fd, KVM_SET_CLOCK, &cpus->clock) < 0)
				vk_debug("KVM_SET_CLOCK: %s", strerror(errno));
			cpus->clock_saved = false;
		}
		cpus->want = KVM_CPUS_RUN;
		pthread_cond_broadcast(&cpus->cond);
	}
	pthread_mutex_unlock(&cpus->lock);
}

int kvm_cpus_hold(struct kvm_cpus *cpus)
{
	int r = 0;

	pthread_mutex_lock(&cpus->lock);
	cpus->holds++;
	kvm_cpus_kick_all(cpus);
	while (cpus->want != KVM_CPUS_STOP && cpus->nr_parked < cpus->nr_threads)
		pthread_cond_wait(&cpus->cond, &cpus->lock);
	if (cpus->want == KVM_CPUS_STOP) {
		cpus->holds--;
		pthread_cond_broadcast(&cpus->cond);
		r = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&cpus->lock);
	return r;
}

void kvm_cpus_release(struct kvm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	if (cpus->holds)
		cpus->holds--;
	pthread_cond_broadcast(&cpus->cond);
	pthread_mutex_unlock(&cpus->lock);
}

int kvm_cpus_vcpu_fd(const struct kvm_cpus *cpus, unsigned cpu)
{
	return cpu < cpus->nr ? cpus->vcpus[cpu].fd : -1;
}

bool kvm_cpus_frozen_clock(struct kvm_cpus *cpus, struct kvm_clock_data *clock)
{
	bool frozen;

	pthread_mutex_lock(&cpus->lock);
	frozen = cpus->want == KVM_CPUS_PAUSE && cpus->clock_saved;
	if (frozen)
		*clock = cpus->clock;
	pthread_mutex_unlock(&cpus->lock);
	return frozen;
}

void kvm_cpus_request_stop(struct kvm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	cpus->want = KVM_CPUS_STOP;
	pthread_cond_broadcast(&cpus->cond);
	kvm_cpus_kick_all(cpus);
	pthread_mutex_unlock(&cpus->lock);
}

void kvm_cpus_join(struct kvm_cpus *cpus)
{
	for (unsigned i = 0; i < cpus->nr; i++) {
		struct kvm_vcpu *v = &cpus->vcpus[i];
		bool started;

		/* Only this thread creates and joins vCPU threads: `started` cannot become
		 * true under us, and until the join kicks may still signal the thread. */
		pthread_mutex_lock(&cpus->lock);
		started = v->started;
		pthread_mutex_unlock(&cpus->lock);
		if (!started)
			continue;
		pthread_join(v->thread, NULL);
		pthread_mutex_lock(&cpus->lock);
		v->started = false;
		pthread_mutex_unlock(&cpus->lock);
	}
}

void kvm_cpus_destroy(struct kvm_cpus *cpus)
{
	if (cpus->vcpus) {
		for (unsigned i = 0; i < cpus->nr; i++) {
			struct kvm_vcpu *v = &cpus->vcpus[i];

			if (v->run)
				munmap(v->run, (size_t)cpus->vm->run_size);
			if (v->fd >= 0)
				close(v->fd);
		}
		free(cpus->vcpus);
		cpus->vcpus = NULL;
	}
	cpus->nr = 0;
	pthread_cond_destroy(&cpus->cond);
	pthread_mutex_destroy(&cpus->lock);
}
