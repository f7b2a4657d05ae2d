/* SPDX-License-Identifier: MIT */
/*
 * Images in the manager (docs/api.md, "Images"): import, list, describe,
 * alias, delete, and the storage of instances launched from them.
 *
 *   STATE_DIR/images/FINGERPRINT/     an image, read-only once imported:
 *       info.json                     its description (what the store keeps too)
 *       disk, kernel, initrd          a VM image's files
 *       rootfs/, config.json          a container image's tree and OCI config
 *   STATE_DIR/images/.import-XXXXXX/  an import under way (removed on failure, and at start)
 *   STATE_DIR/storage/UUID/           what a launched instance owns: disk.qcow2 (an overlay
 *                                     of the image's disk) or rootfs/ (a copy of the image's)
 *
 * Content addressing: a container image's fingerprint is its manifest's
 * digest; a VM image's is the SHA-256 of its description, which carries the
 * SHA-256 of each of its files. Importing the same content twice gives the
 * same image. An import builds everything in a scratch folder and renames it
 * into place only when complete, then records it; a failure at any point
 * (or a crash: see images_init) leaves nothing behind.
 *
 * Long steps (copies, digests, unpacking) are reported as image events:
 * {"type": "image", "event": "progress", "operation", "subject", "stage",
 * "done", "total", "percent"}; the end as "imported", "import-failed",
 * "deleted", "aliased", "unaliased".
 */
#ifndef VKD_IMAGES_H
#define VKD_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/def-image.h"

struct store;
struct vkd_paths;

/* Handed down by main.c; read-only afterwards. */
struct images_settings {
	struct store *store;           /* image events */
	const struct vkd_paths *paths; /* STATE_DIR/images, STATE_DIR/storage */
	const char *vm_binary;         /* virtkit-vm image info|check|create */
};

/*
 * Open the images' tables, make the folders, and tidy up after a crash: scratch folders of
 * unfinished imports, image folders without a record, storage of instances that are gone.
 * Call after the instances are loaded (instance.h) and before serving.
 */
int images_init(const struct images_settings *s, struct vk_error *err) VK_MUST_CHECK;
void images_shutdown(void);

/* {"images": [image, ...]} in import order; an image as GET /1.0/images/REF shows it. */
int images_list(json_object **out, struct vk_error *err) VK_MUST_CHECK;
int images_get(const char *ref, json_object **out, struct vk_error *err) VK_MUST_CHECK;

struct image_import {
	const char *source; /* absolute: a folder or file on the daemon's host */
	const char *const *aliases;
	size_t nr_aliases;
};
/*
 * Import (see above). *created is false when the same image was already there (the aliases
 * are added to it then). EINVAL: a bad image, with the reason; EEXIST: an alias is taken.
 */
int images_import(const struct image_import *req, json_object **out, bool *created,
                  struct vk_error *err) VK_MUST_CHECK;
/* -EBUSY (naming the instances) while instances launched from it exist. */
int images_delete(const char *ref, struct vk_error *err) VK_MUST_CHECK;
int images_alias_add(const char *alias, const char *ref, struct vk_error *err) VK_MUST_CHECK;
int images_alias_del(const char *alias, struct vk_error *err) VK_MUST_CHECK;
/* {"aliases": [{"name", "target"}, ...]} */
int images_aliases(json_object **out, struct vk_error *err) VK_MUST_CHECK;

/*
 * A launch, first half: the instance's own storage made from image ref (a qcow2 overlay of
 * a VM image's disk; a copy of a container image's tree, with progress), and the raw
 * definition to define it with (l->uuid is generated when NULL; uuid gets it). Then the
 * caller defines the instance and calls images_claim(), or images_discard() if it could not.
 */
int images_prepare(const char *ref, const struct image_launch *l, json_object **def, char uuid[37],
                   char fp[IMAGE_FP_LEN + 1], struct vk_error *err) VK_MUST_CHECK;
void images_claim(const char *uuid);
void images_discard(const char *uuid);
/* An instance was undefined: its storage (if it had any from a launch) goes. */
void images_release(const char *uuid);

#endif
