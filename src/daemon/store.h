/* SPDX-License-Identifier: MIT */
/*
 * The durable store: instance definitions, their last known state and the
 * event log, in one SQLite database in WAL mode. Every change is one
 * transaction (the change and its event together), so a crash at any point
 * leaves either the old or the new version, never a torn one. Definition
 * changes are fsync'd before they return (synchronous=FULL); state changes
 * are not (synchronous=NORMAL: they survive a crash of the daemon, and the
 * state is reconciled with what runs at start anyway). One connection
 * serialized by a mutex; all functions are thread-safe.
 */
#ifndef VKD_STORE_H
#define VKD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "daemon/def.h"
#include "daemon/event.h"

struct store;

struct store_instance {
	char uuid[DEF_UUID_LEN + 1];
	char name[DEF_NAME_MAX + 1];
	char type[16];          /* vm, container */
	const char *definition; /* normalized JSON text */
	bool autostart;
	char state[16];
	char reason[32];
	bool exit_known; /* how its workload last ended (see struct vk_event) */
	int exit_code, exit_signal;
};

/*
 * Open (create, migrate) the database. committed(ev) is called for every event
 * after its transaction committed, under the store's lock, so in commit order
 * (the daemon hands it to the event bus).
 */
int store_open(const char *path, void (*committed)(const struct vk_event *ev), struct store **out,
               struct vk_error *err) VK_MUST_CHECK;
void store_close(struct store *s);

/* Call cb for every stored instance (in name order); a negative cb result stops. */
int store_load(struct store *s, int (*cb)(void *opaque, const struct store_instance *in),
               void *opaque, struct vk_error *err) VK_MUST_CHECK;

/*
 * Changes. ev (may be NULL) is written in the same transaction; its seq is
 * filled in and it is handed to committed() before the call returns.
 * A duplicate name or uuid on insert is -EEXIST.
 */
int store_insert(struct store *s, const struct store_instance *in, struct vk_event *ev,
                 struct vk_error *err) VK_MUST_CHECK;
int store_set_definition(struct store *s, const char *uuid, const char *definition,
                         struct vk_event *ev, struct vk_error *err) VK_MUST_CHECK;
int store_set_state(struct store *s, const char *uuid, const char *state, const char *reason,
                    struct vk_event *ev, struct vk_error *err) VK_MUST_CHECK;
int store_set_autostart(struct store *s, const char *uuid, bool on, struct vk_event *ev,
                        struct vk_error *err) VK_MUST_CHECK;
int store_delete(struct store *s, const char *uuid, struct vk_event *ev,
                 struct vk_error *err) VK_MUST_CHECK;

/*
 * An event that goes with no instance change (an image's import, progress, alias or
 * deletion): stored and handed to committed() like the others, not fsync'd.
 */
int store_event(struct store *s, struct vk_event *ev, struct vk_error *err) VK_MUST_CHECK;

/* Events with seq > after, oldest first, at most limit of them. */
int store_events_after(struct store *s, int64_t after, int limit,
                       int (*cb)(void *opaque, const struct vk_event *ev), void *opaque,
                       struct vk_error *err) VK_MUST_CHECK;
int64_t store_last_event_seq(struct store *s);

#endif
