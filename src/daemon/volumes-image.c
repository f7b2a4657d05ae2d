/* SPDX-License-Identifier: MIT */
/* `virtkit-vm image` for the storage pool (see volumes-image.h). */
#include "daemon/volumes-image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "daemon/proc.h"

#define IMAGE_TIMEOUT_MS 60000
#define OUT_MAX          16384

/* Run `tool image ARGS...`; out gets what it printed. Its error line becomes err. */
static int run(const char *const *argv, char *out, size_t len, struct vk_error *err)
{
	char line[512];
	int status, r;

	if ((r = proc_run(argv, IMAGE_TIMEOUT_MS, out, len, &status, err)) < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	proc_last_line(out, line, sizeof(line));
	proc_strip_prog(line, argv[0]);
	if (!line[0])
		snprintf(line, sizeof(line), "%s image %s %s", argv[0], argv[2],
		         WIFSIGNALED(status) ? "was killed" : "failed without a message");
	return vk_error_set(err, EIO, "%s", line);
}

int vimg_create(const char *tool, const char *path, const char *format, uint64_t size,
                const char *backing, const char *backing_format, struct vk_error *err)
{
	const char *argv[16];
	char sz[24], out[OUT_MAX];
	size_t n = 0;

	argv[n++] = tool;
	argv[n++] = "image";
	argv[n++] = "create";
	argv[n++] = path;
	argv[n++] = "--format";
	argv[n++] = format;
	if (size) {
		snprintf(sz, sizeof(sz), "%" PRIu64, size);
		argv[n++] = "--size";
		argv[n++] = sz;
	}
	if (backing) {
		argv[n++] = "--backing";
		argv[n++] = backing;
		argv[n++] = "--backing-format";
		argv[n++] = backing_format;
	}
	argv[n] = NULL;
	return run(argv, out, sizeof(out), err);
}

int vimg_info(const char *tool, const char *path, const char *format, json_object **out,
              struct vk_error *err)
{
	const char *argv[] = {tool, "image", "info", path, "--format", format, "--json", NULL};
	char text[OUT_MAX], *start;
	json_object *o;
	int r;

	*out = NULL;
	if ((r = run(argv, text, sizeof(text), err)) < 0)
		return r;
	/* stdout and stderr share the pipe: the document is what starts at the first brace. */
	start = strchr(text, '{');
	o = start ? json_tokener_parse(start) : NULL;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "virtual-size", NULL)) {
		json_object_put(o);
		return vk_error_set(err, EPROTO,
		                    "%s image info printed no JSON description of '%s'", tool,
		                    path);
	}
	*out = o;
	return 0;
}

int vimg_resize(const char *tool, const char *path, const char *format, uint64_t size,
                struct vk_error *err)
{
	char sz[24], out[OUT_MAX];
	const char *argv[] = {tool, "image", "resize", path, sz, "--format", format, NULL};

	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	return run(argv, out, sizeof(out), err);
}
