/* SPDX-License-Identifier: MIT */
/* The REST routes of API version 1.0: path splitting and method checks. */
#include "daemon/router.h"

#include <errno.h>
#include <string.h>

#define SEG_MAX 6

static const char *const action_names[] = {
        [ACTION_NONE] = "",         [ACTION_START] = "start",     [ACTION_STOP] = "stop",
        [ACTION_KILL] = "kill",     [ACTION_RESTART] = "restart", [ACTION_PAUSE] = "pause",
        [ACTION_RESUME] = "resume",
};

const char *route_action_name(enum route_action a)
{
	return (unsigned)a < ARRAY_SIZE(action_names) ? action_names[a] : "";
}

/* Split "/1.0/instances/x/" into segments; empty segments (//) are refused. */
static int split(const char *path, char segs[SEG_MAX][DEF_NAME_MAX + 2], int *nseg)
{
	const char *p = path;
	int n = 0;

	if (*p != '/')
		return -ENOENT;
	p++;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || len > DEF_NAME_MAX + 1 || n == SEG_MAX)
			return -ENOENT;
		memcpy(segs[n], p, len);
		segs[n][len] = '\0';
		n++;
		p += len;
		if (*p == '/')
			p++;
	}
	*nseg = n;
	return 0;
}

static int method_ok(const char *method, const char *allow, struct route_match *m)
{
	const char *p = allow;
	size_t n = strlen(method);

	m->allow = allow;
	while ((p = strstr(p, method))) {
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 0;
		p += n;
	}
	return -EOPNOTSUPP;
}

/* /1.0/pools[/POOL[/volumes[/NAME]]]: 0, -EOPNOTSUPP (405), -ENOENT, -EINVAL (err set). */
static int match_pools(const char *method, char segs[SEG_MAX][DEF_NAME_MAX + 2], int n,
                       struct route_match *m, struct vk_error *err)
{
	if (n == 2) {
		m->id = ROUTE_POOLS;
		return method_ok(method, "GET", m);
	}
	if (!def_name_valid(segs[2]))
		return vk_error_set(err, EINVAL, "invalid storage pool name in the request path");
	strcpy(m->pool, segs[2]);
	if (n == 3) {
		m->id = ROUTE_POOL;
		return method_ok(method, "GET", m);
	}
	if (strcmp(segs[3], "volumes") != 0 || n > 5)
		return -ENOENT;
	if (n == 4) {
		m->id = ROUTE_VOLUMES;
		return method_ok(method, "GET, POST", m);
	}
	if (!def_name_valid(segs[4]))
		return vk_error_set(err, EINVAL,
		                    "invalid volume name in the request path (1 to %d letters, "
		                    "digits, '-', '_' or '.', starting with a letter or digit)",
		                    DEF_NAME_MAX);
	strcpy(m->name, segs[4]);
	m->id = ROUTE_VOLUME;
	return method_ok(method, "GET, PATCH, DELETE", m);
}

/* /1.0/instances/NAME/snapshots[/SNAP[/restore]]: 0, -EOPNOTSUPP, -ENOENT, -EINVAL. */
static int match_snapshots(const char *method, char segs[SEG_MAX][DEF_NAME_MAX + 2], int n,
                           struct route_match *m, struct vk_error *err)
{
	if (n == 4) {
		m->id = ROUTE_SNAPSHOTS;
		return method_ok(method, "GET, POST", m);
	}
	if (!def_name_valid(segs[4]))
		return vk_error_set(err, EINVAL, "invalid snapshot name in the request path");
	strcpy(m->snapshot, segs[4]);
	if (n == 5) {
		m->id = ROUTE_SNAPSHOT;
		return method_ok(method, "DELETE", m);
	}
	if (strcmp(segs[5], "restore") != 0)
		return -ENOENT;
	m->id = ROUTE_SNAPSHOT_RESTORE;
	return method_ok(method, "POST", m);
}

int router_match(const char *method, const char *path, struct route_match *m, struct vk_error *err)
{
	char segs[SEG_MAX][DEF_NAME_MAX + 2];
	int n = 0, r;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (strlen(path) > 512 || split(path, segs, &n) < 0 || n == 0 ||
	    strcmp(segs[0], "1.0") != 0)
		goto notfound;
	if (n == 1) {
		m->id = ROUTE_SERVER;
		r = method_ok(method, "GET", m);
		goto out;
	}
	if (n == 2 && strcmp(segs[1], "host") == 0) {
		m->id = ROUTE_HOST;
		r = method_ok(method, "GET", m);
		goto out;
	}
	if (n == 2 && strcmp(segs[1], "restore") == 0) {
		m->id = ROUTE_RESTORE;
		r = method_ok(method, "POST", m);
		goto out;
	}
	if (n == 2 && strcmp(segs[1], "events") == 0) {
		m->id = ROUTE_EVENTS;
		r = method_ok(method, "GET", m);
		goto out;
	}
	if (strcmp(segs[1], "networks") == 0 && n <= 4) {
		if (n == 2) {
			m->id = ROUTE_NETWORKS;
			r = method_ok(method, "GET, POST", m);
			goto out;
		}
		if (!def_name_valid(segs[2]))
			return vk_error_set(err, EINVAL,
			                    "invalid network name in the request path");
		strcpy(m->name, segs[2]);
		if (n == 3) {
			m->id = ROUTE_NETWORK;
			r = method_ok(method, "GET, DELETE", m);
		} else if (strcmp(segs[3], "leases") == 0) {
			m->id = ROUTE_NETWORK_LEASES;
			r = method_ok(method, "GET", m);
		} else {
			goto notfound;
		}
		goto out;
	}
	if (strcmp(segs[1], "pools") == 0) {
		r = match_pools(method, segs, n, m, err);
		if (r == -ENOENT)
			goto notfound;
		if (r == -EINVAL)
			return r;
		goto out;
	}
	if (strcmp(segs[1], "trust") == 0 && n <= 4) {
		if (n == 2) {
			m->id = ROUTE_TRUST;
			r = method_ok(method, "GET, POST", m);
		} else if (n == 3 && strcmp(segs[2], "tokens") == 0) {
			m->id = ROUTE_TRUST_TOKENS;
			r = method_ok(method, "POST", m);
		} else if (n == 3) {
			m->id = ROUTE_TRUST_CERT;
			strcpy(m->key, segs[2]);
			r = method_ok(method, "DELETE", m);
		} else if (strcmp(segs[2], "tokens") == 0) {
			m->id = ROUTE_TRUST_TOKEN;
			strcpy(m->key, segs[3]);
			r = method_ok(method, "DELETE", m);
		} else {
			goto notfound;
		}
		goto out;
	}
	if (strcmp(segs[1], "instances") != 0 || n > 6)
		goto notfound;
	if (n == 2) {
		m->id = ROUTE_INSTANCES;
		r = method_ok(method, "GET, POST", m);
		goto out;
	}
	if (!def_name_valid(segs[2]))
		return vk_error_set(err, EINVAL, "invalid instance name in the request path");
	strcpy(m->name, segs[2]);
	if (n == 3) {
		m->id = ROUTE_INSTANCE;
		r = method_ok(method, "GET, PUT, PATCH, DELETE", m);
		goto out;
	}
	if (strcmp(segs[3], "snapshots") == 0) {
		r = match_snapshots(method, segs, n, m, err);
		if (r == -ENOENT)
			goto notfound;
		if (r == -EINVAL)
			return r;
		goto out;
	}
	if (n == 5 && strcmp(segs[3], "incoming") == 0 && strcmp(segs[4], "confirm") == 0) {
		m->id = ROUTE_INCOMING_CONFIRM;
		r = method_ok(method, "POST", m);
		goto out;
	}
	if (n > 4)
		goto notfound;
	for (i = 1; i < ARRAY_SIZE(action_names); i++) {
		if (strcmp(segs[3], action_names[i]) == 0) {
			m->id = ROUTE_ACTION;
			m->action = (enum route_action)i;
			r = method_ok(method, "POST", m);
			goto out;
		}
	}
	if (strcmp(segs[3], "xml") == 0) {
		m->id = ROUTE_XML;
		r = method_ok(method, "GET", m);
	} else if (strcmp(segs[3], "console") == 0) {
		m->id = ROUTE_CONSOLE;
		r = method_ok(method, "GET", m);
	} else if (strcmp(segs[3], "logs") == 0) {
		m->id = ROUTE_LOGS;
		r = method_ok(method, "GET", m);
	} else if (strcmp(segs[3], "stats") == 0) {
		m->id = ROUTE_STATS;
		r = method_ok(method, "GET", m);
	} else if (strcmp(segs[3], "exec") == 0) {
		m->id = ROUTE_EXEC;
		r = method_ok(method, "POST, GET", m); /* GET: a browser's WebSocket */
	} else if (strcmp(segs[3], "save") == 0) {
		m->id = ROUTE_SAVE;
		r = method_ok(method, "POST", m);
	} else if (strcmp(segs[3], "migrate") == 0) {
		m->id = ROUTE_MIGRATE;
		r = method_ok(method, "POST", m);
	} else if (strcmp(segs[3], "incoming") == 0) {
		m->id = ROUTE_INCOMING;
		r = method_ok(method, "POST, DELETE", m);
	} else {
		goto notfound;
	}
out:
	if (r < 0)
		return vk_error_set(err, EOPNOTSUPP,
		                    "method %.16s is not allowed on %.128s (allowed: %s)", method,
		                    path, m->allow);
	return 0;
notfound:
	return vk_error_set(err, ENOENT, "no such API endpoint: %.128s", path);
}
