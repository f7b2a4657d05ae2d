/* SPDX-License-Identifier: MIT */
/*
 * virtkit remote add NAME https://HOST:PORT [--token T] [--accept-certificate]
 * | list | remove NAME | switch NAME, and the REMOTE: prefixes of instance
 * names (`virtkit list host1:`, `virtkit start host1:web`).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"

/* Does the argument start with a remote's name and a colon? The name's length, or 0. */
static size_t prefix_len(const char *a)
{
	const char *colon = strchr(a, ':');
	char name[64];
	size_t n;

	if (!colon || a[0] == '-' || a[0] == '/' || a[0] == '.')
		return 0;
	n = (size_t)(colon - a);
	if (n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, a, n);
	name[n] = '\0';
	return virtkit_remote_name_valid(name) ? n : 0;
}

int cli_take_remote(struct cli *cli, const struct cli_command *c, int argc, char **argv)
{
	/* Commands whose operands name instances (exec: only its first). */
	bool names = strstr(c->args, "NAME|UUID") != NULL;
	bool exec = strcmp(c->name, "exec") == 0;
	int out = 1, operands = 0, i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		size_t n;

		if (strcmp(a, "--") == 0 || (exec && operands == 1)) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (a[0] == '-' || !(n = prefix_len(a))) {
			operands += a[0] != '-';
			argv[out++] = a;
			continue;
		}
		/* "host1:" alone names the remote for any command; "host1:web" is a name. */
		if (a[n + 1] && !names) {
			operands++;
			argv[out++] = a;
			continue;
		}
		a[n] = '\0';
		if (cli->remote && strcmp(cli->remote, a) != 0) {
			cli_usage("names on two remotes ('%s' and '%s') in one command: one remote "
			          "at "
			          "a time",
			          cli->remote, a);
			return -1;
		}
		cli->remote = a;
		if (a[n + 1]) {
			operands++;
			argv[out++] = a + n + 1;
		}
	}
	argv[out] = NULL;
	return out;
}

/* Ask on the terminal whether to accept the certificate; false without a terminal. */
static bool ask(const char *url, const char *fp)
{
	char line[16];

	if (!isatty(STDIN_FILENO))
		return false;
	fprintf(stderr,
	        "The certificate of '%s' has the SHA-256 fingerprint\n  %s\n"
	        "Compare it with what 'virtkit host' says on that server. Accept it (y/N)? ",
	        url, fp);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static int remote_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"token", required_argument, NULL, 't'},
	        {"accept-certificate", no_argument, NULL, 'y'},
	        {NULL, 0, NULL, 0},
	};
	virtkit_error *err = NULL;
	const char *token = NULL, *name, *url, *dot;
	char fp[VIRTKIT_FINGERPRINT_SIZE], *pem;
	bool accept = false;
	int c, r;

	while ((c = cli_getopt_any(argc, argv, "t:y", opts)) != -1) {
		if (c == 't')
			token = optarg;
		else if (c == 'y')
			accept = true;
		else
			return CLI_USAGE;
	}
	if (optind + 2 != argc)
		return cli_usage("usage: virtkit remote add NAME https://HOST:PORT [--token TOKEN] "
		                 "[--accept-certificate]");
	name = argv[optind];
	url = argv[optind + 1];
	if (!virtkit_remote_name_valid(name) || strcmp(name, "local") == 0)
		return cli_usage("'%s' cannot name a remote (letters, digits, '-', '_', '.'; not "
		                 "'local')",
		                 name);
	pem = virtkit_remote_certificate(url, fp, &err);
	if (!pem)
		return cli_fail(err);
	/* A token carries the fingerprint its server's certificate has: no need to ask. */
	dot = token ? strchr(token, '.') : NULL;
	if (dot && strcmp(dot + 1, fp) != 0) {
		free(pem);
		cli_print_error("the server's certificate is not the one the token was made by: "
		                "not sending it (is this the right address?)");
		return CLI_FAIL;
	}
	if (!dot && !accept && !ask(url, fp)) {
		free(pem);
		fprintf(stderr,
		        "virtkit: the certificate of '%s' was not accepted (fingerprint %s); "
		        "without a terminal, compare it with 'virtkit host' on the server and give "
		        "--accept-certificate\n",
		        url, fp);
		return CLI_FAIL;
	}
	r = virtkit_remote_add(name, url, pem, token, &err);
	free(pem);
	if (r < 0)
		return cli_fail(err);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "url", json_object_new_string(url));
		json_object_object_add(o, "fingerprint", json_object_new_string(fp));
		json_object_object_add(o, "trusted", json_object_new_boolean(r == 0));
		cli_print_json_object(o);
		json_object_put(o);
	} else {
		printf("Added remote '%s' at %s (certificate %.16s...)\n", name, url, fp);
	}
	if (r == 1) {
		char *dir = virtkit_config_dir();
		fprintf(stderr,
		        "virtkit: warning: %s\nvirtkit: warning: this client's certificate "
		        "is %s/client.crt\n",
		        virtkit_error_message(err), dir ? dir : "?");
		free(dir);
		virtkit_error_free(err);
	}
	return CLI_OK;
}

static int remote_list(struct cli *cli)
{
	static const char *const hdr[] = {"NAME", "URL", "FINGERPRINT", "DEFAULT"};
	virtkit_error *err = NULL;
	char *s = virtkit_remote_list(&err);
	json_object *o, *l;
	const char *def;
	struct table *t;

	if (!s)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(s);
		free(s);
		return CLI_OK;
	}
	o = json_tokener_parse(s);
	free(s);
	def = json_object_get_string(json_object_object_get(o, "default"));
	l = json_object_object_get(o, "remotes");
	t = table_new(4, hdr);
	for (size_t i = 0; l && i < json_object_array_length(l); i++) {
		json_object *e = json_object_array_get_idx(l, i), *v;
		const char *name = json_object_get_string(json_object_object_get(e, "name"));
		char fp[16] = "";
		const char *row[4] = {name,
		                      json_object_get_string(json_object_object_get(e, "url")), fp,
		                      def && strcmp(def, name) == 0 ? "*" : ""};

		if (json_object_object_get_ex(e, "fingerprint", &v))
			snprintf(fp, sizeof(fp), "%.12s", json_object_get_string(v));
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	json_object_put(o);
	return CLI_OK;
}

int cmd_remote(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return cli_usage("usage: virtkit remote add|list|remove|switch ...");
	if (strcmp(sub, "add") == 0) {
		optind = 0;
		return remote_add(cli, argc - 1, argv + 1);
	}
	if (strcmp(sub, "list") == 0) {
		if (argc != 2)
			return cli_usage("remote list takes no operands");
		return remote_list(cli);
	}
	if (strcmp(sub, "remove") != 0 && strcmp(sub, "switch") != 0)
		return cli_usage("unknown remote command '%s' (add, list, remove, switch)", sub);
	if (argc != 3)
		return cli_usage("usage: virtkit remote %s NAME", sub);
	if ((sub[0] == 'r' ? virtkit_remote_remove(argv[2], &err)
	                   : virtkit_remote_set_default(argv[2], &err)) < 0)
		return cli_fail(err);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, sub[0] == 'r' ? "removed" : "default",
		                       json_object_new_string(argv[2]));
		cli_print_json_object(o);
		json_object_put(o);
	} else if (sub[0] == 'r') {
		printf("Removed remote '%s'\n", argv[2]);
	} else {
		printf("The default remote is now '%s'\n", argv[2]);
	}
	return CLI_OK;
}
