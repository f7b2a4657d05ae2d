/* SPDX-License-Identifier: MIT */
/*
 * libvirt domain XML: import into a virtkit VM definition and export of a
 * normalized VM definition, with libxml2. The supported subset is listed in
 * docs/api.md; anything else is refused with an error naming the element or
 * attribute ("unsupported element <domain/devices/video>"). Pure code (fuzzed).
 */
#ifndef VKD_DOMXML_H
#define VKD_DOMXML_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"

/* Call once at program start (libxml2's global initialisation). */
void domxml_init(void);

/*
 * Parse a <domain> document into a definition object (not yet normalized:
 * pass it to def_normalize()). DOCTYPEs and external entities are refused.
 */
int domxml_import(const char *buf, size_t len, json_object **out,
                  struct vk_error *err) VK_MUST_CHECK;

/* Write a normalized VM definition as a <domain> document (malloc'd, NUL-terminated). */
int domxml_export(json_object *def, char **out, struct vk_error *err) VK_MUST_CHECK;

#endif
