/* SPDX-License-Identifier: MIT */
/*
 * The hart threads of the riscv64 virt board: run loop, wfi sleep, parking
 * and the requests that move them (riscv-harts.h, docs/threading.md).
 */
#include "vm/board/riscv-harts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

static void set_request_flag(struct rv_harts *hs)
{
	__atomic_store_n(&hs->request, hs->want != RV_HARTS_RUN || hs->holds, __ATOMIC_SEQ_CST);
}

/* Harts lock held: must a hart stay parked? */
static bool must_park(const struct rv_harts *hs)
{
	return hs->want == RV_HARTS_PAUSE || hs->want == RV_HARTS_PARK ||
	       (hs->holds && hs->want != RV_HARTS_STOP);
}

void rv_harts_init(struct rv_harts *hs, struct rv_cpu *const *cpus, unsigned nr, uint64_t slice,
                   const struct rv_harts_ops *ops)
{
	pthread_condattr_t attr;

	memset(hs, 0, sizeof(*hs));
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->cond, NULL);
	pthread_cond_init(&hs->held, NULL);
	hs->want = RV_HARTS_RUN;
	hs->nr = nr;
	hs->slice = slice;
	hs->ops = *ops;
	/* wfi sleeps until a deadline on the monotonic clock (vk_now_ns) */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	for (unsigned i = 0; i < nr; i++) {
		struct rv_hart *h = &hs->hart[i];

		h->harts = hs;
		h->id = i;
		h->cpu = cpus[i];
		pthread_mutex_init(&h->sleep_lock, NULL);
		pthread_cond_init(&h->sleep_cond, &attr);
	}
	pthread_condattr_destroy(&attr);
}

void rv_harts_destroy(struct rv_harts *hs)
{
	for (unsigned i = 0; i < hs->nr; i++) {
		pthread_mutex_destroy(&hs->hart[i].sleep_lock);
		pthread_cond_destroy(&hs->hart[i].sleep_cond);
	}
	pthread_mutex_destroy(&hs->lock);
	pthread_cond_destroy(&hs->cond);
	pthread_cond_destroy(&hs->held);
}

void rv_harts_wake(struct rv_harts *hs, unsigned h)
{
	struct rv_hart *hart;

	if (h >= hs->nr)
		return;
	hart = &hs->hart[h];
	pthread_mutex_lock(&hart->sleep_lock);
	hart->wakes++;
	if (hart->sleeping)
		pthread_cond_signal(&hart->sleep_cond);
	pthread_mutex_unlock(&hart->sleep_lock);
}

/*
 * A wfi that polls (rv_cpu_config.wfi_naps: M-mode, an interrupt already
 * pending that it cannot take) naps: until the next rv_harts_wake() of this
 * hart since its previous sleep (an interrupt line of the hart changed: an
 * IPI, a timer or device line, a request), or RV_HART_NAP_NS, so that firmware
 * that polls memory without an interrupt to follow still goes on. Sleep lock
 * held.
 */
static void hart_nap(struct rv_hart *h)
{
	struct rv_harts *hs = h->harts;
	uint64_t deadline = vk_now_ns() + RV_HART_NAP_NS;
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ull),
	                      .tv_nsec = (long)(deadline % 1000000000ull)};

	while (h->wakes == h->wakes_seen && !__atomic_load_n(&hs->request, __ATOMIC_SEQ_CST))
		if (pthread_cond_timedwait(&h->sleep_cond, &h->sleep_lock, &ts) == ETIMEDOUT)
			break;
}

/*
 * wfi: sleep until an interrupt is pending and locally enabled, the timer
 * comes due, or a request arrives. Everything that ends the sleep is stored
 * before the waker takes the sleep lock, and is checked here under it before
 * every wait, so no wake-up is lost. A wfi with an interrupt already pending
 * is a poll the hart could not leave by sleeping that way: it naps.
 */
static void hart_sleep(struct rv_hart *h)
{
	struct rv_harts *hs = h->harts;

	pthread_mutex_lock(&h->sleep_lock);
	h->sleeping = true;
	if (rv_cpu_interrupt_pending(h->cpu)) {
		hart_nap(h);
		goto out;
	}
	for (;;) {
		uint64_t deadline;
		struct timespec ts;

		if (rv_cpu_interrupt_pending(h->cpu) ||
		    __atomic_load_n(&hs->request, __ATOMIC_SEQ_CST))
			break;
		/* Raises MTIP when it is due (the check above then ends the sleep). */
		deadline = hs->ops.timer(hs->ops.opaque, h->id);
		if (rv_cpu_interrupt_pending(h->cpu))
			break;
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&h->sleep_cond, &h->sleep_lock);
			continue;
		}
		ts.tv_sec = (time_t)(deadline / 1000000000ull);
		ts.tv_nsec = (long)(deadline % 1000000000ull);
		pthread_cond_timedwait(&h->sleep_cond, &h->sleep_lock, &ts);
	}
out:
	h->wakes_seen = h->wakes;
	h->sleeping = false;
	pthread_mutex_unlock(&h->sleep_lock);
}

/* Park while the request is PAUSE or PARK. Returns false when the thread must end. */
static bool hart_park(struct rv_hart *h)
{
	struct rv_harts *hs = h->harts;
	bool counted = false, go;
	unsigned epoch = 0;

	pthread_mutex_lock(&hs->lock);
	while (must_park(hs)) {
		if (!counted || epoch != hs->epoch) {
			/* Parked for this request; the last one to get here says so. */
			counted = true;
			epoch = hs->epoch;
			if (++hs->nr_parked == hs->nr_threads) {
				pthread_cond_broadcast(&hs->held);
				pthread_mutex_unlock(&hs->lock);
				hs->ops.settled(hs->ops.opaque);
				pthread_mutex_lock(&hs->lock);
				continue;
			}
		}
		pthread_cond_wait(&hs->cond, &hs->lock);
	}
	go = hs->want == RV_HARTS_RUN;
	pthread_mutex_unlock(&hs->lock);
	return go;
}

static void *hart_thread(void *arg)
{
	struct rv_hart *h = arg;
	struct rv_harts *hs = h->harts;
	char name[16];
	bool last;

	snprintf(name, sizeof(name), "hart%u", h->id);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		enum rv_exit why;

		if (__atomic_load_n(&hs->request, __ATOMIC_SEQ_CST) && !hart_park(h))
			break;
		/* The hart's own timer, at every return from the run loop. */
		hs->ops.timer(hs->ops.opaque, h->id);
		why = rv_cpu_run(h->cpu, hs->slice);
		if (why == RV_EXIT_WFI)
			hart_sleep(h);
		if (hs->ops.after_run)
			hs->ops.after_run(hs->ops.opaque, h->id, why);
	}
	pthread_mutex_lock(&hs->lock);
	last = --hs->nr_threads == 0;
	pthread_cond_broadcast(&hs->held);
	pthread_mutex_unlock(&hs->lock);
	if (last)
		hs->ops.settled(hs->ops.opaque);
	return NULL;
}

int rv_harts_start(struct rv_harts *hs, struct vk_error *err)
{
	for (unsigned i = 0; i < hs->nr; i++) {
		struct rv_hart *h = &hs->hart[i];
		int r;

		pthread_mutex_lock(&hs->lock);
		r = pthread_create(&h->thread, NULL, hart_thread, h);
		if (r == 0) {
			h->started = true;
			hs->nr_threads++;
		}
		pthread_mutex_unlock(&hs->lock);
		if (r != 0) {
			rv_harts_request(hs, RV_HARTS_STOP);
			rv_harts_join(hs);
			return vk_error_errno(err, r, "cannot start the thread of hart %u", i);
		}
	}
	return 0;
}

void rv_harts_request(struct rv_harts *hs, enum rv_harts_want want)
{
	pthread_mutex_lock(&hs->lock);
	/* STOP is final, and a pause waits for a reset in progress to finish. */
	if (hs->want == RV_HARTS_STOP || (want == RV_HARTS_PAUSE && hs->want == RV_HARTS_PARK)) {
		pthread_mutex_unlock(&hs->lock);
		return;
	}
	hs->want = want;
	hs->epoch++;
	hs->nr_parked = 0;
	set_request_flag(hs);
	pthread_cond_broadcast(&hs->cond);
	for (unsigned i = 0; i < hs->nr; i++) {
		/* Out of the run loop soon (the kick protocol), and out of wfi now. */
		if (want != RV_HARTS_RUN)
			rv_cpu_request_exit(hs->hart[i].cpu);
		rv_harts_wake(hs, i);
	}
	pthread_mutex_unlock(&hs->lock);
}

void rv_harts_hold(struct rv_harts *hs)
{
	pthread_mutex_lock(&hs->lock);
	hs->holds++;
	/* Every thread counts itself parked again, for this hold. */
	hs->epoch++;
	hs->nr_parked = 0;
	set_request_flag(hs);
	pthread_cond_broadcast(&hs->cond);
	for (unsigned i = 0; i < hs->nr; i++) {
		rv_cpu_request_exit(hs->hart[i].cpu);
		rv_harts_wake(hs, i);
	}
	pthread_mutex_unlock(&hs->lock);
}

int rv_harts_wait_held(struct rv_harts *hs)
{
	int r = 0;

	pthread_mutex_lock(&hs->lock);
	while (hs->want != RV_HARTS_STOP && hs->nr_parked < hs->nr_threads)
		pthread_cond_wait(&hs->held, &hs->lock);
	if (hs->want == RV_HARTS_STOP)
		r = -ESHUTDOWN;
	pthread_mutex_unlock(&hs->lock);
	return r;
}

void rv_harts_release(struct rv_harts *hs)
{
	pthread_mutex_lock(&hs->lock);
	if (hs->holds)
		hs->holds--;
	set_request_flag(hs);
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
}

enum rv_harts_want rv_harts_want(struct rv_harts *hs)
{
	enum rv_harts_want w;

	pthread_mutex_lock(&hs->lock);
	w = hs->want;
	pthread_mutex_unlock(&hs->lock);
	return w;
}

bool rv_harts_parked(struct rv_harts *hs)
{
	bool parked;

	pthread_mutex_lock(&hs->lock);
	parked = (hs->want == RV_HARTS_PAUSE || hs->want == RV_HARTS_PARK) &&
	         hs->nr_parked == hs->nr_threads;
	pthread_mutex_unlock(&hs->lock);
	return parked;
}

bool rv_harts_stopped(struct rv_harts *hs)
{
	bool stopped;

	pthread_mutex_lock(&hs->lock);
	stopped = hs->want == RV_HARTS_STOP && hs->nr_threads == 0;
	pthread_mutex_unlock(&hs->lock);
	return stopped;
}

void rv_harts_join(struct rv_harts *hs)
{
	for (unsigned i = 0; i < hs->nr; i++) {
		if (hs->hart[i].started) {
			pthread_join(hs->hart[i].thread, NULL);
			hs->hart[i].started = false;
		}
	}
}
