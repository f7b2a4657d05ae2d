/* SPDX-License-Identifier: MIT */
/*
 * Replay driver for the fuzz harnesses, built with the normal compiler: runs
 * every file given (or every file in a folder given) through the harness
 * once, so the harness compiles and its corpus and crash reproducers run in
 * the ordinary test suite. TAP output.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "fuzz.h"

static unsigned replay_file(const char *path)
{
	uint8_t *buf;
	size_t len;

	if (vk_read_file(path, 1 << 20, &buf, &len, NULL) < 0) {
		printf("# cannot read %s\n", path);
		return 0;
	}
	vk_fuzz_one(buf, len);
	free(buf);
	return 1;
}

static unsigned replay(const char *path)
{
	struct stat st;
	unsigned n = 0;
	DIR *d;
	struct dirent *e;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		n += replay_file(sub);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	unsigned n = 0;

	printf("1..1\n");
	for (unsigned i = 0; i < vk_fuzz_nr_builtin; i++)
		n += (unsigned)(vk_fuzz_one(vk_fuzz_builtin[i].data, vk_fuzz_builtin[i].len) == 0);
	for (int i = 1; i < argc; i++)
		n += replay(argv[i]);
	printf("ok 1 - %s harness replayed %u inputs without a crash\n", vk_fuzz_name, n);
	return 0;
}
