/* SPDX-License-Identifier: MIT */
/*
 * Saved VM states in the store (SQLite, in the same database as the
 * instances): which instance a state file written by `save` belongs to, so
 * that `restore FILE` brings back the right instance with its definition.
 * One row per file (its absolute path); a second save to the same path
 * replaces the row. Snapshots are not here: they live in the daemon's own
 * folder, one per file (api-saved.c).
 */
#ifndef VKD_STORE_SAVED_H
#define VKD_STORE_SAVED_H

#include <stdint.h>

#include "common/error.h"
#include "daemon/def.h"
#include "daemon/store.h"

/* Create the table when missing (after store_open()). */
int store_saved_init(struct store *s, struct vk_error *err) VK_MUST_CHECK;

/* Record that path holds a saved state of instance uuid (replacing what it held). */
int store_saved_put(struct store *s, const char *path, const char *uuid, int64_t created_ms,
                    struct vk_error *err) VK_MUST_CHECK;

/* The instance whose state path holds: 0 with uuid set, -ENOENT when none was saved there. */
int store_saved_get(struct store *s, const char *path, char uuid[DEF_UUID_LEN + 1],
                    struct vk_error *err) VK_MUST_CHECK;

/* Forget every state of instance uuid (it was undefined); the files stay. */
int store_saved_forget(struct store *s, const char *uuid, struct vk_error *err) VK_MUST_CHECK;

#endif
