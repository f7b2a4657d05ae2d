/* SPDX-License-Identifier: MIT */
/* cgroup v1 writers: one function per controller, called by the front end. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int cg_v1_memory(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	char limit[32], swap[32];
	int e;

	if (r->memory.limit.valid)
		snprintf(limit, sizeof(limit), "%lld", (long long)r->memory.limit.v);
	if (r->memory.swap.valid)
		snprintf(swap, sizeof(swap), "%lld", (long long)r->memory.swap.v);
	if (r->memory.limit.valid && r->memory.swap.valid) {
		/* memsw must stay >= limit at every step: try both orders. */
		if (cg_write(h, "memory.limit_in_bytes", limit, NULL) == 0) {
			e = cg_write(h, "memory.memsw.limit_in_bytes", swap, err);
		} else {
			e = cg_write(h, "memory.memsw.limit_in_bytes", swap, err);
			if (e == 0)
				e = cg_write(h, "memory.limit_in_bytes", limit, err);
		}
		if (e < 0 && err && err->code == ENOENT)
			vk_error_prefix(err, "swap limits need swap accounting (swapaccount=1)");
		if (e < 0)
			return e;
	} else if (r->memory.limit.valid) {
		e = cg_write(h, "memory.limit_in_bytes", limit, err);
		if (e < 0)
			return e;
	} else if (r->memory.swap.valid) {
		e = cg_write(h, "memory.memsw.limit_in_bytes", swap, err);
		if (e < 0)
			return e;
	}
	if (r->memory.reservation.valid) {
		e = cg_writef(h, err, "memory.soft_limit_in_bytes", "%lld",
		              (long long)r->memory.reservation.v);
		if (e < 0)
			return e;
	}
	if (r->memory.kernel.valid)
		oci_warn("linux.resources.memory.kernel is deprecated by the runtime spec and "
		         "ignored (kernels since 5.16 do not enforce it)");
	if (r->memory.kernel_tcp.valid) {
		e = cg_writef(h, err, "memory.kmem.tcp.limit_in_bytes", "%lld",
		              (long long)r->memory.kernel_tcp.v);
		if (e < 0)
			return e;
	}
	if (r->memory.swappiness.valid) {
		e = cg_writef(h, err, "memory.swappiness", "%llu",
		              (unsigned long long)r->memory.swappiness.v);
		if (e < 0)
			return e;
	}
	if (r->memory.has_disable_oom) {
		e = cg_write(h, "memory.oom_control", r->memory.disable_oom_killer ? "1" : "0",
		             err);
		if (e < 0)
			return e;
	}
	if (r->memory.has_use_hierarchy && r->memory.use_hierarchy &&
	    cg_write(h, "memory.use_hierarchy", "1", NULL) < 0)
		oci_debug("memory.use_hierarchy is fixed on this kernel");
	return 0;
}

int cg_v1_cpu(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	int e = 0;

	if (r->cpu.shares.valid)
		e = cg_writef(h, err, "cpu.shares", "%llu", (unsigned long long)r->cpu.shares.v);
	if (!e && r->cpu.period.valid)
		e = cg_writef(h, err, "cpu.cfs_period_us", "%llu",
		              (unsigned long long)r->cpu.period.v);
	if (!e && r->cpu.quota.valid)
		e = cg_writef(h, err, "cpu.cfs_quota_us", "%lld", (long long)r->cpu.quota.v);
	if (!e && r->cpu.burst.valid)
		e = cg_writef(h, err, "cpu.cfs_burst_us", "%llu",
		              (unsigned long long)r->cpu.burst.v);
	if (!e && r->cpu.realtime_period.valid)
		e = cg_writef(h, err, "cpu.rt_period_us", "%llu",
		              (unsigned long long)r->cpu.realtime_period.v);
	if (!e && r->cpu.realtime_runtime.valid)
		e = cg_writef(h, err, "cpu.rt_runtime_us", "%lld",
		              (long long)r->cpu.realtime_runtime.v);
	if (!e && r->cpu.idle.valid)
		e = cg_writef(h, err, "cpu.idle", "%lld", (long long)r->cpu.idle.v);
	return e;
}

int cg_v1_cpuset(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	int e = 0;

	if (r->cpu.cpus && *r->cpu.cpus)
		e = cg_write(h, "cpuset.cpus", r->cpu.cpus, err);
	if (!e && r->cpu.mems && *r->cpu.mems)
		e = cg_write(h, "cpuset.mems", r->cpu.mems, err);
	return e;
}

/*
 * A fresh v1 cpuset has empty cpus and mems, and no task can join it until
 * they are set: copy them down from the parent for every level that has them
 * empty, from the top. Not only the levels this runtime made: a parent
 * another create has just made may not have been filled yet (two creates
 * sharing it race), and filling it twice writes the same values.
 */
int cg_v1_cpuset_init(struct oci_cg_hier *h, struct vk_error *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char path[4096], val[4096];
	size_t mlen = strlen(h->mount), ends[256], depth = 0, k, i;

	if (snprintf(path, sizeof(path), "%s%s", h->mount, h->path) >= (int)sizeof(path))
		return vk_error_set(err, ENAMETOOLONG, "cgroup path too long");
	/* ends[k]: where the path of level k stops (level 0 is the mount). */
	ends[depth++] = mlen;
	for (i = mlen + 1; depth < ARRAY_SIZE(ends); i++) {
		if (path[i] == '/' || path[i] == '\0')
			ends[depth++] = i;
		if (path[i] == '\0')
			break;
	}
	for (k = 1; k < depth; k++) {
		for (i = 0; i < ARRAY_SIZE(files); i++) {
			char f[4200], pf[4200];
			FILE *in;
			size_t n;

			snprintf(f, sizeof(f), "%.*s/%s", (int)ends[k], path, files[i]);
			snprintf(pf, sizeof(pf), "%.*s/%s", (int)ends[k - 1], path, files[i]);
			in = fopen(f, "re");
			if (!in)
				return vk_error_errno(err, errno, "cannot read %s", f);
			n = fread(val, 1, sizeof(val) - 1, in);
			fclose(in);
			if (n > 1)
				continue; /* already set */
			in = fopen(pf, "re");
			if (!in)
				return vk_error_errno(err, errno, "cannot read %s", pf);
			n = fread(val, 1, sizeof(val) - 1, in);
			fclose(in);
			val[n] = '\0';
			in = fopen(f, "we");
			if (!in)
				return vk_error_errno(err, errno, "cannot write %s", f);
			if (fputs(val, in) < 0 || fclose(in) != 0)
				return vk_error_errno(err, errno ? errno : EIO, "cannot write %s",
				                      f);
		}
	}
	return 0;
}

int cg_v1_pids(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	if (r->pids.limit.v <= 0)
		return cg_write(h, "pids.max", "max", err);
	return cg_writef(h, err, "pids.max", "%lld", (long long)r->pids.limit.v);
}

static int blkio_list(struct oci_cg_hier *h, const char *file, const struct oci_blkio_list *l,
                      struct vk_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		int e = cg_writef(h, err, file, "%lld:%lld %llu", (long long)l->v[i].major,
		                  (long long)l->v[i].minor, (unsigned long long)l->v[i].rate);

		if (e < 0)
			return e;
	}
	return 0;
}

int cg_v1_blkio(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	char probe[64];
	bool bfq = cg_read(h, "blkio.weight", probe, sizeof(probe)) < 0;
	int e = 0;
	size_t i;

	/* Without CFQ the weight lives in blkio.bfq.weight (BFQ scheduler). */
	if (r->blkio.has_weight)
		e = cg_writef(h, err, bfq ? "blkio.bfq.weight" : "blkio.weight", "%u",
		              r->blkio.weight);
	if (!e && r->blkio.has_leaf_weight)
		e = cg_writef(h, err, "blkio.leaf_weight", "%u", r->blkio.leaf_weight);
	for (i = 0; !e && i < r->blkio.weight_device.n; i++) {
		const struct oci_blkio_dev *d = &r->blkio.weight_device.v[i];

		if (d->has_weight)
			e = cg_writef(h, err,
			              bfq ? "blkio.bfq.weight_device" : "blkio.weight_device",
			              "%lld:%lld %u", (long long)d->major, (long long)d->minor,
			              d->weight);
		if (!e && d->has_leaf_weight)
			e = cg_writef(h, err, "blkio.leaf_weight_device", "%lld:%lld %u",
			              (long long)d->major, (long long)d->minor, d->leaf_weight);
	}
	if (!e)
		e = blkio_list(h, "blkio.throttle.read_bps_device", &r->blkio.read_bps, err);
	if (!e)
		e = blkio_list(h, "blkio.throttle.write_bps_device", &r->blkio.write_bps, err);
	if (!e)
		e = blkio_list(h, "blkio.throttle.read_iops_device", &r->blkio.read_iops, err);
	if (!e)
		e = blkio_list(h, "blkio.throttle.write_iops_device", &r->blkio.write_iops, err);
	return e;
}

int cg_v1_hugetlb(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char file[128];
		int e;

		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes",
		         r->hugepages[i].page_size);
		e = cg_writef(h, err, file, "%llu", (unsigned long long)r->hugepages[i].limit);
		if (e < 0)
			return e;
	}
	return 0;
}

int cg_v1_net(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err)
{
	int e = 0;

	if ((h->controllers & (1u << CGC_NET_CLS)) && r->network.class_id.valid)
		e = cg_writef(h, err, "net_cls.classid", "%llu",
		              (unsigned long long)r->network.class_id.v);
	for (size_t i = 0;
	     !e && (h->controllers & (1u << CGC_NET_PRIO)) && i < r->network.priorities.n; i++)
		e = cg_writef(h, err, "net_prio.ifpriomap", "%s %s", r->network.priorities.v[i].key,
		              r->network.priorities.v[i].value);
	return e;
}

static void format_rule(const struct oci_dev_rule *d, char *buf, size_t cap)
{
	char maj[24], min[24];

	if (d->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
	if (d->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
	snprintf(buf, cap, "%c %s:%s %s", d->type, maj, min, d->access);
}

int cg_v1_devices(struct oci_cg_hier *h, const struct oci_dev_rule *rules, size_t n,
                  struct vk_error *err)
{
	int dfd = cg_open_dir(h), fds[2] = {-1, -1}, e = 0;
	char line[96];

	if (dfd < 0)
		return vk_error_errno(err, -dfd, "cannot open cgroup %s%s", h->mount, h->path);
	/* One open per file; each write() is one rule. */
	fds[0] = openat(dfd, "devices.deny", O_WRONLY | O_CLOEXEC);
	fds[1] = openat(dfd, "devices.allow", O_WRONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0) {
		e = vk_error_errno(err, errno, "cannot open the device rules of %s%s", h->mount,
		                   h->path);
		goto out;
	}
	/* Start from nothing allowed; rules apply in order, later ones win. */
	if (write(fds[0], "a", 1) != 1) {
		e = vk_error_errno(err, errno, "cannot write 'a' to %s%s/devices.deny", h->mount,
		                   h->path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct oci_dev_rule *d = &rules[i];
		size_t len;

		if (d->type == 'a')
			snprintf(line, sizeof(line), "a");
		else
			format_rule(d, line, sizeof(line));
		len = strlen(line);
		if (write(fds[d->allow], line, len) != (ssize_t)len) {
			e = vk_error_errno(err, errno, "cannot write '%s' to %s%s/devices.%s", line,
			                   h->mount, h->path, d->allow ? "allow" : "deny");
			goto out;
		}
	}
out:
	for (int k = 0; k < 2; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	return e;
}

int cg_v1_freeze(struct oci_cg_hier *h, bool freeze, struct vk_error *err)
{
	const char *want = freeze ? "FROZEN" : "THAWED";
	char buf[64];
	int e, i;

	for (i = 0; i < 1000; i++) {
		/* Writing again while FREEZING retries the freeze (kernel advice). */
		e = cg_write(h, "freezer.state", want, err);
		if (e < 0)
			return e;
		if (cg_read(h, "freezer.state", buf, sizeof(buf)) > 0 &&
		    strncmp(buf, want, strlen(want)) == 0)
			return 0;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return vk_error_set(err, EBUSY, "the freezer of %s%s did not reach %s", h->mount, h->path,
	                    want);
}
