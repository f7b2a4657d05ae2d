/* SPDX-License-Identifier: MIT */
/*
 * virtkit: global options, the command table and dispatch.
 *   virtkit [--socket PATH] [--format table|json] COMMAND [ARGS...]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(struct cli *cli, int argc, char **argv);
static int cmd_help(struct cli *cli, int argc, char **argv);

static const struct cli_command commands[] = {
        {"list", "[--all]", "list instances (running ones unless --all)", cmd_list},
        {"info", "NAME", "show an instance's state and definition", cmd_info},
        {"stats", "NAME", "show a running instance's counters", cmd_stats},
        {"define", "FILE", "define an instance from JSON or libvirt domain XML ('-': stdin)",
         cmd_define},
        {"launch", "FILE", "define and start an instance", cmd_launch},
        {"undefine", "NAME", "remove a stopped instance's definition", cmd_undefine},
        {"dumpxml", "NAME", "print a VM's definition as libvirt domain XML", cmd_dumpxml},
        {"autostart", "NAME on|off", "start the instance when the daemon starts", cmd_autostart},
        {"start", "NAME", "start an instance", cmd_start},
        {"stop", "NAME [--force] [--timeout S]", "stop gracefully, then by force", cmd_stop},
        {"kill", "NAME", "stop an instance at once", cmd_kill},
        {"restart", "NAME [--timeout S]", "stop gracefully and start again", cmd_restart},
        {"pause", "NAME", "freeze an instance", cmd_pause},
        {"resume", "NAME", "thaw a paused instance", cmd_resume},
        {"console", "NAME", "attach to the console (escape: Ctrl-])", cmd_console},
        {"logs", "NAME [--tail BYTES]", "print the console log", cmd_logs},
        {"events", "[NAME] [--since SEQ] [--count N] [--timeout S]", "follow lifecycle events",
         cmd_events},
        {"exec", "NAME -- COMMAND [ARG...]", "run a command in a running container", cmd_exec},
        {"version", "", "print the client and daemon versions", cmd_version},
        {"help", "", "this list", cmd_help},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: virtkit [--socket PATH] [--format table|json] COMMAND [ARGS...]\n\n"
	           "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-44s %s\n", left, commands[i].summary);
	}
	fprintf(f,
	        "\nThe daemon's socket: --socket, else $VIRTKIT_SOCKET, else %s.\n"
	        "Exit status: 0 ok, 1 failed, 2 usage, 3 daemon unreachable, 4 not found,\n"
	        "5 wrong state or name taken (exec: the command's status).\n",
	        VIRTKIT_DEFAULT_SOCKET);
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	usage(stdout);
	return CLI_OK;
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	char *info;
	int st;

	(void)argc;
	(void)argv;
	printf("virtkit client %s\n", VIRTKIT_VERSION);
	if (!cli_conn(cli, &st))
		return st;
	info = virtkit_server_info(cli->conn, &err);
	if (!info)
		return cli_fail(err);
	if (cli->json)
		cli_print_json(info);
	else
		printf("daemon at %s: %s", virtkit_conn_socket(cli->conn), info);
	free(info);
	return CLI_OK;
}

virtkit_conn *cli_conn(struct cli *cli, int *status)
{
	virtkit_error *err = NULL;

	if (cli->conn)
		return cli->conn;
	cli->conn = virtkit_connect(cli->socket, &err);
	if (!cli->conn)
		*status = cli_fail(err);
	return cli->conn;
}

int cli_fail(virtkit_error *err)
{
	fprintf(stderr, "virtkit: %s\n", err ? virtkit_error_message(err) : "out of memory");
	return cli_exit_code(err);
}

int cli_exit_code(virtkit_error *err)
{
	int code;

	switch (err ? virtkit_error_kind(err) : VIRTKIT_ERR_SYSTEM) {
	case VIRTKIT_ERR_CONNECT:
		code = CLI_CONNECT;
		break;
	case VIRTKIT_ERR_API:
		code = virtkit_error_status(err) == 404   ? CLI_NOTFOUND
		       : virtkit_error_status(err) == 409 ? CLI_CONFLICT
		                                          : CLI_FAIL;
		break;
	case VIRTKIT_ERR_INVALID:
		code = CLI_USAGE;
		break;
	default:
		code = CLI_FAIL;
		break;
	}
	virtkit_error_free(err);
	return code;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "virtkit: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'virtkit help')\n");
	return CLI_USAGE;
}

void cli_print_json(const char *json)
{
	size_t n = strlen(json);

	fputs(json, stdout);
	if (!n || json[n - 1] != '\n')
		putchar('\n');
}

int cli_getopt(int argc, char **argv, const char *shortopts, const void *longopts)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "+%s", shortopts);
	opterr = 1;
	return getopt_long(argc, argv, buf, longopts, NULL);
}

const char *cli_leading_name(int *argc, char ***argv)
{
	const char *name;

	if (*argc < 2 || (*argv)[1][0] == '-')
		return NULL;
	name = (*argv)[1];
	(*argv)++;
	(*argc)--;
	return name;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"format", required_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	const char *fmt = getenv("VIRTKIT_FORMAT");
	size_t i;
	int c, r;

	if (fmt && strcmp(fmt, "json") == 0)
		cli.json = true;
	while ((c = getopt_long(argc, argv, "+hs:f:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.socket = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				cli.json = true;
			else if (strcmp(optarg, "table") == 0)
				cli.json = false;
			else
				return cli_usage("unknown format '%s' (table or json)", optarg);
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("virtkit %s\n", VIRTKIT_VERSION);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		/* The command sees argv[0] = its name; options restart at 1. */
		argc -= optind;
		argv += optind;
		optind = 0;
		r = commands[i].run(&cli, argc, argv);
		virtkit_disconnect(cli.conn);
		fflush(stdout);
		if (ferror(stdout)) {
			fprintf(stderr, "virtkit: cannot write the output\n");
			return CLI_FAIL;
		}
		return r;
	}
	return cli_usage("unknown command '%s'", argv[optind]);
}
