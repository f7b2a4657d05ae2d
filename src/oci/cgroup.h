/* SPDX-License-Identifier: MIT */
/*
 * cgroups for containers on v1, v2 and hybrid hosts. The front end
 * (cgroup.c) reads /proc/self/mountinfo and /proc/self/cgroup to find every
 * hierarchy and which controllers it carries, then routes each resource to
 * the hierarchy that has its controller: cgroup-v1.c or cgroup-v2.c write
 * the files. On a hybrid host (v1 controllers plus a cgroup2 mount such as
 * /sys/fs/cgroup/unified) both run side by side: e.g. memory on v1, hugetlb
 * on v2. The container's cgroup is created in every hierarchy, including
 * named ones (name=systemd) and the v2 one, the way runc places it.
 */
#ifndef VK_OCI_CGROUP_H
#define VK_OCI_CGROUP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec.h"

enum oci_cg_mode {
	OCI_CG_V1,
	OCI_CG_V2,
	OCI_CG_HYBRID,
};

enum oci_cg_ctrl {
	CGC_CPU,
	CGC_CPUACCT,
	CGC_CPUSET,
	CGC_MEMORY,
	CGC_DEVICES,
	CGC_FREEZER,
	CGC_BLKIO, /* "io" on v2 */
	CGC_PIDS,
	CGC_HUGETLB,
	CGC_NET_CLS,
	CGC_NET_PRIO,
	CGC_PERF_EVENT,
	CGC_RDMA,
	CGC_MISC,
	CGC_COUNT,
};

struct oci_cg_hier {
	char *mount;          /* where the hierarchy is mounted */
	char *name;           /* "memory", "cpu,cpuacct", "name=systemd", "" for v2 */
	uint32_t controllers; /* 1 << CGC_* */
	bool v2;
	char *path;  /* the container's cgroup, relative to the mount ("/a/b") */
	int created; /* how many trailing path components we created */
	int dirfd;   /* open on <mount><path>, -1 when not open */
};

struct oci_cgroup {
	enum oci_cg_mode mode;
	struct oci_cg_hier *h;
	size_t n;
	bool v2_device_filter; /* an eBPF device program was attached */
	bool made;             /* the directories exist (destroy removes nothing before) */
};

/* Which layout this host has, as found in /proc/self/mountinfo. */
enum oci_cg_mode oci_cgroup_detect_mode(void);
const char *oci_cg_mode_name(enum oci_cg_mode mode);
const char *oci_cg_ctrl_name(enum oci_cg_ctrl c);

/*
 * Resolve cgroupsPath (absolute: from each hierarchy's root; relative: below
 * the runtime's own cgroup; empty: "/<id>"; with systemd, "slice:prefix:name"
 * maps to the cgroupfs path systemd would use) and create the directories.
 * rootless: hierarchies we may not write are skipped, and it is an error only
 * when resources were asked for.
 */
struct oci_cgroup *oci_cgroup_create(const char *cgroups_path, const char *id, bool systemd,
                                     bool rootless, const struct oci_resources *res,
                                     struct vk_error *err);

/*
 * The two halves of oci_cgroup_create(): where the container's cgroup is in
 * each hierarchy (no change to the system), and making the directories. On
 * failure make removes what it made; the caller still frees cg.
 */
struct oci_cgroup *oci_cgroup_resolve(const char *cgroups_path, const char *id, bool systemd,
                                      struct vk_error *err);
int oci_cgroup_make(struct oci_cgroup *cg, bool rootless, const struct oci_resources *res,
                    struct vk_error *err) VK_MUST_CHECK;

/*
 * Apply resources (create and update). devices are the spec's linux.devices,
 * allowed in the device controller next to the defaults every container gets.
 */
int oci_cgroup_apply(struct oci_cgroup *cg, const struct oci_resources *res,
                     const struct oci_device *devices, size_t n_devices, bool update,
                     struct vk_error *err) VK_MUST_CHECK;

/* Move pid into the container's cgroup in every hierarchy. */
int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, struct vk_error *err) VK_MUST_CHECK;

/*
 * Kill what is left, remove the container's directories (and parents this
 * runtime created when empty). Safe on partially created cgroups.
 */
int oci_cgroup_destroy(struct oci_cgroup *cg, struct vk_error *err);
void oci_cgroup_free(struct oci_cgroup *cg);

/* Freeze or thaw every process of the container (freezer v1 or cgroup.freeze). */
int oci_cgroup_freeze(struct oci_cgroup *cg, bool freeze, struct vk_error *err) VK_MUST_CHECK;
bool oci_cgroup_is_frozen(struct oci_cgroup *cg);

/* Pids in the container's cgroup (malloc'd array). */
int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n,
                    struct vk_error *err) VK_MUST_CHECK;

/* Send sig to every process in the cgroup. Returns how many were signalled. */
int oci_cgroup_kill_all(struct oci_cgroup *cg, int sig);

/* runc `events --stats` style statistics. */
json_object *oci_cgroup_stats(struct oci_cgroup *cg);

/* Persist / restore the placement in state.json. */
char *oci_cgroup_to_json(const struct oci_cgroup *cg);
struct oci_cgroup *oci_cgroup_from_json(const char *json, struct vk_error *err);

/* The hierarchy carrying controller c, or NULL. */
struct oci_cg_hier *oci_cgroup_find(struct oci_cgroup *cg, enum oci_cg_ctrl c);
/* The v2 hierarchy, or NULL. */
struct oci_cg_hier *oci_cgroup_v2(struct oci_cgroup *cg);

/* cgroup-scan.c: the hierarchies this process can see, and its own cgroups. */
int cg_scan_mounts(struct oci_cgroup *cg, struct vk_error *err);
enum oci_cg_mode cg_layout_of(const struct oci_cgroup *cg);
char *cg_own_cgroup(const struct oci_cg_hier *h);
uint32_t cg_parse_ctrls(const char *list, char sep, char *named, size_t named_cap);
void cg_hier_free(struct oci_cg_hier *h);

/* Whether r asks for anything from controller c. */
bool cg_requested(const struct oci_resources *r, enum oci_cg_ctrl c);

/* Helpers for the per-version writers. */
int cg_write(struct oci_cg_hier *h, const char *file, const char *value,
             struct vk_error *err) VK_MUST_CHECK;
int cg_writef(struct oci_cg_hier *h, struct vk_error *err, const char *file, const char *fmt, ...)
        VK_PRINTF(4, 5) VK_MUST_CHECK;
/* Read a small file of the hierarchy's container cgroup; returns length or -errno. */
ssize_t cg_read(struct oci_cg_hier *h, const char *file, char *buf, size_t cap);
int cg_open_dir(struct oci_cg_hier *h);

/* cgroup-v1.c and cgroup-v2.c: one function per controller family. */
int cg_v1_memory(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_cpu(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_cpuset(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_pids(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_blkio(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_hugetlb(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_devices(struct oci_cg_hier *h, const struct oci_dev_rule *rules, size_t n,
                  struct vk_error *err);
int cg_v1_net(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v1_cpuset_init(struct oci_cg_hier *h, struct vk_error *err);
int cg_v1_freeze(struct oci_cg_hier *h, bool freeze, struct vk_error *err);

int cg_v2_memory(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_cpu(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_cpuset(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_pids(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_io(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_hugetlb(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_unified(struct oci_cg_hier *h, const struct oci_resources *r, struct vk_error *err);
int cg_v2_freeze(struct oci_cg_hier *h, bool freeze, struct vk_error *err);
int cg_v2_enable_controllers(struct oci_cg_hier *h, uint32_t wanted, struct vk_error *err);

/* cgroup-bpf.c: the v2 device filter as a BPF_PROG_TYPE_CGROUP_DEVICE program. */
int cg_v2_devices(struct oci_cg_hier *h, const struct oci_dev_rule *rules, size_t n,
                  struct vk_error *err);

/* cgroup-stats.c */
json_object *cg_stats_v1(struct oci_cgroup *cg);
json_object *cg_stats_v2(struct oci_cg_hier *h, json_object *into);

#endif
