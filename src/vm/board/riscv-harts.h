/* SPDX-License-Identifier: MIT */
/*
 * The hart threads of the riscv64 virt board (docs/threading.md): one host
 * thread per hart runs rv_cpu_run() in a loop, keeps its own timer (MTIP)
 * after every run, sleeps in wfi on its own condvar until its timer deadline
 * or a wake-up, and parks while the machine is paused or being reset, until
 * it is told to stop.
 *
 * Locks: the harts lock (struct rv_harts.lock) guards the run state below
 * (want, epoch, thread and parked counts); each hart's sleep lock guards its
 * `sleeping` flag and wake counts. Order: machine lock -> harts lock -> hart sleep. No lock is
 * held while a hart runs guest code, and nothing here waits for a hart thread
 * except rv_harts_join(), which must be called without the machine lock.
 *
 * Requests are made, never awaited: rv_harts_request() kicks and wakes every
 * hart; the last one to park (or to exit, for RV_HARTS_STOP) calls
 * ops->settled() with no lock held, and the board looks at the state there
 * (the paused event) or from its I/O thread (reset, the end of the run).
 */
#ifndef VK_BOARD_RISCV_HARTS_H
#define VK_BOARD_RISCV_HARTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/machine.h"

/* The longest nap of a hart whose wfi polls (rv_cpu_config.wfi_naps). */
#define RV_HART_NAP_NS (100 * 1000 * 1000ull)

enum rv_harts_want {
	RV_HARTS_RUN,
	RV_HARTS_PAUSE, /* park until resumed */
	RV_HARTS_PARK,  /* park for a reset by the I/O thread */
	RV_HARTS_STOP,  /* leave the thread */
};

struct rv_harts_ops {
	/* Raise or lower the hart's MTIP from the CLINT (with rv_cpu_set_irq, which
	 * must not wake the hart: its sleep lock may be held); return the host
	 * monotonic ns at which MTIP comes due, UINT64_MAX for none. No lock held. */
	uint64_t (*timer)(void *opaque, unsigned hart);
	/* After each rv_cpu_run() (and wfi sleep): board work such as HTIF or a fatal
	 * exit. No lock held. */
	void (*after_run)(void *opaque, unsigned hart, enum rv_exit why);
	/* Every hart has parked for the latest request, or every thread is gone.
	 * Called by the last hart to get there, with no lock held. */
	void (*settled)(void *opaque);
	void *opaque;
};

struct rv_hart {
	struct rv_harts *harts;
	unsigned id;
	struct rv_cpu *cpu;
	pthread_t thread;
	bool started; /* created and not joined */
	/* hart sleep lock: the sleeping flag, and the condvar the hart waits on in wfi */
	pthread_mutex_t sleep_lock;
	pthread_cond_t sleep_cond;
	bool sleeping;
	/* rv_harts_wake() calls, and how many of them the hart had seen when it last slept:
	 * a nap ends at the first wake after the previous sleep, even one that came before
	 * the nap began (an IPI sent between the guest's poll and its wfi). */
	unsigned wakes, wakes_seen;
};

struct rv_harts {
	pthread_mutex_t lock; /* the harts lock */
	pthread_cond_t cond;  /* parked harts wait here */
	enum rv_harts_want want;
	unsigned epoch;      /* bumped by every request: parked harts report again */
	unsigned nr_threads; /* running threads, parked or not */
	unsigned nr_parked;  /* threads parked in the current epoch */
	unsigned holds;      /* rv_harts_hold() not released yet: park even while want is RUN */
	pthread_cond_t held; /* the last thread parked or left (rv_harts_wait_held) */
	bool request;        /* atomic: want != RV_HARTS_RUN or holds, read after every run */
	unsigned nr;
	uint64_t slice; /* instructions per rv_cpu_run() */
	struct rv_harts_ops ops;
	struct rv_hart hart[VM_MAX_CPUS];
};

/* Set up (no threads yet) for nr harts; want starts at RV_HARTS_RUN. */
void rv_harts_init(struct rv_harts *hs, struct rv_cpu *const *cpus, unsigned nr, uint64_t slice,
                   const struct rv_harts_ops *ops);
void rv_harts_destroy(struct rv_harts *hs);

/* Start one thread per hart. On failure the started ones are stopped and joined. */
int rv_harts_start(struct rv_harts *hs, struct vk_error *err);

/*
 * Ask every hart to run, pause, park or stop (any thread, machine lock held or
 * not). STOP is final; PAUSE does not override PARK (a reset in progress).
 * Returns without waiting.
 */
void rv_harts_request(struct rv_harts *hs, enum rv_harts_want want);

/* The request now in force. */
enum rv_harts_want rv_harts_want(struct rv_harts *hs);

/* True when every thread has parked for the latest PAUSE or PARK request. */
bool rv_harts_parked(struct rv_harts *hs);

/* True when every thread has left after STOP (rv_harts_join() will not block). */
bool rv_harts_stopped(struct rv_harts *hs);

/*
 * Holds, for saving the machine's state (docs/threading.md): while at least one
 * hold is in force every hart parks, whatever the request in force is, without
 * the paused event. rv_harts_hold() asks and returns (any thread, machine lock
 * held or not); rv_harts_wait_held() waits until every thread has parked, and
 * must be called WITHOUT the machine lock (a hart may wait for it to finish an
 * MMIO access before it parks): 0, or -ESHUTDOWN when the threads are stopping.
 * rv_harts_release() ends one hold; the harts go back to the request in force.
 */
void rv_harts_hold(struct rv_harts *hs);
int rv_harts_wait_held(struct rv_harts *hs);
void rv_harts_release(struct rv_harts *hs);

/* Wait for every thread to end (after RV_HARTS_STOP). Not under the machine lock. */
void rv_harts_join(struct rv_harts *hs);

/* Wake hart h if it sleeps in wfi, so that it looks at its interrupts and timer
 * again (after rv_cpu_set_irq, or a write of its mtimecmp). Any thread. */
void rv_harts_wake(struct rv_harts *hs, unsigned h);

#endif
