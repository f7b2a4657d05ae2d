/* SPDX-License-Identifier: MIT */
/* Helpers shared by the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

int cmd_id(int argc, char **argv, const char *cmd, const char **id, struct vk_error *err)
{
	if (argc - optind < 1)
		return vk_error_set(err, EINVAL, "%s: missing container id", cmd);
	*id = argv[optind];
	return 0;
}

void cmd_print_json(json_object *o, bool pretty)
{
	puts(json_object_to_json_string_ext(
	        o, (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
	                   : JSON_C_TO_STRING_PLAIN) |
	                   JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cmd_int(const char *s, const char *opt, int min, int max, int *out, struct vk_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return vk_error_set(err, EINVAL,
		                    "%s: expected an integer between %d and %d, got '%s'", opt, min,
		                    max, s);
	*out = (int)v;
	return 0;
}
