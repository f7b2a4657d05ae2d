/* SPDX-License-Identifier: MIT */
/* virtkit list, info, stats, host. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/util.h"

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

	while ((c = cli_getopt_any(argc, argv, "a", opts)) != -1) {
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
	char b[VK_SIZE_STR_MAX];

	printf("%-12s%s\n", label,
	       vk_format_size((uint64_t)json_object_get_int64(v), b, sizeof(b)));
}

/*
 * A counter for people: byte counts (memory, *_bytes) in binary units,
 * nanoseconds (*_ns) and milliseconds (*_ms) as seconds; anything else as is.
 */
static const char *human_value(const char *key, json_object *v, char *buf, size_t len)
{
	size_t n = strlen(key);
	int64_t x = json_object_get_int64(v);

	if (!json_object_is_type(v, json_type_int) || x < 0)
		return json_object_get_string(v);
	if (!strcmp(key, "memory")) /* as defined: exact */
		return vk_format_size((uint64_t)x, buf, len);
	if (n > 6 && !strcmp(key + n - 6, "_bytes")) /* measured: rounded */
		return vk_format_size_approx((uint64_t)x, buf, len);
	if (n > 3 && !strcmp(key + n - 3, "_ns"))
		snprintf(buf, len, "%.3f s", (double)x / 1e9);
	else if (n > 3 && !strcmp(key + n - 3, "_ms"))
		snprintf(buf, len, "%.3f s", (double)x / 1e3);
	else
		return json_object_get_string(v);
	return buf;
}

/* key: value lines, nested objects indented under their key. */
static void print_fields(json_object *o, int indent)
{
	json_object_object_foreach(o, key, val)
	{
		char buf[64];

		if (json_object_is_type(val, json_type_object)) {
			printf("%*s%s:\n", indent, "", key);
			print_fields(val, indent + 2);
			continue;
		}
		printf("%*s%-*s%s\n", indent, "", 20 - indent, key,
		       val ? human_value(key, val, buf, sizeof(buf)) : "-");
	}
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
		for (i = 0; arr && i < json_object_array_length(arr); i++) {
			json_object *n = json_object_array_get_idx(arr, i);
			/* "network lan (52:54:00:...)", "bridge br0", "user" */
			printf("%-12s%s%s%s%s%s%s%s\n", i ? "" : "Networks:", jstr(n, "type"),
			       *jstr(n, "name") || *jstr(n, "bridge") ? " " : "", jstr(n, "name"),
			       jstr(n, "bridge"), *jstr(n, "mac") ? " (" : "", jstr(n, "mac"),
			       *jstr(n, "mac") ? ")" : "");
		}
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
		printf("%-12s%s\n", "Network:", jstr(def, "network"));
	}
	arr = json_object_object_get(def, "publish");
	for (i = 0; arr && i < json_object_array_length(arr); i++)
		printf("%-12s%s\n", i ? "" : "Publish:",
		       json_object_get_string(json_object_array_get_idx(arr, i)));
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	virtkit_instance *i;
	json_object *o, *v;
	int st;

	if (argc != 2)
		return cli_usage("usage: virtkit info NAME|UUID");
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
		if (json_object_object_get_ex(o, "exit_code", &v))
			printf("%-12sexited with status %d\n", "Last run:", json_object_get_int(v));
		else if (json_object_object_get_ex(o, "signal", &v))
			printf("%-12skilled by signal %d (SIG%s)\n",
			       "Last run:", json_object_get_int(v),
			       sigabbrev_np(json_object_get_int(v))
			               ? sigabbrev_np(json_object_get_int(v))
			               : "?");
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
		return cli_usage("usage: virtkit stats NAME|UUID");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_instance_stats(cli->conn, argv[1], &err);
	if (!s)
		return cli_fail(err);
	o = cli->json ? NULL : json_tokener_parse(s);
	if (!json_object_is_type(o, json_type_object))
		cli_print_json(s); /* --format json, or not an object: as it came */
	else
		print_fields(o, 0);
	json_object_put(o);
	free(s);
	return CLI_OK;
}

static int64_t jint(json_object *o, const char *path)
{
	json_object *v = o;
	char key[64];

	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = json_object_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return v ? json_object_get_int64(v) : -1;
}

/* "running 2, shutoff 1" from {"running": 2, "shutoff": 1}. */
static void print_counts(json_object *o)
{
	const char *sep = "";

	json_object_object_foreach(o, key, val)
	{
		printf("%s%s %d", sep, key, json_object_get_int(val));
		sep = ", ";
	}
}

static void print_host(json_object *o)
{
	json_object *kvm = json_object_object_get(o, "kvm"), *v;
	json_object *a = json_object_object_get(o, "architectures");
	char b1[VK_SIZE_STR_MAX], b2[VK_SIZE_STR_MAX], b3[VK_SIZE_STR_MAX];

	printf("%-15s%s\n",
	       "KVM:", *jstr(kvm, "summary") ? jstr(kvm, "summary") : jstr(kvm, "classification"));
	if (*jstr(kvm, "reason") && !*jstr(kvm, "summary"))
		printf("%-15s%s\n", "", jstr(kvm, "reason"));
	printf("%-15s", "Architectures:");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		printf("%s%s (%s%s)", i ? ", " : "", jstr(e, "arch"), jstr(e, "accel"),
		       json_object_get_boolean(json_object_object_get(e, "available"))
		               ? ""
		               : ": unavailable");
	}
	printf("\n%-15s%" PRId64, "CPUs:", jint(o, "cpu.count"));
	if ((v = json_object_object_get(json_object_object_get(o, "cpu"), "load")) &&
	    json_object_array_length(v) == 3)
		printf(", load %.2f %.2f %.2f",
		       json_object_get_double(json_object_array_get_idx(v, 0)),
		       json_object_get_double(json_object_array_get_idx(v, 1)),
		       json_object_get_double(json_object_array_get_idx(v, 2)));
	printf("; %" PRId64 " vCPUs given to running VMs\n", jint(o, "cpu.allocated"));
	printf("%-15s%s total, %s available; %s given to running instances\n", "Memory:",
	       vk_format_size_approx((uint64_t)jint(o, "memory.total_bytes"), b1, sizeof(b1)),
	       vk_format_size_approx((uint64_t)jint(o, "memory.available_bytes"), b2, sizeof(b2)),
	       vk_format_size_approx((uint64_t)jint(o, "memory.allocated_bytes"), b3, sizeof(b3)));
	v = json_object_object_get(o, "instances");
	printf("%-15s%" PRId64, "Instances:", jint(v, "total"));
	if (jint(v, "total") > 0) {
		printf(" (");
		print_counts(json_object_object_get(v, "by_state"));
		printf("; ");
		print_counts(json_object_object_get(v, "by_type"));
		printf(")");
	}
	v = json_object_object_get(o, "versions");
	printf("\n%-15svirtkitd %s, virtkit-vm: %s, OCI runtime: %s\n",
	       "Versions:", jstr(v, "virtkitd"),
	       *jstr(v, "virtkit-vm") ? jstr(v, "virtkit-vm") : "unknown",
	       *jstr(v, "oci_runtime") ? jstr(v, "oci_runtime") : "unknown");
	printf("%-15s%s\n", "Shim:", jstr(v, "shim"));
	v = json_object_object_get(o, "tls");
	if (v && *jstr(v, "fingerprint")) {
		if (*jstr(v, "address"))
			printf("%-15shttps://%s\n", "TLS:", jstr(v, "address"));
		else
			printf("%-15snot listening (virtkitd --listen ADDR:PORT)\n", "TLS:");
		printf("%-15s%s\n", "Fingerprint:", jstr(v, "fingerprint"));
	}
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	virtkit_error *err = NULL;
	json_object *o;
	char *s;
	int st;

	(void)argv;
	if (argc != 1)
		return cli_usage("host takes no operands");
	if (!cli_conn(cli, &st))
		return st;
	s = virtkit_host_info(cli->conn, &err);
	if (!s)
		return cli_fail(err);
	o = cli->json ? NULL : json_tokener_parse(s);
	if (!json_object_is_type(o, json_type_object))
		cli_print_json(s);
	else
		print_host(o);
	json_object_put(o);
	free(s);
	return CLI_OK;
}
