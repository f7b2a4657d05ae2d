/* SPDX-License-Identifier: MIT */
/*
 * The OCI runtime configuration (config.json, runtime-spec 1.x, Linux) as C
 * structs. spec*.c parse it with json-c; every parse error names the offending
 * field path ("config.json: linux.resources.memory.limit: expected an
 * integer"). Nothing here touches the system: the structs are plain data that
 * the other modules (rootfs, cgroup, seccomp, process) consume.
 */
#ifndef VK_OCI_SPEC_H
#define VK_OCI_SPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec-default.h" /* OCI_VERSION, oci_spec_default() */

/* A NULL-terminated string vector with its length. */
struct oci_strv {
	char **v;
	size_t n;
};

struct oci_idmap {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct oci_hook {
	char *path;
	struct oci_strv args;
	struct oci_strv env;
	int timeout; /* seconds, 0 = none */
};

struct oci_hook_list {
	struct oci_hook *v;
	size_t n;
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS,
};

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	struct oci_strv options;
	/* Parsed from options by mount_parse_options(). */
	unsigned long flags;       /* MS_* to set */
	unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [| MS_REC] */
	bool bind;
	uint64_t rec_attr_set; /* "rro", "rnosuid"...: mount_setattr(AT_RECURSIVE) */
	char *data;            /* filesystem-specific options, comma separated */
};

struct oci_rlimit {
	int resource;
	uint64_t soft;
	uint64_t hard;
	char *name;
};

/* Capability sets as bitmasks of CAP_* numbers. */
struct oci_caps {
	bool present;
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	int umask; /* -1: leave the runtime's umask (spec: default 0022 is the process's) */
};

struct oci_process {
	bool terminal;
	unsigned console_height, console_width;
	struct oci_user user;
	struct oci_strv args;
	struct oci_strv env;
	char *cwd;
	struct oci_caps caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
};

struct oci_namespace {
	int type; /* CLONE_NEW* */
	char *path;
};

struct oci_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

/* One device cgroup rule; major/minor -1 is the '*' wildcard. */
struct oci_dev_rule {
	bool allow;
	char type; /* 'a', 'c', 'b' */
	int64_t major, minor;
	char access[4]; /* subset of "rwm" */
};

struct oci_blkio_dev {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
	uint64_t rate; /* throttle entries */
};

struct oci_blkio_list {
	struct oci_blkio_dev *v;
	size_t n;
};

struct oci_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct oci_kv {
	char *key;
	char *value;
};

struct oci_kv_list {
	struct oci_kv *v;
	size_t n;
};

/* An optional integer: valid tells whether the spec set it. */
struct oci_opt_i64 {
	bool valid;
	int64_t v;
};

struct oci_opt_u64 {
	bool valid;
	uint64_t v;
};

struct oci_resources {
	struct {
		struct oci_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
		struct oci_opt_u64 swappiness;
		bool has_disable_oom, disable_oom_killer;
		bool has_use_hierarchy, use_hierarchy;
	} memory;
	struct {
		struct oci_opt_u64 shares, period, realtime_period, burst;
		struct oci_opt_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct {
		struct oci_opt_i64 limit;
	} pids;
	struct {
		bool has_weight, has_leaf_weight;
		uint16_t weight, leaf_weight;
		struct oci_blkio_list weight_device;
		struct oci_blkio_list read_bps, write_bps, read_iops, write_iops;
	} blkio;
	struct oci_hugepage_limit *hugepages;
	size_t n_hugepages;
	struct oci_dev_rule *devices;
	size_t n_devices;
	struct {
		struct oci_opt_u64 class_id;
		struct oci_kv_list priorities; /* value is the priority as text */
	} network;
	struct oci_kv_list unified;
	bool present; /* linux.resources was given at all */
};

struct oci_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare */
};

struct oci_seccomp_rule {
	struct oci_strv names;
	uint32_t action; /* SCMP_ACT_* without the errno */
	bool has_errno;
	unsigned errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	uint32_t default_action;
	bool has_default_errno;
	unsigned default_errno;
	uint32_t *archs; /* SCMP_ARCH_* */
	size_t n_archs;
	struct oci_strv flags;
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_rule *rules;
	size_t n_rules;
};

struct oci_time_offset {
	int clock; /* CLOCK_MONOTONIC or CLOCK_BOOTTIME */
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	struct oci_resources resources;
	struct oci_kv_list sysctl;
	struct oci_seccomp *seccomp;
	unsigned long rootfs_propagation; /* 0: default (rslave) */
	struct oci_strv masked_paths;
	struct oci_strv readonly_paths;
	char *mount_label;
	struct oci_time_offset *time_offsets;
	size_t n_time_offsets;
	bool has_personality;
	unsigned long personality;
};

struct oci_spec {
	char *oci_version;
	char *bundle;    /* absolute bundle directory */
	char *root_path; /* absolute rootfs path */
	bool root_readonly;
	struct oci_process *process;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook_list hooks[OCI_HOOK_KINDS];
	char *annotations_json; /* the annotations object as JSON text, "{}" when absent */
	struct oci_linux linux_;
	int ns_flags; /* CLONE_NEW* of every namespace listed (with or without path) */
};

/*
 * Parse <bundle>/config.json. bundle may be relative; the spec records the
 * absolute path. Returns NULL with err set (message names the field). When
 * raw is given it receives the file's text (caller frees).
 */
struct oci_spec *oci_spec_load(const char *bundle, char **raw, size_t *raw_len,
                               struct vk_error *err);

/*
 * The copy of config.json saved in a container's state directory (dirfd):
 * parsed without resolving root.path, which the bundle may no longer have.
 */
struct oci_spec *oci_spec_load_saved(int dirfd, struct vk_error *err);

/* Parse a config from JSON text; fname is used in error messages. bundle NULL:
 * root.path is kept as written. */
struct oci_spec *oci_spec_parse(const char *json, size_t len, const char *bundle, const char *fname,
                                struct vk_error *err);

void oci_spec_free(struct oci_spec *spec);

/*
 * Parse a process object alone (exec --process FILE). The result is owned by
 * the caller; free with oci_process_free().
 */
struct oci_process *oci_process_parse_file(const char *path, struct vk_error *err);
void oci_process_free(struct oci_process *p);

/* A linux.resources object alone (update --resources). */
int oci_resources_parse(const char *json, size_t len, const char *fname, struct oci_resources *r,
                        struct vk_error *err);
void oci_resources_free(struct oci_resources *r);

void oci_strv_free(struct oci_strv *v);

/* The namespace path given for type (CLONE_NEW*), or NULL. */
const char *oci_spec_ns_path(const struct oci_spec *spec, int type);
bool oci_spec_has_ns(const struct oci_spec *spec, int type);

/* Names and tables shared with `features`. */
const char *oci_hook_kind_name(enum oci_hook_kind kind);
int oci_ns_type_from_name(const char *name);
const char *oci_ns_name(int type);
extern const char *const oci_ns_names[];
extern const char *const oci_mount_option_names[];

#endif
