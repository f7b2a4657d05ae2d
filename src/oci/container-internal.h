/* SPDX-License-Identifier: MIT */
/*
 * What create.c (the runtime side) and init.c (the container process side,
 * a clone of the runtime) share: the creation context. The child works on
 * its own copy of this struct after clone.
 */
#ifndef VK_OCI_CONTAINER_INTERNAL_H
#define VK_OCI_CONTAINER_INTERNAL_H

#include "cgroup.h"
#include "container.h"
#include "hostmounts.h"

struct oci_ctr {
	const struct oci_create_opts *o;
	struct oci_spec *spec;
	struct oci_cgroup *cg;
	int dirfd;      /* the locked state directory */
	int sync[2];    /* [0] runtime end, [1] container end */
	int listen_fd;  /* start.sock (create), -1 for run */
	int console_fd; /* connected --console-socket */
	int pty_master; /* run in the foreground with a terminal */
	pid_t pid;      /* the container process (host pid) */
	pid_t stage1;   /* intermediate process of the two-stage path */
	pid_t runtime;  /* the runtime's pid, for the child's parent-death check */
	bool rootless;
	bool userns;    /* a new user namespace */
	bool two_stage; /* joins a pid or user namespace by path */
	bool use_stub;  /* exec the program through the sealed init stub */
	bool late_net;  /* the container process makes its network namespace itself */
	bool cg_done;   /* (container side) the runtime has made and joined the cgroups */
	int stub_fd;    /* its memfd, made by the container process */
	int proc_fd;    /* the runtime's /proc (O_PATH) for LSM attributes, or -1 */
	bool host_mnts; /* no mount namespace: the mounts go to the runtime's */
	struct oci_hostmnts mnts_before; /* below root.path before the clone */
	struct oci_hostmnts mnts;        /* those the container made (recorded in the state) */
	int clone_flags;                 /* namespaces created by clone() itself */
	char created[64];
};

/* init.c: the container process. Never returns. */
VK_NORETURN void oci_init_stage1(struct oci_ctr *c);
VK_NORETURN void oci_init_main(struct oci_ctr *c);

/* run.c: start the created container here and wait for it (run). */
int oci_run_foreground(struct oci_ctr *c, struct vk_error *err);

/* Forward the usual terminal and termination signals to pid. */
void oci_forward_signals(pid_t pid);

/*
 * A failed create or run (the container process is dead): unmount what it
 * made in the runtime's mount namespace, found afresh against mnts_before.
 */
void oci_ctr_unmount_new(struct oci_ctr *c);

/* lifecycle.c: open, lock and load a container; the caller closes *fd and clears st. */
int oci_container_open_locked(const char *root, const char *id, int *fd, struct oci_state *st,
                              enum oci_status *status, struct vk_error *err) VK_MUST_CHECK;

/*
 * What delete does once it holds the lock (fd): kill what is left, remove
 * the host mounts, run poststop hooks, remove cgroups and the state.
 */
void oci_container_destroy(const char *root, int fd, const struct oci_state *st,
                           enum oci_status status);

/* create.c: write pid to path atomically (--pid-file). */
int oci_write_pid_file(const char *path, pid_t pid, struct vk_error *err) VK_MUST_CHECK;

/* The state JSON given to hooks, for status with pid. Caller frees. */
char *oci_ctr_state_json(const struct oci_ctr *c, enum oci_status status, pid_t pid);

#endif
