/* SPDX-License-Identifier: MIT */
/*
 * Replay and mutate driver for the daemon's fuzz harnesses, built with the
 * normal compiler so that they compile and run in every build: each file of
 * the given folders goes through its harness once, then a short,
 * deterministic mutation run (bit flips, byte changes, splices of the
 * seeds) adds MUTATIONS inputs per seed. The real fuzzing is libFuzzer's
 * (scripts/fuzz.sh). TAP output, one line per harness.
 *   replay [--mutations N] request|domxml|image|unpack DIR...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "daemon/domxml.h"
#include "fuzz-daemon.h"

#define SEEDS_MAX 512

struct seed {
	uint8_t *buf;
	size_t len;
};

static struct seed seeds[SEEDS_MAX];
static size_t nseeds;

static void add_file(const char *path)
{
	uint8_t *buf;
	size_t len;

	if (nseeds == SEEDS_MAX || vk_read_file(path, 1 << 20, &buf, &len, NULL) < 0)
		return;
	seeds[nseeds].buf = buf;
	seeds[nseeds].len = len;
	nseeds++;
}

static void add_path(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		add_file(path);
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		add_file(sub);
	}
	closedir(d);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t mutate(uint8_t *out, size_t cap, const struct seed *s)
{
	size_t len = s->len < cap ? s->len : cap, i, n = 1 + next() % 4;

	memcpy(out, s->buf, len);
	for (i = 0; i < n; i++) {
		size_t pos = len ? next() % len : 0;
		switch (next() % 6) {
		case 0: /* flip a bit */
			if (len)
				out[pos] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* an interesting byte */
			if (len) {
				static const uint8_t b[] = {0,   '"',  '<',  '>',  '{',
				                            '}', '\\', 0xff, '\n', '-'};
				out[pos] = b[next() % sizeof(b)];
			}
			break;
		case 2: /* cut */
			len = pos;
			break;
		case 3: /* duplicate a chunk */
			if (len && len * 2 <= cap) {
				memcpy(out + len, out, len);
				len *= 2;
			}
			break;
		case 4: { /* splice another seed in */
			const struct seed *o = &seeds[next() % nseeds];
			size_t c = o->len < cap - pos ? o->len : cap - pos,
			       off = o->len ? next() % o->len : 0;
			if (c > o->len - off)
				c = o->len - off;
			memcpy(out + pos, o->buf + off, c);
			if (pos + c > len)
				len = pos + c;
			break;
		}
		default: /* a digit run */
			if (len)
				out[pos] = (uint8_t)('0' + next() % 10);
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	int (*harness)(const uint8_t *, size_t);
	unsigned long mutations = 200, runs = 0;
	static uint8_t buf[1 << 18];
	const char *name;
	size_t i, j;
	int a = 1;

	if (argc > 2 && strcmp(argv[1], "--mutations") == 0) {
		mutations = strtoul(argv[2], NULL, 10);
		a = 3;
	}
	if (a >= argc) {
		fprintf(stderr,
		        "usage: replay [--mutations N] request|domxml|image|unpack DIR...\n");
		return 2;
	}
	name = argv[a++];
	harness = !strcmp(name, "domxml")   ? vkd_fuzz_domxml
	          : !strcmp(name, "image")  ? vkd_fuzz_image
	          : !strcmp(name, "unpack") ? vkd_fuzz_unpack
	                                    : vkd_fuzz_request;
	domxml_init();
	for (; a < argc; a++)
		add_path(argv[a]);
	printf("1..1\n");
	for (i = 0; i < nseeds; i++, runs++)
		harness(seeds[i].buf, seeds[i].len);
	for (i = 0; nseeds && i < nseeds; i++)
		for (j = 0; j < mutations; j++, runs++)
			harness(buf, mutate(buf, sizeof(buf), &seeds[i]));
	printf("ok 1 - %s harness: %zu seeds and %lu inputs without a crash\n", name, nseeds, runs);
	for (i = 0; i < nseeds; i++)
		free(seeds[i].buf);
	return 0;
}
