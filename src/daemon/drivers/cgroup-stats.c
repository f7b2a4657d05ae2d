/* SPDX-License-Identifier: MIT */
/* A process's cgroup counters on v1, v2 and hybrid hosts (see cgroup-stats.h). */
#include "daemon/drivers/cgroup-stats.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compiler.h"
#include "daemon/proc.h"

#define FILE_MAX (64 * 1024)

/* A hierarchy: where it is mounted and which of its cgroups the process is in. */
struct hier {
	char point[PATH_MAX];  /* mount point, with the fixture root in front */
	char root[PATH_MAX];   /* the hierarchy's folder the mount shows */
	char cgroup[PATH_MAX]; /* the process's cgroup in it ("" when not listed) */
	bool mounted;
};

struct layout {
	/* v1 controllers we read, and the unified hierarchy. */
	struct hier cpuacct, memory, pids, blkio, unified;
	bool any_v1;
};

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void set_mount(struct hier *h, const char *root, const char *mnt_root, const char *point)
{
	if (h->mounted)
		return; /* the first mount of a hierarchy is the one we read */
	snprintf(h->point, sizeof(h->point), "%s%s", root, point);
	snprintf(h->root, sizeof(h->root), "%s", mnt_root);
	h->mounted = true;
}

static bool has_option(const char *opts, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = opts; p && *p;) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static void parse_mountinfo(struct layout *l, const char *text, const char *root)
{
	char line[4096];

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char mnt_root[PATH_MAX], point[PATH_MAX], fstype[32], super[512];
		const char *dash;

		snprintf(line, sizeof(line), "%.*s", (int)VK_MIN(n, sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		/* ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", mnt_root, point) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
			continue;
		unescape(mnt_root);
		unescape(point);
		if (strcmp(fstype, "cgroup2") == 0) {
			set_mount(&l->unified, root, mnt_root, point);
		} else if (strcmp(fstype, "cgroup") == 0) {
			l->any_v1 = true;
			if (has_option(super, "cpuacct"))
				set_mount(&l->cpuacct, root, mnt_root, point);
			if (has_option(super, "memory"))
				set_mount(&l->memory, root, mnt_root, point);
			if (has_option(super, "pids"))
				set_mount(&l->pids, root, mnt_root, point);
			if (has_option(super, "blkio"))
				set_mount(&l->blkio, root, mnt_root, point);
		}
	}
}

/* /proc/PID/cgroup: "ID:CONTROLLER[,CONTROLLER...]:PATH", v2 as "0::PATH". */
static void parse_cgroup(struct layout *l, const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char line[PATH_MAX + 128], *c1, *c2;

		snprintf(line, sizeof(line), "%.*s", (int)VK_MIN(n, sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		if (!(c1 = strchr(line, ':')) || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		if (c1[1] == '\0' && strcmp(line, "0:") == 0)
			snprintf(l->unified.cgroup, sizeof(l->unified.cgroup), "%s", c2 + 1);
		if (has_option(c1 + 1, "cpuacct"))
			snprintf(l->cpuacct.cgroup, sizeof(l->cpuacct.cgroup), "%s", c2 + 1);
		if (has_option(c1 + 1, "memory"))
			snprintf(l->memory.cgroup, sizeof(l->memory.cgroup), "%s", c2 + 1);
		if (has_option(c1 + 1, "pids"))
			snprintf(l->pids.cgroup, sizeof(l->pids.cgroup), "%s", c2 + 1);
		if (has_option(c1 + 1, "blkio"))
			snprintf(l->blkio.cgroup, sizeof(l->blkio.cgroup), "%s", c2 + 1);
	}
}

static bool usable(const struct hier *h)
{
	return h->mounted && h->cgroup[0] == '/';
}

/* The folder of the process's cgroup in h: the mount point plus its path under the mount. */
static int folder(const struct hier *h, char *buf, size_t len)
{
	size_t rl = strlen(h->root);
	const char *rel = h->cgroup;

	if (strcmp(h->root, "/") != 0) {
		if (strncmp(rel, h->root, rl) != 0 || (rel[rl] != '/' && rel[rl] != '\0'))
			return -ENOENT; /* the mount does not show this cgroup */
		rel += rl;
	}
	return fmt_buf(buf, len, "%s%s", h->point, rel);
}

static int read_text(const struct hier *h, const char *file, char *buf, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];

	if (!usable(h) || folder(h, dir, sizeof(dir)) < 0 ||
	    fmt_buf(path, sizeof(path), "%s/%s", dir, file) < 0)
		return -ENOENT;
	return read_small_file(path, buf, len);
}

static bool read_u64(const struct hier *h, const char *file, uint64_t *v)
{
	char buf[64], *end;

	if (read_text(h, file, buf, sizeof(buf)) <= 0)
		return false;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno == 0 && end != buf;
}

/* "KEY VALUE" lines (cpu.stat, cpuacct.stat). */
static bool keyed(const char *text, const char *key, uint64_t *v)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			*v = strtoull(p + n + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static void read_cpu(const struct layout *l, struct cg_stats *s, char *buf)
{
	uint64_t user, sys, usage;
	long hz = sysconf(_SC_CLK_TCK);

	if (usable(&l->cpuacct)) {
		s->have_cpu = read_u64(&l->cpuacct, "cpuacct.usage", &s->cpu_ns);
		if (hz > 0 && read_text(&l->cpuacct, "cpuacct.stat", buf, FILE_MAX) > 0 &&
		    keyed(buf, "user", &user) && keyed(buf, "system", &sys)) {
			s->have_cpu_split = true;
			s->cpu_user_ns = user * (1000000000ull / (uint64_t)hz);
			s->cpu_system_ns = sys * (1000000000ull / (uint64_t)hz);
		}
	} else if (read_text(&l->unified, "cpu.stat", buf, FILE_MAX) > 0 &&
	           keyed(buf, "usage_usec", &usage)) {
		s->have_cpu = true;
		s->cpu_ns = usage * 1000;
		if (keyed(buf, "user_usec", &user) && keyed(buf, "system_usec", &sys)) {
			s->have_cpu_split = true;
			s->cpu_user_ns = user * 1000;
			s->cpu_system_ns = sys * 1000;
		}
	}
}

static void read_memory(const struct layout *l, struct cg_stats *s)
{
	if (usable(&l->memory)) {
		s->have_memory = read_u64(&l->memory, "memory.usage_in_bytes", &s->memory_bytes);
		s->have_memory_peak =
		        read_u64(&l->memory, "memory.max_usage_in_bytes", &s->memory_peak_bytes);
	} else {
		s->have_memory = read_u64(&l->unified, "memory.current", &s->memory_bytes);
		s->have_memory_peak = read_u64(&l->unified, "memory.peak", &s->memory_peak_bytes);
	}
}

/* v1 blkio: "MAJ:MIN Read N" / "Write N" lines (and a "Total" line, skipped). */
static void sum_blkio(const char *text, uint64_t *rd, uint64_t *wr)
{
	*rd = *wr = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char dev[32], op[16];
		unsigned long long v;

		if (sscanf(p, "%31s %15s %llu", dev, op, &v) != 3)
			continue;
		if (strcmp(op, "Read") == 0)
			*rd += v;
		else if (strcmp(op, "Write") == 0)
			*wr += v;
	}
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device. */
static void sum_io_stat(const char *text, struct cg_stats *s)
{
	static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
	uint64_t *dst[] = {&s->io_read_bytes, &s->io_write_bytes, &s->io_read_ops,
	                   &s->io_write_ops};

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t n = strcspn(p, "\n");
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			const char *f = strstr(p, keys[k]);
			if (f && f < p + n && (f == p || f[-1] == ' '))
				*dst[k] += strtoull(f + strlen(keys[k]), NULL, 10);
		}
	}
}

static void read_io(const struct layout *l, struct cg_stats *s, char *buf)
{
	if (usable(&l->blkio)) {
		if ((read_text(&l->blkio, "blkio.throttle.io_service_bytes_recursive", buf,
		               FILE_MAX) >= 0 ||
		     read_text(&l->blkio, "blkio.throttle.io_service_bytes", buf, FILE_MAX) >= 0)) {
			s->have_io = true;
			sum_blkio(buf, &s->io_read_bytes, &s->io_write_bytes);
		}
		if (s->have_io &&
		    (read_text(&l->blkio, "blkio.throttle.io_serviced_recursive", buf, FILE_MAX) >=
		             0 ||
		     read_text(&l->blkio, "blkio.throttle.io_serviced", buf, FILE_MAX) >= 0))
			sum_blkio(buf, &s->io_read_ops, &s->io_write_ops);
	} else if (read_text(&l->unified, "io.stat", buf, FILE_MAX) >= 0) {
		s->have_io = true;
		sum_io_stat(buf, s);
	}
}

int cg_stats_parse(const char *cgroup, const char *mountinfo, const char *root,
                   struct cg_stats *out, struct vk_error *err)
{
	struct layout *l = calloc(1, sizeof(*l));
	char *buf = malloc(FILE_MAX);
	const struct hier *named;

	memset(out, 0, sizeof(*out));
	if (!l || !buf) {
		free(l);
		free(buf);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	parse_mountinfo(l, mountinfo, root);
	parse_cgroup(l, cgroup);
	snprintf(out->version, sizeof(out->version), "%s",
	         l->any_v1 && l->unified.mounted ? "hybrid"
	         : l->any_v1                     ? "v1"
	                                         : "v2");
	named = usable(&l->memory) ? &l->memory : &l->unified;
	snprintf(out->path, sizeof(out->path), "%s", named->cgroup);
	if (!usable(&l->memory) && !usable(&l->unified)) {
		free(l);
		free(buf);
		return vk_error_set(err, ENOENT, "the process is in no cgroup this host mounts");
	}
	read_cpu(l, out, buf);
	read_memory(l, out);
	out->have_pids =
	        read_u64(usable(&l->pids) ? &l->pids : &l->unified, "pids.current", &out->pids);
	read_io(l, out, buf);
	free(l);
	free(buf);
	return 0;
}

int cg_stats_for_pid(pid_t pid, struct cg_stats *out, struct vk_error *err)
{
	char path[64], *cg = malloc(FILE_MAX), *mi = malloc(4 * FILE_MAX);
	int r;

	if (!cg || !mi) {
		r = vk_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small_file(path, cg, FILE_MAX) < 0) {
		r = vk_error_set(err, ESRCH, "process %d is gone", (int)pid);
		goto out;
	}
	if (read_small_file("/proc/self/mountinfo", mi, 4 * FILE_MAX) < 0) {
		r = vk_error_errno(err, errno, "cannot read /proc/self/mountinfo");
		goto out;
	}
	r = cg_stats_parse(cg, mi, "", out, err);
out:
	free(cg);
	free(mi);
	return r;
}

static void add_u64(json_object *o, const char *key, bool have, uint64_t v)
{
	if (have)
		json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void cg_stats_to_json(const struct cg_stats *s, json_object *out)
{
	json_object_object_add(out, "cgroup", json_object_new_string(s->path));
	json_object_object_add(out, "cgroup_version", json_object_new_string(s->version));
	add_u64(out, "cpu_ns", s->have_cpu, s->cpu_ns);
	add_u64(out, "cpu_user_ns", s->have_cpu_split, s->cpu_user_ns);
	add_u64(out, "cpu_system_ns", s->have_cpu_split, s->cpu_system_ns);
	add_u64(out, "memory_bytes", s->have_memory, s->memory_bytes);
	add_u64(out, "memory_peak_bytes", s->have_memory_peak, s->memory_peak_bytes);
	add_u64(out, "pids", s->have_pids, s->pids);
	add_u64(out, "io_read_bytes", s->have_io, s->io_read_bytes);
	add_u64(out, "io_write_bytes", s->have_io, s->io_write_bytes);
	add_u64(out, "io_read_ops", s->have_io, s->io_read_ops);
	add_u64(out, "io_write_ops", s->have_io, s->io_write_ops);
}
