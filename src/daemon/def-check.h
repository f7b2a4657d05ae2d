/* SPDX-License-Identifier: MIT */
/*
 * Internals of the definition checker (def.c, def-check.c, def-vm.c,
 * def-container.c): a context that knows where in the document it is, for
 * error messages naming the field ("disks[1].path"), and strict typed getters
 * that refuse anything unexpected. Each getter returns 0 or -EINVAL with the
 * message set; absent optional fields give the default.
 */
#ifndef VKD_DEF_CHECK_H
#define VKD_DEF_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/compiler.h"
#include "common/error.h"
#include "daemon/def.h"

#define PATH_LEN_MAX    4095
#define CMDLINE_LEN_MAX 4096
/* virtkit-vm's limits (VM_MAX_DISKS, VM_MAX_NETS in src/vm/machine.h). */
#define DISKS_MAX DEF_DISKS_MAX
#define NETS_MAX  4
/*
 * Virtio slots of a board: the riscv64 virt board has 8 virtio-mmio slots in all
 * (VIRT_VIRTIO_COUNT in src/vm/board/riscv-virt.h), filled with the disks, the network
 * cards, the entropy source and a virtio console, in that order; the x86-64 PC puts
 * them on PCI, where the per-kind limits above always fit.
 */
#define RISCV64_VIRTIO_SLOTS 8
#define ARGS_MAX             256
#define ENV_MAX              1024
#define MOUNTS_MAX           64
#define STR_LEN_MAX          4096
#define METADATA_LEN_MAX     65536

struct dc_ctx {
	struct vk_error *err;
	const char *subject; /* "invalid SUBJECT: ..." (NULL: "definition") */
	char where[128];     /* "disks[1]" or "" at top level */
};

int dc_bad(struct dc_ctx *c, const char *key, const char *what);
int dc_check_keys(struct dc_ctx *c, json_object *o, const char *const *allowed);
/* UTF-8 text XML 1.0 can carry; tab and newline only when allow_ws. */
bool dc_text_ok(const char *s, bool allow_ws);
int dc_get_str(struct dc_ctx *c, json_object *o, const char *key, bool required, size_t max,
               const char **out);
int dc_get_path(struct dc_ctx *c, json_object *o, const char *key, bool required, const char **out);
int dc_get_bool(struct dc_ctx *c, json_object *o, const char *key, bool dflt, bool *out);
int dc_get_uint(struct dc_ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                uint64_t dflt, uint64_t *out);
/* An integer byte count or a string with a K/M/G/T suffix. */
int dc_get_size(struct dc_ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                uint64_t dflt, uint64_t *out);
int dc_get_array(struct dc_ctx *c, json_object *o, const char *key, size_t max, json_object **out);
int dc_get_object(struct dc_ctx *c, json_object *o, const char *key, json_object **out);
int dc_check_enum(struct dc_ctx *c, const char *key, const char *v, const char *const *vals,
                  const char *what);
void dc_put_str(json_object *o, const char *key, const char *s);
void dc_put_int(json_object *o, const char *key, uint64_t v);
void dc_put_bool(json_object *o, const char *key, bool v);
void dc_set_where(struct dc_ctx *c, const char *fmt, ...) VK_PRINTF(2, 3);
/* Enter "parent[i]" (idx >= 0) or "parent.key" below the path saved. */
void dc_ctx_enter(struct dc_ctx *c, const char *saved, const char *key, int idx);
/* "console": {"log": bool}, for both types. */
int dc_norm_console(struct dc_ctx *c, json_object *in, json_object *out);

/* The type-specific parts of def_normalize(). */
int def_norm_vm(struct dc_ctx *c, json_object *in, json_object *out);
int def_norm_container(struct dc_ctx *c, json_object *in, json_object *out);

#endif
