/* SPDX-License-Identifier: MIT */
/* spec [--bundle DIR] [--rootless]: write a default config.json (never over one). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "common/util.h"
#include "spec.h"

int cmd_spec(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"bundle", required_argument, NULL, 'b'},
	        {"rootless", no_argument, NULL, 'r'},
	        {NULL, 0, NULL, 0},
	};
	const char *bundle = ".", *text;
	bool rootless = false;
	char path[4096];
	json_object *o;
	int c, fd, r = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else
			return vk_error_set(err, EINVAL, "spec: invalid option");
	}
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return vk_error_set(err, EEXIST, "File %s exists. Remove it first", path);
		return vk_error_errno(err, errno, "cannot write %s", path);
	}
	o = oci_spec_default(rootless, geteuid(), getegid());
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (vk_write_full(fd, text, strlen(text)) < 0 || vk_write_full(fd, "\n", 1) < 0)
		r = vk_error_errno(err, errno, "cannot write %s", path);
	close(fd);
	json_object_put(o);
	return r;
}
