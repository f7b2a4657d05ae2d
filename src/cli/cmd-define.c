/* SPDX-License-Identifier: MIT */
/* virtkit define, launch, dumpxml, autostart (edit: cmd-edit.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

#define PUBLISH_OPTS_MAX 32

/* --publish SPEC...: added to a JSON definition's "publish" list (the daemon checks them). */
static char *add_publish(char *data, size_t *len, char *const *pub, size_t npub)
{
	json_object *o, *list;
	const char *text;
	char *out;

	if (npub == 0)
		return data;
	o = json_tokener_parse(data);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		free(data);
		fprintf(stderr, "virtkit: --publish needs a JSON definition (in domain XML, ports "
		                "are <virtkit:publish> metadata)\n");
		return NULL;
	}
	if (!json_object_object_get_ex(o, "publish", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		list = json_object_new_array();
		json_object_object_add(o, "publish", list);
	}
	for (size_t k = 0; k < npub; k++)
		json_object_array_add(list, json_object_new_string(pub[k]));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
	out = strdup(text);
	*len = out ? strlen(out) : 0;
	json_object_put(o);
	free(data);
	return out;
}

/* Operands of launch, the option values (-p SPEC, --cpus N, ...) left out; "--" ends them. */
static int launch_operands(int argc, char **argv)
{
	static const char *const valued[] = {"-p",       "--publish", "-c",        "--cpus", "-m",
	                                     "--memory", "-n",        "--network", NULL};
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-' || !argv[i][1]) {
			n++;
			continue;
		}
		for (const char *const *v = valued; *v; v++)
			if (!strcmp(argv[i], *v)) {
				i++;
				break;
			}
	}
	return n;
}

static int define_file(struct cli *cli, const char *path, bool start, bool update, char *const *pub,
                       size_t npub)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	size_t len;
	char *data;
	int st;

	if (!cli_conn(cli, &st))
		return st;
	data = cli_read_file(path, &len);
	if (data)
		data = add_publish(data, &len, pub, npub);
	if (!data)
		return CLI_FAIL;
	i = virtkit_instance_define_flags(cli->conn, data, len, update ? VIRTKIT_DEFINE_UPDATE : 0,
	                                  &err);
	free(data);
	if (!i)
		return cli_fail(err);
	if (!cli->json)
		cli_print_warnings(i);
	if (start && virtkit_instance_start(cli->conn, virtkit_instance_name(i), &err) < 0) {
		/* One sentence: why it did not start, and that the definition stays. */
		fprintf(stderr, "virtkit: %s (instance '%s' stays defined)\n",
		        err ? virtkit_error_message(err) : "out of memory",
		        virtkit_instance_name(i));
		virtkit_instance_free(i);
		return cli_exit_code(err);
	}
	if (cli->json)
		cli_print_json(virtkit_instance_json(i));
	else
		printf("%s instance '%s' (%s)\n",
		       start                         ? "Launched"
		       : virtkit_instance_updated(i) ? "Updated"
		                                     : "Defined",
		       virtkit_instance_name(i), virtkit_instance_uuid(i));
	virtkit_instance_free(i);
	return CLI_OK;
}

/* define FILE [--update] [--publish SPEC]..., launch FILE [--publish SPEC]... */
static int define_or_launch(struct cli *cli, int argc, char **argv, bool launch)
{
	static const struct option opts[] = {{"update", no_argument, NULL, 'u'},
	                                     {"publish", required_argument, NULL, 'p'},
	                                     {NULL, 0, NULL, 0}};
	char *pub[PUBLISH_OPTS_MAX];
	size_t npub = 0;
	bool update = false;
	int c;

	while ((c = cli_getopt_any(argc, argv, launch ? "p:" : "up:", opts)) != -1) {
		if (c == 'u' && !launch) {
			update = true;
		} else if (c == 'p' && npub < PUBLISH_OPTS_MAX) {
			pub[npub++] = optarg;
		} else {
			if (c == 'p')
				return cli_usage("at most %d --publish options", PUBLISH_OPTS_MAX);
			return CLI_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage(
		        launch ? "usage: virtkit launch FILE [--publish SPEC]..."
		               : "usage: virtkit define FILE [--update] [--publish SPEC]...");
	return define_file(cli, argv[optind], launch, update, pub, npub);
}

int cmd_define(struct cli *cli, int argc, char **argv)
{
	return define_or_launch(cli, argc, argv, false);
}

int cmd_launch(struct cli *cli, int argc, char **argv)
{
	/* launch FILE [--publish SPEC]... defines and starts a definition; launch IMAGE NAME ...
	 * (two operands) makes an instance from an image (cmd-image.c). */
	if (launch_operands(argc, argv) >= 2)
		return cmd_launch_image(cli, argc, argv);
	return define_or_launch(cli, argc, argv, true);
}

int cmd_dumpxml(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	char *xml;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit dumpxml NAME");
	if (!cli_conn(cli, &st))
		return st;
	xml = virtkit_instance_xml(cli->conn, argv[1], &err);
	if (!xml)
		return cli_fail(err);
	fputs(xml, stdout);
	free(xml);
	return CLI_OK;
}

int cmd_autostart(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	int on, st;

	if (argc != 3 || (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0))
		return cli_usage("usage: virtkit autostart NAME on|off");
	on = strcmp(argv[2], "on") == 0;
	if (!cli_conn(cli, &st))
		return st;
	if (virtkit_instance_set_autostart(cli->conn, argv[1], on, &err) < 0)
		return cli_fail(err);
	if (!cli->json)
		printf("Autostart %s for instance '%s'\n", on ? "on" : "off", argv[1]);
	return CLI_OK;
}
