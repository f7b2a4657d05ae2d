/* SPDX-License-Identifier: MIT */
/*
 * virtkit: global options, the command table and dispatch.
 *   virtkit [--socket PATH] [--format table|json] COMMAND [ARGS...]
 * The global long options are also taken anywhere after the command (up to a
 * "--"); short options after the command are the command's own (`stop -f` is
 * --force), the global -s and -f only come before it. `--help` after any
 * command prints that command's usage.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

static int cmd_version(struct cli *cli, int argc, char **argv);
static int cmd_help(struct cli *cli, int argc, char **argv);

#define NAMES "NAME|UUID..."
#define FMT   "  --format table|json   output for people (default) or one JSON document\n"

static const struct cli_command commands[] = {
        {"list", "[--all]", "list instances (running ones unless --all)",
         "  -a, --all             stopped and crashed instances too\n" FMT, cmd_list},
        {"info", "NAME|UUID", "show an instance's state and definition", FMT, cmd_info},
        {"stats", "NAME|UUID", "show a running instance's counters", FMT, cmd_stats},
        {"host", "", "show the host: KVM, architectures, CPU, memory, instances, versions", FMT,
         cmd_host},
        {"define", "FILE [--update] [--publish SPEC]...",
         "define an instance from JSON or libvirt domain XML ('-': stdin)",
         "  -u, --update          replace the definition of an instance of that name\n"
         "  -p, --publish SPEC    publish a port: [HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|udp]\n"
         "                        (JSON definitions of instances on a network)\n" FMT,
         cmd_define},
        {"launch", "FILE [--publish SPEC]... | IMAGE NAME [OPTIONS] [-- COMMAND...]",
         "define and start an instance from a definition, or from an image",
         "  -p, --publish SPEC    (FILE) publish a port (as for define)\n"
         "  -c, --cpus N          (IMAGE NAME) virtual CPUs of a VM\n"
         "  -m, --memory SIZE     (IMAGE NAME) a VM's memory, a container's limit\n"
         "  -n, --network NET     (IMAGE NAME) a VM's: user (default), none, a network's\n"
         "                        name, bridge:BRIDGE; a container's: none (default),\n"
         "                        host, a network's name, bridge:BRIDGE\n"
         "  -N, --no-start        (IMAGE NAME) define only\n" FMT,
         cmd_launch},
        {"image", "import|list|info|delete|alias ...", "manage images (VM disks, OCI images)",
         "  import FILE|DIR [--alias NAME]...   a VM image (metadata.json and its disk) or\n"
         "                        an OCI image (layout folder or archive); progress on a\n"
         "                        terminal\n"
         "  list | info IMAGE | delete IMAGE...\n"
         "  alias list | alias add ALIAS IMAGE | alias delete ALIAS\n" FMT,
         cmd_image},
        {"edit", "NAME|UUID [--xml]", "edit a definition in $EDITOR, check it and update it",
         "      --xml             edit the libvirt domain XML instead of the JSON\n", cmd_edit},
        {"undefine", NAMES, "remove stopped instances' definitions", FMT, cmd_undefine},
        {"dumpxml", "NAME|UUID", "print a VM's definition as libvirt domain XML", NULL,
         cmd_dumpxml},
        {"autostart", "NAME|UUID on|off", "start the instance when the daemon starts", FMT,
         cmd_autostart},
        {"start", NAMES, "start instances", FMT, cmd_start},
        {"stop", NAMES " [--force] [--timeout S]",
         "ask to stop (a VM's guest to power off); --force pulls the plug",
         "  -f, --force           pull the plug at once (SIGKILL), without asking\n"
         "  -t, --timeout S       seconds to wait for a graceful stop (1-3600); a VM\n"
         "                        still running then is left running (exit status 1)\n" FMT,
         cmd_stop},
        {"kill", NAMES, "stop instances at once", FMT, cmd_kill},
        {"restart", NAMES " [--timeout S]", "stop gracefully and start again",
         "  -t, --timeout S       seconds to wait for a graceful stop (1-3600)\n" FMT, cmd_restart},
        {"pause", NAMES, "freeze instances", FMT, cmd_pause},
        {"resume", NAMES, "thaw paused instances", FMT, cmd_resume},
        {"save", "NAME|UUID FILE", "save a VM's state to FILE (on the daemon's host); it stops",
         FMT, cmd_save},
        {"restore", "FILE", "start again the VM saved to FILE", FMT, cmd_restore},
        {"snapshot", "create|list|restore|delete NAME|UUID [SNAP]",
         "snapshots of a VM's state (read-only disks only)",
         "  snapshot create NAME [SNAP]   save the state; the VM goes on\n"
         "  snapshot list NAME | restore NAME SNAP (VM shut off) | delete NAME SNAP\n" FMT,
         cmd_snapshot},
        {"migrate", "NAME|UUID --to SOCKET [--live] [--keep-source]",
         "move a VM with its definition to another virtkitd",
         "      --to SOCKET       the destination daemon's API socket (on this host)\n"
         "      --live            copy the memory while the guest runs (default: it stops\n"
         "                        while its memory is copied, as virsh migrate)\n"
         "      --keep-source     keep the definition here, shut off (default: undefine)\n" FMT,
         cmd_migrate},
        {"console", "NAME|UUID", "attach to the console (escape: Ctrl-])", NULL, cmd_console},
        {"logs", "NAME|UUID [--tail N] [--follow]", "print the console log",
         "  -n, --tail N          the last N lines only\n"
         "  -f, --follow          keep printing what the instance writes (Ctrl-C ends)\n",
         cmd_logs},
        {"events", "[NAME|UUID] [--since SEQ] [--count N] [--timeout S]", "follow lifecycle events",
         "      --since SEQ       from after event SEQ (default: from now)\n"
         "      --count N         end after N events\n"
         "      --timeout S       end after S seconds (the count may not be reached)\n" FMT,
         cmd_events},
        {"exec", "[-i] [-t] NAME|UUID -- COMMAND [ARG...]", "run a command in a running container",
         "  -i, --interactive     forward standard input (also when it is not a terminal)\n"
         "  -t, --tty             a terminal in the container, of this one's size; Ctrl-] "
         "leaves\n",
         cmd_exec},
        {"shell", "NAME|UUID", "a shell in a running container (exec -it NAME -- /bin/sh)", NULL,
         cmd_shell},
        {"network", "create|list|info|delete|leases ...",
         "manage the networks VMs and containers share",
         "  network create NAME   a bridge with DHCP and DNS:\n"
         "      --subnet CIDR     its IPv4 subnet (default: a free 10.77.N.0/24)\n"
         "      --nat             guests reach beyond the host, masqueraded (default)\n"
         "      --isolated        guests reach the host and each other only\n"
         "      --dns-domain D    names of instances resolve as NAME.D\n"
         "      --[no-]dns-forward  ask the host's resolvers for other names (NAT default)\n"
         "  network list, info NAME, delete NAME..., leases NAME\n" FMT,
         cmd_network},
        {"volume", "create|list|info|resize|delete ...",
         "manage the volumes of the storage pool 'default'",
         "  volume create NAME --size SIZE [--format qcow2|raw]   a new image (qcow2 default)\n"
         "  volume create NAME --from BASE [--from-format raw|qcow2] [--size SIZE]\n"
         "                        a linked clone: a qcow2 overlay on BASE (a volume, or\n"
         "                        an image file's path; a file with a qcow2 header needs\n"
         "                        --from-format)\n"
         "  volume list | info NAME | resize NAME SIZE (grow) | delete NAME...\n" FMT,
         cmd_volume},
        {"trust", "list|add FILE|remove FINGERPRINT|token NAME|revoke-token NAME",
         "client certificates the daemon's TLS listener trusts, and join tokens",
         "      --name NAME       add: the name the certificate gets (default: its CN)\n"
         "      --expiry D        token: how long it is valid (90s, 30m, 12h, 7d; default "
         "1d)\n" FMT,
         cmd_trust},
        {"remote", "add NAME URL|list|remove NAME|switch NAME",
         "daemons on other hosts, reached over TLS (then: NAME:INSTANCE, NAME:)",
         "      --token TOKEN     add: join with a token from 'virtkit trust token'\n"
         "      --accept-certificate\n"
         "                        add: accept the server's certificate without asking\n" FMT,
         cmd_remote},
        {"ui", "[REMOTE:] [--port N] [--web DIR]",
         "serve the web console on 127.0.0.1 (prints its one-time address)",
         "      --port N          the port (default: any free one)\n"
         "      --web DIR         the console's files (default: make web's, or installed)\n",
         cmd_ui},
        {"version", "", "print the client and daemon versions", FMT, cmd_version},
        {"help", "[COMMAND]", "this list, or a command's usage", NULL, cmd_help},
};

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: virtkit [--socket PATH] [--format table|json] COMMAND [ARGS...]\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-44s %s\n", left, commands[i].summary);
	}
	fprintf(f,
	        "\n'virtkit COMMAND --help' shows a command's options. --socket and --format may\n"
	        "also follow the command. An instance is named by its name or its UUID, on a\n"
	        "remote as REMOTE:NAME; 'REMOTE:' alone picks the remote of any command.\n"
	        "The daemon's socket: --socket, else $VIRTKIT_SOCKET, else %s.\n"
	        "Exit status: 0 ok, 1 failed, 2 usage, 3 daemon unreachable, 4 not found,\n"
	        "5 wrong state or name taken (exec: the command's status; several instances:\n"
	        "the highest status of them).\n",
	        VIRTKIT_DEFAULT_SOCKET);
}

static void command_usage(const struct cli_command *c, FILE *f)
{
	fprintf(f, "Usage: virtkit %s %s\n%c%s.\n", c->name, c->args, c->summary[0] - 32,
	        c->summary + 1);
	fprintf(f,
	        "\nOptions:\n%s      --socket PATH     the daemon's socket\n"
	        "  -h, --help            this text\n",
	        c->options ? c->options : "");
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *c;

	(void)cli;
	if (argc > 2)
		return cli_usage("usage: virtkit help [COMMAND]");
	if (argc == 2) {
		c = find_command(argv[1]);
		if (!c)
			return cli_usage("unknown command '%s'", argv[1]);
		command_usage(c, stdout);
		return CLI_OK;
	}
	usage(stdout);
	return CLI_OK;
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	json_object *info = NULL, *v;
	char *text = NULL;
	int st = CLI_OK;

	(void)argv;
	if (argc != 1)
		return cli_usage("version takes no operands");
	if (!cli->json)
		printf("virtkit client %s\n", VIRTKIT_VERSION);
	if (!cli_conn(cli, &st)) {
		if (!cli->json)
			return st;
	} else if (!(text = virtkit_server_info(cli->conn, &err))) {
		st = cli_fail(err);
	} else {
		info = json_tokener_parse(text);
	}
	if (cli->json) {
		json_object *o = json_object_new_object(), *client = json_object_new_object();

		json_object_object_add(client, "version", json_object_new_string(VIRTKIT_VERSION));
		json_object_object_add(o, "client", client);
		json_object_object_add(o, "daemon", info ? json_object_get(info) : NULL);
		cli_print_json_object(o);
		json_object_put(o);
	} else if (info) {
		printf("daemon at %s: %s %s, API %s",
		       cli->conn ? virtkit_conn_socket(cli->conn) : "?",
		       json_object_object_get_ex(info, "server", &v) ? json_object_get_string(v)
		                                                     : "virtkitd",
		       json_object_object_get_ex(info, "version", &v) ? json_object_get_string(v)
		                                                      : "?",
		       json_object_object_get_ex(info, "api_version", &v)
		               ? json_object_get_string(v)
		               : "?");
		if (json_object_object_get_ex(info, "pid", &v))
			printf(", pid %d", json_object_get_int(v));
		printf("\n");
	}
	json_object_put(info);
	free(text);
	return st;
}

virtkit_conn *cli_conn(struct cli *cli, int *status)
{
	virtkit_error *err = NULL;

	if (cli->conn)
		return cli->conn;
	/* A REMOTE: prefix, else --socket, else the default remote ("local": the socket). */
	if (cli->remote || !cli->socket)
		cli->conn = virtkit_connect_remote(cli->remote, &err);
	else
		cli->conn = virtkit_connect(cli->socket, &err);
	if (!cli->conn)
		*status = cli_fail(err);
	return cli->conn;
}

void cli_print_error(const char *msg)
{
	/* One prefix per line: a refused document's problems come one per line. */
	for (const char *p = msg;;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "virtkit: %.*s\n", (int)n, p);
		if (!p[n])
			break;
		p += n + 1;
	}
}

int cli_fail(virtkit_error *err)
{
	cli_print_error(err ? virtkit_error_message(err) : "out of memory");
	return cli_exit_code(err);
}

void cli_print_warnings(const virtkit_instance *i)
{
	json_object *o = json_tokener_parse(virtkit_instance_json(i)), *w;

	if (json_object_object_get_ex(o, "warnings", &w))
		for (size_t k = 0; k < json_object_array_length(w); k++)
			fprintf(stderr, "virtkit: warning: %s\n",
			        json_object_get_string(json_object_array_get_idx(w, k)));
	json_object_put(o);
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

void cli_print_json_object(json_object *o)
{
	cli_print_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cli_getopt(int argc, char **argv, const char *shortopts, const void *longopts)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "+%s", shortopts);
	opterr = 1;
	return getopt_long(argc, argv, buf, longopts, NULL);
}

int cli_getopt_any(int argc, char **argv, const char *shortopts, const void *longopts)
{
	opterr = 1;
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

static int set_format(struct cli *cli, const char *v)
{
	if (strcmp(v, "json") == 0)
		cli->json = true;
	else if (strcmp(v, "table") == 0)
		cli->json = false;
	else {
		cli_usage("unknown format '%s' (table or json)", v);
		return -1;
	}
	return 0;
}

/* argv[i] is --format (=)qcow2 or raw: an image format (volume create), not an output format. */
static bool image_format_option(int argc, char **argv, int i)
{
	const char *v = strncmp(argv[i], "--format=", 9) == 0              ? argv[i] + 9
	                : strcmp(argv[i], "--format") == 0 && i + 1 < argc ? argv[i + 1]
	                                                                   : NULL;

	return v && (strcmp(v, "qcow2") == 0 || strcmp(v, "raw") == 0);
}

/*
 * Take the global long options out of a command's arguments (up to "--") and
 * answer --help. Returns the new argc, or -1 (usage error) / -2 (help shown).
 */
static int take_global_options(struct cli *cli, const struct cli_command *c, int argc, char **argv)
{
	int out = 1, operands = 0, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		bool socket = false;

		/* exec NAME COMMAND...: what follows NAME is the command's, options and all. */
		if (strcmp(a, "--") == 0 || (c->run == cmd_exec && operands == 1)) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			command_usage(c, stdout);
			return -2;
		}
		if (c->run == cmd_volume && image_format_option(argc, argv, i)) {
			/* volume create --format qcow2|raw: the image's format, not the output's. */
			argv[out++] = argv[i];
			if (strcmp(a, "--format") == 0)
				argv[out++] = argv[++i];
			continue;
		}
		if (strcmp(a, "--format") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc) {
				cli_usage("option '%s' needs a value", a);
				return -1;
			}
			socket = a[2] == 's';
			v = argv[++i];
		} else if (strncmp(a, "--format=", 9) == 0) {
			v = a + 9;
		} else if (strncmp(a, "--socket=", 9) == 0) {
			socket = true;
			v = a + 9;
		} else {
			operands += a[0] != '-';
			argv[out++] = argv[i];
			continue;
		}
		if (socket)
			cli->socket = v;
		else if (set_format(cli, v) < 0)
			return -1;
	}
	argv[out] = NULL;
	return out;
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
	const struct cli_command *cmd;
	struct cli cli = {0};
	const char *fmt = getenv("VIRTKIT_FORMAT");
	int c, r;

	if (fmt && strcmp(fmt, "json") == 0)
		cli.json = true;
	while ((c = getopt_long(argc, argv, "+hs:f:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli.socket = optarg;
			break;
		case 'f':
			if (set_format(&cli, optarg) < 0)
				return CLI_USAGE;
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
	cmd = find_command(argv[optind]);
	if (!cmd)
		return cli_usage("unknown command '%s'", argv[optind]);
	/* The command sees argv[0] = its name; options restart at 1. */
	argc -= optind;
	argv += optind;
	argc = take_global_options(&cli, cmd, argc, argv);
	if (argc < 0)
		return argc == -2 ? CLI_OK : CLI_USAGE;
	if (cmd->run != cmd_remote && cmd->run != cmd_help &&
	    (argc = cli_take_remote(&cli, cmd, argc, argv)) < 0)
		return CLI_USAGE;
	optind = 0;
	r = cmd->run(&cli, argc, argv);
	virtkit_disconnect(cli.conn);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "virtkit: cannot write the output\n");
		return CLI_FAIL;
	}
	return r;
}
