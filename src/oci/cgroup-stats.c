/* SPDX-License-Identifier: MIT */
/*
 * Container statistics in the shape of runc's `events --stats` data: cpu,
 * memory, pids, blkio and hugetlb, from whichever hierarchy carries each
 * controller (v1 files or their v2 counterparts).
 */
#include "cgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t read_u64(struct oci_cg_hier *h, const char *file, bool *ok)
{
	char buf[64];

	if (cg_read(h, file, buf, sizeof(buf)) <= 0) {
		if (ok)
			*ok = false;
		return 0;
	}
	if (ok)
		*ok = true;
	if (strncmp(buf, "max", 3) == 0)
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* "key value" lines (memory.stat, cpu.stat) as an object of integers. */
static json_object *read_kv(struct oci_cg_hier *h, const char *file)
{
	char *buf = malloc(16384), *line, *save = NULL;
	json_object *o = json_object_new_object();

	if (!buf)
		return o;
	if (cg_read(h, file, buf, 16384) > 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(line, ' ');

			if (!sp)
				continue;
			*sp = '\0';
			add_u64(o, line, strtoull(sp + 1, NULL, 10));
		}
	}
	free(buf);
	return o;
}

static uint64_t kv_get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static json_object *usage_entry(struct oci_cg_hier *h, const char *prefix)
{
	json_object *u = json_object_new_object();
	char f[128];

	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	add_u64(u, "usage", read_u64(h, f, NULL));
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	add_u64(u, "max", read_u64(h, f, NULL));
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	add_u64(u, "failcnt", read_u64(h, f, NULL));
	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	add_u64(u, "limit", read_u64(h, f, NULL));
	return u;
}

static json_object *blkio_v1(struct oci_cg_hier *h)
{
	char *buf = malloc(16384), *line, *save = NULL;
	json_object *arr = json_object_new_array();

	if (buf && cg_read(h, "blkio.throttle.io_service_bytes_recursive", buf, 16384) > 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned maj, min;
			char op[32];
			unsigned long long v;
			json_object *e;

			if (sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v) != 4)
				continue;
			e = json_object_new_object();
			add_u64(e, "major", maj);
			add_u64(e, "minor", min);
			json_object_object_add(e, "op", json_object_new_string(op));
			add_u64(e, "value", v);
			json_object_array_add(arr, e);
		}
	}
	free(buf);
	return arr;
}

json_object *cg_stats_v1(struct oci_cgroup *cg)
{
	json_object *o = json_object_new_object();
	struct oci_cg_hier *h;
	bool ok;

	if ((h = oci_cgroup_find(cg, CGC_CPUACCT)) && !h->v2) {
		json_object *cpu = json_object_new_object(), *u = json_object_new_object();
		json_object *per = json_object_new_array(), *st = read_kv(h, "cpuacct.stat");
		char buf[4096], *p, *end;

		add_u64(u, "total", read_u64(h, "cpuacct.usage", NULL));
		if (cg_read(h, "cpuacct.usage_percpu", buf, sizeof(buf)) > 0)
			for (p = buf;; p = end) {
				unsigned long long v = strtoull(p, &end, 10);

				if (end == p)
					break;
				json_object_array_add(per, json_object_new_uint64(v));
			}
		json_object_object_add(u, "percpu", per);
		/* cpuacct.stat counts USER_HZ (100/s) ticks. */
		add_u64(u, "kernel", kv_get(st, "system") * 10000000ull);
		add_u64(u, "user", kv_get(st, "user") * 10000000ull);
		json_object_put(st);
		json_object_object_add(cpu, "usage", u);
		if ((h = oci_cgroup_find(cg, CGC_CPU)) && !h->v2) {
			json_object *t = json_object_new_object(), *cs = read_kv(h, "cpu.stat");

			add_u64(t, "periods", kv_get(cs, "nr_periods"));
			add_u64(t, "throttledPeriods", kv_get(cs, "nr_throttled"));
			add_u64(t, "throttledTime", kv_get(cs, "throttled_time"));
			json_object_put(cs);
			json_object_object_add(cpu, "throttling", t);
		}
		json_object_object_add(o, "cpu", cpu);
	}
	if ((h = oci_cgroup_find(cg, CGC_MEMORY)) && !h->v2) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "usage", usage_entry(h, "memory"));
		json_object_object_add(m, "swap", usage_entry(h, "memory.memsw"));
		json_object_object_add(m, "kernel", usage_entry(h, "memory.kmem"));
		json_object_object_add(m, "raw", read_kv(h, "memory.stat"));
		json_object_object_add(o, "memory", m);
	}
	if ((h = oci_cgroup_find(cg, CGC_PIDS)) && !h->v2) {
		json_object *p = json_object_new_object();
		uint64_t lim = read_u64(h, "pids.max", &ok);

		add_u64(p, "current", read_u64(h, "pids.current", NULL));
		add_u64(p, "limit", lim == UINT64_MAX ? 0 : lim);
		json_object_object_add(o, "pids", p);
	}
	if ((h = oci_cgroup_find(cg, CGC_BLKIO)) && !h->v2) {
		json_object *b = json_object_new_object();

		json_object_object_add(b, "ioServiceBytesRecursive", blkio_v1(h));
		json_object_object_add(o, "blkio", b);
	}
	if ((h = oci_cgroup_find(cg, CGC_HUGETLB)) && !h->v2) {
		static const char *const sizes[] = {"2MB", "1GB"};
		json_object *hu = json_object_new_object();

		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			json_object *e = json_object_new_object();
			char f[64];

			snprintf(f, sizeof(f), "hugetlb.%s.usage_in_bytes", sizes[i]);
			add_u64(e, "usage", read_u64(h, f, &ok));
			if (!ok) {
				json_object_put(e);
				continue;
			}
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", sizes[i]);
			add_u64(e, "max", read_u64(h, f, NULL));
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", sizes[i]);
			add_u64(e, "failcnt", read_u64(h, f, NULL));
			json_object_object_add(hu, sizes[i], e);
		}
		json_object_object_add(o, "hugetlb", hu);
	}
	return o;
}

/* Fill what v2 carries (controllers not already reported from v1). */
json_object *cg_stats_v2(struct oci_cg_hier *h, json_object *o)
{
	bool ok;

	if (!json_object_object_get_ex(o, "cpu", NULL)) {
		json_object *cs = read_kv(h, "cpu.stat"), *cpu = json_object_new_object();
		json_object *u = json_object_new_object(), *t = json_object_new_object();

		add_u64(u, "total", kv_get(cs, "usage_usec") * 1000);
		add_u64(u, "kernel", kv_get(cs, "system_usec") * 1000);
		add_u64(u, "user", kv_get(cs, "user_usec") * 1000);
		add_u64(t, "periods", kv_get(cs, "nr_periods"));
		add_u64(t, "throttledPeriods", kv_get(cs, "nr_throttled"));
		add_u64(t, "throttledTime", kv_get(cs, "throttled_usec") * 1000);
		json_object_put(cs);
		json_object_object_add(cpu, "usage", u);
		json_object_object_add(cpu, "throttling", t);
		json_object_object_add(o, "cpu", cpu);
	}
	if (!json_object_object_get_ex(o, "memory", NULL)) {
		uint64_t cur = read_u64(h, "memory.current", &ok);

		if (ok) {
			json_object *m = json_object_new_object(), *u = json_object_new_object();
			json_object *ev = read_kv(h, "memory.events");

			add_u64(u, "usage", cur);
			add_u64(u, "max", read_u64(h, "memory.peak", NULL));
			add_u64(u, "limit", read_u64(h, "memory.max", NULL));
			add_u64(u, "failcnt", kv_get(ev, "max"));
			json_object_put(ev);
			json_object_object_add(m, "usage", u);
			json_object_object_add(m, "raw", read_kv(h, "memory.stat"));
			json_object_object_add(o, "memory", m);
		}
	}
	if (!json_object_object_get_ex(o, "pids", NULL)) {
		uint64_t cur = read_u64(h, "pids.current", &ok);

		if (ok) {
			json_object *p = json_object_new_object();
			uint64_t lim = read_u64(h, "pids.max", NULL);

			add_u64(p, "current", cur);
			add_u64(p, "limit", lim == UINT64_MAX ? 0 : lim);
			json_object_object_add(o, "pids", p);
		}
	}
	if (!json_object_object_get_ex(o, "hugetlb", NULL)) {
		static const char *const sizes[] = {"2MB", "1GB"};
		json_object *hu = json_object_new_object();

		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			char f[64];
			uint64_t cur;

			snprintf(f, sizeof(f), "hugetlb.%s.current", sizes[i]);
			cur = read_u64(h, f, &ok);
			if (ok) {
				json_object *e = json_object_new_object();
				json_object *ev;

				add_u64(e, "usage", cur);
				snprintf(f, sizeof(f), "hugetlb.%s.events", sizes[i]);
				ev = read_kv(h, f);
				add_u64(e, "failcnt", kv_get(ev, "max"));
				json_object_put(ev);
				json_object_object_add(hu, sizes[i], e);
			}
		}
		json_object_object_add(o, "hugetlb", hu);
	}
	return o;
}
