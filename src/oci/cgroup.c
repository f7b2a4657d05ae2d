/* SPDX-License-Identifier: MIT */
/*
 * The hybrid-aware cgroup front end: resolves cgroupsPath in every
 * hierarchy (cgroup-scan.c finds them), makes and joins the container's
 * cgroups, and the file helpers the v1 and v2 writers share. Resources,
 * freezing and removal are in cgroup-ops.c. See cgroup.h for the model.
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
#include "fault.h"
#include "log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

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
 * was made is removed again, so the caller has nothing to undo for h. A
 * parent found existing may be removed by a concurrent delete before the
 * next component is made in it (ENOENT): start again, a few times.
 */
static int mkdir_path(struct oci_cg_hier *h, bool rootless, struct vk_error *err)
{
	char buf[4096];
	size_t mlen = strlen(h->mount);
	char *p;
	int created = 0, tries = 0;

	h->created = 0;
again:
	created = 0;
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
			if (c == '/' && !strchr(p + 1, '/'))
				oci_fault_wait("cgroup-parent");
		} else if (errno == ENOENT && created == 0 && ++tries < 8) {
			goto again; /* the parent we found went away */
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
	if (cg_scan_mounts(cg, err) < 0)
		goto fail;
	cg->mode = cg_layout_of(cg);
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
			char *base = cg_own_cgroup(h);

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
					        oci_cg_ctrl_name(c), cg->h[i].mount);
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
		cg_hier_free(&cg->h[i]);
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
		if (!h->v2 && (h->controllers & (1u << CGC_CPUSET)) &&
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
			v2->controllers |= cg_parse_ctrls(buf, ' ', NULL, 0);
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
