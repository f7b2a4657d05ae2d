/* SPDX-License-Identifier: MIT */
/*
 * The storage pool "default": image files in STATE_DIR/pools/default/ (one
 * per volume, named as the volume), their formats and bases in the store,
 * made, measured and grown by `virtkit-vm image` (volumes-image.h).
 *
 * What must not happen to a volume, and who stops it:
 *  - deleted while a definition attaches it (the registry is scanned; a
 *    definition on its way into the store pins its volumes first), while an
 *    active instance runs from it (instances acquire their volumes at start
 *    and release them when the workload ended), or while it is the base of
 *    another volume (the store knows every linked clone's base);
 *  - resized while an instance runs from it, or while it is a base;
 *  - written while it is a base: a VM cannot start with a base attached
 *    read-write, and a running VM's writable volume cannot become a base.
 * One pool lock serializes every change to the pool, the tool's run
 * included; it is never held while waiting for an instance's job.
 */
#ifndef VKD_VOLUMES_H
#define VKD_VOLUMES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/def-volume.h"

struct store;
struct vkd_paths;

/* Handed down by main.c after the store is open; read-only afterwards. */
struct volumes_settings {
	struct store *store;
	const struct vkd_paths *paths; /* the pool lives under the state folder */
	const char *vm_binary;         /* runs `image create|info|resize` */
};

/* Create the pool's folder and table. */
int volumes_init(const struct volumes_settings *s, struct vk_error *err) VK_MUST_CHECK;

/*
 * The API's operations. *out (a new object) is the volume: name, pool, path,
 * format, capacity, allocation, created, base (for a linked clone), used_by;
 * info adds "image" (the tool's description, qemu-img's keys).
 */
int volumes_create(const struct volume_spec *spec, json_object **out,
                   struct vk_error *err) VK_MUST_CHECK;
int volumes_list(json_object **out, struct vk_error *err) VK_MUST_CHECK;
int volumes_info(const char *name, json_object **out, struct vk_error *err) VK_MUST_CHECK;
int volumes_resize(const char *name, uint64_t size, json_object **out,
                   struct vk_error *err) VK_MUST_CHECK;
int volumes_delete(const char *name, json_object **out, struct vk_error *err) VK_MUST_CHECK;
/* The pool: name, path, volumes (their number), capacity_bytes, available_bytes. */
int volumes_pool(const char *pool, json_object **out, struct vk_error *err) VK_MUST_CHECK;

/*
 * A normalized definition on its way into the store: its volumes must exist
 * (-ENOENT naming the first that does not) and a disk's "format", when given,
 * must be the volume's (-EINVAL). They stay pinned (undeletable) until
 * volumes_unpin(*pins), called once the definition is stored or refused.
 */
int volumes_pin(json_object *def, json_object **pins, struct vk_error *err) VK_MUST_CHECK;
/* Consumes pins (NULL: nothing). */
void volumes_unpin(json_object *pins);

/* Where a VM finds one disk. */
struct volume_disk {
	char path[PATH_MAX]; /* "" for a disk given by path */
	char format[8];
};

/*
 * A VM about to start (owner: its uuid; owner_name for messages): every
 * volume its disks (the definition's "disks" array) attach, in out[i] for
 * disk i, held until volumes_release(owner). Refused: a missing volume, a
 * base attached read-write, a volume another active instance writes (or
 * reads while this one would write).
 */
int volumes_acquire(const char *owner, const char *owner_name, json_object *disks,
                    struct volume_disk *out, size_t n, struct vk_error *err) VK_MUST_CHECK;
/* Reattaching to a VM that runs: hold the volumes it attaches, refusing nothing. */
void volumes_adopt(const char *owner, const char *owner_name, json_object *disks);
void volumes_release(const char *owner);

#endif
