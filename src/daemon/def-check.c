/* SPDX-License-Identifier: MIT */
/* Strict, field-naming access to a JSON definition (see def-check.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/def-check.h"
#include "daemon/def.h"

static const char *dc_fld(struct dc_ctx *c, const char *key, char *buf, size_t len)
{
	if (c->where[0])
		snprintf(buf, len, "%s.%s", c->where, key);
	else
		snprintf(buf, len, "%s", key);
	return buf;
}

int dc_bad(struct dc_ctx *c, const char *key, const char *what)
{
	char b[192];
	return vk_error_set(c->err, EINVAL, "invalid %s: '%s' %s",
	                    c->subject ? c->subject : "definition", dc_fld(c, key, b, sizeof(b)),
	                    what);
}

int dc_check_keys(struct dc_ctx *c, json_object *o, const char *const *allowed)
{
	json_object_object_foreach(o, key, val)
	{
		const char *const *a;
		bool ok = false;
		(void)val;
		for (a = allowed; *a; a++) {
			if (strcmp(*a, key) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			char b[200];
			/* Keys may be hostile: print at most 64 bytes of them. */
			if (c->where[0])
				snprintf(b, sizeof(b), "%s.%.64s", c->where, key);
			else
				snprintf(b, sizeof(b), "%.64s", key);
			return vk_error_set(c->err, EINVAL, "invalid %s: unknown field '%s'",
			                    c->subject ? c->subject : "definition", b);
		}
	}
	return 0;
}

/*
 * Text every definition string must be: UTF-8 of characters XML 1.0 can
 * carry (a definition must export as domain XML and come back the same), no
 * control characters but tab and newline, and none at all in paths.
 */
bool dc_text_ok(const char *s, bool allow_ws)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t c;
		int n, i;
		if (*p < 0x80) {
			if (*p < 0x20 && !(allow_ws && (*p == '\t' || *p == '\n')))
				return false;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			c = *p & 0x1f;
			n = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			c = *p & 0x0f;
			n = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			c = *p & 0x07;
			n = 3;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* A string without NUL bytes, at most max bytes; *out NULL when absent. */
int dc_get_str(struct dc_ctx *c, json_object *o, const char *key, bool required, size_t max,
               const char **out)
{
	json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return dc_bad(c, key, "is required");
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return dc_bad(c, key, "must be a string");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return dc_bad(c, key, "must not contain NUL characters");
	if (strlen(s) > max)
		return dc_bad(c, key, "is too long");
	if (!dc_text_ok(s, true))
		return dc_bad(c, key, "must be text without control characters");
	*out = s;
	return 0;
}

int dc_get_path(struct dc_ctx *c, json_object *o, const char *key, bool required, const char **out)
{
	int r = dc_get_str(c, o, key, required, PATH_LEN_MAX, out);

	if (r < 0 || !*out)
		return r;
	if ((*out)[0] != '/')
		return dc_bad(c, key, "must be an absolute path");
	if (!dc_text_ok(*out, false))
		return dc_bad(c, key, "must not contain control characters");
	return 0;
}

int dc_get_bool(struct dc_ctx *c, json_object *o, const char *key, bool dflt, bool *out)
{
	json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return dc_bad(c, key, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int dc_get_uint(struct dc_ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                uint64_t dflt, uint64_t *out)
{
	json_object *v;
	int64_t i;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return dc_bad(c, key, "must be an integer");
	errno = 0;
	i = json_object_get_int64(v);
	if (i < 0 || errno == ERANGE || (uint64_t)i < min || (uint64_t)i > max) {
		char what[96];
		snprintf(what, sizeof(what), "must be between %" PRIu64 " and %" PRIu64, min, max);
		return dc_bad(c, key, what);
	}
	*out = (uint64_t)i;
	return 0;
}

/* A size: an integer byte count or a string with a K/M/G/T suffix. */
int dc_get_size(struct dc_ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                uint64_t dflt, uint64_t *out)
{
	json_object *v;
	char what[128];

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		if (vk_parse_size(json_object_get_string(v), out, NULL) < 0)
			return dc_bad(c, key,
			              "must be a size such as \"256M\", \"256 MiB\", \"1G\" or "
			              "268435456");
	} else if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0)
			return dc_bad(c, key, "must not be negative");
		*out = (uint64_t)i;
	} else {
		return dc_bad(c, key,
		              "must be a size such as \"256M\", \"256 MiB\", \"1G\" or 268435456");
	}
	if (*out < min || *out > max) {
		char lo[VK_SIZE_STR_MAX], hi[VK_SIZE_STR_MAX];

		snprintf(what, sizeof(what), "must be between %s and %s",
		         vk_format_size(min, lo, sizeof(lo)), vk_format_size(max, hi, sizeof(hi)));
		return dc_bad(c, key, what);
	}
	return 0;
}

int dc_get_array(struct dc_ctx *c, json_object *o, const char *key, size_t max, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return dc_bad(c, key, "must be an array");
	if (json_object_array_length(v) > max) {
		char what[64];
		snprintf(what, sizeof(what), "has too many entries (at most %zu)", max);
		return dc_bad(c, key, what);
	}
	*out = v;
	return 0;
}

int dc_get_object(struct dc_ctx *c, json_object *o, const char *key, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return dc_bad(c, key, "must be an object");
	*out = v;
	return 0;
}

void dc_put_str(json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

void dc_put_int(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void dc_put_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void dc_set_where(struct dc_ctx *c, const char *fmt, ...) VK_PRINTF(2, 3);
void dc_set_where(struct dc_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->where, sizeof(c->where), fmt, ap);
	va_end(ap);
}

/* Enter "parent[i]" or "parent.key" for nested error messages. */
void dc_ctx_enter(struct dc_ctx *c, const char *saved, const char *key, int idx)
{
	/* Truncation only shortens an error message. */
	if (idx >= 0)
		dc_set_where(c, "%s%s%s[%d]", saved, saved[0] ? "." : "", key, idx);
	else
		dc_set_where(c, "%s%s%s", saved, saved[0] ? "." : "", key);
}

int dc_check_enum(struct dc_ctx *c, const char *key, const char *v, const char *const *vals,
                  const char *what)
{
	const char *const *p;

	for (p = vals; *p; p++)
		if (strcmp(*p, v) == 0)
			return 0;
	return dc_bad(c, key, what);
}

int dc_norm_console(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"log", NULL};
	char saved[sizeof(c->where)];
	json_object *o, *n;
	bool log;
	int r;

	if ((r = dc_get_object(c, in, "console", &o)) < 0)
		return r;
	n = json_object_new_object();
	json_object_object_add(out, "console", n);
	log = true;
	if (o) {
		snprintf(saved, sizeof(saved), "%s", c->where);
		dc_ctx_enter(c, saved, "console", -1);
		if ((r = dc_check_keys(c, o, keys)) < 0 ||
		    (r = dc_get_bool(c, o, "log", true, &log)) < 0)
			return r;
		snprintf(c->where, sizeof(c->where), "%s", saved);
	}
	dc_put_bool(n, "log", log);
	return 0;
}
