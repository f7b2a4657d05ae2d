/* SPDX-License-Identifier: MIT */
/*
 * Typed json-c accessors that keep the path of the field being read, so an
 * error reads "config.json: mounts[2].options[0]: expected a string". Used by
 * spec*.c only. Every getter returns 0 or -EINVAL with the error set; an
 * absent optional field leaves *out untouched and returns 0.
 */
#ifndef VK_OCI_SPEC_JSON_H
#define VK_OCI_SPEC_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "spec.h"

struct sj {
	const char *fname;
	char path[384];
	size_t len;
	struct vk_error *err;
};

void sj_init(struct sj *s, const char *fname, struct vk_error *err);

/* Push ".key" or "[i]" onto the path; pop restores the previous length. */
size_t sj_push(struct sj *s, const char *key);
size_t sj_push_index(struct sj *s, size_t i);
void sj_pop(struct sj *s, size_t mark);

/* Set an error about the current path: "<fname>: <path>: <msg>". */
int sj_fail(struct sj *s, const char *fmt, ...) VK_PRINTF(2, 3);

/* Child object/array of o (or NULL when absent); type checked. */
int sj_object(struct sj *s, json_object *o, const char *key, json_object **out);
int sj_array(struct sj *s, json_object *o, const char *key, json_object **out);

int sj_string(struct sj *s, json_object *o, const char *key, bool required, char **out);
int sj_bool(struct sj *s, json_object *o, const char *key, bool *out);
int sj_i64(struct sj *s, json_object *o, const char *key, struct oci_opt_i64 *out);
int sj_u64(struct sj *s, json_object *o, const char *key, struct oci_opt_u64 *out);
/* A u32 that must be present when required. */
int sj_u32(struct sj *s, json_object *o, const char *key, bool required, uint32_t *out,
           bool *present);
/* On an error *out is left empty (freed). */
int sj_strv(struct sj *s, json_object *o, const char *key, struct oci_strv *out);
/* An object of string values (annotations, sysctl, unified). */
int sj_kv(struct sj *s, json_object *o, const char *key, struct oci_kv_list *out);

/* Value checks on an element already in hand (for arrays). */
int sj_value_u64(struct sj *s, json_object *v, uint64_t *out);
int sj_value_i64(struct sj *s, json_object *v, int64_t *out);

void oci_kv_free(struct oci_kv_list *l);

#endif
