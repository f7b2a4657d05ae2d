/* SPDX-License-Identifier: MIT */
/*
 * The hybrid-aware cgroup front end: finds the hierarchies, places the
 * container in each, routes resources to v1 or v2 writers, and removes it
 * all again. See cgroup.h for the model.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *const ctrl_names[CGC_COUNT] = {
        [CGC_CPU] = "cpu",         [CGC_CPUACCT] = "cpuacct",   [CGC_CPUSET] = "cpuset",
        [CGC_MEMORY] = "memory",   [CGC_DEVICES] = "devices",   [CGC_FREEZER] = "freezer",
        [CGC_BLKIO] = "blkio",     [CGC_PIDS] = "pids",         [CGC_HUGETLB] = "hugetlb",
        [CGC_NET_CLS] = "net_cls", [CGC_NET_PRIO] = "net_prio", [CGC_PERF_EVENT] = "perf_event",
        [CGC_RDMA] = "rdma",       [CGC_MISC] = "misc",
};

const char *oci_cg_ctrl_name(enum oci_cg_ctrl c)
{
	return c < CGC_COUNT ? ctrl_names[c] : "?";
}

const char *oci_cg_mode_name(enum oci_cg_mode mode)
{
	return mode == OCI_CG_V2 ? "v2" : mode == OCI_CG_HYBRID ? "hybrid" : "v1";
}

static int ctrl_from_name(const char *n)
{
	if (strcmp(n, "io") == 0)
		return CGC_BLKIO;
	for (int i = 0; i < CGC_COUNT; i++)
		if (strcmp(ctrl_names[i], n) == 0)
			return i;
	return -1;
}

/* Parse a comma list of controller names into a mask; *named gets "name=x". */
static uint32_t parse_ctrls(const char *list, char sep, char *named, size_t named_cap)
{
	uint32_t mask = 0;
	const char *p = list;

	if (named)
		named[0] = '\0';
	while (*p) {
		char word[128];
		size_t n = strcspn(p, sep == ',' ? ",\n" : " \n");
		int c;

		if (n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (named && strncmp(word, "name=", 5) == 0)
				snprintf(named, named_cap, "%.*s", (int)named_cap - 1, word);
			else if ((c = ctrl_from_name(word)) >= 0)
				mask |= 1u << c;
		}
		p += n;
		while (*p == ',' || *p == ' ' || *p == '\n')
			p++;
	}
	return mask;
}

/* Undo mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static bool path_below(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static void hier_free(struct oci_cg_hier *h)
{
	free(h->mount);
	free(h->name);
	free(h->path);
	if (h->dirfd >= 0)
		close(h->dirfd);
}

/* Read every visible cgroup hierarchy from /proc/self/mountinfo. */
static int scan_mounts(struct oci_cgroup *cg, struct vk_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return vk_error_errno(err, errno, "cannot read /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char *fields[10] = {0}, *sep, *save = NULL, *fstype, *super;
		char named[128];
		struct oci_cg_hier *nh;
		size_t i, j;
		uint32_t mask;
		bool v2;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		fields[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 5 && fields[i - 1]; i++)
			fields[i] = strtok_r(NULL, " ", &save);
		if (!fields[4])
			continue;
		unescape(fields[4]);
		/* Anything mounted on or above a hierarchy hides it. */
		for (i = 0, j = 0; i < cg->n; i++) {
			if (path_below(cg->h[i].mount, fields[4]))
				hier_free(&cg->h[i]);
			else
				cg->h[j++] = cg->h[i];
		}
		cg->n = j;
		save = NULL;
		fstype = strtok_r(sep + 3, " ", &save);
		strtok_r(NULL, " ", &save);
		super = strtok_r(NULL, " \n", &save);
		if (!fstype || !super)
			continue;
		v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		if (strcmp(fields[3], "/") != 0)
			continue; /* a bind of a sub-cgroup, not the hierarchy root */
		mask = v2 ? 0 : parse_ctrls(super, ',', named, sizeof(named));
		if (!v2 && !mask && !named[0])
			continue;
		for (i = 0; i < cg->n; i++) /* the same hierarchy mounted twice */
			if (cg->h[i].v2 == v2 && cg->h[i].controllers == mask &&
			    (v2 || strcmp(cg->h[i].name, mask ? cg->h[i].name : named) == 0))
				break;
		if (i < cg->n)
			continue;
		nh = realloc(cg->h, (cg->n + 1) * sizeof(*cg->h));
		if (!nh)
			break;
		cg->h = nh;
		nh = &cg->h[cg->n];
		memset(nh, 0, sizeof(*nh));
		nh->dirfd = -1;
		nh->v2 = v2;
		nh->controllers = mask;
		nh->mount = strdup(fields[4]);
		if (v2) {
			nh->name = strdup("");
		} else if (mask) {
			char buf[256] = "";

			for (int c = 0; c < CGC_COUNT; c++)
				if (mask & (1u << c))
					snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
					         "%s%s", buf[0] ? "," : "", ctrl_names[c]);
			nh->name = strdup(buf);
		} else {
			nh->name = strdup(named);
		}
		if (!nh->mount || !nh->name) {
			hier_free(nh);
			break;
		}
		cg->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* The layout, from a scan already made (one read of mountinfo per create). */
static enum oci_cg_mode layout_of(const struct oci_cgroup *cg)
{
	struct statfs sfs;

	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		return OCI_CG_V2;
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2)
			return OCI_CG_HYBRID;
	return OCI_CG_V1;
}

enum oci_cg_mode oci_cgroup_detect_mode(void)
{
	struct oci_cgroup cg = {0};
	enum oci_cg_mode mode = OCI_CG_V1;
	struct statfs sfs;
	size_t i;

	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		return OCI_CG_V2;
	if (scan_mounts(&cg, NULL) == 0)
		for (i = 0; i < cg.n; i++)
			if (cg.h[i].v2)
				mode = OCI_CG_HYBRID;
	for (i = 0; i < cg.n; i++)
		hier_free(&cg.h[i]);
	free(cg.h);
	return mode;
}

/* The runtime's own cgroup in hierarchy h, from /proc/self/cgroup. */
static char *own_cgroup(const struct oci_cg_hier *h)
{
	char *line = NULL, *res = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return strdup("/");
	while (!res && getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':'), *c2, named[128];
		uint32_t mask;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		c2[strcspn(c2 + 1, "\n") + 1] = '\0';
		if (h->v2) {
			if (c1[1] == '\0')
				res = strdup(c2 + 1);
			continue;
		}
		mask = parse_ctrls(c1 + 1, ',', named, sizeof(named));
		if (mask == h->controllers && (mask || strcmp(named, h->name) == 0))
			res = strdup(c2 + 1);
	}
	free(line);
	fclose(f);
	return res ? res : strdup("/");
}

/* "machine.slice:libpod:abc" -> "/machine.slice/libpod-abc.scope". */
static char *systemd_path(const char *spec, const char *id)
{
	char slice[256] = "system.slice", prefix[256] = "", name[512], out[2048] = "";
	const char *a = strchr(spec, ':'), *b = a ? strchr(a + 1, ':') : NULL;
	char *dash;

	if (!a || !b) {
		snprintf(name, sizeof(name), "%s", id);
	} else {
		if (a > spec)
			snprintf(slice, sizeof(slice), "%.*s", (int)(a - spec), spec);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(b - a - 1), a + 1);
		snprintf(name, sizeof(name), "%s", b + 1);
	}
	/* Nested slices: "a-b-c.slice" lives in "/a.slice/a-b.slice/a-b-c.slice". */
	if (strcmp(slice, "-.slice") != 0) {
		for (dash = strchr(slice, '-'); dash; dash = strchr(dash + 1, '-'))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "/%.*s.slice",
			         (int)(dash - slice), slice);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "/%s", slice);
	}
	if (strstr(name, ".slice") || strstr(name, ".scope"))
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "/%s", name);
	else
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "/%s%s%s.scope", prefix,
		         prefix[0] ? "-" : "", name);
	return strdup(out);
}

/* Normalise a/../b and refuse escaping the hierarchy. */
static int clean_path(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o + n + 2 > cap)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

/*
 * mkdir -p of the container's cgroup in one hierarchy. h->created counts the
 * trailing components made here (what destroy may remove). On failure what
 * was made is removed again, so the caller has nothing to undo for h.
 */
static int mkdir_path(struct oci_cg_hier *h, bool rootless, struct vk_error *err)
{
	char buf[4096];
	size_t mlen = strlen(h->mount);
	char *p;
	int created = 0;

	h->created = 0;
	if (snprintf(buf, sizeof(buf), "%s%s", h->mount, h->path) >= (int)sizeof(buf))
		return vk_error_set(err, ENAMETOOLONG, "cgroup path too long");
	for (p = buf + mlen + 1;; p++) {
		char c;

		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			created++;
		} else if (errno == EEXIST) {
			created = 0; /* only trailing fresh components are ours */
		} else {
			int e = errno;

			vk_error_errno(err, e, "cannot create cgroup '%s'", buf);
			/* Undo the components made so far, deepest first. */
			for (; created > 0; created--) {
				char *slash = strrchr(buf, '/');

				if (!slash)
					break;
				*slash = '\0';
				rmdir(buf);
			}
			return -e;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	h->created = created;
	return 0;
}

int cg_open_dir(struct oci_cg_hier *h)
{
	char buf[4096];

	if (h->dirfd >= 0)
		return h->dirfd;
	snprintf(buf, sizeof(buf), "%s%s", h->mount, h->path);
	h->dirfd = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return h->dirfd >= 0 ? h->dirfd : -errno;
}

struct oci_cgroup *oci_cgroup_resolve(const char *cgroups_path, const char *id, bool systemd,
                                      struct vk_error *err)
{
	struct oci_cgroup *cg = calloc(1, sizeof(*cg));
	char *rel = NULL, clean[4096];
	bool absolute;

	if (!cg) {
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (scan_mounts(cg, err) < 0)
		goto fail;
	cg->mode = layout_of(cg);
	if (systemd && cgroups_path && strchr(cgroups_path, ':')) {
		rel = systemd_path(cgroups_path, id);
		oci_info("systemd is not running here: using cgroupfs path %s for %s", rel,
		         cgroups_path);
	} else if (cgroups_path && *cgroups_path) {
		rel = strdup(cgroups_path);
	} else if (asprintf(&rel, "/%s", id) < 0) {
		rel = NULL;
	}
	if (!rel) {
		vk_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	absolute = rel[0] == '/';
	if (clean_path(rel, clean, sizeof(clean)) < 0) {
		vk_error_set(err, EINVAL, "invalid cgroupsPath '%s'", rel);
		goto fail;
	}
	for (size_t i = 0; i < cg->n; i++) {
		struct oci_cg_hier *h = &cg->h[i];

		if (absolute) {
			h->path = strdup(clean);
		} else {
			char *base = own_cgroup(h);

			if (base &&
			    asprintf(&h->path, "%s%s", strcmp(base, "/") ? base : "", clean) < 0)
				h->path = NULL;
			free(base);
		}
		if (!h->path) {
			vk_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
	}
	free(rel);
	return cg;
fail:
	free(rel);
	oci_cgroup_free(cg);
	return NULL;
}

int oci_cgroup_make(struct oci_cgroup *cg, bool rootless, const struct oci_resources *res,
                    struct vk_error *err)
{
	size_t i, j, all;
	int r;

	/* Created hierarchies move to the front: [0, j). */
	for (i = 0, j = 0; i < cg->n; i++) {
		struct oci_cg_hier tmp;
		bool skip = false;

		r = mkdir_path(&cg->h[i], rootless, err);
		if (r < 0 && rootless && (r == -EACCES || r == -EPERM || r == -EROFS)) {
			/* Rootless without delegation: leave this hierarchy out, unless
			 * its controllers are needed. */
			skip = true;
			vk_error_clear(err);
			for (int c = 0; c < CGC_COUNT; c++) {
				if ((cg->h[i].controllers & (1u << c)) && cg_requested(res, c)) {
					vk_error_errno(
					        err, -r,
					        "rootless container: cannot create a cgroup for "
					        "the %s limits in %s",
					        ctrl_names[c], cg->h[i].mount);
					skip = false;
					break;
				}
			}
		}
		if (r < 0 && !skip)
			goto undo;
		if (skip) {
			oci_debug("rootless: no cgroup in %s", cg->h[i].mount);
			continue;
		}
		tmp = cg->h[j];
		cg->h[j] = cg->h[i];
		cg->h[i] = tmp;
		j++;
	}
	for (i = j; i < cg->n; i++)
		hier_free(&cg->h[i]);
	cg->n = j;
	for (i = 0; i < cg->n; i++) {
		struct oci_cg_hier *h = &cg->h[i];

		if (cg_open_dir(h) < 0) {
			r = vk_error_errno(err, errno, "cannot open cgroup %s%s", h->mount,
			                   h->path);
			cg->made = true;
			oci_cgroup_destroy(cg, NULL);
			cg->made = false;
			return r;
		}
		if (!h->v2 && (h->controllers & (1u << CGC_CPUSET)) && h->created > 0 &&
		    (r = cg_v1_cpuset_init(h, err)) < 0) {
			cg->made = true;
			oci_cgroup_destroy(cg, NULL);
			cg->made = false;
			return r;
		}
	}
	cg->made = true;
	return 0;
undo:
	/* Remove what the first j made; the rest made nothing. */
	all = cg->n;
	cg->n = j;
	cg->made = true;
	oci_cgroup_destroy(cg, NULL);
	cg->made = false;
	cg->n = all;
	for (i = 0; i < cg->n; i++)
		cg->h[i].created = 0;
	return r;
}

struct oci_cgroup *oci_cgroup_create(const char *cgroups_path, const char *id, bool systemd,
                                     bool rootless, const struct oci_resources *res,
                                     struct vk_error *err)
{
	struct oci_cgroup *cg = oci_cgroup_resolve(cgroups_path, id, systemd, err);

	if (cg && oci_cgroup_make(cg, rootless, res, err) < 0) {
		oci_cgroup_free(cg);
		return NULL;
	}
	return cg;
}

struct oci_cg_hier *oci_cgroup_find(struct oci_cgroup *cg, enum oci_cg_ctrl c)
{
	struct oci_cg_hier *v2 = NULL;
	char buf[512];

	for (size_t i = 0; i < cg->n; i++) {
		if (!cg->h[i].v2 && (cg->h[i].controllers & (1u << c)))
			return &cg->h[i];
		if (cg->h[i].v2)
			v2 = &cg->h[i];
	}
	if (!v2)
		return NULL;
	/* On v2 a controller is usable when the container's cgroup lists it. */
	if (!(v2->controllers & (1u << c))) {
		ssize_t n = cg_read(v2, "cgroup.controllers", buf, sizeof(buf));

		if (n > 0)
			v2->controllers |= parse_ctrls(buf, ' ', NULL, 0);
	}
	return (v2->controllers & (1u << c)) ? v2 : NULL;
}

struct oci_cg_hier *oci_cgroup_v2(struct oci_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2)
			return &cg->h[i];
	return NULL;
}

int cg_write(struct oci_cg_hier *h, const char *file, const char *value, struct vk_error *err)
{
	size_t len = strlen(value);
	int fd, dfd = cg_open_dir(h), e;
	ssize_t n;

	if (dfd < 0)
		return vk_error_errno(err, -dfd, "cannot open cgroup %s%s", h->mount, h->path);
	fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot open %s%s/%s", h->mount, h->path, file);
	n = write(fd, value, len);
	e = errno;
	close(fd);
	if (n != (ssize_t)len)
		return vk_error_errno(err, n < 0 ? e : EIO, "cannot write '%s' to %s%s/%s", value,
		                      h->mount, h->path, file);
	return 0;
}

int cg_writef(struct oci_cg_hier *h, struct vk_error *err, const char *file, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cg_write(h, file, buf, err);
}

ssize_t cg_read(struct oci_cg_hier *h, const char *file, char *buf, size_t cap)
{
	int fd, dfd = cg_open_dir(h);
	ssize_t n;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = vk_read_full(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, struct vk_error *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		int r = cg_writef(&cg->h[i], err, "cgroup.procs", "%d", pid);

		if (r < 0)
			return r;
	}
	return 0;
}
