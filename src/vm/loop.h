/* SPDX-License-Identifier: MIT */
/*
 * The machine's event loop: file descriptors, timers and poll hooks for the
 * host backends (chardevs, slirp, tap, block completion).
 *
 * Threading contract ("the machine lock"):
 *   - Every callback the loop makes (fd, timer, hook dispatch) runs with the
 *     loop's lock held.
 *   - Any other thread that touches device state (a KVM vCPU thread doing
 *     bus dispatch, the control socket) takes vm_loop_lock() first.
 *   - The riscv64 board's hart threads take it around each MMIO access
 *     (the bus lock) and around board callbacks; its I/O thread polls
 *     without holding it (docs/threading.md).
 *   - A device may drop it around blocking host I/O (virtio-blk), which
 *     releases it only when the caller holds it once: the lock is
 *     recursive, and vm_loop_poll() must be called without it held.
 * vm_loop_wakeup() is the only call that is safe without the lock.
 */
#ifndef VK_VM_LOOP_H
#define VK_VM_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"

struct vm_loop;
struct vm_timer;

typedef void (*vm_fd_cb)(void *opaque, int fd, short revents);
typedef void (*vm_timer_cb)(void *opaque);

struct vm_loop *vm_loop_new(void);
void vm_loop_free(struct vm_loop *loop);

void vm_loop_lock(struct vm_loop *loop);
void vm_loop_unlock(struct vm_loop *loop);

/* Watch fd for events (POLLIN/POLLOUT). One handler per fd. */
int vm_loop_add_fd(struct vm_loop *loop, int fd, short events, vm_fd_cb cb,
                   void *opaque) VK_MUST_CHECK;
/* Change the events watched for fd (0 pauses it). */
int vm_loop_mod_fd(struct vm_loop *loop, int fd, short events);
/* Stop watching fd; safe from inside any callback, including fd's own. */
void vm_loop_del_fd(struct vm_loop *loop, int fd);

/* Timers on the monotonic clock (vk_now_ns()). */
struct vm_timer *vm_timer_new(struct vm_loop *loop, vm_timer_cb cb, void *opaque);
void vm_timer_mod(struct vm_timer *t, uint64_t expire_ns); /* absolute */
void vm_timer_del(struct vm_timer *t);                     /* disarm */
void vm_timer_free(struct vm_timer *t);
bool vm_timer_pending(const struct vm_timer *t);

/*
 * Poll hooks, for libraries that manage their own descriptors per iteration
 * (libslirp). prepare() adds descriptors with vm_pollset_add() and may lower
 * *timeout_ns; dispatch() reads the results with vm_pollset_revents().
 */
struct vm_pollset;
int vm_pollset_add(struct vm_pollset *ps, int fd, short events); /* index or -1 */
short vm_pollset_revents(const struct vm_pollset *ps, int index);

struct vm_loop_hook {
	void (*prepare)(void *opaque, struct vm_pollset *ps, int64_t *timeout_ns);
	void (*dispatch)(void *opaque, struct vm_pollset *ps, bool poll_error);
	void *opaque;
};
int vm_loop_add_hook(struct vm_loop *loop, const struct vm_loop_hook *hook) VK_MUST_CHECK;
void vm_loop_del_hook(struct vm_loop *loop, void *opaque);

/*
 * Wait up to timeout_ns (-1: forever, 0: just check) for fds, timers and
 * hooks, then dispatch what is ready. Called without the lock held; takes it
 * for the dispatch. Returns the number of callbacks made, or -errno.
 */
int vm_loop_poll(struct vm_loop *loop, int64_t timeout_ns);

/* Deadline of the earliest armed timer, or UINT64_MAX. */
uint64_t vm_loop_next_deadline(struct vm_loop *loop);

/* Interrupt a vm_loop_poll() in progress from any thread. */
void vm_loop_wakeup(struct vm_loop *loop);

/* Run vm_loop_poll() until vm_loop_quit() (for a dedicated I/O thread). */
void vm_loop_run(struct vm_loop *loop);
void vm_loop_quit(struct vm_loop *loop);

#endif
