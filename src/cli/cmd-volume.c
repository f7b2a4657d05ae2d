/* SPDX-License-Identifier: MIT */
/*
 * virtkit volume create|list|info|resize|delete: the storage pool "default".
 *   volume create NAME --size SIZE [--format qcow2|raw]
 *   volume create NAME --from BASE [--from-format raw|qcow2] [--size SIZE]
 * BASE is a volume's name, or an image file (a path: anything with a '/',
 * made absolute here, since the daemon has its own working folder).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/util.h"

#define USAGE                                                                                   \
	"usage: virtkit volume create NAME --size SIZE [--format qcow2|raw] | create NAME "     \
	"--from BASE [--from-format raw|qcow2] [--size SIZE] | list | info NAME | resize NAME " \
	"SIZE | delete NAME..."

/* 0, or -1 after the usage error. */
static int parse_size(const char *s, uint64_t *out)
{
	if (vk_parse_size(s, out, NULL) < 0) {
		cli_usage("invalid size '%s' (a number with an optional K, M, G or T suffix)", s);
		return -1;
	}
	return 0;
}

static const char *size_str(uint64_t bytes, char *buf, size_t len)
{
	return vk_format_size(bytes, buf, len);
}

/* "qcow2, 10 GiB, a linked clone of 'base'" */
static void describe(const virtkit_volume *v, char *buf, size_t len)
{
	char sz[VK_SIZE_STR_MAX];
	int n = snprintf(buf, len, "%s, %s", virtkit_volume_format(v),
	                 size_str(virtkit_volume_capacity(v), sz, sizeof(sz)));

	if (virtkit_volume_base(v) && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", a linked clone of '%s'",
		         virtkit_volume_base(v));
}

static int volume_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"size", required_argument, NULL, 's'},
	        {"format", required_argument, NULL, 'F'},
	        {"from", required_argument, NULL, 'b'},
	        {"from-format", required_argument, NULL, 'B'},
	        {NULL, 0, NULL, 0},
	};
	const char *format = NULL, *from = NULL, *from_format = NULL;
	char abs_from[PATH_MAX], what[PATH_MAX + 96];
	virtkit_error *err = NULL;
	virtkit_volume *v;
	uint64_t size = 0;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "s:", opts)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size) < 0)
				return CLI_USAGE;
			if (size == 0)
				return cli_usage("--size must be more than 0");
			break;
		case 'F':
			format = optarg;
			break;
		case 'b':
			from = optarg;
			break;
		case 'B':
			from_format = optarg;
			break;
		default:
			return CLI_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage(
		        "usage: virtkit volume create NAME (--size SIZE | --from BASE) ...");
	if (!size && !from)
		return cli_usage(
		        "volume create needs --size SIZE, or --from BASE for a linked clone");
	if (from && strchr(from, '/') && from[0] != '/') {
		if (!realpath(from, abs_from)) {
			fprintf(stderr, "virtkit: cannot use '%s' as a base: %m\n", from);
			return CLI_FAIL;
		}
		from = abs_from;
	}
	if (!cli_conn(cli, &st))
		return st;
	v = virtkit_volume_create(cli->conn, argv[optind], size, format, from, from_format, &err);
	if (!v)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(virtkit_volume_json(v));
	} else {
		describe(v, what, sizeof(what));
		printf("Created volume '%s' (%s)\n", virtkit_volume_name(v), what);
	}
	virtkit_volume_free(v);
	return CLI_OK;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The instances a volume's JSON says use it, comma-separated ("-" when none). */
static void users(const virtkit_volume *v, char *buf, size_t len)
{
	json_object *o = json_tokener_parse(virtkit_volume_json(v)), *a;
	size_t n = 0;

	snprintf(buf, len, "-");
	if (json_object_object_get_ex(o, "used_by", &a))
		for (size_t i = 0; i < json_object_array_length(a) && n < len; i++)
			n += (size_t)snprintf(
			        buf + n, len - n, "%s%s", i ? "," : "",
			        json_object_get_string(json_object_array_get_idx(a, i)));
	json_object_put(o);
}

static int volume_list(struct cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"NAME",       "FORMAT", "CAPACITY",
	                                  "ALLOCATION", "BASE",   "USED BY"};
	virtkit_volume **list;
	virtkit_error *err = NULL;
	size_t n;
	int st;

	(void)argv;
	if (argc != 1)
		return cli_usage("usage: virtkit volume list");
	if (!cli_conn(cli, &st))
		return st;
	if (virtkit_volume_list(cli->conn, &list, &n, &err) < 0)
		return cli_fail(err);
	if (cli->json) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, json_tokener_parse(virtkit_volume_json(list[i])));
		cli_print_json_object(a);
		json_object_put(a);
	} else {
		struct table *t = table_new(6, hdr);
		for (size_t i = 0; i < n; i++) {
			char cap[VK_SIZE_STR_MAX], alloc[VK_SIZE_STR_MAX], used[256];
			const char *row[6] = {
			        virtkit_volume_name(list[i]),
			        virtkit_volume_format(list[i]),
			        size_str(virtkit_volume_capacity(list[i]), cap, sizeof(cap)),
			        vk_format_size_approx(virtkit_volume_allocation(list[i]), alloc,
			                              sizeof(alloc)),
			        virtkit_volume_base(list[i]) ? virtkit_volume_base(list[i]) : "-",
			        used,
			};
			users(list[i], used, sizeof(used));
			table_add(t, row);
		}
		table_print(t);
		table_free(t);
	}
	virtkit_volume_list_free(list, n);
	return CLI_OK;
}

static int volume_info(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_volume *v;
	json_object *o, *img, *x;
	char a[VK_SIZE_STR_MAX], b[VK_SIZE_STR_MAX], used[512];
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit volume info NAME");
	if (!cli_conn(cli, &st))
		return st;
	v = virtkit_volume_get(cli->conn, argv[1], &err);
	if (!v)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(virtkit_volume_json(v));
		virtkit_volume_free(v);
		return CLI_OK;
	}
	o = json_tokener_parse(virtkit_volume_json(v));
	img = json_object_object_get(o, "image");
	printf("%-14s%s\n", "Name:", virtkit_volume_name(v));
	printf("%-14s%s\n", "Pool:", jstr(o, "pool"));
	printf("%-14s%s\n", "Path:", virtkit_volume_path(v));
	printf("%-14s%s\n", "Format:", virtkit_volume_format(v));
	printf("%-14s%s (%llu bytes)\n",
	       "Capacity:", size_str(virtkit_volume_capacity(v), a, sizeof(a)),
	       (unsigned long long)virtkit_volume_capacity(v));
	printf("%-14s%s\n",
	       "Allocation:", vk_format_size_approx(virtkit_volume_allocation(v), b, sizeof(b)));
	if (json_object_object_get_ex(img, "cluster-size", &x))
		printf("%-14s%s\n",
		       "Cluster size:", size_str((uint64_t)json_object_get_int64(x), a, sizeof(a)));
	if (virtkit_volume_base(v))
		printf("%-14s%s (%s)\n", "Base:", virtkit_volume_base(v),
		       jstr(json_object_object_get(o, "base"), "format"));
	if (jstr(img, "full-backing-filename"))
		printf("%-14s%s\n", "Backing file:", jstr(img, "full-backing-filename"));
	if (json_object_object_get_ex(img, "dirty-flag", &x) && json_object_get_boolean(x))
		printf("%-14s%s\n", "Dirty:", "yes (not closed cleanly)");
	printf("%-14s%s\n", "Created:", jstr(o, "created"));
	users(v, used, sizeof(used));
	printf("%-14s%s\n", "Used by:", used);
	json_object_put(o);
	virtkit_volume_free(v);
	return CLI_OK;
}

static int volume_resize(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_volume *v;
	char what[PATH_MAX + 96];
	uint64_t size;
	int st;

	if (argc != 3)
		return cli_usage("usage: virtkit volume resize NAME SIZE");
	if (parse_size(argv[2], &size) < 0)
		return CLI_USAGE;
	if (!cli_conn(cli, &st))
		return st;
	v = virtkit_volume_resize(cli->conn, argv[1], size, &err);
	if (!v)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(virtkit_volume_json(v));
	} else {
		describe(v, what, sizeof(what));
		printf("Resized volume '%s' (%s)\n", virtkit_volume_name(v), what);
	}
	virtkit_volume_free(v);
	return CLI_OK;
}

/* Each in order; the exit status is the highest of them (as undefine). */
static int volume_delete(struct cli *cli, int argc, char **argv)
{
	json_object *results;
	int worst = CLI_OK, st;

	if (argc < 2)
		return cli_usage("usage: virtkit volume delete NAME...");
	if (!cli_conn(cli, &st))
		return st;
	results = cli->json ? json_object_new_array() : NULL;
	for (int i = 1; i < argc; i++) {
		virtkit_error *err = NULL;
		const char *msg = NULL;

		st = CLI_OK;
		if (virtkit_volume_delete(cli->conn, argv[i], &err) < 0) {
			msg = err ? virtkit_error_message(err) : "out of memory";
			fprintf(stderr, "virtkit: %s\n", msg);
		} else if (!cli->json) {
			printf("Deleted volume '%s'\n", argv[i]);
		}
		if (results) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "volume", json_object_new_string(argv[i]));
			json_object_object_add(o, "action", json_object_new_string("delete"));
			json_object_object_add(o, "ok", json_object_new_boolean(!msg));
			if (msg)
				json_object_object_add(o, "error", json_object_new_string(msg));
			json_object_array_add(results, o);
		}
		if (msg)
			st = cli_exit_code(err);
		if (st > worst)
			worst = st;
	}
	if (results) {
		cli_print_json_object(results);
		json_object_put(results);
	}
	return worst;
}

int cmd_volume(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *cli, int argc, char **argv);
	} subs[] = {
	        {"create", volume_create}, {"list", volume_list},     {"info", volume_info},
	        {"resize", volume_resize}, {"delete", volume_delete},
	};

	if (argc < 2)
		return cli_usage(USAGE);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			optind = 0; /* the subcommand's options start after its name */
			return subs[i].run(cli, argc - 1, argv + 1);
		}
	}
	return cli_usage("unknown volume command '%s' (create, list, info, resize or delete)",
	                 argv[1]);
}
