/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle events: every definition change and state change becomes one
 * event with a sequence number assigned by the store in the same transaction
 * as the change, so the order seen by /1.0/events is the commit order. Recent
 * events stay in an in-memory ring for live subscribers; older ones are read
 * back from the store.
 */
#ifndef VKD_EVENTS_H
#define VKD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "daemon/def.h"

struct vk_event {
	int64_t seq;
	int64_t time_ms; /* wall clock, milliseconds since the epoch */
	char instance[DEF_NAME_MAX + 1];
	char uuid[DEF_UUID_LEN + 1];
	char type[16];  /* vm, container */
	char event[24]; /* defined, updated, undefined, starting, started, ... */
	char state[16]; /* the state after the event */
	char reason[32];
};

struct store;

void events_init(struct store *store);
/* Wake every waiting subscriber so that it returns -ESHUTDOWN. */
void events_shutdown(void);

/* Called by the store, under its lock, after the event's transaction committed. */
void events_publish(const struct vk_event *ev);

/*
 * The next event after sequence number `after`: 1 with *out filled, 0 when
 * none arrived within timeout_ms, -ESHUTDOWN when the daemon is stopping.
 */
int events_next(int64_t after, struct vk_event *out, int timeout_ms);

/* The last sequence number published (0 when none). */
int64_t events_last_seq(void);

json_object *event_to_json(const struct vk_event *ev);

#endif
