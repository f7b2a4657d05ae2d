/* SPDX-License-Identifier: MIT */
/*
 * CRIU for checkpoint and restore: the options of runc's `checkpoint` and
 * `restore` that map to CRIU options, the command line built from them, and
 * running criu(8) with it.
 *
 * We drive CRIU through its command line, not its RPC (`criu swrk` and
 * protobuf messages): every option we need exists on the command line of
 * Debian's CRIU 3.17, no protobuf-c or libcriu dependency is needed, and the
 * exact command is what a stand-in criu (tests/integration/oci/criu-standin)
 * records, so tests can assert what the runtime asks of CRIU. What the RPC
 * offers beyond it (notify callbacks, a status fd) we do not use.
 *
 * The program is the global --criu PATH (runc's option), default "criu"
 * looked up in PATH.
 */
#ifndef VK_OCI_CRIU_H
#define VK_OCI_CRIU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct oci_cgroup;
struct oci_spec;

/* The options checkpoint and restore share (runc's names). */
struct oci_criu_opts {
	const char *criu;         /* --criu, or NULL for "criu" */
	const char *image_path;   /* --image-path (made absolute by the caller) */
	const char *work_path;    /* --work-path, NULL: the image path */
	const char *parent_path;  /* checkpoint --parent-path (relative to the image path) */
	const char *cgroups_mode; /* --manage-cgroups-mode: soft, full, strict, ignore */
	const char *empty_ns;     /* --empty-ns network */
	bool leave_running;
	bool pre_dump;
	bool tcp_established;
	bool tcp_skip_in_flight;
	bool link_remap;
	bool ext_unix_sk;
	bool shell_job;
	bool file_locks;
	bool auto_dedup;
	/* Refused (lazy migration needs a page server and userfaultfd). */
	bool lazy_pages;
	const char *page_server;
	const char *status_fd;
};

/* A growable NULL-terminated argument vector. */
struct oci_argv {
	char **v;
	size_t n, cap;
	bool oom;
};

void oci_argv_add(struct oci_argv *a, const char *s);
void oci_argv_addf(struct oci_argv *a, const char *fmt, ...) VK_PRINTF(2, 3);
void oci_argv_free(struct oci_argv *a);

/*
 * Refuse what is not supported (lazy pages, a page server, a bad cgroups
 * mode or --empty-ns value) with the reason. Shared by both commands.
 */
int oci_criu_check_opts(const struct oci_criu_opts *o, struct vk_error *err) VK_MUST_CHECK;

/*
 * The options every CRIU run of ours has: images, work dir, log, verbosity,
 * root, cgroups mode, and the runc flags set in o. action is "dump",
 * "pre-dump" or "restore"; log is "dump.log" or "restore.log".
 */
void oci_criu_common_args(struct oci_argv *a, const struct oci_criu_opts *o, const char *action,
                          const char *root);

/*
 * Run criu with argv (argv[0] is ignored: o->criu or "criu" is run). The
 * child first joins cg when given (restore: the restored tasks are created
 * there), and keeps the fds in keep[] open (inherited by CRIU for
 * --inherit-fd). A failure is -errno with the error: criu's exit status
 * and its first "Error" line from the log in the work directory.
 */
int oci_criu_run(const struct oci_criu_opts *o, struct oci_argv *a, const char *log,
                 struct oci_cgroup *cg, const int *keep, size_t n_keep,
                 struct vk_error *err) VK_MUST_CHECK;

/*
 * The external bind mounts of the spec: the mounts of type bind or with a
 * bind/rbind option. dump: --external mnt[DEST]:DEST; restore:
 * --external mnt[DEST]:SOURCE (the source of the bundle now).
 */
void oci_criu_ext_mounts(struct oci_argv *a, const struct oci_spec *spec, bool restore);

/* mkdir -p of an absolute path (0700 for what it makes). */
int oci_mkdir_p(const char *path, struct vk_error *err) VK_MUST_CHECK;

/* The file in the image directory recording the process's stdio (runc's name). */
#define OCI_CRIU_DESCRIPTORS "descriptors.json"

#endif
