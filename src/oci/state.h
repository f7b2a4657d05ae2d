/* SPDX-License-Identifier: MIT */
/*
 * Container state under --root: one directory per container holding
 * state.json (written atomically: temp file + rename), a copy of config.json
 * (exec and poststop hooks read it after the bundle may have changed), and
 * start.sock while the container waits in "created". Every command that
 * changes a container holds an exclusive flock on its directory.
 */
#ifndef VK_OCI_STATE_H
#define VK_OCI_STATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum oci_status {
	OCI_STATUS_CREATING,
	OCI_STATUS_CREATED,
	OCI_STATUS_RUNNING,
	OCI_STATUS_PAUSED,
	OCI_STATUS_STOPPED,
};

#define OCI_STATE_FILE  "state.json"
#define OCI_CONFIG_COPY "config.json"
#define OCI_START_SOCK  "start.sock"

struct oci_state {
	char *id;
	pid_t pid;
	uint64_t pid_start; /* starttime from /proc/<pid>/stat: guards against pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	uid_t owner;
	char *annotations_json;
	bool rootless;
	int ns_flags;      /* namespaces the container owns (CLONE_NEW*) */
	char *cgroup_json; /* cgroup placement, see cgroup.h */
	char *mounts_json; /* mounts made in the runtime's namespace, see hostmounts.h */
	pid_t creator;     /* the runtime creating it, while pid is still 0 */
	uint64_t creator_start;
	bool systemd_cgroup;
};

/* Container ids: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
int oci_validate_id(const char *id, struct vk_error *err) VK_MUST_CHECK;

/* Create --root (and parents) if missing; 0700 for a fresh directory. */
int oci_root_ensure(const char *root, struct vk_error *err) VK_MUST_CHECK;

/*
 * Make the container directory and lock it. EEXIST becomes "container with
 * id exists: ID". Returns the locked directory fd.
 */
int oci_state_create_dir(const char *root, const char *id, struct vk_error *err) VK_MUST_CHECK;

/* Open and lock an existing container directory ("container does not exist"). */
int oci_state_open(const char *root, const char *id, bool lock, struct vk_error *err) VK_MUST_CHECK;

int oci_state_save(int dirfd, const struct oci_state *st, struct vk_error *err) VK_MUST_CHECK;
/* Returns -ENOENT (no message) when state.json is not there yet (creating). */
int oci_state_load(int dirfd, const char *id, struct oci_state *st,
                   struct vk_error *err) VK_MUST_CHECK;
void oci_state_clear(struct oci_state *st);

/* Remove the directory and everything in it. */
int oci_state_remove(const char *root, const char *id, int dirfd);

/*
 * created / running / stopped from the process and start.sock; the caller
 * refines running into paused with the cgroup freezer.
 */
enum oci_status oci_state_status(int dirfd, const struct oci_state *st);
const char *oci_status_name(enum oci_status s);

/* True when pid is alive and is the process recorded (start time matches). */
bool oci_pid_alive(pid_t pid, uint64_t start_time);
/* starttime of /proc/<pid>/stat (0 when the process is gone). */
uint64_t oci_pid_start_time(pid_t pid);

/* The spec's state object: ociVersion, id, status, pid, bundle, annotations. */
json_object *oci_state_to_json(const struct oci_state *st, enum oci_status status);

/* Write text to a file in dirfd atomically (tmp + rename, no fsync: runtime state). */
int oci_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                        struct vk_error *err) VK_MUST_CHECK;

/* Sorted list of container ids under root (NULL-terminated). */
int oci_state_list(const char *root, char ***ids, struct vk_error *err) VK_MUST_CHECK;

#endif
