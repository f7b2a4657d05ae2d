/* SPDX-License-Identifier: MIT */
/* virtkit define, launch, undefine, dumpxml, autostart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define DEF_FILE_MAX (16u << 20)

/* A whole file, or standard input for "-". */
static char *read_input(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "virtkit: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;
		if (n + 4096 + 1 > cap) {
			char *p;
			cap = cap ? cap * 2 : 8192;
			p = cap > DEF_FILE_MAX ? NULL : realloc(buf, cap);
			if (!p) {
				fprintf(stderr, "virtkit: '%s' is too large\n", path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				fprintf(stderr, "virtkit: cannot read '%s': %s\n", path,
				        strerror(errno));
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static int define_file(struct cli *cli, const char *path, bool start)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	size_t len;
	char *data;
	int st;

	if (!cli_conn(cli, &st))
		return st;
	data = read_input(path, &len);
	if (!data)
		return CLI_FAIL;
	i = virtkit_instance_define(cli->conn, data, len, &err);
	free(data);
	if (!i)
		return cli_fail(err);
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
		printf("%s instance '%s' (%s)\n", start ? "Launched" : "Defined",
		       virtkit_instance_name(i), virtkit_instance_uuid(i));
	virtkit_instance_free(i);
	return CLI_OK;
}

int cmd_define(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage("usage: virtkit define FILE");
	return define_file(cli, argv[1], false);
}

int cmd_launch(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage("usage: virtkit launch FILE");
	return define_file(cli, argv[1], true);
}

int cmd_undefine(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit undefine NAME");
	if (!cli_conn(cli, &st))
		return st;
	if (virtkit_instance_undefine(cli->conn, argv[1], &err) < 0)
		return cli_fail(err);
	if (!cli->json)
		printf("Undefined instance '%s'\n", argv[1]);
	return CLI_OK;
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
