/* SPDX-License-Identifier: MIT */
/*
 * virtkit network create|list|info|delete|leases: the networks VMs and
 * containers share (docs/networks.md). Each subcommand is one API call
 * through libvirtkit; tables for people, the daemon's JSON with --format json.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	const char *s =
	        o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
	return s ? s : "";
}

/* "a, b, c" of a JSON array of strings, into buf. */
static const char *joined(json_object *a, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; a && i < json_object_array_length(a) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		                        json_object_get_string(json_object_array_get_idx(a, i)));
	return buf;
}

static int create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"subnet", required_argument, NULL, 's'},
	        {"nat", no_argument, NULL, 'n'},
	        {"isolated", no_argument, NULL, 'i'},
	        {"dns-domain", required_argument, NULL, 'd'},
	        {"dns-forward", no_argument, NULL, 'F'},
	        {"no-dns-forward", no_argument, NULL, 'N'},
	        {NULL, 0, NULL, 0},
	};
	json_object *def = json_object_new_object(), *o;
	virtkit_error *err = NULL;
	const char *mode = NULL;
	char *text;
	int c, st = CLI_OK;

	while ((c = cli_getopt_any(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 's':
			json_object_object_add(def, "subnet", json_object_new_string(optarg));
			break;
		case 'n':
		case 'i':
			if (mode && strcmp(mode, c == 'n' ? "nat" : "isolated") != 0) {
				json_object_put(def);
				return cli_usage("--nat and --isolated exclude each other");
			}
			mode = c == 'n' ? "nat" : "isolated";
			break;
		case 'd':
			json_object_object_add(def, "dns_domain", json_object_new_string(optarg));
			break;
		case 'F':
		case 'N':
			json_object_object_add(def, "dns_forward",
			                       json_object_new_boolean(c == 'F'));
			break;
		default:
			json_object_put(def);
			return CLI_USAGE;
		}
	}
	if (optind + 1 != argc) {
		json_object_put(def);
		return cli_usage("usage: virtkit network create NAME [--subnet CIDR] "
		                 "[--nat|--isolated] [--dns-domain D] [--[no-]dns-forward]");
	}
	json_object_object_add(def, "name", json_object_new_string(argv[optind]));
	if (mode)
		json_object_object_add(def, "mode", json_object_new_string(mode));
	if (!cli_conn(cli, &st)) {
		json_object_put(def);
		return st;
	}
	text = virtkit_network_create(cli->conn, json_object_to_json_string_ext(def, JSON_FLAGS),
	                              &err);
	json_object_put(def);
	if (!text)
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(text);
	} else {
		o = json_tokener_parse(text);
		printf("Created network '%s': bridge %s, subnet %s, %s\n", jstr(o, "name"),
		       jstr(o, "bridge"), jstr(o, "subnet"), jstr(o, "mode"));
		json_object_put(o);
	}
	free(text);
	return CLI_OK;
}

static int list(struct cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"NAME", "BRIDGE",     "SUBNET",
	                                  "MODE", "DNS DOMAIN", "USED BY"};
	virtkit_error *err = NULL;
	json_object *o, *a;
	char *text, used[256];
	int st;

	(void)argv;
	if (argc != 1)
		return cli_usage("network list takes no operands");
	if (!cli_conn(cli, &st))
		return st;
	if (!(text = virtkit_network_list(cli->conn, &err)))
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(text);
		free(text);
		return CLI_OK;
	}
	o = json_tokener_parse(text);
	a = json_object_object_get(o, "networks");
	struct table *t = table_new(6, hdr);
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *n = json_object_array_get_idx(a, i);
		const char *row[6] = {
		        jstr(n, "name"),
		        jstr(n, "bridge"),
		        jstr(n, "subnet"),
		        jstr(n, "mode"),
		        jstr(n, "dns_domain"),
		        joined(json_object_object_get(n, "used_by"), used, sizeof(used))};
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	json_object_put(o);
	free(text);
	return CLI_OK;
}

static int info(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	json_object *o, *dhcp;
	char *text, used[512];
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit network info NAME");
	if (!cli_conn(cli, &st))
		return st;
	if (!(text = virtkit_network_info(cli->conn, argv[1], &err)))
		return cli_fail(err);
	if (cli->json) {
		cli_print_json(text);
		free(text);
		return CLI_OK;
	}
	o = json_tokener_parse(text);
	dhcp = json_object_object_get(o, "dhcp");
	printf("%-14s%s\n", "Name:", jstr(o, "name"));
	printf("%-14s%s\n", "Mode:", jstr(o, "mode"));
	printf("%-14s%s (%s)\n", "Bridge:", jstr(o, "bridge"),
	       json_object_get_boolean(json_object_object_get(o, "bridge_up")) ? "up" : "down");
	printf("%-14s%s\n", "Subnet:", jstr(o, "subnet"));
	printf("%-14s%s\n", "Gateway:", jstr(o, "gateway"));
	printf("%-14s%s reserved, %s dynamic\n", "DHCP:", jstr(dhcp, "reserved"),
	       jstr(dhcp, "dynamic"));
	printf("%-14s%s, %s\n",
	       "DNS:", *jstr(o, "dns_domain") ? jstr(o, "dns_domain") : "no domain",
	       json_object_get_boolean(json_object_object_get(o, "dns_forward"))
	               ? "forwards other names upstream"
	               : "answers its own names only");
	printf("%-14s%s\n",
	       "dnsmasq:", *jstr(o, "dnsmasq_pid") ? jstr(o, "dnsmasq_pid") : "not running");
	printf("%-14s%s\n",
	       "Used by:", joined(json_object_object_get(o, "used_by"), used, sizeof(used)));
	json_object_put(o);
	free(text);
	return CLI_OK;
}

static int delete (struct cli *cli, int argc, char **argv)
{
	json_object *results = cli->json ? json_object_new_array() : NULL;
	int worst = CLI_OK, st;

	if (argc < 2)
		return cli_usage("usage: virtkit network delete NAME...");
	if (!cli_conn(cli, &st)) {
		json_object_put(results);
		return st;
	}
	for (int i = 1; i < argc; i++) {
		virtkit_error *err = NULL;
		json_object *r;

		st = CLI_OK;
		if (virtkit_network_delete(cli->conn, argv[i], &err) < 0) {
			fprintf(stderr, "virtkit: %s\n",
			        err ? virtkit_error_message(err) : "out of memory");
			if (results) {
				r = json_object_new_object();
				json_object_object_add(r, "name", json_object_new_string(argv[i]));
				json_object_object_add(
				        r, "error",
				        json_object_new_string(err ? virtkit_error_message(err)
				                                   : "out of memory"));
				json_object_array_add(results, r);
			}
			st = cli_exit_code(err);
		} else if (results) {
			r = json_object_new_object();
			json_object_object_add(r, "name", json_object_new_string(argv[i]));
			json_object_object_add(r, "deleted", json_object_new_boolean(1));
			json_object_array_add(results, r);
		} else {
			printf("Deleted network '%s'\n", argv[i]);
		}
		if (st > worst)
			worst = st;
	}
	if (results) {
		cli_print_json_object(results);
		json_object_put(results);
	}
	return worst;
}

static int leases(struct cli *cli, int argc, char **argv)
{
	static const char *const hdr[] = {"INSTANCE", "TYPE",    "MAC",   "IP",
	                                  "HOSTNAME", "EXPIRES", "SOURCE"};
	virtkit_error *err = NULL;
	json_object *o, *a;
	char *text;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit network leases NAME");
	if (!cli_conn(cli, &st))
		return st;
	if (!(text = virtkit_network_leases(cli->conn, argv[1], &err)))
		return cli_fail(err);
	o = json_tokener_parse(text);
	a = json_object_object_get(o, "leases");
	if (cli->json) {
		/* The list itself: what scripts iterate over. */
		cli_print_json(a ? json_object_to_json_string_ext(a, JSON_FLAGS) : "[]");
	} else {
		struct table *t = table_new(7, hdr);
		for (size_t i = 0; a && i < json_object_array_length(a); i++) {
			json_object *l = json_object_array_get_idx(a, i), *e;
			char when[32] = "never";
			if ((e = json_object_object_get(l, "expires"))) {
				time_t x = (time_t)json_object_get_int64(e);
				struct tm tm;
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
				         localtime_r(&x, &tm));
			}
			const char *row[7] = {*jstr(l, "instance") ? jstr(l, "instance") : "-",
			                      *jstr(l, "type") ? jstr(l, "type") : "-",
			                      jstr(l, "mac"),
			                      jstr(l, "ip"),
			                      *jstr(l, "hostname") ? jstr(l, "hostname") : "-",
			                      when,
			                      jstr(l, "source")};
			table_add(t, row);
		}
		table_print(t);
		table_free(t);
	}
	json_object_put(o);
	free(text);
	return CLI_OK;
}

int cmd_network(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *cli, int argc, char **argv);
	} subs[] = {{"create", create}, {"list", list},     {"info", info},
	            {"delete", delete}, {"leases", leases}, {"ls", list}};

	if (argc < 2)
		return cli_usage("usage: virtkit network create|list|info|delete|leases ...");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			optind = 0;
			return subs[i].run(cli, argc - 1, argv + 1);
		}
	}
	return cli_usage("unknown network command '%s' (create, list, info, delete, leases)",
	                 argv[1]);
}
