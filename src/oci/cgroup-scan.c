/* SPDX-License-Identifier: MIT */
/*
 * Finding the cgroup hierarchies: /proc/self/mountinfo (which cgroup and
 * cgroup2 mounts are visible, with which controllers, and which are hidden
 * under later mounts) and /proc/self/cgroup (the runtime's own cgroups).
 */
#include "cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

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
uint32_t cg_parse_ctrls(const char *list, char sep, char *named, size_t named_cap)
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

void cg_hier_free(struct oci_cg_hier *h)
{
	free(h->mount);
	free(h->name);
	free(h->path);
	if (h->dirfd >= 0)
		close(h->dirfd);
}

/* Read every visible cgroup hierarchy from /proc/self/mountinfo. */
int cg_scan_mounts(struct oci_cgroup *cg, struct vk_error *err)
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
				cg_hier_free(&cg->h[i]);
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
		mask = v2 ? 0 : cg_parse_ctrls(super, ',', named, sizeof(named));
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
			cg_hier_free(nh);
			break;
		}
		cg->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* The layout, from a scan already made (one read of mountinfo per create). */
enum oci_cg_mode cg_layout_of(const struct oci_cgroup *cg)
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
	if (cg_scan_mounts(&cg, NULL) == 0)
		for (i = 0; i < cg.n; i++)
			if (cg.h[i].v2)
				mode = OCI_CG_HYBRID;
	for (i = 0; i < cg.n; i++)
		cg_hier_free(&cg.h[i]);
	free(cg.h);
	return mode;
}

/* The runtime's own cgroup in hierarchy h, from /proc/self/cgroup. */
char *cg_own_cgroup(const struct oci_cg_hier *h)
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
		mask = cg_parse_ctrls(c1 + 1, ',', named, sizeof(named));
		if (mask == h->controllers && (mask || strcmp(named, h->name) == 0))
			res = strdup(c2 + 1);
	}
	free(line);
	fclose(f);
	return res ? res : strdup("/");
}
