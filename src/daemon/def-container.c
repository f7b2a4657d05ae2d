/* SPDX-License-Identifier: MIT */
/* Container definitions: rootfs or bundle, process, limits, mounts (docs/api.md). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "daemon/def-check.h"
#include "daemon/def.h"
#include "daemon/def-network.h"

static int norm_strv(struct dc_ctx *c, json_object *in, const char *key, size_t max, bool required,
                     bool env, json_object *out)
{
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = dc_get_array(c, in, key, max, &arr)) < 0)
		return r;
	if (required && (!arr || json_object_array_length(arr) == 0))
		return dc_bad(c, key, "is required (a non-empty array of strings)");
	if (!arr)
		return 0;
	n = json_object_new_array();
	json_object_object_add(out, key, n);
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		const char *v;
		if (!json_object_is_type(s, json_type_string))
			return dc_bad(c, key, "must be an array of strings");
		v = json_object_get_string(s);
		if ((size_t)json_object_get_string_len(s) != strlen(v) || strlen(v) > STR_LEN_MAX ||
		    !dc_text_ok(v, true))
			return dc_bad(c, key, "has an entry that is too long or not plain text");
		if (env && (!strchr(v, '=') || v[0] == '='))
			return dc_bad(c, key, "entries must look like \"NAME=value\"");
		json_object_array_add(n, json_object_new_string(v));
	}
	return 0;
}

static int norm_process(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"args", "env", "cwd", "terminal", "uid", "gid", NULL};
	json_object *p, *n;
	const char *cwd;
	uint64_t uid, gid;
	bool term;
	int r;

	if ((r = dc_get_object(c, in, "process", &p)) < 0)
		return r;
	if (!p)
		return dc_bad(c, "process", "is required (with \"args\")");
	snprintf(c->where, sizeof(c->where), "process");
	n = json_object_new_object();
	json_object_object_add(out, "process", n);
	if ((r = dc_check_keys(c, p, keys)) < 0 ||
	    (r = norm_strv(c, p, "args", ARGS_MAX, true, false, n)) < 0 ||
	    (r = norm_strv(c, p, "env", ENV_MAX, false, true, n)) < 0 ||
	    (r = dc_get_path(c, p, "cwd", false, &cwd)) < 0 ||
	    (r = dc_get_bool(c, p, "terminal", true, &term)) < 0 ||
	    (r = dc_get_uint(c, p, "uid", 0, UINT32_MAX - 1, 0, &uid)) < 0 ||
	    (r = dc_get_uint(c, p, "gid", 0, UINT32_MAX - 1, 0, &gid)) < 0)
		return r;
	if (!json_object_object_get_ex(n, "env", NULL)) {
		json_object *e = json_object_new_array();
		json_object_array_add(e,
		                      json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:/"
		                                             "usr/sbin:/usr/bin:/sbin:/bin"));
		json_object_array_add(e, json_object_new_string("TERM=xterm"));
		json_object_object_add(n, "env", e);
	}
	dc_put_str(n, "cwd", cwd ? cwd : "/");
	dc_put_bool(n, "terminal", term);
	dc_put_int(n, "uid", uid);
	dc_put_int(n, "gid", gid);
	c->where[0] = '\0';
	return 0;
}

static int norm_limits(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"memory",    "pids",       "cpu_shares",
	                                   "cpu_quota", "cpu_period", NULL};
	json_object *l, *n;
	uint64_t mem, pids, shares, quota, period;
	int r;

	if ((r = dc_get_object(c, in, "limits", &l)) < 0)
		return r;
	n = json_object_new_object();
	json_object_object_add(out, "limits", n);
	if (!l)
		return 0;
	snprintf(c->where, sizeof(c->where), "limits");
	if ((r = dc_check_keys(c, l, keys)) < 0 ||
	    (r = dc_get_size(c, l, "memory", 0, 1ull << 40, 0, &mem)) < 0 ||
	    (r = dc_get_uint(c, l, "pids", 0, 1u << 22, 0, &pids)) < 0 ||
	    (r = dc_get_uint(c, l, "cpu_shares", 0, 262144, 0, &shares)) < 0 ||
	    (r = dc_get_uint(c, l, "cpu_quota", 0, 1ull << 40, 0, &quota)) < 0 ||
	    (r = dc_get_uint(c, l, "cpu_period", 0, 1000000, 0, &period)) < 0)
		return r;
	if (mem && mem < (4u << 20))
		return dc_bad(c, "memory", "must be at least 4M");
	if (mem)
		dc_put_int(n, "memory", mem);
	if (pids)
		dc_put_int(n, "pids", pids);
	if (shares)
		dc_put_int(n, "cpu_shares", shares);
	if (quota)
		dc_put_int(n, "cpu_quota", quota);
	if (period)
		dc_put_int(n, "cpu_period", period);
	c->where[0] = '\0';
	return 0;
}

static int norm_mounts(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"source", "destination", "readonly", NULL};
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = dc_get_array(c, in, "mounts", MOUNTS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "mounts", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *m = json_object_array_get_idx(arr, i), *nm;
		const char *src, *dst;
		bool ro;

		dc_ctx_enter(c, "", "mounts", (int)i);
		if (!json_object_is_type(m, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = dc_check_keys(c, m, keys)) < 0 ||
		    (r = dc_get_path(c, m, "source", true, &src)) < 0 ||
		    (r = dc_get_path(c, m, "destination", true, &dst)) < 0 ||
		    (r = dc_get_bool(c, m, "readonly", false, &ro)) < 0)
			return r;
		nm = json_object_new_object();
		dc_put_str(nm, "source", src);
		dc_put_str(nm, "destination", dst);
		dc_put_bool(nm, "readonly", ro);
		json_object_array_add(n, nm);
	}
	c->where[0] = '\0';
	return 0;
}

/* "stop_signal": what a graceful stop sends, "SIGTERM" or "TERM" (any case) -> "SIGTERM". */
static int norm_stop_signal(struct dc_ctx *c, json_object *in, char out[16])
{
	static const char *const names[] = {"HUP",  "INT", "QUIT",  "TERM", "USR1",
	                                    "USR2", "PWR", "WINCH", "KILL", NULL};
	const char *v, *n;

	if (dc_get_str(c, in, "stop_signal", false, 12, &v) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	n = strncasecmp(v, "SIG", 3) == 0 ? v + 3 : v;
	for (const char *const *p = names; *p; p++) {
		if (strcasecmp(n, *p) == 0) {
			snprintf(out, 16, "SIG%s", *p);
			return 0;
		}
	}
	return dc_bad(c, "stop_signal",
	              "must be a signal name: SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, "
	              "SIGPWR, SIGWINCH or SIGKILL");
}

int def_norm_container(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {
	        "name",   "uuid",    "type",        "description", "autostart", "rootfs",
	        "bundle", "process", "hostname",    "readonly",    "network",   "limits",
	        "mounts", "console", "stop_signal", "publish",     NULL};
	const char *rootfs, *bundle, *hostname, *net, *netname;
	char stop_signal[16] = "";
	json_object *pub;
	bool ro;
	int r;

	if ((r = dc_check_keys(c, in, keys)) < 0 ||
	    (r = norm_stop_signal(c, in, stop_signal)) < 0 ||
	    (r = dc_get_path(c, in, "rootfs", false, &rootfs)) < 0 ||
	    (r = dc_get_path(c, in, "bundle", false, &bundle)) < 0 ||
	    (r = dc_get_str(c, in, "hostname", false, 63, &hostname)) < 0 ||
	    (r = dc_get_bool(c, in, "readonly", false, &ro)) < 0 ||
	    (r = dc_get_str(c, in, "network", false, 80, &net)) < 0)
		return r;
	if (!rootfs == !bundle)
		return vk_error_set(
		        c->err, EINVAL,
		        "invalid definition: a container needs exactly one of 'rootfs' "
		        "(a root file system folder) or 'bundle' (an OCI bundle folder)");
	if (bundle) {
		static const char *const only_rootfs[] = {"process", "hostname", "readonly",
		                                          "network", "limits",   "mounts",
		                                          "publish"};
		size_t i;
		for (i = 0; i < ARRAY_SIZE(only_rootfs); i++)
			if (json_object_object_get_ex(in, only_rootfs[i], NULL))
				return dc_bad(c, only_rootfs[i],
				              "cannot be combined with 'bundle' (the bundle's "
				              "config.json "
				              "decides)");
		dc_put_str(out, "bundle", bundle);
		dc_put_str(out, "stop_signal", stop_signal[0] ? stop_signal : NULL);
		return dc_norm_console(c, in, out);
	}
	if (hostname && !def_name_valid(hostname))
		return dc_bad(c, "hostname",
		              "must be a host name (letters, digits, '-', '.', '_')");
	if (!net)
		net = "none";
	switch (ct_net_kind(net, &netname)) {
	case CT_NET_BRIDGE:
		if (!ifname_valid(netname))
			return dc_bad(c, "network", "names an invalid bridge (\"bridge:IFNAME\")");
		break;
	case CT_NET_MANAGED:
		if (!netdef_name_valid(netname))
			return dc_bad(c, "network",
			              "must be \"none\", \"host\", a network's name or "
			              "\"bridge:IFNAME\"");
		break;
	default:
		break;
	}
	if (json_object_object_get_ex(in, "publish", &pub) &&
	    !json_object_is_type(pub, json_type_null) &&
	    ct_net_kind(net, &netname) != CT_NET_MANAGED)
		return dc_bad(c, "publish",
		              "needs the container on a network of the daemon (\"network\": NAME)");
	dc_put_str(out, "rootfs", rootfs);
	if ((r = norm_process(c, in, out)) < 0)
		return r;
	dc_put_str(out, "hostname", hostname ? hostname : def_name(out));
	dc_put_bool(out, "readonly", ro);
	dc_put_str(out, "network", net);
	if ((r = dc_norm_publish(c, in, out)) < 0 || (r = norm_limits(c, in, out)) < 0 ||
	    (r = norm_mounts(c, in, out)) < 0)
		return r;
	dc_put_str(out, "stop_signal", stop_signal[0] ? stop_signal : NULL);
	return dc_norm_console(c, in, out);
}
