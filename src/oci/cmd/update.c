/* SPDX-License-Identifier: MIT */
/*
 * update [--resources FILE|-] [--memory N] [--memory-reservation N]
 *        [--memory-swap N] [--cpu-shares N] [--cpu-period N] [--cpu-quota N]
 *        [--cpuset-cpus S] [--cpuset-mems S] [--pids-limit N] [--blkio-weight N] ID
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/util.h"
#include "container.h"

static int read_all(const char *path, char **buf, size_t *len, struct vk_error *err)
{
	size_t cap = 4096, n = 0;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *b = malloc(cap);

	if (!f || !b) {
		free(b);
		return vk_error_errno(err, errno ? errno : ENOMEM, "cannot read --resources '%s'",
		                      path);
	}
	for (;;) {
		size_t got = fread(b + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n + 1 >= cap) {
			char *nb = cap > (4u << 20) ? NULL : realloc(b, cap *= 2);

			if (!nb) {
				free(b);
				if (f != stdin)
					fclose(f);
				return vk_error_set(err, EFBIG, "--resources '%s' is too large",
				                    path);
			}
			b = nb;
		}
	}
	if (f != stdin)
		fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static int num(const char *s, const char *opt, int64_t *out, struct vk_error *err)
{
	uint64_t v;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (vk_parse_size(s, &v, NULL) < 0 || v > INT64_MAX)
		return vk_error_set(err, EINVAL, "%s: expected a number, got '%s'", opt, s);
	*out = (int64_t)v;
	return 0;
}

int cmd_update(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const struct option opts[] = {
	        {"resources", required_argument, NULL, 'r'},
	        {"memory", required_argument, NULL, 'm'},
	        {"memory-reservation", required_argument, NULL, 'R'},
	        {"memory-swap", required_argument, NULL, 's'},
	        {"cpu-shares", required_argument, NULL, 'S'},
	        {"cpu-period", required_argument, NULL, 'p'},
	        {"cpu-quota", required_argument, NULL, 'q'},
	        {"cpuset-cpus", required_argument, NULL, 'c'},
	        {"cpuset-mems", required_argument, NULL, 'M'},
	        {"pids-limit", required_argument, NULL, 'P'},
	        {"blkio-weight", required_argument, NULL, 'b'},
	        {NULL, 0, NULL, 0},
	};
	struct oci_resources res = {0};
	const char *file = NULL, *id;
	int64_t v;
	int c, r = 0;

	optind = 0;
	while (!r && (c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			file = optarg;
			break;
		case 'm':
			r = num(optarg, "--memory", &v, err);
			res.memory.limit = (struct oci_opt_i64){true, v};
			break;
		case 'R':
			r = num(optarg, "--memory-reservation", &v, err);
			res.memory.reservation = (struct oci_opt_i64){true, v};
			break;
		case 's':
			r = num(optarg, "--memory-swap", &v, err);
			res.memory.swap = (struct oci_opt_i64){true, v};
			break;
		case 'S':
			r = num(optarg, "--cpu-shares", &v, err);
			res.cpu.shares = (struct oci_opt_u64){true, (uint64_t)v};
			break;
		case 'p':
			r = num(optarg, "--cpu-period", &v, err);
			res.cpu.period = (struct oci_opt_u64){true, (uint64_t)v};
			break;
		case 'q':
			r = num(optarg, "--cpu-quota", &v, err);
			res.cpu.quota = (struct oci_opt_i64){true, v};
			break;
		case 'c':
			res.cpu.cpus = strdup(optarg);
			break;
		case 'M':
			res.cpu.mems = strdup(optarg);
			break;
		case 'P':
			r = num(optarg, "--pids-limit", &v, err);
			res.pids.limit = (struct oci_opt_i64){true, v};
			break;
		case 'b':
			r = num(optarg, "--blkio-weight", &v, err);
			res.blkio.has_weight = true;
			res.blkio.weight = (uint16_t)v;
			break;
		default:
			r = vk_error_set(err, EINVAL, "update: invalid option");
		}
	}
	res.present = true;
	if (!r)
		r = cmd_id(argc, argv, "update", &id, err);
	if (!r && file) {
		char *buf = NULL;
		size_t len = 0;

		oci_resources_free(&res);
		r = read_all(file, &buf, &len, err);
		if (!r) {
			r = oci_resources_parse(buf, len, strcmp(file, "-") ? file : "<stdin>",
			                        &res, err);
			free(buf);
		}
	}
	if (!r)
		r = oci_container_update(g->root, id, &res, err);
	oci_resources_free(&res);
	return r;
}
