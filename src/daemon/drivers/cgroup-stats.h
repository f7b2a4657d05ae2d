/* SPDX-License-Identifier: MIT */
/*
 * Counters of the cgroup a process runs in, on cgroup v1, v2 and hybrid hosts:
 * the process's /proc/PID/cgroup names its cgroup in each hierarchy, the
 * daemon's /proc/self/mountinfo where each hierarchy is mounted, and each
 * counter is read from the v1 controller that holds it when the host has one
 * (v1 and hybrid), else from the unified hierarchy (v2):
 *   cpu      v1 cpuacct.usage, cpuacct.stat  | v2 cpu.stat usage/user/system_usec
 *   memory   v1 memory.usage_in_bytes, memory.max_usage_in_bytes
 *                                            | v2 memory.current, memory.peak
 *   pids     pids.current (both)
 *   block    v1 blkio.throttle.io_service(d|_bytes)[_recursive]
 *                                            | v2 io.stat rbytes/wbytes/rios/wios
 * Counters a host does not have are left out (have_* false), never zero.
 */
#ifndef VKD_CGROUP_STATS_H
#define VKD_CGROUP_STATS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/error.h"

struct cg_stats {
	char version[8];     /* "v1", "v2" or "hybrid" */
	char path[PATH_MAX]; /* the cgroup (of the memory controller, or the unified one) */
	bool have_cpu, have_cpu_split;
	uint64_t cpu_ns, cpu_user_ns, cpu_system_ns;
	bool have_memory, have_memory_peak;
	uint64_t memory_bytes, memory_peak_bytes;
	bool have_pids;
	uint64_t pids;
	bool have_io;
	uint64_t io_read_bytes, io_write_bytes, io_read_ops, io_write_ops;
};

/*
 * From the text of /proc/PID/cgroup and of a mountinfo file; root is put in
 * front of every mount point (a test's fixture folder; "" on the host).
 */
int cg_stats_parse(const char *cgroup, const char *mountinfo, const char *root,
                   struct cg_stats *out, struct vk_error *err) VK_MUST_CHECK;

/* The cgroup process pid runs in, on this host. */
int cg_stats_for_pid(pid_t pid, struct cg_stats *out, struct vk_error *err) VK_MUST_CHECK;

/* Add the counters to a stats reply (docs/api.md, GET .../stats). */
void cg_stats_to_json(const struct cg_stats *s, json_object *out);

#endif
