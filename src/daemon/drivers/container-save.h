/* SPDX-License-Identifier: MIT */
/*
 * Saving and snapshots of containers (the container driver's save, and its
 * start from a saved state): see container-save.c.
 */
#ifndef VKD_CONTAINER_SAVE_H
#define VKD_CONTAINER_SAVE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/instance.h"

/* The driver's save (driver.h): path is the new folder the container is saved to. */
int ct_save(struct instance *inst, const char *path, bool keep_running, json_object **reply,
            struct vk_error *err) VK_MUST_CHECK;

/*
 * Before a start from inst->rt.restore_path: put the root file system of a
 * snapshot back (when the folder has one) and give CRIU's image folder.
 * rootfs is the container's root file system (its definition's, or its
 * bundle's root.path).
 */
int ct_restore_prepare(struct instance *inst, const char *rootfs, char *images, size_t len,
                       struct vk_error *err) VK_MUST_CHECK;

/* The container's root file system: the definition's rootfs, or the bundle's root.path. */
int ct_rootfs(json_object *def, char *buf, size_t len, struct vk_error *err) VK_MUST_CHECK;

#endif
