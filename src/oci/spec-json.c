/* SPDX-License-Identifier: MIT */
/* Typed json-c accessors that name the field path in their errors. */
#include "spec-json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sj_init(struct sj *s, const char *fname, struct vk_error *err)
{
	s->fname = fname;
	s->path[0] = '\0';
	s->len = 0;
	s->err = err;
}

size_t sj_push(struct sj *s, const char *key)
{
	size_t mark = s->len;
	int n = snprintf(s->path + s->len, sizeof(s->path) - s->len, "%s%s", s->len ? "." : "",
	                 key);

	if (n > 0)
		s->len = VK_MIN(s->len + (size_t)n, sizeof(s->path) - 1);
	return mark;
}

size_t sj_push_index(struct sj *s, size_t i)
{
	size_t mark = s->len;
	int n = snprintf(s->path + s->len, sizeof(s->path) - s->len, "[%zu]", i);

	if (n > 0)
		s->len = VK_MIN(s->len + (size_t)n, sizeof(s->path) - 1);
	return mark;
}

void sj_pop(struct sj *s, size_t mark)
{
	s->len = mark;
	s->path[mark] = '\0';
}

int sj_fail(struct sj *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->len)
		return vk_error_set(s->err, EINVAL, "%s: %s: %s", s->fname, s->path, msg);
	return vk_error_set(s->err, EINVAL, "%s: %s", s->fname, msg);
}

static const char *type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number with a fraction";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

/* Fetch key; absent and JSON null both count as absent. */
static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static int expect(struct sj *s, const char *key, json_object *v, enum json_type t, const char *what)
{
	size_t mark;
	int r;

	if (json_object_is_type(v, t))
		return 0;
	mark = sj_push(s, key);
	r = sj_fail(s, "expected %s, got %s", what, type_name(v));
	sj_pop(s, mark);
	return r;
}

int sj_object(struct sj *s, json_object *o, const char *key, json_object **out)
{
	json_object *v = get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (expect(s, key, v, json_type_object, "an object"))
		return -EINVAL;
	*out = v;
	return 0;
}

int sj_array(struct sj *s, json_object *o, const char *key, json_object **out)
{
	json_object *v = get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (expect(s, key, v, json_type_array, "an array"))
		return -EINVAL;
	*out = v;
	return 0;
}

int sj_string(struct sj *s, json_object *o, const char *key, bool required, char **out)
{
	json_object *v = get(o, key);
	size_t mark;
	char *dup;

	if (!v) {
		if (!required)
			return 0;
		mark = sj_push(s, key);
		sj_fail(s, "required field is missing");
		sj_pop(s, mark);
		return -EINVAL;
	}
	if (expect(s, key, v, json_type_string, "a string"))
		return -EINVAL;
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		mark = sj_push(s, key);
		sj_fail(s, "string contains a NUL byte");
		sj_pop(s, mark);
		return -EINVAL;
	}
	dup = strdup(json_object_get_string(v));
	if (!dup)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	free(*out);
	*out = dup;
	return 0;
}

int sj_bool(struct sj *s, json_object *o, const char *key, bool *out)
{
	json_object *v = get(o, key);

	if (!v)
		return 0;
	if (expect(s, key, v, json_type_boolean, "a boolean"))
		return -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

int sj_value_i64(struct sj *s, json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return sj_fail(s, "expected an integer, got %s", type_name(v));
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno == ERANGE || (*out == INT64_MAX && json_object_get_uint64(v) > INT64_MAX))
		return sj_fail(s, "integer out of range");
	return 0;
}

int sj_value_u64(struct sj *s, json_object *v, uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return sj_fail(s, "expected an integer, got %s", type_name(v));
	if (json_object_get_int64(v) < 0)
		return sj_fail(s, "expected a non-negative integer");
	*out = json_object_get_uint64(v);
	return 0;
}

int sj_i64(struct sj *s, json_object *o, const char *key, struct oci_opt_i64 *out)
{
	json_object *v = get(o, key);
	size_t mark;
	int r;

	if (!v)
		return 0;
	mark = sj_push(s, key);
	r = sj_value_i64(s, v, &out->v);
	sj_pop(s, mark);
	if (r)
		return r;
	out->valid = true;
	return 0;
}

int sj_u64(struct sj *s, json_object *o, const char *key, struct oci_opt_u64 *out)
{
	json_object *v = get(o, key);
	size_t mark;
	int r;

	if (!v)
		return 0;
	mark = sj_push(s, key);
	r = sj_value_u64(s, v, &out->v);
	sj_pop(s, mark);
	if (r)
		return r;
	out->valid = true;
	return 0;
}

int sj_u32(struct sj *s, json_object *o, const char *key, bool required, uint32_t *out,
           bool *present)
{
	json_object *v = get(o, key);
	size_t mark = sj_push(s, key);
	uint64_t x;
	int r = 0;

	if (!v) {
		if (required)
			r = sj_fail(s, "required field is missing");
		goto out;
	}
	r = sj_value_u64(s, v, &x);
	if (r)
		goto out;
	if (x > UINT32_MAX) {
		r = sj_fail(s, "value %llu does not fit in 32 bits", (unsigned long long)x);
		goto out;
	}
	*out = (uint32_t)x;
	if (present)
		*present = true;
out:
	sj_pop(s, mark);
	return r;
}

int sj_strv(struct sj *s, json_object *o, const char *key, struct oci_strv *out)
{
	json_object *arr;
	size_t n, i, mark;
	int r;

	r = sj_array(s, o, key, &arr);
	if (r || !arr)
		return r;
	n = json_object_array_length(arr);
	oci_strv_free(out);
	out->v = calloc(n + 1, sizeof(char *));
	if (!out->v)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	mark = sj_push(s, key);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		size_t m = sj_push_index(s, i);

		if (!json_object_is_type(e, json_type_string)) {
			r = sj_fail(s, "expected a string, got %s", type_name(e));
			break;
		}
		if (strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e)) {
			r = sj_fail(s, "string contains a NUL byte");
			break;
		}
		sj_pop(s, m);
		out->v[i] = strdup(json_object_get_string(e));
		if (!out->v[i]) {
			r = vk_error_set(s->err, ENOMEM, "out of memory");
			break;
		}
		out->n = i + 1;
	}
	sj_pop(s, mark);
	/* Nothing half-filled for the caller to free (some hold out on their stack). */
	if (r)
		oci_strv_free(out);
	return r;
}

int sj_kv(struct sj *s, json_object *o, const char *key, struct oci_kv_list *out)
{
	json_object *obj;
	size_t n, mark;
	int r;

	r = sj_object(s, o, key, &obj);
	if (r || !obj)
		return r;
	n = (size_t)json_object_object_length(obj);
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return vk_error_set(s->err, ENOMEM, "out of memory");
	mark = sj_push(s, key);
	json_object_object_foreach(obj, k, v)
	{
		if (!json_object_is_type(v, json_type_string)) {
			size_t m = sj_push(s, k);

			r = sj_fail(s, "expected a string, got %s", type_name(v));
			sj_pop(s, m);
			break;
		}
		out->v[out->n].key = strdup(k);
		out->v[out->n].value = strdup(json_object_get_string(v));
		out->n++;
		if (!out->v[out->n - 1].key || !out->v[out->n - 1].value) {
			r = vk_error_set(s->err, ENOMEM, "out of memory");
			break;
		}
	}
	sj_pop(s, mark);
	return r;
}

void oci_strv_free(struct oci_strv *v)
{
	size_t i;

	if (!v->v)
		return;
	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void oci_kv_free(struct oci_kv_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
