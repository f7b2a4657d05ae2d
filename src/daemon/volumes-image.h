/* SPDX-License-Identifier: MIT */
/*
 * Image files through `virtkit-vm image` (docs/virtkit-vm.md): the daemon
 * never parses an image itself, it runs the tool that owns the formats
 * (create, info --json, resize) and passes on the tool's one-line error.
 * The format is always given, never probed.
 */
#ifndef VKD_VOLUMES_IMAGE_H
#define VKD_VOLUMES_IMAGE_H

#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

/*
 * Create path (which must not exist; the tool leaves nothing on failure).
 * size 0 with a backing file: the backing file's size. backing may be
 * relative: to the new image's folder, as QEMU resolves it.
 */
int vimg_create(const char *tool, const char *path, const char *format, uint64_t size,
                const char *backing, const char *backing_format,
                struct vk_error *err) VK_MUST_CHECK;

/* `image info --json`: qemu-img's keys ("virtual-size", "actual-size", ...). */
int vimg_info(const char *tool, const char *path, const char *format, json_object **out,
              struct vk_error *err) VK_MUST_CHECK;

/* Grow to size bytes. */
int vimg_resize(const char *tool, const char *path, const char *format, uint64_t size,
                struct vk_error *err) VK_MUST_CHECK;

#endif
