/* SPDX-License-Identifier: MIT */
/*
 * The event bus: a ring of the most recent events for live subscribers, with
 * the store as the fallback for anything older (see events.h).
 */
#include "daemon/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/proc.h"
#include "daemon/store.h"

#define RING_SIZE 1024

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vk_event ring[RING_SIZE];
	size_t count; /* valid entries, the newest at (head - 1) */
	size_t head;
	int64_t last_seq;
	bool shutdown;
	struct store *store;
} bus = {.lock = PTHREAD_MUTEX_INITIALIZER};

void events_init(struct store *store)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&bus.cond, &ca);
	pthread_condattr_destroy(&ca);
	bus.store = store;
	bus.last_seq = store ? store_last_event_seq(store) : 0;
}

void events_shutdown(void)
{
	pthread_mutex_lock(&bus.lock);
	bus.shutdown = true;
	pthread_cond_broadcast(&bus.cond);
	pthread_mutex_unlock(&bus.lock);
}

void events_publish(const struct vk_event *ev)
{
	pthread_mutex_lock(&bus.lock);
	bus.ring[bus.head] = *ev;
	bus.head = (bus.head + 1) % RING_SIZE;
	if (bus.count < RING_SIZE)
		bus.count++;
	if (ev->seq > bus.last_seq)
		bus.last_seq = ev->seq;
	pthread_cond_broadcast(&bus.cond);
	pthread_mutex_unlock(&bus.lock);
}

int64_t events_last_seq(void)
{
	int64_t s;

	pthread_mutex_lock(&bus.lock);
	s = bus.last_seq;
	pthread_mutex_unlock(&bus.lock);
	return s;
}

/* The oldest event in the ring with seq > after; false when the ring cannot tell. */
static bool ring_find(int64_t after, struct vk_event *out, bool *too_old)
{
	size_t i, idx;
	const struct vk_event *best = NULL;

	*too_old = false;
	if (bus.count == 0)
		return false;
	/* Walk from the newest back while entries are still newer than `after`. */
	for (i = 0; i < bus.count; i++) {
		idx = (bus.head + RING_SIZE - 1 - i) % RING_SIZE;
		if (bus.ring[idx].seq <= after)
			break;
		best = &bus.ring[idx];
	}
	if (!best)
		return false;
	if (i == bus.count && best->seq > after + 1)
		*too_old = true; /* events between after and the ring's oldest were dropped */
	*out = *best;
	return true;
}

static int copy_first(void *opaque, const struct vk_event *ev)
{
	*(struct vk_event *)opaque = *ev;
	return 0; /* the query asks for one */
}

int events_next(int64_t after, struct vk_event *out, int timeout_ms)
{
	struct timespec deadline;
	bool too_old;
	int r = 0;

	timespec_after_ms(&deadline, CLOCK_MONOTONIC, timeout_ms);
	pthread_mutex_lock(&bus.lock);
	for (;;) {
		if (bus.shutdown) {
			r = -ESHUTDOWN;
			break;
		}
		if (after < bus.last_seq) {
			if (ring_find(after, out, &too_old) && !too_old) {
				r = 1;
				break;
			}
			/* Older than the ring: read it back from the store. */
			pthread_mutex_unlock(&bus.lock);
			out->seq = 0;
			if (bus.store &&
			    store_events_after(bus.store, after, 1, copy_first, out, NULL) < 0)
				out->seq = 0;
			pthread_mutex_lock(&bus.lock);
			if (out->seq > after) {
				r = 1;
				break;
			}
			if (ring_find(after, out, &too_old)) {
				r = 1;
				break;
			}
		}
		if (pthread_cond_timedwait(&bus.cond, &bus.lock, &deadline) == ETIMEDOUT) {
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&bus.lock);
	return r;
}
