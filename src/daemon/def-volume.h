/* SPDX-License-Identifier: MIT */
/*
 * Volumes of the storage pool: the bodies of the requests that create and
 * resize them (docs/api.md), checked strictly as definitions are (unknown
 * fields, wrong types and impossible sizes are errors naming the field).
 * Pure code: no I/O (fuzzed with the other request parsers).
 */
#ifndef VKD_DEF_VOLUME_H
#define VKD_DEF_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/* The one storage pool, under the state folder (paths.h). */
#define VOLUME_POOL "default"
/* Sizes are whole 512-byte sectors (virtio-blk's unit), up to 64 TiB. */
#define VOLUME_SIZE_MIN 512ull
#define VOLUME_SIZE_MAX (64ull << 40)

struct volume_spec {
	const char *name;        /* a valid name (def_name_valid()) */
	const char *format;      /* "qcow2" or "raw" */
	uint64_t size;           /* bytes; 0 with from: the base's size */
	const char *from;        /* NULL, a volume's name, or an absolute path */
	bool from_is_path;       /* from starts with '/' */
	const char *from_format; /* a path's format: NULL (virtkit-vm's safe rule), raw, qcow2 */
};

/*
 * POST /1.0/pools/default/volumes: {"name", "size", "format", "from",
 * "from_format"}. The strings point into in. Errors are EINVAL with a
 * sentence naming the field.
 */
int def_volume_create(json_object *in, struct volume_spec *out, struct vk_error *err) VK_MUST_CHECK;

/* PATCH /1.0/pools/default/volumes/NAME: {"size"}. */
int def_volume_resize(json_object *in, uint64_t *size, struct vk_error *err) VK_MUST_CHECK;

#endif
