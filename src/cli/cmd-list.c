/* SPDX-License-Identifier: MIT */
/* virtkit list, info, stats. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static bool active(const char *state)
{
	return strcmp(state, "shutoff") != 0 && strcmp(state, "crashed") != 0;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
	static const char *const hdr[] = {"NAME", "TYPE", "STATE", "REASON", "AUTOSTART"};
	virtkit_instance **list;
	virtkit_error *err = NULL;
	bool all = false;
	size_t n, i;
	int c, st;

	while ((c = cli_getopt(argc, argv, "a", opts)) != -1) {
		if (c != 'a')
			return CLI_USAGE;
		all = true;
	}
	if (optind != argc)
		return cli_usage("list takes no operands");
	if (!cli_conn(cli, &st))
		return st;
	if (virtkit_instance_list(cli->conn, &list, &n, &err) < 0)
		return cli_fail(err);
	if (cli->json) {
		json_object *a = json_object_new_array();
		for (i = 0; i < n; i++)
			if (all || active(virtkit_instance_state(list[i])))
				json_object_array_add(
				        a, json_tokener_parse(virtkit_instance_json(list[i])));
		cli_print_json(json_object_to_json_string_ext(a, JSON_FLAGS));
		json_object_put(a);
	} else {
		struct table *t = table_new(5, hdr);
		for (i = 0; i < n; i++) {
			const char *row[5];
			if (!all && !active(virtkit_instance_state(list[i])))
				continue;
			row[0] = virtkit_instance_name(list[i]);
			row[1] = virtkit_instance_type(list[i]);
			row[2] = virtkit_instance_state(list[i]);
			row[3] = virtkit_instance_reason(list[i]);
			row[4] = virtkit_instance_autostart(list[i]) ? "yes" : "no";
			table_add(t, row);
		}
		table_print(t);
		table_free(t);
	}
	virtkit_instance_list_free(list, n);
	return CLI_OK;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	const char *s =
	        o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
	return s ? s : "";
}

static void print_size(const char *label, json_object *v)
{
	int64_t b = json_object_get_int64(v);

	if (b % (1 << 20) == 0)
		printf("%-12s%" PRId64 " MiB\n", label, b >> 20);
	else
		printf("%-12s%" PRId64 " bytes\n", label, b);
}

static void print_definition(json_object *def)
{
	json_object *v, *arr;
	size_t i;

	if (strcmp(jstr(def, "type"), "vm") == 0) {
		printf("%-12s%s (%s)\n", "Arch:", jstr(def, "arch"), jstr(def, "accel"));
		if (json_object_object_get_ex(def, "memory", &v))
			print_size("Memory:", v);
		printf("%-12s%s\n", "CPUs:", jstr(def, "cpus"));
		printf("%-12s%s\n", "Kernel:", jstr(def, "kernel"));
		if (*jstr(def, "initrd"))
			printf("%-12s%s\n", "Initrd:", jstr(def, "initrd"));
		if (*jstr(def, "cmdline"))
			printf("%-12s%s\n", "Cmdline:", jstr(def, "cmdline"));
		arr = json_object_object_get(def, "disks");
		for (i = 0; arr && i < json_object_array_length(arr); i++)
			printf("%-12s%s\n",
			       i ? "" : "Disks:", jstr(json_object_array_get_idx(arr, i), "path"));
		arr = json_object_object_get(def, "networks");
		for (i = 0; arr && i < json_object_array_length(arr); i++)
			printf("%-12s%s\n", i ? "" : "Networks:",
			       jstr(json_object_array_get_idx(arr, i), "type"));
	} else {
		json_object *p = json_object_object_get(def, "process");
		printf("%-12s%s\n", *jstr(def, "rootfs") ? "Rootfs:" : "Bundle:",
		       *jstr(def, "rootfs") ? jstr(def, "rootfs") : jstr(def, "bundle"));
		if (p && (arr = json_object_object_get(p, "args"))) {
			printf("%-12s", "Command:");
			for (i = 0; i < json_object_array_length(arr); i++)
				printf("%s%s", i ? " " : "",
				       json_object_get_string(json_object_array_get_idx(arr, i)));
			printf("\n");
		}
	}
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	json_object *o;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit info NAME");
	if (!cli_conn(cli, &st))
		return st;
	i = virtkit_instance_get(cli->conn, argv[1], &err);
	if (!i)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(virtkit_instance_json(i));
	} else {
		o = json_tokener_parse(virtkit_instance_json(i));
		printf("%-12s%s\n", "Name:", virtkit_instance_name(i));
		printf("%-12s%s\n", "UUID:", virtkit_instance_uuid(i));
		printf("%-12s%s\n", "Type:", virtkit_instance_type(i));
		printf("%-12s%s (%s)\n", "State:", virtkit_instance_state(i),
		       virtkit_instance_reason(i));
		printf("%-12s%s\n", "Autostart:", virtkit_instance_autostart(i) ? "yes" : "no");
		if (virtkit_instance_pid(i))
			printf("%-12s%d\n", "PID:", (int)virtkit_instance_pid(i));
		print_definition(json_object_object_get(o, "definition"));
		json_object_put(o);
	}
	virtkit_instance_free(i);
	return CLI_OK;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	json_object *o;
	char *s;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit stats NAME");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_instance_stats(cli->conn, argv[1], &err);
	if (!s)
		return cli_fail(err);
	o = cli->json ? NULL : json_tokener_parse(s);
	if (!json_object_is_type(o, json_type_object)) {
		cli_print_json(s); /* --format json, or not an object: as it came */
	} else {
		json_object_object_foreach(o, key, val)
		{
			printf("%-12s%s\n", key, json_object_get_string(val));
		}
	}
	json_object_put(o);
	free(s);
	return CLI_OK;
}
