/* SPDX-License-Identifier: MIT */
/*
 * config.json "linux.resources" (also the input of `update --resources`):
 * memory, cpu, pids, blockIO, hugepageLimits, devices, network, unified.
 */
#include "spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_memory(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *m;
	size_t mark;
	int e;

	e = sj_object(s, o, "memory", &m);
	if (e || !m)
		return e;
	mark = sj_push(s, "memory");
	e = sj_i64(s, m, "limit", &r->memory.limit);
	if (!e)
		e = sj_i64(s, m, "reservation", &r->memory.reservation);
	if (!e)
		e = sj_i64(s, m, "swap", &r->memory.swap);
	if (!e)
		e = sj_i64(s, m, "kernel", &r->memory.kernel);
	if (!e)
		e = sj_i64(s, m, "kernelTCP", &r->memory.kernel_tcp);
	if (!e)
		e = sj_u64(s, m, "swappiness", &r->memory.swappiness);
	if (!e && r->memory.swappiness.valid && r->memory.swappiness.v > 100) {
		sj_push(s, "swappiness");
		return sj_fail(s, "must be between 0 and 100");
	}
	if (!e && json_object_object_get_ex(m, "disableOOMKiller", NULL)) {
		r->memory.has_disable_oom = true;
		e = sj_bool(s, m, "disableOOMKiller", &r->memory.disable_oom_killer);
	}
	if (!e && json_object_object_get_ex(m, "useHierarchy", NULL)) {
		r->memory.has_use_hierarchy = true;
		e = sj_bool(s, m, "useHierarchy", &r->memory.use_hierarchy);
	}
	if (e)
		return e;
	if (r->memory.limit.valid && r->memory.limit.v < -1)
		return sj_fail(s, "limit must be -1 (unlimited) or a number of bytes");
	sj_pop(s, mark);
	return 0;
}

static int parse_cpu(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *c;
	size_t mark;
	int e;

	e = sj_object(s, o, "cpu", &c);
	if (e || !c)
		return e;
	mark = sj_push(s, "cpu");
	e = sj_u64(s, c, "shares", &r->cpu.shares);
	if (!e)
		e = sj_i64(s, c, "quota", &r->cpu.quota);
	if (!e)
		e = sj_u64(s, c, "burst", &r->cpu.burst);
	if (!e)
		e = sj_u64(s, c, "period", &r->cpu.period);
	if (!e)
		e = sj_i64(s, c, "realtimeRuntime", &r->cpu.realtime_runtime);
	if (!e)
		e = sj_u64(s, c, "realtimePeriod", &r->cpu.realtime_period);
	if (!e)
		e = sj_string(s, c, "cpus", false, &r->cpu.cpus);
	if (!e)
		e = sj_string(s, c, "mems", false, &r->cpu.mems);
	if (!e)
		e = sj_i64(s, c, "idle", &r->cpu.idle);
	if (e)
		return e;
	sj_pop(s, mark);
	return 0;
}

static int parse_blkio_list(struct sj *s, json_object *o, const char *key, struct oci_blkio_list *l,
                            bool weights)
{
	json_object *arr;
	size_t i, mark;
	int e;

	e = sj_array(s, o, key, &arr);
	if (e || !arr)
		return e;
	l->n = json_object_array_length(arr);
	l->v = calloc(l->n + 1, sizeof(*l->v));
	if (!l->v) {
		l->n = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, key);
	for (i = 0; i < l->n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		struct oci_blkio_dev *b = &l->v[i];
		struct oci_opt_i64 major = {0}, minor = {0};
		struct oci_opt_u64 rate = {0};
		uint32_t w = 0, lw = 0;
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(d, json_type_object))
			return sj_fail(s, "expected an object");
		e = sj_i64(s, d, "major", &major);
		if (!e)
			e = sj_i64(s, d, "minor", &minor);
		if (!e && weights) {
			e = sj_u32(s, d, "weight", false, &w, &b->has_weight);
			if (!e)
				e = sj_u32(s, d, "leafWeight", false, &lw, &b->has_leaf_weight);
		} else if (!e) {
			e = sj_u64(s, d, "rate", &rate);
			if (!e && !rate.valid)
				e = sj_fail(s, "rate is required");
		}
		if (e)
			return e;
		if (!major.valid || !minor.valid || major.v < 0 || minor.v < 0)
			return sj_fail(s, "major and minor are required");
		if (w > 10000 || lw > 10000)
			return sj_fail(s, "weight must be at most 10000");
		b->major = major.v;
		b->minor = minor.v;
		b->weight = (uint16_t)w;
		b->leaf_weight = (uint16_t)lw;
		b->rate = rate.v;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_blkio(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *b;
	uint32_t w = 0, lw = 0;
	size_t mark;
	int e;

	e = sj_object(s, o, "blockIO", &b);
	if (e || !b)
		return e;
	mark = sj_push(s, "blockIO");
	e = sj_u32(s, b, "weight", false, &w, &r->blkio.has_weight);
	if (!e)
		e = sj_u32(s, b, "leafWeight", false, &lw, &r->blkio.has_leaf_weight);
	if (!e && (w > 10000 || lw > 10000))
		e = sj_fail(s, "weight must be at most 10000");
	if (!e)
		e = parse_blkio_list(s, b, "weightDevice", &r->blkio.weight_device, true);
	if (!e)
		e = parse_blkio_list(s, b, "throttleReadBpsDevice", &r->blkio.read_bps, false);
	if (!e)
		e = parse_blkio_list(s, b, "throttleWriteBpsDevice", &r->blkio.write_bps, false);
	if (!e)
		e = parse_blkio_list(s, b, "throttleReadIOPSDevice", &r->blkio.read_iops, false);
	if (!e)
		e = parse_blkio_list(s, b, "throttleWriteIOPSDevice", &r->blkio.write_iops, false);
	if (e)
		return e;
	r->blkio.weight = (uint16_t)w;
	r->blkio.leaf_weight = (uint16_t)lw;
	sj_pop(s, mark);
	return 0;
}

static int parse_hugepages(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *arr;
	size_t i, mark;
	int e;

	e = sj_array(s, o, "hugepageLimits", &arr);
	if (e || !arr)
		return e;
	r->n_hugepages = json_object_array_length(arr);
	r->hugepages = calloc(r->n_hugepages + 1, sizeof(*r->hugepages));
	if (!r->hugepages) {
		r->n_hugepages = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "hugepageLimits");
	for (i = 0; i < r->n_hugepages; i++) {
		json_object *h = json_object_array_get_idx(arr, i);
		struct oci_opt_u64 limit = {0};
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(h, json_type_object))
			return sj_fail(s, "expected an object");
		e = sj_string(s, h, "pageSize", true, &r->hugepages[i].page_size);
		if (!e)
			e = sj_u64(s, h, "limit", &limit);
		if (e)
			return e;
		if (!limit.valid)
			return sj_fail(s, "limit is required");
		if (strspn(r->hugepages[i].page_size, "0123456789KMGB") !=
		    strlen(r->hugepages[i].page_size)) {
			sj_push(s, "pageSize");
			return sj_fail(s, "invalid page size '%s'", r->hugepages[i].page_size);
		}
		r->hugepages[i].limit = limit.v;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_dev_rules(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *arr;
	size_t i, mark;
	int e;

	e = sj_array(s, o, "devices", &arr);
	if (e || !arr)
		return e;
	r->n_devices = json_object_array_length(arr);
	r->devices = calloc(r->n_devices + 1, sizeof(*r->devices));
	if (!r->devices) {
		r->n_devices = 0;
		return vk_error_set(s->err, ENOMEM, "out of memory");
	}
	mark = sj_push(s, "devices");
	for (i = 0; i < r->n_devices; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		struct oci_dev_rule *rule = &r->devices[i];
		struct oci_opt_i64 major = {0}, minor = {0};
		char *type = NULL, *access = NULL;
		size_t mk = sj_push_index(s, i);

		if (!json_object_is_type(d, json_type_object))
			return sj_fail(s, "expected an object");
		if (!json_object_object_get_ex(d, "allow", NULL))
			return sj_fail(s, "allow is required");
		e = sj_bool(s, d, "allow", &rule->allow);
		if (!e)
			e = sj_string(s, d, "type", false, &type);
		if (!e)
			e = sj_string(s, d, "access", false, &access);
		if (!e)
			e = sj_i64(s, d, "major", &major);
		if (!e)
			e = sj_i64(s, d, "minor", &minor);
		rule->type = type ? type[0] : 'a';
		if (!e && type && (strlen(type) != 1 || !strchr("acb", type[0])))
			e = sj_fail(s, "type must be a, c or b; got '%s'", type);
		if (!e && access && (strlen(access) > 3 || strspn(access, "rwm") != strlen(access)))
			e = sj_fail(s, "access must be a combination of r, w and m; got '%s'",
			            access);
		if (!e)
			snprintf(rule->access, sizeof(rule->access), "%s",
			         access && *access ? access : "rwm");
		free(type);
		free(access);
		if (e)
			return e;
		rule->major = major.valid ? major.v : -1;
		rule->minor = minor.valid ? minor.v : -1;
		sj_pop(s, mk);
	}
	sj_pop(s, mark);
	return 0;
}

static int parse_network(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *n, *arr;
	size_t i, mark;
	int e;

	e = sj_object(s, o, "network", &n);
	if (e || !n)
		return e;
	mark = sj_push(s, "network");
	e = sj_u64(s, n, "classID", &r->network.class_id);
	if (!e)
		e = sj_array(s, n, "priorities", &arr);
	if (e)
		return e;
	if (arr) {
		size_t cnt = json_object_array_length(arr);

		r->network.priorities.v = calloc(cnt + 1, sizeof(struct oci_kv));
		if (!r->network.priorities.v)
			return vk_error_set(s->err, ENOMEM, "out of memory");
		sj_push(s, "priorities");
		for (i = 0; i < cnt; i++) {
			json_object *p = json_object_array_get_idx(arr, i);
			struct oci_kv *kv = &r->network.priorities.v[i];
			uint32_t prio = 0;
			size_t mk = sj_push_index(s, i);

			if (!json_object_is_type(p, json_type_object))
				return sj_fail(s, "expected an object");
			r->network.priorities.n = i + 1;
			e = sj_string(s, p, "name", true, &kv->key);
			if (!e)
				e = sj_u32(s, p, "priority", true, &prio, NULL);
			if (e)
				return e;
			if (asprintf(&kv->value, "%u", prio) < 0) {
				kv->value = NULL;
				return vk_error_set(s->err, ENOMEM, "out of memory");
			}
			sj_pop(s, mk);
		}
	}
	sj_pop(s, mark);
	return 0;
}

int spec_parse_resources(struct sj *s, json_object *o, struct oci_resources *r)
{
	json_object *p;
	int e;

	r->present = true;
	e = parse_memory(s, o, r);
	if (!e)
		e = parse_cpu(s, o, r);
	if (!e)
		e = sj_object(s, o, "pids", &p);
	if (!e && p) {
		size_t mark = sj_push(s, "pids");

		e = sj_i64(s, p, "limit", &r->pids.limit);
		if (!e)
			sj_pop(s, mark);
	}
	if (!e)
		e = parse_blkio(s, o, r);
	if (!e)
		e = parse_hugepages(s, o, r);
	if (!e)
		e = parse_dev_rules(s, o, r);
	if (!e)
		e = parse_network(s, o, r);
	if (!e)
		e = sj_kv(s, o, "unified", &r->unified);
	return e;
}

static void free_blkio(struct oci_blkio_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void spec_free_resources(struct oci_resources *r)
{
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free_blkio(&r->blkio.weight_device);
	free_blkio(&r->blkio.read_bps);
	free_blkio(&r->blkio.write_bps);
	free_blkio(&r->blkio.read_iops);
	free_blkio(&r->blkio.write_iops);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	free(r->devices);
	oci_kv_free(&r->network.priorities);
	oci_kv_free(&r->unified);
}

int oci_resources_parse(const char *json, size_t len, const char *fname, struct oci_resources *r,
                        struct vk_error *err)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
	struct sj s;
	int e;

	memset(r, 0, sizeof(*r));
	if (!o || !json_object_is_type(o, json_type_object)) {
		e = vk_error_set(err, EINVAL, "%s: invalid JSON: %s", fname,
		                 tok ? json_tokener_error_desc(json_tokener_get_error(tok))
		                     : "out of memory");
		if (tok)
			json_tokener_free(tok);
		json_object_put(o);
		return e;
	}
	json_tokener_free(tok);
	sj_init(&s, fname, err);
	e = spec_parse_resources(&s, o, r);
	json_object_put(o);
	if (e)
		spec_free_resources(r);
	return e;
}

void oci_resources_free(struct oci_resources *r)
{
	spec_free_resources(r);
}
