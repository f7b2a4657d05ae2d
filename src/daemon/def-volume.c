/* SPDX-License-Identifier: MIT */
/* Volume requests: create and resize bodies (see def-volume.h). */
#include "daemon/def-volume.h"

#include <errno.h>
#include <string.h>

#include "daemon/def-check.h"
#include "daemon/def.h"

static int get_size(struct dc_ctx *c, json_object *in, bool required, uint64_t *out)
{
	int r;

	if (required && !json_object_object_get_ex(in, "size", NULL))
		return dc_bad(c, "size", "is required (such as \"10G\")");
	if ((r = dc_get_size(c, in, "size", VOLUME_SIZE_MIN, VOLUME_SIZE_MAX, 0, out)) < 0)
		return r;
	if (*out % 512)
		return dc_bad(c, "size", "must be a whole number of 512-byte sectors");
	return 0;
}

int def_volume_create(json_object *in, struct volume_spec *out, struct vk_error *err)
{
	static const char *const keys[] = {"name", "size", "format", "from", "from_format", NULL};
	static const char *const formats[] = {"qcow2", "raw", NULL};
	struct dc_ctx c = {.err = err, .subject = "volume"};
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "invalid volume: expected a JSON object");
	if ((r = dc_check_keys(&c, in, keys)) < 0 ||
	    (r = dc_get_str(&c, in, "name", true, 256, &out->name)) < 0 ||
	    (r = dc_get_str(&c, in, "format", false, 16, &out->format)) < 0 ||
	    (r = dc_get_str(&c, in, "from", false, PATH_LEN_MAX, &out->from)) < 0 ||
	    (r = dc_get_str(&c, in, "from_format", false, 16, &out->from_format)) < 0)
		return r;
	if (!def_name_valid(out->name))
		return vk_error_set(err, EINVAL,
		                    "invalid volume: 'name' must be 1 to %d letters, digits, '-', "
		                    "'_' or '.', starting with a letter or digit",
		                    DEF_NAME_MAX);
	if (out->format && (r = dc_check_enum(&c, "format", out->format, formats,
	                                      "must be \"qcow2\" or \"raw\"")) < 0)
		return r;
	if ((r = get_size(&c, in, !out->from, &out->size)) < 0)
		return r;
	if (!out->from) {
		if (out->from_format)
			return dc_bad(&c, "from_format", "is only valid with 'from'");
		if (!out->format)
			out->format = "qcow2";
		return 0;
	}
	/* A linked clone: a qcow2 overlay whose backing file is the base. */
	if (out->format && strcmp(out->format, "qcow2") != 0)
		return dc_bad(&c, "format",
		              "must be \"qcow2\" with 'from' (a linked clone is a qcow2 overlay)");
	out->format = "qcow2";
	out->from_is_path = out->from[0] == '/';
	if (!out->from_is_path && !def_name_valid(out->from))
		return dc_bad(&c, "from", "must be a volume's name or an absolute path");
	if (out->from_is_path && !dc_text_ok(out->from, false))
		return dc_bad(&c, "from", "must not contain control characters");
	if (out->from_format && !out->from_is_path)
		return dc_bad(&c, "from_format",
		              "is only valid when 'from' is a path (a volume's format is known)");
	if (out->from_format && (r = dc_check_enum(&c, "from_format", out->from_format, formats,
	                                           "must be \"qcow2\" or \"raw\"")) < 0)
		return r;
	return 0;
}

int def_volume_resize(json_object *in, uint64_t *size, struct vk_error *err)
{
	static const char *const keys[] = {"size", NULL};
	struct dc_ctx c = {.err = err, .subject = "volume"};
	int r;

	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "invalid volume: expected a JSON object");
	if ((r = dc_check_keys(&c, in, keys)) < 0)
		return r;
	return get_size(&c, in, true, size);
}
