/* SPDX-License-Identifier: MIT */
/*
 * virtkit trust list | add FILE [--name N] | remove FINGERPRINT | token NAME [--expiry D]
 * | revoke-token NAME: the client certificates the daemon's TLS listener trusts,
 * and one-time join tokens.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/util.h"
#include "common/x509.h"

#define TRUST_USAGE                                                                        \
	"trust list | add FILE [--name NAME] | remove FINGERPRINT | token NAME [--expiry " \
	"DURATION] | revoke-token NAME"

/* "90", "90s", "30m", "12h", "7d" → seconds; -1 when not a duration. */
static int64_t parse_duration(const char *s)
{
	static const struct {
		char unit;
		int64_t mul;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char num[32];
	size_t n = strlen(s);
	int64_t mul = 1;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (num[n - 1] == units[i].unit) {
			mul = units[i].mul;
			num[--n] = '\0';
		}
	if (vk_parse_uint(num, 1, INT32_MAX, &v) < 0 || (int64_t)v > INT64_MAX / mul)
		return -1;
	return (int64_t)v * mul;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "%" PRId64, t);
}

static int trust_list(struct cli *cli)
{
	static const char *const hdr[] = {"FINGERPRINT", "NAME", "SUBJECT", "EXPIRES"};
	virtkit_error *err = NULL;
	json_object *o, *certs, *tokens;
	char *s = virtkit_trust_list(cli->conn, &err), when[40];
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
	certs = json_object_object_get(o, "certificates");
	tokens = json_object_object_get(o, "tokens");
	t = table_new(4, hdr);
	for (size_t i = 0; certs && i < json_object_array_length(certs); i++) {
		json_object *e = json_object_array_get_idx(certs, i);
		char fp[16];
		const char *row[4] = {fp, jstr(e, "name"), jstr(e, "subject"), when};

		snprintf(fp, sizeof(fp), "%.12s", jstr(e, "fingerprint"));
		format_time(json_object_get_int64(json_object_object_get(e, "not_after")), when,
		            sizeof(when));
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	for (size_t i = 0; tokens && i < json_object_array_length(tokens); i++) {
		json_object *e = json_object_array_get_idx(tokens, i);

		format_time(json_object_get_int64(json_object_object_get(e, "expires_at")), when,
		            sizeof(when));
		printf("%sunspent join token '%s' (expires %s)\n", i ? "" : "\n", jstr(e, "name"),
		       when);
	}
	json_object_put(o);
	return CLI_OK;
}

/* The certificate's CN as a trust name (other characters become '-'), or "". */
static void name_from_subject(const char *pem, size_t len, char *name, size_t name_len)
{
	struct vk_x509_info info;
	const char *cn;
	size_t n = 0;

	name[0] = '\0';
	if (vk_x509_info_pem(pem, len, &info, NULL) < 0 || !(cn = strstr(info.subject, "CN=")))
		return;
	for (cn += 3; *cn && *cn != ',' && n + 1 < name_len && n < 63; cn++)
		name[n++] = isalnum((unsigned char)*cn) || strchr("-_.@", *cn) ? *cn : '-';
	name[n] = '\0';
	if (!isalnum((unsigned char)name[0]))
		name[0] = '\0';
}

static int trust_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	virtkit_error *err = NULL;
	const char *name = NULL;
	char fp[VIRTKIT_FINGERPRINT_SIZE], cn[64], *pem;
	size_t len;
	int c;

	while ((c = cli_getopt_any(argc, argv, "n:", opts)) != -1) {
		if (c != 'n')
			return CLI_USAGE;
		name = optarg;
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit trust add FILE [--name NAME]");
	pem = cli_read_file(argv[optind], &len);
	if (!pem)
		return CLI_FAIL;
	if (!name) {
		name_from_subject(pem, len, cn, sizeof(cn));
		if (!cn[0]) {
			free(pem);
			return cli_usage("'%s' has no usable common name: give --name NAME",
			                 argv[optind]);
		}
		name = cn;
	}
	if (virtkit_trust_add(cli->conn, pem, name, fp, &err) < 0) {
		free(pem);
		return cli_fail(err);
	}
	free(pem);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "fingerprint", json_object_new_string(fp));
		json_object_object_add(o, "name", json_object_new_string(name));
		cli_print_json_object(o);
		json_object_put(o);
	} else {
		printf("Trusted certificate %s as '%s'\n", fp, name);
	}
	return CLI_OK;
}

static int trust_token(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"expiry", required_argument, NULL, 'e'},
	                                     {NULL, 0, NULL, 0}};
	virtkit_error *err = NULL;
	int64_t expiry = 0;
	char *token;
	int c;

	while ((c = cli_getopt_any(argc, argv, "e:", opts)) != -1) {
		if (c != 'e')
			return CLI_USAGE;
		if ((expiry = parse_duration(optarg)) < 0)
			return cli_usage("--expiry '%s' is not a duration (90s, 30m, 12h, 7d)",
			                 optarg);
	}
	if (optind + 1 != argc)
		return cli_usage("usage: virtkit trust token NAME [--expiry DURATION]");
	token = virtkit_trust_token(cli->conn, argv[optind], expiry, &err);
	if (!token)
		return cli_fail(err);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(argv[optind]));
		json_object_object_add(o, "token", json_object_new_string(token));
		cli_print_json_object(o);
		json_object_put(o);
	} else {
		printf("%s\n", token);
		fprintf(stderr,
		        "virtkit: a one-time token for '%s': on the client, 'virtkit remote add "
		        "NAME https://ADDRESS:PORT --token TOKEN'\n",
		        argv[optind]);
	}
	free(token);
	return CLI_OK;
}

int cmd_trust(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	const char *sub = argc > 1 ? argv[1] : NULL;
	int st;

	if (!sub)
		return cli_usage("usage: virtkit " TRUST_USAGE);
	if (strcmp(sub, "list") && strcmp(sub, "add") && strcmp(sub, "remove") &&
	    strcmp(sub, "token") && strcmp(sub, "revoke-token"))
		return cli_usage("unknown trust command '%s' (list, add, remove, token, "
		                 "revoke-token)",
		                 sub);
	if (!strcmp(sub, "list") && argc != 2)
		return cli_usage("trust list takes no operands");
	if ((!strcmp(sub, "remove") || !strcmp(sub, "revoke-token")) && argc != 3)
		return cli_usage("usage: virtkit trust %s %s", sub,
		                 sub[0] == 'r' && sub[2] == 'm' ? "FINGERPRINT" : "NAME");
	if (!cli_conn(cli, &st))
		return st;
	/* The subcommand's own options start after its name. */
	argc--;
	argv++;
	optind = 0;
	if (!strcmp(sub, "list"))
		return trust_list(cli);
	if (!strcmp(sub, "add"))
		return trust_add(cli, argc, argv);
	if (!strcmp(sub, "token"))
		return trust_token(cli, argc, argv);
	if (!strcmp(sub, "remove")) {
		if (virtkit_trust_remove(cli->conn, argv[1], &err) < 0)
			return cli_fail(err);
		printf(cli->json ? "{\"removed\":\"%s\"}\n"
		                 : "No longer trusting %s (its connections were cut)\n",
		       argv[1]);
		return CLI_OK;
	}
	if (virtkit_trust_token_remove(cli->conn, argv[1], &err) < 0)
		return cli_fail(err);
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "withdrawn", json_object_new_string(argv[1]));
		cli_print_json_object(o);
		json_object_put(o);
	} else {
		printf("Withdrew join token '%s'\n", argv[1]);
	}
	return CLI_OK;
}
