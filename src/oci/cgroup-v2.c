/* SPDX-License-Identifier: MIT */
/*
 * cgroup v2 writers. The spec speaks v1 units; the conversions follow the
 * runtime-spec's cgroup v2 mapping (shares -> weight, memsw -> swap.max).
 */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static void fmt_limit(char *buf, size_t cap, int64_t v)
{
	if (v < 0)
		snprintf(buf, cap, "max");
	else
		snprintf(buf, cap, "%lld", (long long)v);
}

int cg_v2_memory(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	char buf[32];
	int e = 0;

	if (r->memory.limit.valid) {
		fmt_limit(buf, sizeof(buf), r->memory.limit.v);
		e = cg_write(h, "memory.max", buf, err);
	}
	if (!e && r->memory.swap.valid) {
		/* v1 "swap" is memory+swap; v2 swap.max is swap alone. */
		if (r->memory.swap.v < 0) {
			snprintf(buf, sizeof(buf), "max");
		} else {
			int64_t lim = r->memory.limit.valid ? r->memory.limit.v : -1;

			if (lim < 0 || r->memory.swap.v < lim)
				return vk_error_set(err, EINVAL,
				                    "linux.resources.memory.swap (%lld) must be at "
				                    "least the memory limit",
				                    (long long)r->memory.swap.v);
			snprintf(buf, sizeof(buf), "%lld", (long long)(r->memory.swap.v - lim));
		}
		e = cg_write(h, "memory.swap.max", buf, err);
	}
	if (!e && r->memory.reservation.valid) {
		fmt_limit(buf, sizeof(buf), r->memory.reservation.v);
		e = cg_write(h, "memory.low", buf, err);
	}
	if (!e && r->memory.kernel_tcp.valid)
		e = vk_error_set(err, ENOTSUP,
		                 "linux.resources.memory.kernelTCP is not supported on cgroup v2");
	if (!e && r->memory.kernel.valid)
		oci_warn("linux.resources.memory.kernel is deprecated by the runtime spec and "
		         "ignored (cgroup v2 has no kernel memory limit)");
	if (!e && r->memory.has_disable_oom && r->memory.disable_oom_killer)
		e = vk_error_set(err, ENOTSUP,
		                 "linux.resources.memory.disableOOMKiller is not supported on "
		                 "cgroup v2");
	return e;
}

int cg_v2_cpu(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	int e = 0;

	if (r->cpu.shares.valid && r->cpu.shares.v) {
		/* [2, 262144] -> [1, 10000], the mapping runc and crun use. */
		uint64_t s = r->cpu.shares.v < 2        ? 2
		             : r->cpu.shares.v > 262144 ? 262144
		                                        : r->cpu.shares.v;

		e = cg_writef(h, err, "cpu.weight", "%llu",
		              (unsigned long long)(1 + ((s - 2) * 9999) / 262142));
	}
	if (!e && (r->cpu.quota.valid || r->cpu.period.valid)) {
		char q[32];

		fmt_limit(q, sizeof(q), r->cpu.quota.valid ? r->cpu.quota.v : -1);
		e = cg_writef(h, err, "cpu.max", "%s %llu", q,
		              (unsigned long long)(r->cpu.period.valid ? r->cpu.period.v : 100000));
	}
	if (!e && r->cpu.burst.valid)
		e = cg_writef(h, err, "cpu.max.burst", "%llu", (unsigned long long)r->cpu.burst.v);
	if (!e && r->cpu.idle.valid)
		e = cg_writef(h, err, "cpu.idle", "%lld", (long long)r->cpu.idle.v);
	if (!e && (r->cpu.realtime_runtime.valid || r->cpu.realtime_period.valid))
		e = vk_error_set(err, ENOTSUP,
		                 "realtime cpu limits are not supported on cgroup v2");
	return e;
}

int cg_v2_cpuset(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	int e = 0;

	if (r->cpu.cpus && *r->cpu.cpus)
		e = cg_write(h, "cpuset.cpus", r->cpu.cpus, err);
	if (!e && r->cpu.mems && *r->cpu.mems)
		e = cg_write(h, "cpuset.mems", r->cpu.mems, err);
	return e;
}

int cg_v2_pids(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	if (r->pids.limit.v <= 0)
		return cg_write(h, "pids.max", "max", err);
	return cg_writef(h, err, "pids.max", "%lld", (long long)r->pids.limit.v);
}

static int io_max(struct oci_cg_hier *h, const struct oci_blkio_list *l, const char *key,
                  struct vk_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		int e = cg_writef(h, err, "io.max", "%lld:%lld %s=%llu", (long long)l->v[i].major,
		                  (long long)l->v[i].minor, key, (unsigned long long)l->v[i].rate);

		if (e < 0)
			return e;
	}
	return 0;
}

/* blkio weight [10, 1000] -> io weight [1, 10000]. */
static unsigned io_weight(unsigned w)
{
	return 1 + ((w < 10 ? 10 : w) - 10) * 9999 / 990;
}

int cg_v2_io(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	char probe[64];
	bool bfq = cg_read(h, "io.bfq.weight", probe, sizeof(probe)) > 0;
	int e = 0;
	size_t i;

	if (r->blkio.has_weight)
		e = bfq ? cg_writef(h, err, "io.bfq.weight", "%u", r->blkio.weight)
		        : cg_writef(h, err, "io.weight", "default %u", io_weight(r->blkio.weight));
	for (i = 0; !e && i < r->blkio.weight_device.n; i++) {
		const struct oci_blkio_dev *d = &r->blkio.weight_device.v[i];

		if (d->has_weight)
			e = cg_writef(h, err, bfq ? "io.bfq.weight" : "io.weight", "%lld:%lld %u",
			              (long long)d->major, (long long)d->minor,
			              bfq ? d->weight : io_weight(d->weight));
	}
	if (!e)
		e = io_max(h, &r->blkio.read_bps, "rbps", err);
	if (!e)
		e = io_max(h, &r->blkio.write_bps, "wbps", err);
	if (!e)
		e = io_max(h, &r->blkio.read_iops, "riops", err);
	if (!e)
		e = io_max(h, &r->blkio.write_iops, "wiops", err);
	return e;
}

int cg_v2_hugetlb(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char file[128];
		int e;

		snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepages[i].page_size);
		e = cg_writef(h, err, file, "%llu", (unsigned long long)r->hugepages[i].limit);
		if (e < 0)
			return e;
	}
	return 0;
}

int cg_v2_unified(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	for (size_t i = 0; i < r->unified.n; i++) {
		const char *k = r->unified.v[i].key;
		int e;

		if (strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
			return vk_error_set(err, EINVAL,
			                    "linux.resources.unified: invalid key '%s'", k);
		e = cg_write(h, k, r->unified.v[i].value, err);
		if (e < 0)
			return vk_error_prefix(err, "linux.resources.unified.%s", k);
	}
	return 0;
}

int cg_v2_freeze(struct oci_cg_hier *h, bool freeze, struct vk_error *err)
{
	char buf[512];
	int e, i;

	e = cg_write(h, "cgroup.freeze", freeze ? "1" : "0", err);
	if (e < 0)
		return e;
	for (i = 0; i < 2000; i++) {
		char *f;

		if (cg_read(h, "cgroup.events", buf, sizeof(buf)) < 0)
			return 0;
		f = strstr(buf, "frozen ");
		if (!f || (f[7] == '1') == freeze)
			return 0;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return vk_error_set(err, EBUSY, "cgroup %s%s did not %s", h->mount, h->path,
	                    freeze ? "freeze" : "thaw");
}

/* Enable the wanted controllers in every ancestor's cgroup.subtree_control. */
int cg_v2_enable_controllers(struct oci_cg_hier *h, uint32_t wanted, struct vk_error *err)
{
	char path[4096], buf[512], line[512];
	size_t mlen = strlen(h->mount);
	char *p;

	if (!wanted)
		return 0;
	snprintf(path, sizeof(path), "%s%s", h->mount, h->path);
	for (p = path + mlen;; p = strchr(p + 1, '/')) {
		char file[4200];
		FILE *f;
		size_t n;
		char c = p ? *p : '\0';

		if (!p || !*p)
			break;
		*p = '\0';
		snprintf(file, sizeof(file), "%s/cgroup.controllers", path);
		f = fopen(file, "re");
		n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		line[0] = '\0';
		for (int ctl = 0; ctl < CGC_COUNT; ctl++) {
			const char *name = ctl == CGC_BLKIO ? "io" : oci_cg_ctrl_name(ctl);
			char *hit = strstr(buf, name);
			size_t len = strlen(name);

			if (!(wanted & (1u << ctl)) || !hit || (hit > buf && hit[-1] != ' ') ||
			    (hit[len] != ' ' && hit[len] != '\n' && hit[len] != '\0'))
				continue;
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s+%s",
			         line[0] ? " " : "", name);
		}
		if (line[0]) {
			snprintf(file, sizeof(file), "%s/cgroup.subtree_control", path);
			f = fopen(file, "we");
			if (!f || fputs(line, f) < 0 || fclose(f) != 0) {
				int e = errno ? errno : EIO;

				*p = c;
				return vk_error_errno(err, e, "cannot enable '%s' in %s", line,
				                      file);
			}
		}
		*p = c;
	}
	return 0;
}
