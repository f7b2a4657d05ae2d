/* SPDX-License-Identifier: MIT */
/*
 * The storage pool's volumes in the store (SQLite, in the same database as
 * the instances): what the image files cannot tell safely - each volume's
 * format (never guessed from the file, whose first bytes a guest may have
 * written) and its base - plus its virtual size, so that a list needs no
 * image tool. One row per volume; each change is one statement, durable
 * before it returns. Thread-safe, like the rest of the store.
 */
#ifndef VKD_STORE_VOLUMES_H
#define VKD_STORE_VOLUMES_H

#include <limits.h>
#include <stdint.h>

#include "common/error.h"
#include "daemon/def.h"
#include "daemon/store.h"

struct store_volume {
	char name[DEF_NAME_MAX + 1];
	char format[8];                     /* raw, qcow2 */
	uint64_t capacity;                  /* the virtual size in bytes */
	char base_volume[DEF_NAME_MAX + 1]; /* a linked clone's base volume, or "" */
	char base_path[PATH_MAX];           /* or the base image file, or "" */
	char base_format[8];                /* the base's format ("" when none) */
	int64_t created_ms;                 /* wall clock */
};

/* Create the volumes table when missing (after store_open()). */
int store_volumes_init(struct store *s, struct vk_error *err) VK_MUST_CHECK;

/* -EEXIST when the pool has a volume of that name. */
int store_volume_insert(struct store *s, const char *pool, const struct store_volume *v,
                        struct vk_error *err) VK_MUST_CHECK;
/* -ENOENT when there is none. */
int store_volume_get(struct store *s, const char *pool, const char *name, struct store_volume *out,
                     struct vk_error *err) VK_MUST_CHECK;
/* cb for each volume of the pool, by name; a negative cb result stops. */
int store_volume_list(struct store *s, const char *pool,
                      int (*cb)(void *opaque, const struct store_volume *v), void *opaque,
                      struct vk_error *err) VK_MUST_CHECK;
int store_volume_set_capacity(struct store *s, const char *pool, const char *name,
                              uint64_t capacity, struct vk_error *err) VK_MUST_CHECK;
int store_volume_delete(struct store *s, const char *pool, const char *name,
                        struct vk_error *err) VK_MUST_CHECK;
/* A volume whose base is name: 1 with its name in child, 0 when none, or -errno. */
int store_volume_child(struct store *s, const char *pool, const char *name,
                       char child[DEF_NAME_MAX + 1], struct vk_error *err) VK_MUST_CHECK;

#endif
