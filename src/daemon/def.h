/* SPDX-License-Identifier: MIT */
/*
 * Instance definitions: the JSON schema documented in docs/api.md, checked
 * strictly (unknown fields, wrong types and out-of-range values are errors
 * naming the field) and rewritten into one normalized form that the store
 * keeps and the drivers read. Pure code: no I/O, no locks (fuzzed).
 */
#ifndef VKD_DEF_H
#define VKD_DEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

#define DEF_NAME_MAX   63
#define DEF_UUID_LEN   36
#define DEF_BODY_DEPTH 16
#define DEF_DISKS_MAX  8 /* virtkit-vm's VM_MAX_DISKS (src/vm/machine.h) */

enum def_type {
	DEF_VM,
	DEF_CONTAINER,
};

/*
 * Parse JSON text strictly (RFC 8259, UTF-8, no trailing bytes, nesting at
 * most DEF_BODY_DEPTH). On success *out is a new reference.
 */
int def_parse_json(const char *buf, size_t len, json_object **out,
                   struct vk_error *err) VK_MUST_CHECK;

/*
 * Check a definition object and build its normalized copy: a uuid is
 * generated when absent, sizes become byte counts, defaults are filled in.
 * "autostart" (accepted for convenience) is removed from the copy and
 * returned in *autostart when the caller passes non-NULL (else it is an
 * unknown field). Errors are EINVAL with a sentence naming the field.
 */
int def_normalize(json_object *in, json_object **out, bool *autostart,
                  struct vk_error *err) VK_MUST_CHECK;

/* Accessors for a normalized definition (never NULL for those fields). */
const char *def_name(json_object *def);
const char *def_uuid(json_object *def);
enum def_type def_type(json_object *def);
const char *def_type_name(enum def_type t);

/* Small helpers shared with the XML importer and the drivers. */
bool def_name_valid(const char *name);
bool def_uuid_valid(const char *uuid);
void def_uuid_generate(char out[DEF_UUID_LEN + 1]);

/* Typed getters on a normalized definition (missing → the default). */
const char *def_get_str(json_object *o, const char *key);
int64_t def_get_int(json_object *o, const char *key, int64_t dflt);
bool def_get_bool(json_object *o, const char *key, bool dflt);

#endif
