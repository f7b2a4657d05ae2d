/* SPDX-License-Identifier: MIT */
/*
 * Instance definitions: strict validation of the documented JSON schema and
 * the normalized copy the rest of the daemon works from (see def.h and
 * docs/api.md). Every error names the offending field, e.g.
 * "disks[1].path: must be an absolute path".
 */
#include "daemon/def.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/util.h"

#define PATH_LEN_MAX    4095
#define CMDLINE_LEN_MAX 4096
#define DISKS_MAX       16
#define NETS_MAX        8
#define ARGS_MAX        256
#define ENV_MAX         1024
#define MOUNTS_MAX      64
#define STR_LEN_MAX     4096

int def_parse_json(const char *buf, size_t len, json_object **out, struct vk_error *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t off;

	if (len > INT32_MAX)
		return vk_error_set(err, E2BIG, "JSON document is too large");
	tok = json_tokener_new_ex(DEF_BODY_DEPTH);
	if (!tok)
		return vk_error_set(err, ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(obj);
		return vk_error_set(err, EINVAL, "malformed JSON: unexpected end of document");
	}
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		return vk_error_set(err, EINVAL, "malformed JSON at byte %zu: %s", off,
		                    json_tokener_error_desc(jerr));
	}
	while (off < len && isspace((unsigned char)buf[off]))
		off++;
	if (off != len) {
		json_object_put(obj);
		return vk_error_set(err, EINVAL, "malformed JSON: unexpected data at byte %zu",
		                    off);
	}
	*out = obj;
	return 0;
}

bool def_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > DEF_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

bool def_uuid_valid(const char *uuid)
{
	size_t i;

	if (strlen(uuid) != DEF_UUID_LEN)
		return false;
	for (i = 0; i < DEF_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)uuid[i])) {
			return false;
		}
	}
	return true;
}

void def_uuid_generate(char out[DEF_UUID_LEN + 1])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, DEF_UUID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
}

/* --- strict field access ------------------------------------------------- */

struct ctx {
	struct vk_error *err;
	char where[128]; /* "disks[1]" or "" at top level */
};

static const char *fld(struct ctx *c, const char *key, char *buf, size_t len)
{
	if (c->where[0])
		snprintf(buf, len, "%s.%s", c->where, key);
	else
		snprintf(buf, len, "%s", key);
	return buf;
}

static int bad(struct ctx *c, const char *key, const char *what)
{
	char b[192];
	return vk_error_set(c->err, EINVAL, "invalid definition: '%s' %s",
	                    fld(c, key, b, sizeof(b)), what);
}

static int check_keys(struct ctx *c, json_object *o, const char *const *allowed)
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
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: unknown field '%s'", b);
		}
	}
	return 0;
}

/*
 * Text every definition string must be: UTF-8 of characters XML 1.0 can
 * carry (a definition must export as domain XML and come back the same), no
 * control characters but tab and newline, and none at all in paths.
 */
static bool text_ok(const char *s, bool allow_ws)
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
static int get_str(struct ctx *c, json_object *o, const char *key, bool required, size_t max,
                   const char **out)
{
	json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return bad(c, key, "is required");
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(c, key, "must be a string");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return bad(c, key, "must not contain NUL characters");
	if (strlen(s) > max)
		return bad(c, key, "is too long");
	if (!text_ok(s, true))
		return bad(c, key, "must be text without control characters");
	*out = s;
	return 0;
}

static int get_path(struct ctx *c, json_object *o, const char *key, bool required, const char **out)
{
	int r = get_str(c, o, key, required, PATH_LEN_MAX, out);

	if (r < 0 || !*out)
		return r;
	if ((*out)[0] != '/')
		return bad(c, key, "must be an absolute path");
	if (!text_ok(*out, false))
		return bad(c, key, "must not contain control characters");
	return 0;
}

static int get_bool(struct ctx *c, json_object *o, const char *key, bool dflt, bool *out)
{
	json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(c, key, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_uint(struct ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                    uint64_t dflt, uint64_t *out)
{
	json_object *v;
	int64_t i;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return bad(c, key, "must be an integer");
	errno = 0;
	i = json_object_get_int64(v);
	if (i < 0 || errno == ERANGE || (uint64_t)i < min || (uint64_t)i > max) {
		char what[96];
		snprintf(what, sizeof(what), "must be between %" PRIu64 " and %" PRIu64, min, max);
		return bad(c, key, what);
	}
	*out = (uint64_t)i;
	return 0;
}

/* A size: an integer byte count or a string with a K/M/G/T suffix. */
static int get_size(struct ctx *c, json_object *o, const char *key, uint64_t min, uint64_t max,
                    uint64_t dflt, uint64_t *out)
{
	json_object *v;
	char what[128];

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		if (vk_parse_size(json_object_get_string(v), out, NULL) < 0)
			return bad(c, key, "must be a size such as 268435456, \"256M\" or \"1G\"");
	} else if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0)
			return bad(c, key, "must not be negative");
		*out = (uint64_t)i;
	} else {
		return bad(c, key, "must be a size such as 268435456, \"256M\" or \"1G\"");
	}
	if (*out < min || *out > max) {
		snprintf(what, sizeof(what), "must be between %" PRIu64 " and %" PRIu64 " bytes",
		         min, max);
		return bad(c, key, what);
	}
	return 0;
}

static int get_array(struct ctx *c, json_object *o, const char *key, size_t max, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(c, key, "must be an array");
	if (json_object_array_length(v) > max)
		return bad(c, key, "has too many entries");
	*out = v;
	return 0;
}

static int get_object(struct ctx *c, json_object *o, const char *key, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return bad(c, key, "must be an object");
	*out = v;
	return 0;
}

static void put_str(json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

static void put_int(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void put_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static void set_where(struct ctx *c, const char *fmt, ...) VK_PRINTF(2, 3);
static void set_where(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->where, sizeof(c->where), fmt, ap);
	va_end(ap);
}

/* Enter "parent[i]" or "parent.key" for nested error messages. */
static void ctx_enter(struct ctx *c, const char *saved, const char *key, int idx)
{
	/* Truncation only shortens an error message. */
	if (idx >= 0)
		set_where(c, "%s%s%s[%d]", saved, saved[0] ? "." : "", key, idx);
	else
		set_where(c, "%s%s%s", saved, saved[0] ? "." : "", key);
}

static int check_enum(struct ctx *c, const char *key, const char *v, const char *const *vals,
                      const char *what)
{
	const char *const *p;

	for (p = vals; *p; p++)
		if (strcmp(*p, v) == 0)
			return 0;
	return bad(c, key, what);
}

/* --- console (both types) ------------------------------------------------ */

static int norm_console(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"log", NULL};
	char saved[sizeof(c->where)];
	json_object *o, *n;
	bool log;
	int r;

	if ((r = get_object(c, in, "console", &o)) < 0)
		return r;
	n = json_object_new_object();
	json_object_object_add(out, "console", n);
	log = true;
	if (o) {
		snprintf(saved, sizeof(saved), "%s", c->where);
		ctx_enter(c, saved, "console", -1);
		if ((r = check_keys(c, o, keys)) < 0 || (r = get_bool(c, o, "log", true, &log)) < 0)
			return r;
		snprintf(c->where, sizeof(c->where), "%s", saved);
	}
	put_bool(n, "log", log);
	return 0;
}

/* --- vm ------------------------------------------------------------------- */

static int norm_disks(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"path", "readonly", NULL};
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = get_array(c, in, "disks", DISKS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "disks", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i), *nd;
		const char *path;
		bool ro;

		ctx_enter(c, "", "disks", (int)i);
		if (!json_object_is_type(d, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = check_keys(c, d, keys)) < 0 ||
		    (r = get_path(c, d, "path", true, &path)) < 0 ||
		    (r = get_bool(c, d, "readonly", false, &ro)) < 0)
			return r;
		if (strchr(path, ','))
			return bad(c, "path", "must not contain a comma");
		nd = json_object_new_object();
		put_str(nd, "path", path);
		put_bool(nd, "readonly", ro);
		json_object_array_add(n, nd);
	}
	c->where[0] = '\0';
	return 0;
}

static bool hostfwd_valid(const char *s)
{
	/* proto:[addr]:hostport-[addr]:guestport, no commas (virtkit-vm splits on them). */
	if (!vk_startswith(s, "tcp:") && !vk_startswith(s, "udp:"))
		return false;
	if (strchr(s, ',') || !strchr(s, '-'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":.-[]", *s))
			return false;
	return true;
}

static int norm_networks(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"type", "hostfwd", "ifname", NULL};
	static const char *const types[] = {"user", "tap", NULL};
	json_object *arr, *n;
	size_t i, j;
	int r;

	if ((r = get_array(c, in, "networks", NETS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "networks", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i), *nd, *fwd, *nf;
		const char *type, *ifname;

		ctx_enter(c, "", "networks", (int)i);
		if (!json_object_is_type(d, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = check_keys(c, d, keys)) < 0 ||
		    (r = get_str(c, d, "type", false, 16, &type)) < 0 ||
		    (r = get_str(c, d, "ifname", false, 15, &ifname)) < 0 ||
		    (r = get_array(c, d, "hostfwd", 16, &fwd)) < 0)
			return r;
		if (!type)
			type = "user";
		if ((r = check_enum(c, "type", type, types, "must be \"user\" or \"tap\"")) < 0)
			return r;
		nd = json_object_new_object();
		json_object_array_add(n, nd);
		put_str(nd, "type", type);
		if (strcmp(type, "tap") == 0) {
			if (!ifname || !def_name_valid(ifname))
				return bad(c, "ifname",
				           "is required for a tap network (a device name)");
			if (fwd)
				return bad(c, "hostfwd", "is only valid for a user network");
			put_str(nd, "ifname", ifname);
			continue;
		}
		if (ifname)
			return bad(c, "ifname", "is only valid for a tap network");
		nf = json_object_new_array();
		json_object_object_add(nd, "hostfwd", nf);
		for (j = 0; fwd && j < json_object_array_length(fwd); j++) {
			json_object *f = json_object_array_get_idx(fwd, j);
			if (!json_object_is_type(f, json_type_string) ||
			    json_object_get_string_len(f) > 64 ||
			    !hostfwd_valid(json_object_get_string(f)))
				return bad(c, "hostfwd",
				           "entries must look like \"tcp:127.0.0.1:2222-:22\"");
			json_object_array_add(nf,
			                      json_object_new_string(json_object_get_string(f)));
		}
	}
	c->where[0] = '\0';
	return 0;
}

static int norm_vm(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {
	        "name",     "uuid", "type",    "description", "autostart", "arch",     "accel",
	        "memory",   "cpus", "kernel",  "initrd",      "cmdline",   "firmware", "disks",
	        "networks", "rng",  "console", "on_reset",    NULL};
	static const char *const arches[] = {"riscv64", "x86_64", NULL};
	static const char *const accels[] = {"emu", "kvm", NULL};
	static const char *const resets[] = {"exit", "reboot", NULL};
	const char *arch, *accel, *kernel, *initrd, *cmdline, *fw, *on_reset;
	uint64_t memory, cpus;
	bool rng;
	int r;

	if ((r = check_keys(c, in, keys)) < 0 ||
	    (r = get_str(c, in, "arch", false, 16, &arch)) < 0 ||
	    (r = get_str(c, in, "accel", false, 16, &accel)) < 0 ||
	    (r = get_size(c, in, "memory", 16ull << 20, 64ull << 30, 256ull << 20, &memory)) < 0 ||
	    (r = get_uint(c, in, "cpus", 1, 64, 1, &cpus)) < 0 ||
	    (r = get_path(c, in, "kernel", true, &kernel)) < 0 ||
	    (r = get_path(c, in, "initrd", false, &initrd)) < 0 ||
	    (r = get_str(c, in, "cmdline", false, CMDLINE_LEN_MAX, &cmdline)) < 0 ||
	    (r = get_str(c, in, "firmware", false, PATH_LEN_MAX, &fw)) < 0 ||
	    (r = get_bool(c, in, "rng", false, &rng)) < 0 ||
	    (r = get_str(c, in, "on_reset", false, 16, &on_reset)) < 0)
		return r;
	if (!arch)
		arch = "x86_64";
	if ((r = check_enum(c, "arch", arch, arches, "must be \"riscv64\" or \"x86_64\"")) < 0)
		return r;
	if (!accel)
		accel = strcmp(arch, "riscv64") == 0 ? "emu" : "kvm";
	if ((r = check_enum(c, "accel", accel, accels, "must be \"emu\" or \"kvm\"")) < 0)
		return r;
	if (strcmp(arch, "riscv64") == 0 && strcmp(accel, "kvm") == 0)
		return bad(c, "accel",
		           "\"kvm\" cannot run riscv64 guests on this host (use \"emu\")");
	if (strcmp(arch, "x86_64") == 0 && strcmp(accel, "emu") == 0)
		return bad(c, "accel", "\"emu\" is not available for x86_64 guests (use \"kvm\")");
	if (fw && strcmp(fw, "none") != 0 && fw[0] != '/')
		return bad(c, "firmware", "must be an absolute path or \"none\"");
	if (on_reset &&
	    (r = check_enum(c, "on_reset", on_reset, resets, "must be \"exit\" or \"reboot\"")) < 0)
		return r;

	put_str(out, "arch", arch);
	put_str(out, "accel", accel);
	put_int(out, "memory", memory);
	put_int(out, "cpus", cpus);
	put_str(out, "kernel", kernel);
	put_str(out, "initrd", initrd);
	put_str(out, "cmdline", cmdline);
	put_str(out, "firmware", fw);
	if ((r = norm_disks(c, in, out)) < 0 || (r = norm_networks(c, in, out)) < 0)
		return r;
	put_bool(out, "rng", rng);
	put_str(out, "on_reset", on_reset ? on_reset : "exit");
	return norm_console(c, in, out);
}

/* --- container ------------------------------------------------------------ */

static int norm_strv(struct ctx *c, json_object *in, const char *key, size_t max, bool required,
                     bool env, json_object *out)
{
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = get_array(c, in, key, max, &arr)) < 0)
		return r;
	if (required && (!arr || json_object_array_length(arr) == 0))
		return bad(c, key, "is required (a non-empty array of strings)");
	if (!arr)
		return 0;
	n = json_object_new_array();
	json_object_object_add(out, key, n);
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		const char *v;
		if (!json_object_is_type(s, json_type_string))
			return bad(c, key, "must be an array of strings");
		v = json_object_get_string(s);
		if ((size_t)json_object_get_string_len(s) != strlen(v) || strlen(v) > STR_LEN_MAX ||
		    !text_ok(v, true))
			return bad(c, key, "has an entry that is too long or not plain text");
		if (env && (!strchr(v, '=') || v[0] == '='))
			return bad(c, key, "entries must look like \"NAME=value\"");
		json_object_array_add(n, json_object_new_string(v));
	}
	return 0;
}

static int norm_process(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"args", "env", "cwd", "terminal", "uid", "gid", NULL};
	json_object *p, *n;
	const char *cwd;
	uint64_t uid, gid;
	bool term;
	int r;

	if ((r = get_object(c, in, "process", &p)) < 0)
		return r;
	if (!p)
		return bad(c, "process", "is required (with \"args\")");
	snprintf(c->where, sizeof(c->where), "process");
	n = json_object_new_object();
	json_object_object_add(out, "process", n);
	if ((r = check_keys(c, p, keys)) < 0 ||
	    (r = norm_strv(c, p, "args", ARGS_MAX, true, false, n)) < 0 ||
	    (r = norm_strv(c, p, "env", ENV_MAX, false, true, n)) < 0 ||
	    (r = get_path(c, p, "cwd", false, &cwd)) < 0 ||
	    (r = get_bool(c, p, "terminal", true, &term)) < 0 ||
	    (r = get_uint(c, p, "uid", 0, UINT32_MAX - 1, 0, &uid)) < 0 ||
	    (r = get_uint(c, p, "gid", 0, UINT32_MAX - 1, 0, &gid)) < 0)
		return r;
	if (!json_object_object_get_ex(n, "env", NULL)) {
		json_object *e = json_object_new_array();
		json_object_array_add(e,
		                      json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:/"
		                                             "usr/sbin:/usr/bin:/sbin:/bin"));
		json_object_array_add(e, json_object_new_string("TERM=xterm"));
		json_object_object_add(n, "env", e);
	}
	put_str(n, "cwd", cwd ? cwd : "/");
	put_bool(n, "terminal", term);
	put_int(n, "uid", uid);
	put_int(n, "gid", gid);
	c->where[0] = '\0';
	return 0;
}

static int norm_limits(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"memory",    "pids",       "cpu_shares",
	                                   "cpu_quota", "cpu_period", NULL};
	json_object *l, *n;
	uint64_t mem, pids, shares, quota, period;
	int r;

	if ((r = get_object(c, in, "limits", &l)) < 0)
		return r;
	n = json_object_new_object();
	json_object_object_add(out, "limits", n);
	if (!l)
		return 0;
	snprintf(c->where, sizeof(c->where), "limits");
	if ((r = check_keys(c, l, keys)) < 0 ||
	    (r = get_size(c, l, "memory", 0, 1ull << 40, 0, &mem)) < 0 ||
	    (r = get_uint(c, l, "pids", 0, 1u << 22, 0, &pids)) < 0 ||
	    (r = get_uint(c, l, "cpu_shares", 0, 262144, 0, &shares)) < 0 ||
	    (r = get_uint(c, l, "cpu_quota", 0, 1ull << 40, 0, &quota)) < 0 ||
	    (r = get_uint(c, l, "cpu_period", 0, 1000000, 0, &period)) < 0)
		return r;
	if (mem && mem < (4u << 20))
		return bad(c, "memory", "must be at least 4M");
	if (mem)
		put_int(n, "memory", mem);
	if (pids)
		put_int(n, "pids", pids);
	if (shares)
		put_int(n, "cpu_shares", shares);
	if (quota)
		put_int(n, "cpu_quota", quota);
	if (period)
		put_int(n, "cpu_period", period);
	c->where[0] = '\0';
	return 0;
}

static int norm_mounts(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"source", "destination", "readonly", NULL};
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = get_array(c, in, "mounts", MOUNTS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "mounts", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *m = json_object_array_get_idx(arr, i), *nm;
		const char *src, *dst;
		bool ro;

		ctx_enter(c, "", "mounts", (int)i);
		if (!json_object_is_type(m, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = check_keys(c, m, keys)) < 0 ||
		    (r = get_path(c, m, "source", true, &src)) < 0 ||
		    (r = get_path(c, m, "destination", true, &dst)) < 0 ||
		    (r = get_bool(c, m, "readonly", false, &ro)) < 0)
			return r;
		nm = json_object_new_object();
		put_str(nm, "source", src);
		put_str(nm, "destination", dst);
		put_bool(nm, "readonly", ro);
		json_object_array_add(n, nm);
	}
	c->where[0] = '\0';
	return 0;
}

static int norm_container(struct ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"name",      "uuid",     "type",    "description",
	                                   "autostart", "rootfs",   "bundle",  "process",
	                                   "hostname",  "readonly", "network", "limits",
	                                   "mounts",    "console",  NULL};
	static const char *const nets[] = {"none", "host", NULL};
	const char *rootfs, *bundle, *hostname, *net;
	bool ro;
	int r;

	if ((r = check_keys(c, in, keys)) < 0 ||
	    (r = get_path(c, in, "rootfs", false, &rootfs)) < 0 ||
	    (r = get_path(c, in, "bundle", false, &bundle)) < 0 ||
	    (r = get_str(c, in, "hostname", false, 63, &hostname)) < 0 ||
	    (r = get_bool(c, in, "readonly", false, &ro)) < 0 ||
	    (r = get_str(c, in, "network", false, 16, &net)) < 0)
		return r;
	if (!rootfs == !bundle)
		return vk_error_set(
		        c->err, EINVAL,
		        "invalid definition: a container needs exactly one of 'rootfs' "
		        "(a root file system folder) or 'bundle' (an OCI bundle folder)");
	if (bundle) {
		static const char *const only_rootfs[] = {"process", "hostname", "readonly",
		                                          "network", "limits",   "mounts"};
		size_t i;
		for (i = 0; i < ARRAY_SIZE(only_rootfs); i++)
			if (json_object_object_get_ex(in, only_rootfs[i], NULL))
				return bad(c, only_rootfs[i],
				           "cannot be combined with 'bundle' (the bundle's "
				           "config.json "
				           "decides)");
		put_str(out, "bundle", bundle);
		return norm_console(c, in, out);
	}
	if (hostname && !def_name_valid(hostname))
		return bad(c, "hostname", "must be a host name (letters, digits, '-', '.', '_')");
	if (!net)
		net = "none";
	if ((r = check_enum(c, "network", net, nets, "must be \"none\" or \"host\"")) < 0)
		return r;
	put_str(out, "rootfs", rootfs);
	if ((r = norm_process(c, in, out)) < 0)
		return r;
	put_str(out, "hostname", hostname ? hostname : def_name(out));
	put_bool(out, "readonly", ro);
	put_str(out, "network", net);
	if ((r = norm_limits(c, in, out)) < 0 || (r = norm_mounts(c, in, out)) < 0)
		return r;
	return norm_console(c, in, out);
}

int def_normalize(json_object *in, json_object **out, bool *autostart, struct vk_error *err)
{
	struct ctx c = {.err = err};
	const char *name, *uuid, *type, *desc;
	char gen[DEF_UUID_LEN + 1];
	json_object *n;
	bool as;
	int r;

	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "invalid definition: expected a JSON object");
	if (!autostart && json_object_object_get_ex(in, "autostart", NULL))
		return vk_error_set(err, EINVAL, "invalid definition: unknown field 'autostart'");
	if ((r = get_str(&c, in, "name", true, 256, &name)) < 0 ||
	    (r = get_str(&c, in, "uuid", false, 64, &uuid)) < 0 ||
	    (r = get_str(&c, in, "type", true, 16, &type)) < 0 ||
	    (r = get_str(&c, in, "description", false, 1024, &desc)) < 0 ||
	    (r = get_bool(&c, in, "autostart", false, &as)) < 0)
		return r;
	if (!def_name_valid(name))
		return vk_error_set(
		        err, EINVAL,
		        "invalid definition: 'name' must be 1 to %d letters, digits, '-', "
		        "'_' or '.', starting with a letter or digit",
		        DEF_NAME_MAX);
	if (uuid && !def_uuid_valid(uuid))
		return bad(&c, "uuid", "must look like 8-4-4-4-12 hexadecimal digits");
	if (strcmp(type, "vm") != 0 && strcmp(type, "container") != 0)
		return bad(&c, "type", "must be \"vm\" or \"container\"");
	if (!uuid) {
		def_uuid_generate(gen);
		uuid = gen;
	}

	n = json_object_new_object();
	put_str(n, "name", name);
	json_object_object_add(n, "uuid", json_object_new_string(uuid));
	{
		/* uuids compare case-insensitively: keep them lower case. */
		char *u = (char *)json_object_get_string(json_object_object_get(n, "uuid"));
		for (; *u; u++)
			*u = (char)tolower((unsigned char)*u);
	}
	put_str(n, "type", type);
	put_str(n, "description", desc);
	r = strcmp(type, "vm") == 0 ? norm_vm(&c, in, n) : norm_container(&c, in, n);
	if (r < 0) {
		json_object_put(n);
		return r;
	}
	if (autostart)
		*autostart = as;
	*out = n;
	return 0;
}

/* --- accessors ------------------------------------------------------------ */

const char *def_get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t def_get_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

bool def_get_bool(json_object *o, const char *key, bool dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}

const char *def_name(json_object *def)
{
	const char *s = def_get_str(def, "name");
	return s ? s : "";
}

const char *def_uuid(json_object *def)
{
	const char *s = def_get_str(def, "uuid");
	return s ? s : "";
}

enum def_type def_type(json_object *def)
{
	const char *t = def_get_str(def, "type");
	return t && strcmp(t, "container") == 0 ? DEF_CONTAINER : DEF_VM;
}

const char *def_type_name(enum def_type t)
{
	return t == DEF_CONTAINER ? "container" : "vm";
}
