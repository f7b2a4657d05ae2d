/* SPDX-License-Identifier: MIT */
/* A poll(2)-based event loop with timers, hooks and a cross-thread wakeup. */
#include "vm/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"

struct vm_fd_handler {
	int fd;
	short events;
	bool deleted;
	vm_fd_cb cb;
	void *opaque;
};

struct vm_timer {
	struct vm_loop *loop;
	vm_timer_cb cb;
	void *opaque;
	uint64_t expire_ns;
	bool armed;
	struct vm_timer *next; /* all timers, armed or not */
};

#define VM_LOOP_MAX_HOOKS 8

struct vm_pollset {
	struct pollfd *fds;
	unsigned nr, cap;
	bool failed;
};

struct vm_loop {
	pthread_mutex_t lock;
	int wake_fd;
	atomic_bool quit;
	struct vm_fd_handler *handlers;
	unsigned nr_handlers, cap_handlers;
	struct vm_timer *timers;
	struct vm_loop_hook hooks[VM_LOOP_MAX_HOOKS];
	unsigned nr_hooks;
	struct vm_pollset ps;
};

struct vm_loop *vm_loop_new(void)
{
	struct vm_loop *loop = calloc(1, sizeof(*loop));
	pthread_mutexattr_t attr;

	if (!loop)
		return NULL;
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_fd < 0) {
		free(loop);
		return NULL;
	}
	/* Recursive: a callback may call code that takes the lock again. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&loop->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return loop;
}

void vm_loop_free(struct vm_loop *loop)
{
	struct vm_timer *t, *next;

	if (!loop)
		return;
	for (t = loop->timers; t; t = next) {
		next = t->next;
		free(t);
	}
	close(loop->wake_fd);
	free(loop->handlers);
	free(loop->ps.fds);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

void vm_loop_lock(struct vm_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
}

void vm_loop_unlock(struct vm_loop *loop)
{
	pthread_mutex_unlock(&loop->lock);
}

static struct vm_fd_handler *vm_loop_find_fd(struct vm_loop *loop, int fd)
{
	for (unsigned i = 0; i < loop->nr_handlers; i++)
		if (loop->handlers[i].fd == fd && !loop->handlers[i].deleted)
			return &loop->handlers[i];
	return NULL;
}

int vm_loop_add_fd(struct vm_loop *loop, int fd, short events, vm_fd_cb cb, void *opaque)
{
	if (fd < 0 || !cb)
		return -EINVAL;
	if (vm_loop_find_fd(loop, fd))
		return -EEXIST;
	if (loop->nr_handlers == loop->cap_handlers) {
		unsigned cap = loop->cap_handlers ? loop->cap_handlers * 2 : 8;
		struct vm_fd_handler *h = realloc(loop->handlers, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		loop->handlers = h;
		loop->cap_handlers = cap;
	}
	loop->handlers[loop->nr_handlers++] =
	        (struct vm_fd_handler){.fd = fd, .events = events, .cb = cb, .opaque = opaque};
	vm_loop_wakeup(loop);
	return 0;
}

int vm_loop_mod_fd(struct vm_loop *loop, int fd, short events)
{
	struct vm_fd_handler *h = vm_loop_find_fd(loop, fd);

	if (!h)
		return -ENOENT;
	h->events = events;
	vm_loop_wakeup(loop);
	return 0;
}

void vm_loop_del_fd(struct vm_loop *loop, int fd)
{
	struct vm_fd_handler *h = vm_loop_find_fd(loop, fd);

	/* Compaction happens in vm_loop_poll(), outside any iteration. */
	if (h)
		h->deleted = true;
}

static void vm_loop_compact(struct vm_loop *loop)
{
	unsigned j = 0;

	for (unsigned i = 0; i < loop->nr_handlers; i++)
		if (!loop->handlers[i].deleted)
			loop->handlers[j++] = loop->handlers[i];
	loop->nr_handlers = j;
}

struct vm_timer *vm_timer_new(struct vm_loop *loop, vm_timer_cb cb, void *opaque)
{
	struct vm_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->opaque = opaque;
	t->next = loop->timers;
	loop->timers = t;
	return t;
}

void vm_timer_mod(struct vm_timer *t, uint64_t expire_ns)
{
	t->expire_ns = expire_ns;
	t->armed = true;
	vm_loop_wakeup(t->loop);
}

void vm_timer_del(struct vm_timer *t)
{
	if (t)
		t->armed = false;
}

bool vm_timer_pending(const struct vm_timer *t)
{
	return t && t->armed;
}

void vm_timer_free(struct vm_timer *t)
{
	struct vm_timer **pp;

	if (!t)
		return;
	for (pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	free(t);
}

uint64_t vm_loop_next_deadline(struct vm_loop *loop)
{
	uint64_t best = UINT64_MAX;

	for (struct vm_timer *t = loop->timers; t; t = t->next)
		if (t->armed && t->expire_ns < best)
			best = t->expire_ns;
	return best;
}

int vm_pollset_add(struct vm_pollset *ps, int fd, short events)
{
	if (ps->nr == ps->cap) {
		unsigned cap = ps->cap ? ps->cap * 2 : 32;
		struct pollfd *p = realloc(ps->fds, cap * sizeof(*p));
		if (!p) {
			ps->failed = true;
			return -1;
		}
		ps->fds = p;
		ps->cap = cap;
	}
	ps->fds[ps->nr] = (struct pollfd){.fd = fd, .events = events};
	return (int)ps->nr++;
}

short vm_pollset_revents(const struct vm_pollset *ps, int index)
{
	if (index < 0 || (unsigned)index >= ps->nr)
		return 0;
	return ps->fds[index].revents;
}

int vm_loop_add_hook(struct vm_loop *loop, const struct vm_loop_hook *hook)
{
	if (loop->nr_hooks == VM_LOOP_MAX_HOOKS)
		return -ENOSPC;
	loop->hooks[loop->nr_hooks++] = *hook;
	return 0;
}

void vm_loop_del_hook(struct vm_loop *loop, void *opaque)
{
	for (unsigned i = 0; i < loop->nr_hooks; i++) {
		if (loop->hooks[i].opaque == opaque) {
			memmove(&loop->hooks[i], &loop->hooks[i + 1],
			        (loop->nr_hooks - i - 1) * sizeof(loop->hooks[0]));
			loop->nr_hooks--;
			return;
		}
	}
}

void vm_loop_wakeup(struct vm_loop *loop)
{
	uint64_t one = 1;
	ssize_t n = write(loop->wake_fd, &one, sizeof(one));

	(void)n; /* EAGAIN: the counter is already non-zero, the loop will wake. */
}

static int vm_loop_run_timers(struct vm_loop *loop)
{
	uint64_t now = vk_now_ns();
	int ran = 0;
	bool again = true;

	/* A callback may re-arm or free timers: restart the scan after each. */
	while (again) {
		again = false;
		for (struct vm_timer *t = loop->timers; t; t = t->next) {
			if (t->armed && t->expire_ns <= now) {
				t->armed = false;
				t->cb(t->opaque);
				ran++;
				again = true;
				break;
			}
		}
	}
	return ran;
}

int vm_loop_poll(struct vm_loop *loop, int64_t timeout_ns)
{
	struct vm_pollset *ps = &loop->ps;
	unsigned nr_handlers, nr_hooks;
	uint64_t deadline;
	int timeout_ms, n, ran = 0;

	vm_loop_lock(loop);
	vm_loop_compact(loop);
	ps->nr = 0;
	ps->failed = false;
	vm_pollset_add(ps, loop->wake_fd, POLLIN);
	nr_handlers = loop->nr_handlers;
	for (unsigned i = 0; i < nr_handlers; i++)
		vm_pollset_add(ps, loop->handlers[i].events ? loop->handlers[i].fd : -1,
		               loop->handlers[i].events);
	nr_hooks = loop->nr_hooks;
	for (unsigned i = 0; i < nr_hooks; i++)
		loop->hooks[i].prepare(loop->hooks[i].opaque, ps, &timeout_ns);
	deadline = vm_loop_next_deadline(loop);
	if (deadline != UINT64_MAX) {
		uint64_t now = vk_now_ns();
		/* Unsigned: a deadline centuries away must not turn into a negative (endless) wait. */
		uint64_t until = deadline > now ? deadline - now : 0;
		if (timeout_ns < 0 || until < (uint64_t)timeout_ns)
			timeout_ns = (int64_t)VK_MIN(until, (uint64_t)INT64_MAX);
	}
	vm_loop_unlock(loop);

	if (ps->failed)
		return -ENOMEM;
	if (timeout_ns < 0)
		timeout_ms = -1;
	else if (timeout_ns > (int64_t)INT32_MAX * 1000000)
		timeout_ms = INT32_MAX;
	else /* round up so a timer that is 0.3 ms away does not spin */
		timeout_ms = (int)((timeout_ns + 999999) / 1000000);
	n = poll(ps->fds, ps->nr, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;

	vm_loop_lock(loop);
	if (n > 0 && (ps->fds[0].revents & POLLIN)) {
		uint64_t v;
		ssize_t r = read(loop->wake_fd, &v, sizeof(v));
		(void)r;
	}
	/* Handlers added during this iteration sit beyond nr_handlers: skip them. */
	for (unsigned i = 0; n > 0 && i < nr_handlers; i++) {
		struct vm_fd_handler *h = &loop->handlers[i];
		short rev = ps->fds[1 + i].revents;
		if (rev && !h->deleted) {
			h->cb(h->opaque, h->fd, rev);
			ran++;
		}
	}
	for (unsigned i = 0; i < nr_hooks && i < loop->nr_hooks; i++) {
		loop->hooks[i].dispatch(loop->hooks[i].opaque, ps, n < 0);
		ran++;
	}
	ran += vm_loop_run_timers(loop);
	vm_loop_unlock(loop);
	return ran;
}

void vm_loop_run(struct vm_loop *loop)
{
	while (!atomic_load(&loop->quit))
		vm_loop_poll(loop, -1);
}

void vm_loop_quit(struct vm_loop *loop)
{
	atomic_store(&loop->quit, true);
	vm_loop_wakeup(loop);
}
