/* SPDX-License-Identifier: MIT */
/* The exit monitor: one epoll thread over the shims' pidfds (see monitor.h). */
#include "daemon/monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

static struct {
	int epfd;
	int wake;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	struct instance **watched; /* the references the watches hold */
	size_t n, cap;
	void (*on_exit)(struct instance *inst);
} mon = {.epfd = -1, .wake = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* Forget one watch of inst; true when it was registered. */
static bool unlist(struct instance *inst)
{
	size_t i;

	pthread_mutex_lock(&mon.lock);
	for (i = 0; i < mon.n; i++) {
		if (mon.watched[i] == inst) {
			mon.watched[i] = mon.watched[--mon.n];
			pthread_mutex_unlock(&mon.lock);
			return true;
		}
	}
	pthread_mutex_unlock(&mon.lock);
	return false;
}

static void *monitor_thread(void *arg)
{
	struct epoll_event ev[16];
	int i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(mon.epfd, ev, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vk_err("monitor: epoll_wait failed: %s", strerror(errno));
			return NULL;
		}
		for (i = 0; i < n; i++) {
			struct instance *inst = ev[i].data.ptr;
			if (!inst)
				return NULL; /* the wake eventfd: shutting down */
			if (!unlist(inst))
				continue;
			mon.on_exit(inst);
			instance_unref(inst);
		}
	}
}

int monitor_init(void (*on_exit)(struct instance *inst), struct vk_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int r;

	mon.on_exit = on_exit;
	mon.epfd = epoll_create1(EPOLL_CLOEXEC);
	mon.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mon.epfd < 0 || mon.wake < 0 || epoll_ctl(mon.epfd, EPOLL_CTL_ADD, mon.wake, &ev) < 0)
		return vk_error_errno(err, errno, "cannot set up the exit monitor");
	r = pthread_create(&mon.thread, NULL, monitor_thread, NULL);
	if (r != 0)
		return vk_error_errno(err, r, "cannot start the exit monitor");
	mon.running = true;
	return 0;
}

void monitor_shutdown(void)
{
	uint64_t one = 1;

	if (!mon.running)
		return;
	(void)!write(mon.wake, &one, sizeof(one));
	pthread_join(mon.thread, NULL);
	mon.running = false;
	/* Running instances stay running: drop the watches' references. */
	pthread_mutex_lock(&mon.lock);
	while (mon.n)
		instance_unref(mon.watched[--mon.n]);
	free(mon.watched);
	mon.watched = NULL;
	mon.cap = 0;
	pthread_mutex_unlock(&mon.lock);
	close(mon.epfd);
	close(mon.wake);
}

int monitor_watch(struct instance *inst)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT};

	if (inst->rt.shim_pidfd < 0)
		return -EBADF;
	pthread_mutex_lock(&mon.lock);
	if (mon.n == mon.cap) {
		size_t cap = mon.cap ? mon.cap * 2 : 16;
		struct instance **v = realloc(mon.watched, cap * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&mon.lock);
			return -ENOMEM;
		}
		mon.watched = v;
		mon.cap = cap;
	}
	mon.watched[mon.n++] = instance_ref(inst);
	pthread_mutex_unlock(&mon.lock);
	ev.data.ptr = inst;
	if (epoll_ctl(mon.epfd, EPOLL_CTL_ADD, inst->rt.shim_pidfd, &ev) < 0) {
		int e = errno;
		if (unlist(inst))
			instance_unref(inst);
		return -e;
	}
	inst->rt.watched = true;
	return 0;
}
