/* SPDX-License-Identifier: MIT */
/*
 * Operations on a placed cgroup: applying resources (routed per controller
 * to the v1 or v2 writer), freezing, listing and killing its processes,
 * removal, and persistence in state.json.
 */
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

typedef int (*cg_apply_fn)(struct oci_cg_hier *h, const struct oci_resources *r,
                           struct vk_error *err);

static const struct {
	enum oci_cg_ctrl ctrl;
	cg_apply_fn v1, v2;
	const char *field;
} appliers[] = {
        {CGC_MEMORY, cg_v1_memory, cg_v2_memory, "memory"},
        {CGC_CPU, cg_v1_cpu, cg_v2_cpu, "cpu"},
        {CGC_CPUSET, cg_v1_cpuset, cg_v2_cpuset, "cpu.cpus/mems"},
        {CGC_PIDS, cg_v1_pids, cg_v2_pids, "pids"},
        {CGC_BLKIO, cg_v1_blkio, cg_v2_io, "blockIO"},
        {CGC_HUGETLB, cg_v1_hugetlb, cg_v2_hugetlb, "hugepageLimits"},
        {CGC_NET_CLS, cg_v1_net, NULL, "network.classID"},
        {CGC_NET_PRIO, cg_v1_net, NULL, "network.priorities"},
};

/* Devices every container may use, as runc allows them (after the spec's rules). */
static const struct oci_dev_rule default_rules[] = {
        {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
        {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 1, 8, "rwm"},
        {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
        {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};

bool cg_requested(const struct oci_resources *r, enum oci_cg_ctrl c)
{
	if (!r || !r->present)
		return false;
	switch (c) {
	case CGC_MEMORY:
		return r->memory.limit.valid || r->memory.reservation.valid ||
		       r->memory.swap.valid || r->memory.swappiness.valid ||
		       r->memory.has_disable_oom || r->memory.kernel.valid ||
		       r->memory.kernel_tcp.valid || r->memory.has_use_hierarchy;
	case CGC_CPU:
		return r->cpu.shares.valid || r->cpu.quota.valid || r->cpu.period.valid ||
		       r->cpu.realtime_runtime.valid || r->cpu.realtime_period.valid ||
		       r->cpu.idle.valid || r->cpu.burst.valid;
	case CGC_CPUSET:
		return (r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems);
	case CGC_PIDS:
		return r->pids.limit.valid;
	case CGC_BLKIO:
		return r->blkio.has_weight || r->blkio.has_leaf_weight ||
		       r->blkio.weight_device.n || r->blkio.read_bps.n || r->blkio.write_bps.n ||
		       r->blkio.read_iops.n || r->blkio.write_iops.n;
	case CGC_HUGETLB:
		return r->n_hugepages > 0;
	case CGC_NET_CLS:
		return r->network.class_id.valid;
	case CGC_NET_PRIO:
		return r->network.priorities.n > 0;
	default:
		return false;
	}
}

static int apply_devices(struct oci_cgroup *cg, const struct oci_resources *res,
                         const struct oci_device *devices, size_t n_devices, bool update,
                         struct vk_error *err)
{
	size_t n_spec = res ? res->n_devices : 0, n = 0, i;
	struct oci_cg_hier *h;
	struct oci_dev_rule *rules;
	int r;

	if (update && n_spec == 0)
		return 0;
	h = oci_cgroup_find(cg, CGC_DEVICES);
	if (!h)
		h = oci_cgroup_v2(cg);
	if (!h)
		return 0; /* no device controller at all (rootless): nothing to enforce */
	rules = calloc(n_spec + ARRAY_SIZE(default_rules) + n_devices + 1, sizeof(*rules));
	if (!rules)
		return vk_error_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n_spec; i++)
		rules[n++] = res->devices[i];
	for (i = 0; i < ARRAY_SIZE(default_rules); i++)
		rules[n++] = default_rules[i];
	for (i = 0; i < n_devices; i++) {
		if (devices[i].type != 'c' && devices[i].type != 'b' && devices[i].type != 'u')
			continue;
		rules[n++] = (struct oci_dev_rule){true, devices[i].type == 'b' ? 'b' : 'c',
		                                   devices[i].major, devices[i].minor, "rwm"};
	}
	r = h->v2 ? cg_v2_devices(h, rules, n, err) : cg_v1_devices(h, rules, n, err);
	if (r == 0 && h->v2)
		cg->v2_device_filter = true;
	free(rules);
	return r;
}

int oci_cgroup_apply(struct oci_cgroup *cg, const struct oci_resources *res,
                     const struct oci_device *devices, size_t n_devices, bool update,
                     struct vk_error *err)
{
	struct oci_cg_hier *v2 = oci_cgroup_v2(cg);
	uint32_t wanted = 0;
	size_t i;
	int r;

	if (res && res->present) {
		for (i = 0; i < ARRAY_SIZE(appliers); i++)
			if (cg_requested(res, appliers[i].ctrl))
				wanted |= 1u << appliers[i].ctrl;
		if (res->unified.n)
			wanted |= (1u << CGC_COUNT) - 1;
	}
	/* v2 controllers must be enabled top-down before their files appear. */
	if (v2 && (cg->mode == OCI_CG_V2 || (wanted & ~(1u << CGC_DEVICES)))) {
		uint32_t on_v2 = 0;

		for (enum oci_cg_ctrl c = 0; c < CGC_COUNT; c++) {
			bool on_v1 = false;

			for (i = 0; i < cg->n; i++)
				if (!cg->h[i].v2 && (cg->h[i].controllers & (1u << c)))
					on_v1 = true;
			if (!on_v1)
				on_v2 |= 1u << c;
		}
		r = cg_v2_enable_controllers(v2, cg->mode == OCI_CG_V2 ? on_v2 : (wanted & on_v2),
		                             err);
		if (r < 0)
			return r;
	}
	for (i = 0; res && res->present && i < ARRAY_SIZE(appliers); i++) {
		struct oci_cg_hier *h;

		if (!cg_requested(res, appliers[i].ctrl))
			continue;
		h = oci_cgroup_find(cg, appliers[i].ctrl);
		if (!h)
			return vk_error_set(err, ENOTSUP,
			                    "linux.resources.%s: the %s cgroup controller is not "
			                    "available on this host",
			                    appliers[i].field, oci_cg_ctrl_name(appliers[i].ctrl));
		if (!h->v2)
			r = appliers[i].v1(h, res, err);
		else if (appliers[i].v2)
			r = appliers[i].v2(h, res, err);
		else
			r = vk_error_set(err, ENOTSUP,
			                 "linux.resources.%s is not supported on cgroup v2",
			                 appliers[i].field);
		if (r < 0)
			return r;
	}
	if (res && res->unified.n) {
		if (!v2)
			return vk_error_set(err, ENOTSUP,
			                    "linux.resources.unified needs a cgroup v2 hierarchy");
		r = cg_v2_unified(v2, res, err);
		if (r < 0)
			return r;
	}
	return apply_devices(cg, res, devices, n_devices, update, err);
}

/* The hierarchy whose cgroup.procs lists the container's processes. */
static struct oci_cg_hier *procs_hier(struct oci_cgroup *cg)
{
	static const enum oci_cg_ctrl pref[] = {CGC_PIDS, CGC_FREEZER, CGC_MEMORY, CGC_CPU};

	for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
		struct oci_cg_hier *h = oci_cgroup_find(cg, pref[i]);

		if (h)
			return h;
	}
	if (oci_cgroup_v2(cg))
		return oci_cgroup_v2(cg);
	return cg->n ? &cg->h[0] : NULL;
}

static int read_pids(struct oci_cg_hier *h, pid_t **pids, size_t *n)
{
	char *buf;
	size_t cap = 1 << 20, cnt = 0;
	ssize_t len;
	pid_t *v;
	char *p, *end;

	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len = cg_read(h, "cgroup.procs", buf, cap);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	v = calloc((size_t)len / 2 + 1, sizeof(pid_t));
	if (!v) {
		free(buf);
		return -ENOMEM;
	}
	for (p = buf; *p; p = end) {
		long x = strtol(p, &end, 10);

		if (end == p)
			break;
		if (x > 0)
			v[cnt++] = (pid_t)x;
	}
	free(buf);
	*pids = v;
	*n = cnt;
	return 0;
}

int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, struct vk_error *err)
{
	struct oci_cg_hier *h = procs_hier(cg);
	int r;

	*pids = NULL;
	*n = 0;
	if (!h)
		return 0;
	r = read_pids(h, pids, n);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot list the processes of cgroup %s%s", h->mount,
		                      h->path);
	return 0;
}

int oci_cgroup_kill_all(struct oci_cgroup *cg, int sig)
{
	pid_t *pids = NULL;
	size_t n = 0, i;
	int killed = 0;

	if (oci_cgroup_pids(cg, &pids, &n, NULL) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (kill(pids[i], sig) == 0)
			killed++;
	free(pids);
	return killed;
}

int oci_cgroup_freeze(struct oci_cgroup *cg, bool freeze, struct vk_error *err)
{
	struct oci_cg_hier *h = oci_cgroup_find(cg, CGC_FREEZER);

	if (h && !h->v2)
		return cg_v1_freeze(h, freeze, err);
	h = oci_cgroup_v2(cg);
	if (h)
		return cg_v2_freeze(h, freeze, err);
	return vk_error_set(err, ENOTSUP, "no freezer: the container has no freezer cgroup");
}

bool oci_cgroup_is_frozen(struct oci_cgroup *cg)
{
	struct oci_cg_hier *h = oci_cgroup_find(cg, CGC_FREEZER);
	char buf[256];

	if (h && !h->v2)
		return cg_read(h, "freezer.state", buf, sizeof(buf)) > 0 &&
		       strncmp(buf, "FROZEN", 6) == 0;
	h = oci_cgroup_v2(cg);
	return h && cg_read(h, "cgroup.freeze", buf, sizeof(buf)) > 0 && buf[0] == '1';
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int rmdir_hier(struct oci_cg_hier *h, bool kill_left)
{
	char buf[4096];
	int tries, e = 0;
	char *slash;

	snprintf(buf, sizeof(buf), "%s%s", h->mount, h->path);
	if (h->dirfd >= 0) {
		close(h->dirfd);
		h->dirfd = -1;
	}
	for (tries = 0; tries < 200; tries++) {
		if (rmdir(buf) == 0 || errno == ENOENT) {
			e = 0;
			break;
		}
		e = errno;
		if (e != EBUSY || !kill_left)
			break;
		/* Processes left (no pid namespace, or exiting): kill and retry. */
		if (tries == 0 || tries % 20 == 0) {
			pid_t *pids = NULL;
			size_t n = 0;

			if (!h->v2 && (h->controllers & (1u << CGC_FREEZER)) &&
			    cg_write(h, "freezer.state", "THAWED", NULL) < 0) {
				/* nothing frozen */
			}
			if (read_pids(h, &pids, &n) == 0) {
				for (size_t i = 0; i < n; i++)
					kill(pids[i], SIGKILL);
				free(pids);
			}
			if (h->dirfd >= 0) {
				close(h->dirfd);
				h->dirfd = -1;
			}
		}
		sleep_ms(tries < 10 ? 1 : 10);
	}
	if (e)
		return -e;
	/* Parents this runtime created, while they are empty. */
	for (int i = 1; i < h->created; i++) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf || (size_t)(slash - buf) <= strlen(h->mount))
			break;
		*slash = '\0';
		if (rmdir(buf) < 0)
			break;
	}
	return 0;
}

int oci_cgroup_destroy(struct oci_cgroup *cg, struct vk_error *err)
{
	int ret = 0;

	if (!cg || !cg->made)
		return 0;
	for (size_t i = 0; i < cg->n; i++) {
		struct oci_cg_hier *h = &cg->h[i];
		int r;

		if (!h->path)
			continue;
		r = rmdir_hier(h, true);
		if (r < 0 && ret == 0)
			ret = vk_error_errno(err, -r, "cannot remove cgroup %s%s", h->mount,
			                     h->path);
	}
	return ret;
}

void oci_cgroup_free(struct oci_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].mount);
		free(cg->h[i].name);
		free(cg->h[i].path);
		if (cg->h[i].dirfd >= 0)
			close(cg->h[i].dirfd);
	}
	free(cg->h);
	free(cg);
}

json_object *oci_cgroup_stats(struct oci_cgroup *cg)
{
	struct oci_cg_hier *v2 = oci_cgroup_v2(cg);
	json_object *o = cg_stats_v1(cg);

	if (v2)
		cg_stats_v2(v2, o);
	return o;
}

char *oci_cgroup_to_json(const struct oci_cgroup *cg)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char *s;

	json_object_object_add(o, "mode", json_object_new_string(oci_cg_mode_name(cg->mode)));
	for (size_t i = 0; i < cg->n; i++) {
		json_object *h = json_object_new_object();

		json_object_object_add(h, "mount", json_object_new_string(cg->h[i].mount));
		json_object_object_add(h, "name", json_object_new_string(cg->h[i].name));
		json_object_object_add(h, "controllers",
		                       json_object_new_int64(cg->h[i].controllers));
		json_object_object_add(h, "v2", json_object_new_boolean(cg->h[i].v2));
		json_object_object_add(h, "path", json_object_new_string(cg->h[i].path));
		json_object_object_add(h, "created", json_object_new_int(cg->h[i].created));
		json_object_array_add(a, h);
	}
	json_object_object_add(o, "hierarchies", a);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct oci_cgroup *oci_cgroup_from_json(const char *json, struct vk_error *err)
{
	json_object *o = json ? json_tokener_parse(json) : NULL, *a, *v;
	struct oci_cgroup *cg = calloc(1, sizeof(*cg));
	const char *mode;
	size_t n;

	if (!cg) {
		json_object_put(o);
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	cg->made = true;
	if (!o) /* a container without cgroups (rootless) */
		return cg;
	mode = jstr(o, "mode");
	cg->mode = mode && !strcmp(mode, "v2")       ? OCI_CG_V2
	           : mode && !strcmp(mode, "hybrid") ? OCI_CG_HYBRID
	                                             : OCI_CG_V1;
	if (json_object_object_get_ex(o, "hierarchies", &a) &&
	    json_object_is_type(a, json_type_array)) {
		n = json_object_array_length(a);
		cg->h = calloc(n + 1, sizeof(*cg->h));
		for (size_t i = 0; cg->h && i < n; i++) {
			json_object *h = json_object_array_get_idx(a, i);
			struct oci_cg_hier *x = &cg->h[cg->n];

			if (!jstr(h, "mount") || !jstr(h, "path") || !jstr(h, "name"))
				continue;
			x->dirfd = -1;
			x->mount = strdup(jstr(h, "mount"));
			x->name = strdup(jstr(h, "name"));
			x->path = strdup(jstr(h, "path"));
			if (json_object_object_get_ex(h, "controllers", &v))
				x->controllers = (uint32_t)json_object_get_int64(v);
			if (json_object_object_get_ex(h, "v2", &v))
				x->v2 = json_object_get_boolean(v);
			if (json_object_object_get_ex(h, "created", &v))
				x->created = json_object_get_int(v);
			cg->n++;
		}
	}
	json_object_put(o);
	return cg;
}
