/* SPDX-License-Identifier: MIT */
/* The web console's files (see webfile.h). */
#include "common/webfile.h"

#include <stdio.h>
#include <string.h>

#include "common/compiler.h"

static const struct {
	const char *ext, *type;
} types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
};

const char *vk_web_file(const char *root, const char *url, char *path, size_t len)
{
	static const char ok[] =
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./";
	const char *rel, *dot;

	if (!root || !url || url[0] != '/')
		return NULL;
	rel = strcmp(url, "/") == 0 ? "index.html" : url + 1;
	if (!*rel || strlen(rel) > 200 || strspn(rel, ok) != strlen(rel) || rel[0] == '.' ||
	    strstr(rel, "..") || strstr(rel, "/.") || strstr(rel, "//") ||
	    rel[strlen(rel) - 1] == '/')
		return NULL;
	dot = strrchr(rel, '.');
	for (size_t i = 0; dot && i < ARRAY_SIZE(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return snprintf(path, len, "%s/%s", root, rel) < (int)len ? types[i].type
			                                                          : NULL;
	return NULL;
}
