/* SPDX-License-Identifier: MIT */
/*
 * virtkit image import|list|info|delete|alias, and `virtkit launch IMAGE NAME`
 * (launch FILE, with one operand, is cmd-define.c's). Progress of imports and
 * launches goes to standard error as one rewritten line when it is a
 * terminal, nowhere otherwise.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"

#define JSON_FLAGS  (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define ALIASES_MAX 16
#define ARGS_MAX    256

/* --- progress on a terminal ------------------------------------------------------------------ */

struct bar {
	bool shown;
};

static void human(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", (double)b / (1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(buf, len, "%.1f MiB", (double)b / (1ull << 20));
	else
		snprintf(buf, len, "%" PRIu64 " KiB", b >> 10);
}

static void show_progress(void *opaque, const char *stage, uint64_t done, uint64_t total,
                          int percent)
{
	struct bar *b = opaque;
	char d[32], t[32], bar[21];
	int fill = percent / 5;

	human(done, d, sizeof(d));
	human(total, t, sizeof(t));
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	if (total)
		fprintf(stderr, "\r%-20s [%s] %3d%%  %s of %s\033[K", stage, bar, percent, d, t);
	else
		fprintf(stderr, "\r%-20s ...\033[K", stage);
	b->shown = true;
}

static void end_progress(struct bar *b)
{
	if (b->shown)
		fprintf(stderr, "\r\033[K");
}

/* --- import, list, info, delete, alias ---------------------------------------------------------- */

static int image_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"alias", required_argument, NULL, 'a'},
	                                     {NULL, 0, NULL, 0}};
	const char *aliases[ALIASES_MAX];
	size_t nr = 0;
	virtkit_error *err = NULL;
	struct bar bar = {0};
	json_object *o, *v;
	char *resp;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "a:", opts)) != -1) {
		if (c != 'a')
			return CLI_USAGE;
		if (nr == ALIASES_MAX)
			return cli_usage("at most %d aliases", ALIASES_MAX);
		aliases[nr++] = optarg;
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit image import FILE|DIR [--alias NAME]...");
	if (!cli_conn(cli, &st))
		return st;
	resp = virtkit_image_import(cli->conn, argv[optind], aliases, nr,
	                            isatty(STDERR_FILENO) && !cli->json ? show_progress : NULL,
	                            &bar, &err);
	end_progress(&bar);
	if (!resp)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(resp);
	} else {
		o = json_tokener_parse(resp);
		printf("%s image %.12s (%s, %s)",
		       json_object_get_boolean(json_object_object_get(o, "created"))
		               ? "Imported"
		               : "Already have",
		       json_object_get_string(json_object_object_get(o, "fingerprint")),
		       json_object_get_string(json_object_object_get(o, "type")),
		       json_object_get_string(json_object_object_get(o, "arch")));
		if (json_object_object_get_ex(o, "aliases", &v) &&
		    json_object_array_length(v) > 0) {
			printf(" as");
			for (size_t i = 0; i < json_object_array_length(v); i++)
				printf(" %s",
				       json_object_get_string(json_object_array_get_idx(v, i)));
		}
		printf("\n");
		json_object_put(o);
	}
	free(resp);
	return CLI_OK;
}

static void join(json_object *a, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; a && i < json_object_array_length(a) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
		                         json_object_get_string(json_object_array_get_idx(a, i)));
}

static int image_list(struct cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"ALIASES", "FINGERPRINT", "TYPE",
	                                  "ARCH",    "SIZE",        "USED BY"};
	virtkit_error *err = NULL;
	json_object *o, *a;
	struct table *t;
	char *resp;
	int st;

	(void)argv;
	if (argc != 1)
		return cli_usage("image list takes no operands");
	if (!cli_conn(cli, &st))
		return st;
	if (!(resp = virtkit_image_list(cli->conn, &err)))
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(resp);
		free(resp);
		return CLI_OK;
	}
	o = json_tokener_parse(resp);
	free(resp);
	a = json_object_object_get(o, "images");
	t = table_new(6, hdr);
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *img = json_object_array_get_idx(a, i);
		char aliases[256], users[256], fp[13], size[32];
		const char *row[6];
		join(json_object_object_get(img, "aliases"), aliases, sizeof(aliases));
		join(json_object_object_get(img, "used_by"), users, sizeof(users));
		snprintf(fp, sizeof(fp), "%s",
		         json_object_get_string(json_object_object_get(img, "fingerprint")));
		human((uint64_t)json_object_get_int64(json_object_object_get(img, "size")), size,
		      sizeof(size));
		row[0] = aliases[0] ? aliases : "-";
		row[1] = fp;
		row[2] = json_object_get_string(json_object_object_get(img, "type"));
		row[3] = json_object_get_string(json_object_object_get(img, "arch"));
		row[4] = size;
		row[5] = users[0] ? users : "-";
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	json_object_put(o);
	return CLI_OK;
}

static int image_info(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	json_object *o;
	char *resp;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit image info IMAGE");
	if (!cli_conn(cli, &st))
		return st;
	if (!(resp = virtkit_image_get(cli->conn, argv[1], &err)))
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(resp);
	} else {
		o = json_tokener_parse(resp);
		printf("%s\n",
		       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	free(resp);
	return CLI_OK;
}

static int image_delete(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	int st = CLI_OK, worst = CLI_OK;

	if (argc < 2)
		return cli_usage("usage: virtkit image delete IMAGE...");
	if (!cli_conn(cli, &st))
		return st;
	for (int i = 1; i < argc; i++) {
		if (virtkit_image_delete(cli->conn, argv[i], &err) < 0) {
			st = cli_fail(err);
			err = NULL;
			worst = st > worst ? st : worst;
		} else if (!cli->json) {
			printf("Deleted image '%s'\n", argv[i]);
		}
	}
	return worst;
}

static int image_alias(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	char *resp;
	int st;

	if (argc >= 2 && !strcmp(argv[1], "list") && argc == 2) {
		json_object *o, *a;
		if (!cli_conn(cli, &st))
			return st;
		if (!(resp = virtkit_image_aliases(cli->conn, &err)))
			return cli_fail(err);
		if (cli->json) {
			cli_print_json(resp);
		} else {
			static const char *const hdr[] = {"ALIAS", "FINGERPRINT"};
			struct table *t = table_new(2, hdr);
			o = json_tokener_parse(resp);
			a = json_object_object_get(o, "aliases");
			for (size_t i = 0; a && i < json_object_array_length(a); i++) {
				json_object *e = json_object_array_get_idx(a, i);
				const char *row[2] = {
				        json_object_get_string(json_object_object_get(e, "name")),
				        json_object_get_string(
				                json_object_object_get(e, "target"))};
				table_add(t, row);
			}
			table_print(t);
			table_free(t);
			json_object_put(o);
		}
		free(resp);
		return CLI_OK;
	}
	if (argc == 4 && !strcmp(argv[1], "add")) {
		if (!cli_conn(cli, &st))
			return st;
		if (virtkit_image_alias_add(cli->conn, argv[2], argv[3], &err) < 0)
			return cli_fail(err);
		if (!cli->json)
			printf("Alias '%s' names image '%s'\n", argv[2], argv[3]);
		return CLI_OK;
	}
	if (argc == 3 && !strcmp(argv[1], "delete")) {
		if (!cli_conn(cli, &st))
			return st;
		if (virtkit_image_alias_delete(cli->conn, argv[2], &err) < 0)
			return cli_fail(err);
		if (!cli->json)
			printf("Deleted alias '%s'\n", argv[2]);
		return CLI_OK;
	}
	return cli_usage("usage: virtkit image alias list | add ALIAS IMAGE | delete ALIAS");
}

int cmd_image(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	optind = 0;
	if (!strcmp(sub, "import"))
		return image_import(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return image_list(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "info"))
		return image_info(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return image_delete(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "alias"))
		return image_alias(cli, argc - 1, argv + 1);
	return cli_usage("usage: virtkit image import|list|info|delete|alias ...");
}

/* --- launch IMAGE NAME ---------------------------------------------------------------------------- */

int cmd_launch_image(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"cpus", required_argument, NULL, 'c'},
	        {"memory", required_argument, NULL, 'm'},
	        {"network", required_argument, NULL, 'n'},
	        {"no-start", no_argument, NULL, 'N'},
	        {NULL, 0, NULL, 0},
	};
	json_object *o = json_object_new_object(), *args = NULL;
	virtkit_error *err = NULL;
	virtkit_instance *inst;
	struct bar bar = {0};
	int c, st;
	char *end;

	while ((c = cli_getopt_any(argc, argv, "c:m:n:N", opts)) != -1) {
		switch (c) {
		case 'c': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 64) {
				json_object_put(o);
				return cli_usage("--cpus '%s' is not a number from 1 to 64",
				                 optarg);
			}
			json_object_object_add(o, "cpus", json_object_new_int((int)v));
			break;
		}
		case 'm':
			json_object_object_add(o, "memory", json_object_new_string(optarg));
			break;
		case 'n':
			json_object_object_add(o, "network", json_object_new_string(optarg));
			break;
		case 'N':
			json_object_object_add(o, "start", json_object_new_boolean(0));
			break;
		default:
			json_object_put(o);
			return CLI_USAGE;
		}
	}
	if (argc - optind < 2) {
		json_object_put(o);
		return cli_usage("usage: virtkit launch IMAGE NAME [--cpus N] [--memory SIZE] "
		                 "[--network NET] [--no-start] [-- COMMAND...]");
	}
	for (int i = optind + 2; i < argc; i++) {
		if (i == optind + 2 && !strcmp(argv[i], "--"))
			continue;
		if (!args)
			args = json_object_new_array();
		if (json_object_array_length(args) == ARGS_MAX) {
			json_object_put(o);
			json_object_put(args);
			return cli_usage("at most %d command arguments", ARGS_MAX);
		}
		json_object_array_add(args, json_object_new_string(argv[i]));
	}
	if (args)
		json_object_object_add(o, "args", args);
	if (!cli_conn(cli, &st)) {
		json_object_put(o);
		return st;
	}
	inst = virtkit_image_launch(cli->conn, argv[optind], argv[optind + 1],
	                            json_object_to_json_string_ext(o, JSON_FLAGS),
	                            isatty(STDERR_FILENO) && !cli->json ? show_progress : NULL,
	                            &bar, &err);
	end_progress(&bar);
	json_object_put(o);
	if (!inst)
		return cli_fail(err);
	if (cli->json)
		cli_print_json(virtkit_instance_json(inst));
	else
		printf("Launched %s '%s' from image '%s' (%s)\n", virtkit_instance_type(inst),
		       virtkit_instance_name(inst), argv[optind], virtkit_instance_state(inst));
	virtkit_instance_free(inst);
	return CLI_OK;
}
