/* SPDX-License-Identifier: MIT */
/*
 * The container lifecycle, as the CLI commands drive it: create (and run,
 * which is create + start in one process), start, kill, delete, pause and
 * resume, update, exec. Every function takes the state root and an id and
 * reports failures in a struct vk_error; on failure nothing is left behind
 * (no mounts, cgroups, state directory or processes).
 */
#ifndef VK_OCI_CONTAINER_H
#define VK_OCI_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "criu.h"
#include "spec.h"
#include "state.h"

struct oci_create_opts {
	const char *root;
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool systemd_cgroup;
	bool no_pivot;
	bool run;    /* create + start, here */
	bool detach; /* run -d: return once started */
	bool keep;   /* run --keep: leave the stopped container for `delete` */
	char **argv; /* the command line, to re-exec from a sealed copy */
};

/*
 * create: 0 once the container waits in "created". run: the container's
 * exit status (128 + signal when killed), or 0 with detach.
 * Errors are -errno with err set.
 */
int oci_container_create(const struct oci_create_opts *o, struct vk_error *err);

int oci_container_start(const char *root, const char *id, struct vk_error *err);
int oci_container_kill(const char *root, const char *id, int sig, bool all, struct vk_error *err);
int oci_container_delete(const char *root, const char *id, bool force, struct vk_error *err);
int oci_container_pause(const char *root, const char *id, bool pause, struct vk_error *err);
int oci_container_update(const char *root, const char *id, const struct oci_resources *res,
                         struct vk_error *err);

/* Load state and refine the status (paused via the freezer). Caller clears st. */
int oci_container_load(const char *root, const char *id, struct oci_state *st,
                       enum oci_status *status, struct vk_error *err);

struct oci_exec_opts {
	const char *root;
	const char *id;
	const char *process_file; /* --process, or NULL */
	char **args;              /* -- cmd args (when no --process) */
	int n_args;
	char **env; /* -e additions */
	int n_env;
	const char *cwd;
	const char *user; /* "uid[:gid]" */
	char **caps;      /* --cap additions */
	int n_caps;
	bool tty, tty_set;
	bool detach;
	bool no_new_privs;
	const char *apparmor;      /* --apparmor: overrides process.apparmorProfile */
	const char *process_label; /* --process-label: overrides process.selinuxLabel */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
};

/* exec: the process's exit status (foreground) or 0 (detach). */
int oci_container_exec(const struct oci_exec_opts *o, struct vk_error *err);

/*
 * checkpoint (checkpoint.c): CRIU dumps the running container to
 * o->image_path. As runc, the container is then gone (its processes killed
 * by CRIU, its cgroups, mounts and state removed, poststop hooks run), unless
 * leave_running or pre_dump. A failure leaves it running, unchanged.
 */
int oci_container_checkpoint(const char *root, const char *id, const struct oci_criu_opts *o,
                             struct vk_error *err);

struct oci_restore_opts {
	const char *root;
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	bool detach;       /* return once restored (else wait, as run) */
	bool no_subreaper; /* --no-subreaper */
	struct oci_criu_opts criu;
};

/*
 * restore (restore.c): create the container again from the bundle (state,
 * cgroups) and let CRIU bring its processes back from the image. Returns
 * the exit status in the foreground, 0 with detach; on failure nothing is
 * left (no state, cgroup, mount or process).
 */
int oci_container_restore(const struct oci_restore_opts *o, struct vk_error *err);

/* RFC 3339 UTC timestamp with nanoseconds. */
void oci_timestamp(char *buf, size_t cap);

#endif
