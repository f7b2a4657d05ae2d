/* SPDX-License-Identifier: MIT */
/* virtkit define, launch, dumpxml, autostart (edit: cmd-edit.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int define_file(struct cli *cli, const char *path, bool start, bool update)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	size_t len;
	char *data;
	int st;

	if (!cli_conn(cli, &st))
		return st;
	data = cli_read_file(path, &len);
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

int cmd_define(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"update", no_argument, NULL, 'u'},
	                                     {NULL, 0, NULL, 0}};
	bool update = false;
	int c;

	while ((c = cli_getopt_any(argc, argv, "u", opts)) != -1) {
		if (c != 'u')
			return CLI_USAGE;
		update = true;
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit define FILE [--update]");
	return define_file(cli, argv[optind], false, update);
}

int cmd_launch(struct cli *cli, int argc, char **argv)
{
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1]))
		return cli_usage("usage: virtkit launch FILE");
	return define_file(cli, argv[1], true, false);
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
