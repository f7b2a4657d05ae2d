/* SPDX-License-Identifier: MIT */
/*
 * The leaves of the definition code (def.h): name and uuid rules and the
 * typed accessors of a normalized definition. The checkers (def-vm.c,
 * def-container.c) and def.c's dispatch sit above this file; it calls none
 * of them.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/def.h"

/* --- names and uuids ------------------------------------------------------- */

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
