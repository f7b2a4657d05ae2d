/* SPDX-License-Identifier: MIT */
/*
 * virtkit save, restore and snapshot: a VM's state to a file and back.
 *   save NAME FILE          the VM's state to FILE (on the daemon's host), and it stops
 *   restore FILE            the instance saved to FILE runs again from there
 *   snapshot create NAME [SNAP] | list NAME | restore NAME SNAP | delete NAME SNAP
 *   migrate NAME --to SOCKET [--live] [--keep-source]   the VM moves to another virtkitd
 * A relative FILE or SOCKET is made absolute here, since the daemon has its own working
 * folder.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/util.h"

/* FILE as an absolute path in buf; -1 after printing why. */
static int absolute(const char *file, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (file[0] == '/') {
		if (strlen(file) >= len)
			return cli_usage("'%s' is too long", file), -1;
		snprintf(buf, len, "%s", file);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "virtkit: cannot find the current folder: %m\n");
		return -1;
	}
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, file) >= len)
		return cli_usage("'%s' is too long", file), -1;
	return 0;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	char path[PATH_MAX], *reply;
	int st;

	if (argc != 3)
		return cli_usage("usage: virtkit save NAME|UUID FILE");
	if (absolute(argv[2], path, sizeof(path)) < 0)
		return CLI_USAGE;
	if (!cli_conn(cli, &st))
		return st;
	reply = virtkit_instance_save(cli->conn, argv[1], path, &err);
	if (!reply)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(reply);
	} else {
		json_object *o = json_tokener_parse(reply), *v;
		long long bytes =
		        json_object_object_get_ex(o, "bytes", &v) ? json_object_get_int64(v) : 0;
		char sz[VK_SIZE_STR_MAX];

		printf("Saved '%s' to %s (%s); it is stopped\n", argv[1], path,
		       vk_format_size((uint64_t)bytes, sz, sizeof(sz)));
		if (json_object_object_get_ex(o, "warning", &v))
			fprintf(stderr, "virtkit: warning: %s\n", json_object_get_string(v));
		json_object_put(o);
	}
	free(reply);
	return CLI_OK;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	char path[PATH_MAX];
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit restore FILE");
	if (absolute(argv[1], path, sizeof(path)) < 0)
		return CLI_USAGE;
	if (!cli_conn(cli, &st))
		return st;
	i = virtkit_restore(cli->conn, path, &err);
	if (!i)
		return cli_fail(err);
	if (cli->json)
		cli_print_json(virtkit_instance_json(i));
	else
		printf("Restored '%s' from %s\n", virtkit_instance_name(i), path);
	virtkit_instance_free(i);
	return CLI_OK;
}

static int snapshot_list(struct cli *cli, const char *name)
{
	virtkit_error *err = NULL;
	char *text = virtkit_snapshot_list(cli->conn, name, &err);
	json_object *o, *a;

	if (!text)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(text);
		free(text);
		return CLI_OK;
	}
	o = json_tokener_parse(text);
	free(text);
	printf("%-32s %-20s %s\n", "NAME", "CREATED (UTC)", "SIZE");
	if (json_object_object_get_ex(o, "snapshots", &a))
		for (size_t k = 0; k < json_object_array_length(a); k++) {
			json_object *s = json_object_array_get_idx(a, k);
			time_t t = (time_t)(json_object_get_int64(
			                            json_object_object_get(s, "created_ms")) /
			                    1000);
			char when[32], sz[VK_SIZE_STR_MAX];
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%-32s %-20s %s\n",
			       json_object_get_string(json_object_object_get(s, "name")), when,
			       vk_format_size((uint64_t)json_object_get_int64(
			                              json_object_object_get(s, "bytes")),
			                      sz, sizeof(sz)));
		}
	json_object_put(o);
	return CLI_OK;
}

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	const char *sub, *name, *snap;
	int st, r;

	if (argc < 3 || argc > 4)
		return cli_usage("usage: virtkit snapshot create NAME [SNAP] | list NAME | restore "
		                 "NAME SNAP | delete NAME SNAP");
	sub = argv[1];
	name = argv[2];
	snap = argc == 4 ? argv[3] : NULL;
	if ((strcmp(sub, "list") == 0 && snap) ||
	    ((strcmp(sub, "restore") == 0 || strcmp(sub, "delete") == 0) && !snap))
		return cli_usage("usage: virtkit snapshot %s NAME%s", sub,
		                 strcmp(sub, "create") == 0 ? " [SNAP]"
		                 : strcmp(sub, "list") == 0 ? ""
		                                            : " SNAP");
	if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "restore") &&
	    strcmp(sub, "delete"))
		return cli_usage("unknown snapshot command '%s' (create, list, restore, delete)",
		                 sub);
	if (!cli_conn(cli, &st))
		return st;
	if (strcmp(sub, "list") == 0)
		return snapshot_list(cli, name);
	if (strcmp(sub, "create") == 0) {
		char *text = virtkit_snapshot_create(cli->conn, name, snap, &err);
		json_object *o;

		if (!text)
			return cli_fail(err);
		if (cli->json) {
			cli_print_json(text);
		} else {
			o = json_tokener_parse(text);
			printf("Created snapshot '%s' of '%s'\n",
			       json_object_get_string(json_object_object_get(o, "name")), name);
			json_object_put(o);
		}
		free(text);
		return CLI_OK;
	}
	r = strcmp(sub, "restore") == 0 ? virtkit_snapshot_restore(cli->conn, name, snap, &err)
	                                : virtkit_snapshot_delete(cli->conn, name, snap, &err);
	if (r < 0)
		return cli_fail(err);
	if (!cli->json)
		printf("%s snapshot '%s' of '%s'\n",
		       strcmp(sub, "restore") == 0 ? "Restored" : "Deleted", snap, name);
	else
		printf("{}\n");
	return CLI_OK;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"to", required_argument, NULL, 'T'},
	        {"live", no_argument, NULL, 'l'},
	        {"keep-source", no_argument, NULL, 'k'},
	        {NULL, 0, NULL, 0},
	};
	virtkit_error *err = NULL;
	char to[PATH_MAX], *reply;
	const char *dest = NULL;
	unsigned flags = 0;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "", opts)) != -1) {
		if (c == 'T')
			dest = optarg;
		else if (c == 'l')
			flags |= VIRTKIT_MIGRATE_LIVE;
		else if (c == 'k')
			flags |= VIRTKIT_MIGRATE_KEEP_SOURCE;
		else
			return CLI_USAGE;
	}
	if (optind != argc - 1 || !dest)
		return cli_usage("usage: virtkit migrate NAME|UUID --to SOCKET [--live] "
		                 "[--keep-source]");
	if (absolute(dest, to, sizeof(to)) < 0)
		return CLI_USAGE;
	if (!cli_conn(cli, &st))
		return st;
	reply = virtkit_instance_migrate(cli->conn, argv[optind], to, flags, &err);
	if (!reply)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(reply);
	} else {
		json_object *o = json_tokener_parse(reply), *v;
		long long bytes =
		        json_object_object_get_ex(o, "bytes", &v) ? json_object_get_int64(v) : 0;
		double down = json_object_object_get_ex(o, "downtime_ms", &v)
		                      ? json_object_get_double(v)
		                      : 0;
		char sz[VK_SIZE_STR_MAX];

		printf("Migrated '%s' to %s (%s sent, %.1f ms stopped); %s here\n", argv[optind],
		       to, vk_format_size((uint64_t)bytes, sz, sizeof(sz)), down,
		       flags & VIRTKIT_MIGRATE_KEEP_SOURCE ? "its definition stays"
		                                           : "it is undefined");
		if (json_object_object_get_ex(o, "warning", &v))
			fprintf(stderr, "virtkit: warning: %s\n", json_object_get_string(v));
		json_object_put(o);
	}
	free(reply);
	return CLI_OK;
}
