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

#include "common/util.h"
#include "daemon/def-check.h"

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

int def_normalize(json_object *in, json_object **out, bool *autostart, struct vk_error *err)
{
	struct dc_ctx c = {.err = err};
	const char *name, *uuid, *type, *desc;
	char lower[DEF_UUID_LEN + 1];
	json_object *n;
	bool as;
	size_t i;
	int r;

	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "invalid definition: expected a JSON object");
	if (!autostart && json_object_object_get_ex(in, "autostart", NULL))
		return vk_error_set(err, EINVAL, "invalid definition: unknown field 'autostart'");
	if ((r = dc_get_str(&c, in, "name", true, 256, &name)) < 0 ||
	    (r = dc_get_str(&c, in, "uuid", false, 64, &uuid)) < 0 ||
	    (r = dc_get_str(&c, in, "type", true, 16, &type)) < 0 ||
	    (r = dc_get_str(&c, in, "description", false, 1024, &desc)) < 0 ||
	    (r = dc_get_bool(&c, in, "autostart", false, &as)) < 0)
		return r;
	if (!def_name_valid(name))
		return vk_error_set(
		        err, EINVAL,
		        "invalid definition: 'name' must be 1 to %d letters, digits, '-', "
		        "'_' or '.', starting with a letter or digit",
		        DEF_NAME_MAX);
	if (uuid && !def_uuid_valid(uuid))
		return dc_bad(&c, "uuid", "must look like 8-4-4-4-12 hexadecimal digits");
	if (strcmp(type, "vm") != 0 && strcmp(type, "container") != 0)
		return dc_bad(&c, "type", "must be \"vm\" or \"container\"");
	if (uuid) {
		/* uuids compare case-insensitively: keep them lower case. */
		for (i = 0; i <= DEF_UUID_LEN; i++)
			lower[i] = (char)tolower((unsigned char)uuid[i]);
	} else {
		def_uuid_generate(lower);
	}

	n = json_object_new_object();
	dc_put_str(n, "name", name);
	dc_put_str(n, "uuid", lower);
	dc_put_str(n, "type", type);
	dc_put_str(n, "description", desc);
	r = strcmp(type, "vm") == 0 ? def_norm_vm(&c, in, n) : def_norm_container(&c, in, n);
	if (r < 0) {
		json_object_put(n);
		return r;
	}
	if (autostart)
		*autostart = as;
	*out = n;
	return 0;
}
