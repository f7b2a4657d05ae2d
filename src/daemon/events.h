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

#include "daemon/event.h"

struct store;

void events_init(struct store *store);
/* Wake every waiting subscriber so that it returns -ESHUTDOWN. */
void events_shutdown(void);

/* Hand a committed event to the subscribers (the store's commit hook, under its lock). */
void events_publish(const struct vk_event *ev);

/*
 * The next event after sequence number `after`: 1 with *out filled, 0 when
 * none arrived within timeout_ms, -ESHUTDOWN when the daemon is stopping.
 */
int events_next(int64_t after, struct vk_event *out, int timeout_ms);

/* The last sequence number published (0 when none). */
int64_t events_last_seq(void);

#endif
