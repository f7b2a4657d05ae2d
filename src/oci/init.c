/* SPDX-License-Identifier: MIT */
/*
 * The container process, from clone() to execve(). It reports every
 * failure to the runtime over the sync socket (or, after `create` has
 * returned, over the connection `start` made) and exits; the runtime cleans
 * up. Its mounts live in its own mount namespace and die with it (in one
 * joined by path they stay with that namespace, as with runc); without a
 * mount namespace they are made in the runtime's, below root.path, and the
 * runtime removes them (hostmounts.h).
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "fault.h"
#include "hooks.h"
#include "log.h"
#include "ns.h"
#include "process.h"
#include "rootfs.h"
#include "stub.h"
#include "sync.h"

static int wait_for(int fd, uint32_t type, struct sync_msg *m)
{
	int r = sync_recv(fd, m, NULL, -1);

	if (r < 0)
		_exit(1); /* the runtime is gone: nobody to report to */
	if (m->type != type)
		_exit(1);
	return 0;
}

/* Paths to namespaces joined after clone (fast path), mount namespace last. */
static int join_paths(const struct oci_spec *s, bool skip_user_pid, struct vk_error *err)
{
	static const int order[] = {CLONE_NEWUSER, CLONE_NEWPID,  CLONE_NEWNET,    CLONE_NEWIPC,
	                            CLONE_NEWUTS,  CLONE_NEWTIME, CLONE_NEWCGROUP, CLONE_NEWNS};

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const char *p = oci_spec_ns_path(s, order[i]);
		int r;

		if (!p ||
		    (skip_user_pid && (order[i] == CLONE_NEWUSER || order[i] == CLONE_NEWPID)))
			continue;
		r = oci_ns_join_path(order[i], p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The flags of namespaces to create that clone() could not (time). */
static int late_unshare(struct oci_ctr *c, struct vk_error *err)
{
	const struct oci_spec *s = c->spec;

	if (oci_spec_has_ns(s, CLONE_NEWTIME) && !oci_spec_ns_path(s, CLONE_NEWTIME)) {
		char buf[256] = "";
		int fd;

		if (unshare(CLONE_NEWTIME) < 0)
			return vk_error_errno(err, errno, "cannot create the time namespace");
		for (size_t i = 0; i < s->linux_.n_time_offsets; i++) {
			const struct oci_time_offset *t = &s->linux_.time_offsets[i];

			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s %lld %u\n",
			         t->clock == CLOCK_MONOTONIC ? "monotonic" : "boottime",
			         (long long)t->secs, t->nanosecs);
		}
		if (buf[0]) {
			fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, buf, strlen(buf)) < 0) {
				int e = errno;

				if (fd >= 0)
					close(fd);
				return vk_error_errno(err, e, "cannot set linux.timeOffsets");
			}
			close(fd);
		}
		/* Enter it ourselves instead of forking once more. */
		fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return vk_error_errno(err, e, "cannot enter the time namespace");
		}
		close(fd);
	}
	return 0;
}

/*
 * The runtime makes and joins the cgroups while this process sets up its
 * namespaces and mounts; wait for it where the cgroups matter: the cgroup
 * mount, hooks, and before reporting ready. The cgroup namespace must start
 * after the join, so it is made here.
 */
static int need_cgroups(void *arg, struct vk_error *err)
{
	struct oci_ctr *c = arg;
	struct sync_msg m;

	if (c->cg_done)
		return 0;
	wait_for(c->sync[1], SYNC_CG_DONE, &m);
	c->cg_done = true;
	if (oci_spec_has_ns(c->spec, CLONE_NEWCGROUP) &&
	    !oci_spec_ns_path(c->spec, CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return vk_error_errno(err, errno, "cannot create the cgroup namespace");
	return 0;
}

char *oci_ctr_state_json(const struct oci_ctr *c, enum oci_status status, pid_t pid)
{
	struct oci_state st = {
	        .id = (char *)c->o->id,
	        .pid = pid,
	        .bundle = c->spec->bundle,
	        .rootfs = c->spec->root_path,
	        .created = (char *)c->created,
	        .annotations_json = c->spec->annotations_json,
	};
	json_object *o = oci_state_to_json(&st, status);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

static int run_child_hooks(struct oci_ctr *c, enum oci_hook_kind kind, enum oci_status st,
                           pid_t pid, struct vk_error *err)
{
	char *json;
	int r;

	if (!c->spec->hooks[kind].n)
		return 0;
	json = oci_ctr_state_json(c, st, pid);
	if (!json)
		return vk_error_set(err, ENOMEM, "out of memory");
	r = oci_hooks_run(&c->spec->hooks[kind], kind, json, err);
	free(json);
	return r;
}

static int connect_listener(const char *path, struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return vk_error_errno(err, errno,
		                      "cannot create a socket for the seccomp listener");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return vk_error_errno(err, e, "cannot connect to linux.seccomp.listenerPath '%s'",
		                      path);
	}
	return fd;
}

/* Everything up to "ready": namespaces, root filesystem, console, limits. */
static int setup(struct oci_ctr *c, struct rootfs_ctx *rc, struct oci_proc_ctx *pc, pid_t hostpid,
                 struct vk_error *err)
{
	const struct oci_spec *s = c->spec;
	const struct oci_process *p = s->process;
	/* A mount namespace of its own or one joined by path: the whole root is
	 * built in it, as runc and crun do. None: the runtime's is inherited. */
	bool has_mnt = oci_spec_has_ns(s, CLONE_NEWNS);
	int r;

	if (c->userns && setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) < 0)
		return vk_error_errno(err, errno, "cannot become root in the user namespace");
	/* Owned by the user namespace: made only now that the maps exist. */
	if (c->late_net && c->userns && unshare(CLONE_NEWNET) < 0)
		return vk_error_errno(err, errno, "cannot create the network namespace");
	if (c->use_stub) {
		c->stub_fd = oci_stub_create(err);
		if (c->stub_fd < 0)
			return c->stub_fd;
	}
	r = late_unshare(c, err);
	if (!r && !c->two_stage)
		r = join_paths(s, true, err);
	/* A network namespace of its own starts with lo down; one joined is left alone. */
	if (!r && oci_spec_has_ns(s, CLONE_NEWNET) && !oci_spec_ns_path(s, CLONE_NEWNET))
		r = oci_net_loopback_up(err);
	if (r < 0)
		return r;
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return vk_error_errno(err, errno, "cannot set the hostname '%s'", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return vk_error_errno(err, errno, "cannot set the domainname '%s'", s->domainname);
	if (s->linux_.seccomp && s->linux_.seccomp->listener_path) {
		pc->seccomp_listener = connect_listener(s->linux_.seccomp->listener_path, err);
		if (pc->seccomp_listener < 0)
			return pc->seccomp_listener;
	}
	if (has_mnt)
		r = rootfs_mount(rc, err);
	else if (s->n_mounts)
		r = rootfs_mount_shared(rc, err);
	if (r < 0)
		return r;
	if (p->terminal) {
		/* The container's devpts when it has one; /dev/console only on a /dev of its own. */
		bool own_pts =
		        rc->rootfd >= 0 && (has_mnt || rootfs_spec_mounts(s, "/dev/pts", "devpts"));
		bool own_dev = own_pts && (has_mnt || rootfs_spec_mounts(s, "/dev", NULL));
		int master, slave;
		char name[64];

		r = oci_console_open(own_pts ? rc->rootfd : -1,
		                     own_pts ? "/dev/pts/ptmx" : "/dev/ptmx", p->console_height,
		                     p->console_width, &master, &slave, name, sizeof(name), err);
		if (r < 0)
			return r;
		r = sync_send(c->sync[1], SYNC_PTY, 0, name, master);
		close(master);
		if (r < 0)
			return vk_error_errno(err, -r, "cannot pass the terminal to the runtime");
		if (own_dev)
			r = rootfs_console(rc, slave, err);
		if (!r)
			r = oci_console_attach(slave, err);
		close(slave);
		if (r < 0)
			return r;
	}
	r = need_cgroups(c, err);
	if (r < 0)
		return r;
	if (s->hooks[OCI_HOOK_PRESTART].n || s->hooks[OCI_HOOK_CREATE_RUNTIME].n) {
		struct sync_msg m;

		r = sync_send(c->sync[1], SYNC_HOOKS, 0, NULL, -1);
		if (r < 0)
			return vk_error_errno(err, -r, "cannot ask the runtime to run hooks");
		wait_for(c->sync[1], SYNC_HOOKS_DONE, &m);
	}
	r = run_child_hooks(c, OCI_HOOK_CREATE_CONTAINER, OCI_STATUS_CREATING, hostpid, err);
	if (!r)
		r = oci_fault("hooks", err);
	if (!r)
		r = oci_proc_limits(p, err);
	if (r < 0)
		return r;
	if (has_mnt) {
		r = rootfs_pivot(rc, err);
		if (!r)
			r = rootfs_finish(rc, err);
	} else {
		/* The runtime's namespace, where pivot_root would move the host's root:
		 * sysctls through its /proc (they follow the writer's namespaces),
		 * then chroot (what runc and crun do there). */
		r = rootfs_sysctls(s, err);
		if (!r && ((rc->rootfd >= 0 ? fchdir(rc->rootfd) : chdir(s->root_path)) < 0 ||
		           chroot(".") < 0 || chdir("/") < 0))
			r = vk_error_errno(err, errno, "cannot chroot into '%s'", s->root_path);
	}
	if (r < 0)
		return r;
	if (s->linux_.has_personality && personality(s->linux_.personality) < 0)
		return vk_error_errno(err, errno, "cannot set linux.personality");
	r = oci_proc_lookup(pc, err);
	if (!r)
		r = oci_fault("ready", err);
	return r;
}

/* After "start": report errors to the start command over conn. */
VK_NORETURN static void die_stream(int conn, const struct vk_error *err)
{
	char buf[VK_ERROR_MSG_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "E%s", err->msg);

	if (conn >= 0 && n > 0 && write(conn, buf, (size_t)n) < 0) {
		/* start went away: the log is all that is left */
	}
	_exit(err->code == ENOENT ? 127 : err->code == EACCES ? 126 : 1);
}

void oci_init_main(struct oci_ctr *c)
{
	struct rootfs_ctx rc = {.need_cgroups = need_cgroups,
	                        .arg = c,
	                        .spec = c->spec,
	                        .cg = c->cg,
	                        .userns = c->userns,
	                        .no_pivot = c->o->no_pivot,
	                        .rootfd = -1};
	struct oci_proc_ctx pc = {.proc = c->spec->process,
	                          .seccomp = c->spec->linux_.seccomp,
	                          .preserve_fds = c->o->preserve_fds,
	                          .userns = c->userns,
	                          .proc_fd = c->proc_fd,
	                          .seccomp_listener = -1};
	struct vk_error err = {0};
	struct sync_msg m;
	int keep[8], nk = 0, fd = c->sync[1], conn = -1;
	pid_t hostpid;
	char *json;

	/* If the runtime dies before GO, the recv below sees EOF; after, this kills us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Only what we need survives from the runtime (and from its caller). */
	keep[nk++] = fd;
	if (c->listen_fd >= 0)
		keep[nk++] = c->listen_fd;
	if (oci_log_fd() >= 0)
		keep[nk++] = oci_log_fd();
	if (c->proc_fd >= 0)
		keep[nk++] = c->proc_fd;
	oci_close_fds_except(3 + c->o->preserve_fds, keep, (size_t)nk);
	/*
	 * The network namespace is the costliest to make: without a user
	 * namespace, make it now, while the runtime writes the cgroups.
	 */
	if (c->late_net && !c->userns && unshare(CLONE_NEWNET) < 0) {
		vk_error_errno(&err, errno, "cannot create the network namespace");
		sync_die(fd, &err, 1);
	}
	wait_for(fd, SYNC_GO, &m);
	hostpid = m.value;
	/* /proc/<pid>/exe of a runtime process must not be reachable. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (setup(c, &rc, &pc, hostpid, &err) < 0)
		sync_die(fd, &err, 1);
	/* create exits once we are ready: stop tying our life to it first (the
	 * runtime kills us itself if it fails after this point). */
	if (!c->o->run)
		prctl(PR_SET_PDEATHSIG, 0);
	if (sync_send(fd, SYNC_READY, 0, NULL, -1) < 0)
		_exit(1);
	if (c->o->run) {
		wait_for(fd, SYNC_START, &m);
		/* From here on the container outlives the runtime (run -d). */
		prctl(PR_SET_PDEATHSIG, 0);
	} else {
		/* create returns now; `start` connects to start.sock. */
		close(fd);
		fd = -1;
		do {
			conn = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		} while (conn < 0 && errno == EINTR);
		if (conn < 0)
			_exit(1);
		close(c->listen_fd);
		if (write(conn, "S", 1) != 1)
			_exit(1);
	}
	if (c->spec->hooks[OCI_HOOK_START_CONTAINER].n &&
	    run_child_hooks(c, OCI_HOOK_START_CONTAINER, OCI_STATUS_CREATED, hostpid, &err) < 0)
		goto fail;
	json = oci_ctr_state_json(c, OCI_STATUS_RUNNING, hostpid);
	pc.state_json = json;
	if (oci_proc_finalize(&pc, &err) < 0)
		goto fail;
	if (c->use_stub)
		oci_stub_exec(c->stub_fd, fd >= 0 ? fd : conn, fd >= 0 ? 's' : 'c', &pc.lsm, pc.exe,
		              c->spec->process->args.v, pc.envp, &err);
	else
		oci_proc_exec(&pc, &err);
fail:
	if (fd >= 0)
		sync_die(fd, &err, err.code == ENOENT ? 127 : err.code == EACCES ? 126 : 1);
	die_stream(conn, &err);
}

void oci_init_stage1(struct oci_ctr *c)
{
	const struct oci_spec *s = c->spec;
	struct vk_error err = {0};
	struct sync_msg m;
	int fd = c->sync[1], flags;
	pid_t child;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	{
		int keep[4] = {fd, c->listen_fd, oci_log_fd(), c->proc_fd};

		oci_close_fds_except(3 + c->o->preserve_fds, keep, 4);
	}
	/* Joining by path: user first, mount last, while still privileged. */
	if (join_paths(s, false, &err) < 0)
		sync_die(fd, &err, 1);
	if (c->userns) {
		if (unshare(CLONE_NEWUSER) < 0) {
			vk_error_errno(&err, errno, "cannot create the user namespace");
			sync_die(fd, &err, 1);
		}
		if (sync_send(fd, SYNC_USERNS, 0, NULL, -1) < 0)
			_exit(1);
		wait_for(fd, SYNC_USERNS, &m);
		if (setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) < 0) {
			vk_error_errno(&err, errno, "cannot become root in the user namespace");
			sync_die(fd, &err, 1);
		}
	}
	flags = c->clone_flags & ~CLONE_NEWUSER;
	if (flags && unshare(flags) < 0) {
		vk_error_errno(&err, errno, "cannot create the container's namespaces");
		sync_die(fd, &err, 1);
	}
	/* CLONE_PARENT: the container process is the runtime's child, not ours. */
	child = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (child < 0) {
		vk_error_errno(&err, errno, "cannot start the container process");
		sync_die(fd, &err, 1);
	}
	if (child == 0)
		oci_init_main(c);
	sync_send(fd, SYNC_PID, child, NULL, -1);
	_exit(0);
}
