/* SPDX-License-Identifier: MIT */
/*
 * create and run, the runtime's side: state directory, cgroup, clone of the
 * container process, id maps, hooks, then either return ("created", the
 * process waits on start.sock) or start it here and wait (run). Any failure
 * unwinds everything made so far: the process is killed and reaped, the
 * cgroup and the state directory removed; mounts died with the process's
 * mount namespace, or, without one, are unmounted (hostmounts.h).
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloned.h"
#include "console.h"
#include "fault.h"
#include "hooks.h"
#include "hostmounts.h"
#include "log.h"
#include "lsm.h"
#include "ns.h"
#include "rootfs.h"
#include "stub.h"
#include "sync.h"

void oci_timestamp(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char date[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%09ldZ", date, ts.tv_nsec);
}

/*
 * Without a mount namespace the container inherits the runtime's (spec,
 * linux.namespaces): its mounts are made there below root.path (and removed
 * at delete) and the root is entered with chroot. What would change the
 * host's view of its own files is refused, as runc refuses masked and
 * readonly paths there.
 */
static int validate_shared_mnt(const struct oci_ctr *c, struct vk_error *err)
{
	const struct oci_spec *s = c->spec;
	const struct oci_linux *l = &s->linux_;

	if (l->masked_paths.n || l->readonly_paths.n)
		return vk_error_set(err, EINVAL,
		                    "linux.maskedPaths and linux.readonlyPaths need a mount "
		                    "namespace (linux.namespaces: mount): they would hide or "
		                    "lock the host's own files");
	if (s->root_readonly)
		return vk_error_set(err, EINVAL,
		                    "root.readonly needs a mount namespace (linux.namespaces: "
		                    "mount): it would make root.path readonly for the host too");
	if (l->rootfs_propagation)
		return vk_error_set(err, EINVAL,
		                    "linux.rootfsPropagation needs a mount namespace "
		                    "(linux.namespaces: mount)");
	if (s->n_mounts && strcmp(s->root_path, "/") == 0)
		return vk_error_set(err, EINVAL,
		                    "mounts without a mount namespace with root.path '/' would "
		                    "cover the host's own directories");
	if (s->n_mounts && (c->rootless || oci_spec_has_ns(s, CLONE_NEWUSER)))
		return vk_error_set(err, EPERM,
		                    "mounts need a mount namespace (linux.namespaces: mount) "
		                    "with a user namespace: the runtime's mount namespace is "
		                    "not the container's to change");
	if (l->n_devices && !rootfs_spec_mounts(s, "/dev", NULL))
		return vk_error_set(err, EINVAL,
		                    "linux.devices without a mount namespace need a /dev mount "
		                    "in mounts: the nodes would be made in root.path itself");
	return 0;
}

static int validate(struct oci_ctr *c, struct vk_error *err)
{
	const struct oci_spec *s = c->spec;
	const struct oci_process *p = s->process;
	int r;

	if (!p)
		return vk_error_set(err, EINVAL,
		                    "config.json: process: required to create a "
		                    "container");
	if (!p->args.n)
		return vk_error_set(err, EINVAL, "config.json: process.args: must name a program");
	if (c->rootless && !c->userns && !oci_spec_ns_path(s, CLONE_NEWUSER))
		return vk_error_set(err, EPERM,
		                    "running as an unprivileged user needs a user namespace "
		                    "(linux.namespaces: user; `spec --rootless` writes one)");
	if (p->terminal && !c->o->console_socket && !(c->o->run && !c->o->detach))
		return vk_error_set(err, EINVAL,
		                    "process.terminal needs --console-socket when the runtime "
		                    "detaches");
	if (!oci_spec_has_ns(s, CLONE_NEWNS)) {
		r = validate_shared_mnt(c, err);
		if (r < 0)
			return r;
	}
	/* A profile or label that cannot be applied is refused, never ignored. */
	return oci_lsm_check(&oci_lsm_host_default, p, s->linux_.mount_label, err);
}

/* start.sock in the state directory; bound through /proc/self/fd to dodge sun_path's limit. */
static int listen_start(struct oci_ctr *c, struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create the start socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", c->dirfd, OCI_START_SOCK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int e = errno;

		close(fd);
		return vk_error_errno(err, e, "cannot create the start socket");
	}
	return fd;
}

static int copy_config(struct oci_ctr *c, const char *raw, size_t len, struct vk_error *err)
{
	return oci_write_atomic_at(c->dirfd, OCI_CONFIG_COPY, raw, len, 0600, err);
}

static int do_clone(struct oci_ctr *c, struct vk_error *err)
{
	const struct oci_spec *s = c->spec;
	int flags = 0;
	pid_t pid;

	for (size_t i = 0; i < ARRAY_SIZE(oci_ns_all); i++) {
		int t = oci_ns_all[i];

		if (oci_spec_has_ns(s, t) && !oci_spec_ns_path(s, t) && t != CLONE_NEWCGROUP &&
		    t != CLONE_NEWTIME)
			flags |= t;
	}
	c->clone_flags = flags;
	/* Joining a pid or user namespace needs a process in between (setns(pid)
	 * only applies to children; a user namespace must be joined first). */
	c->two_stage = oci_spec_ns_path(s, CLONE_NEWPID) || oci_spec_ns_path(s, CLONE_NEWUSER) ||
	               (c->userns &&
	                (oci_spec_ns_path(s, CLONE_NEWNET) || oci_spec_ns_path(s, CLONE_NEWIPC) ||
	                 oci_spec_ns_path(s, CLONE_NEWUTS) || oci_spec_ns_path(s, CLONE_NEWNS) ||
	                 oci_spec_ns_path(s, CLONE_NEWCGROUP)));
	/* The network namespace, the costliest, the process makes itself (in
	 * parallel with our cgroup work); a stage-1 process unshares them all. */
	c->late_net = !c->two_stage && (flags & CLONE_NEWNET);
	pid = (pid_t)syscall(SYS_clone, (c->two_stage ? 0 : flags & ~CLONE_NEWNET) | SIGCHLD, NULL,
	                     NULL, NULL, NULL);
	if (pid < 0)
		return vk_error_errno(err, errno,
		                      "cannot create the container process (clone "
		                      "flags 0x%x)",
		                      flags);
	if (pid == 0) {
		if (c->two_stage)
			oci_init_stage1(c);
		oci_init_main(c);
	}
	if (c->two_stage)
		c->stage1 = pid;
	else
		c->pid = pid;
	return 0;
}

/* Until the container process's pid is known: id maps for stage 1, its pid. */
static int two_stage_handshake(struct oci_ctr *c, struct vk_error *err)
{
	struct sync_msg m;
	int r, status;

	for (;;) {
		r = sync_recv(c->sync[0], &m, NULL, -1);
		if (r < 0)
			return vk_error_set(err, EIO, "the container process exited during setup");
		if (m.type == SYNC_ERROR)
			return vk_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
		if (m.type == SYNC_USERNS) {
			r = oci_idmaps_write(c->stage1, c->spec, c->rootless, err);
			if (r < 0)
				return r;
			sync_send(c->sync[0], SYNC_USERNS, 0, NULL, -1);
			continue;
		}
		if (m.type == SYNC_PID) {
			c->pid = m.value;
			waitpid(c->stage1, &status, 0);
			c->stage1 = 0;
			return 0;
		}
		return vk_error_set(err, EPROTO, "unexpected message %u from the container process",
		                    m.type);
	}
}

static int run_hooks(struct oci_ctr *c, enum oci_hook_kind kind, enum oci_status st,
                     struct vk_error *err)
{
	char *json;
	int r;

	if (!c->spec->hooks[kind].n)
		return 0;
	json = oci_ctr_state_json(c, st, c->pid);
	if (!json)
		return vk_error_set(err, ENOMEM, "out of memory");
	r = oci_hooks_run(&c->spec->hooks[kind], kind, json, err);
	free(json);
	return r;
}

/* Serve the container process until it says ready. */
static int until_ready(struct oci_ctr *c, struct vk_error *err)
{
	struct sync_msg m;
	int r, passfd;

	for (;;) {
		r = sync_recv(c->sync[0], &m, &passfd, -1);
		if (r < 0)
			return vk_error_set(err, EIO, "the container process exited during setup");
		switch (m.type) {
		case SYNC_ERROR:
			return vk_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
		case SYNC_PTY:
			if (c->console_fd >= 0) {
				r = oci_console_send(c->console_fd, passfd, m.text, err);
				close(passfd);
				if (r < 0)
					return r;
			} else {
				c->pty_master = passfd;
			}
			break;
		case SYNC_HOOKS:
			r = run_hooks(c, OCI_HOOK_PRESTART, OCI_STATUS_CREATING, err);
			if (!r)
				r = run_hooks(c, OCI_HOOK_CREATE_RUNTIME, OCI_STATUS_CREATING, err);
			if (r < 0)
				return r;
			sync_send(c->sync[0], SYNC_HOOKS_DONE, 0, NULL, -1);
			break;
		case SYNC_READY:
			return 0;
		default:
			if (passfd >= 0)
				close(passfd);
			return vk_error_set(err, EPROTO,
			                    "unexpected message %u from the container "
			                    "process",
			                    m.type);
		}
	}
}

static int save_state(struct oci_ctr *c, struct vk_error *err)
{
	struct oci_state st = {
	        .id = (char *)c->o->id,
	        .pid = c->pid,
	        .pid_start = oci_pid_start_time(c->pid),
	        .bundle = c->spec->bundle,
	        .rootfs = c->spec->root_path,
	        .created = c->created,
	        .owner = geteuid(),
	        .annotations_json = c->spec->annotations_json,
	        .rootless = c->rootless,
	        .ns_flags = c->spec->ns_flags,
	        .systemd_cgroup = c->o->systemd_cgroup,
	};
	int r;

	if (c->pid <= 0) {
		st.creator = getpid();
		st.creator_start = oci_pid_start_time(st.creator);
	}
	st.cgroup_json = c->cg ? oci_cgroup_to_json(c->cg) : NULL;
	st.mounts_json = c->mnts.n ? oci_hostmnts_to_json(&c->mnts) : NULL;
	r = oci_state_save(c->dirfd, &st, err);
	free(st.cgroup_json);
	free(st.mounts_json);
	return r;
}

int oci_write_pid_file(const char *path, pid_t pid, struct vk_error *err)
{
	char tmp[4200], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot write --pid-file '%s'", path);
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return vk_error_errno(err, e, "cannot write --pid-file '%s'", path);
	}
	return 0;
}

/* Make, record, configure and join the cgroups (the container process waits for it). */
static int make_cgroups(struct oci_ctr *c, struct vk_error *err)
{
	int r = oci_cgroup_make(c->cg, c->rootless, &c->spec->linux_.resources, err);

	if (r < 0) {
		/* make removed what it made: nothing for cleanup to remove. */
		oci_cgroup_free(c->cg);
		c->cg = NULL;
		return r;
	}
	/* Record the cgroup now: if this process dies, delete can still remove it. */
	r = save_state(c, err);
	if (!r)
		r = oci_fault("cgroup", err);
	if (!r)
		r = oci_cgroup_apply(c->cg, &c->spec->linux_.resources, c->spec->linux_.devices,
		                     c->spec->linux_.n_devices, false, err);
	if (!r)
		r = oci_fault("cgroup-apply", err);
	if (!r)
		r = oci_cgroup_enter(c->cg, c->pid, err);
	return r;
}

/*
 * After a failure on this side, the container process may have failed first
 * (and made ours fail): its own report is the better one.
 */
static void child_error(struct oci_ctr *c, struct vk_error *err)
{
	struct sync_msg m;
	int passfd;

	while (c->sync[0] >= 0 && sync_recv(c->sync[0], &m, &passfd, 100) == 0) {
		if (passfd >= 0)
			close(passfd);
		if (m.type == SYNC_ERROR) {
			vk_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
			return;
		}
	}
}

/* The mounts below root.path the container process made in our namespace. */
static int host_mounts_made(struct oci_ctr *c, struct oci_hostmnts *out, struct vk_error *err)
{
	struct oci_hostmnts now;
	int r = oci_hostmnts_scan("/proc/self/mountinfo", c->spec->root_path, &now, err);

	if (r < 0)
		return r;
	r = oci_hostmnts_added(&c->mnts_before, &now, out);
	oci_hostmnts_clear(&now);
	return r < 0 ? vk_error_set(err, -r, "out of memory") : 0;
}

void oci_ctr_unmount_new(struct oci_ctr *c)
{
	struct oci_hostmnts made;
	struct vk_error e = {0};

	if (!c->host_mnts)
		return;
	if (host_mounts_made(c, &made, &e) < 0) {
		oci_warn("cannot find the mounts of container %s: %s", c->o->id, e.msg);
		return;
	}
	oci_hostmnts_remove(c->spec->root_path, &made);
	oci_hostmnts_clear(&made);
}

static void cleanup(struct oci_ctr *c)
{
	int status;

	if (c->stage1 > 0) {
		kill(c->stage1, SIGKILL);
		waitpid(c->stage1, &status, 0);
	}
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
	oci_ctr_unmount_new(c);
	if (c->cg) {
		oci_cgroup_destroy(c->cg, NULL);
		oci_cgroup_free(c->cg);
		c->cg = NULL;
	}
	if (c->dirfd >= 0) {
		oci_state_remove(c->o->root, c->o->id, c->dirfd);
		close(c->dirfd);
		c->dirfd = -1;
	}
}

static void close_all(struct oci_ctr *c)
{
	int *fds[] = {&c->sync[0],    &c->sync[1], &c->listen_fd, &c->console_fd,
	              &c->pty_master, &c->dirfd,   &c->proc_fd};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	oci_cgroup_free(c->cg);
	oci_spec_free(c->spec);
	oci_hostmnts_clear(&c->mnts_before);
	oci_hostmnts_clear(&c->mnts);
}

int oci_container_create(const struct oci_create_opts *o, struct vk_error *err)
{
	struct oci_ctr c = {.o = o,
	                    .stub_fd = -1,
	                    .proc_fd = -1,
	                    .dirfd = -1,
	                    .sync = {-1, -1},
	                    .listen_fd = -1,
	                    .console_fd = -1,
	                    .pty_master = -1,
	                    .runtime = getpid()};
	char *raw = NULL;
	size_t raw_len = 0;
	int r;

	c.spec = oci_spec_load(o->bundle, &raw, &raw_len, err);
	if (!c.spec)
		return -(err && err->code ? err->code : EINVAL);
	c.rootless = geteuid() != 0;
	c.userns =
	        oci_spec_has_ns(c.spec, CLONE_NEWUSER) && !oci_spec_ns_path(c.spec, CLONE_NEWUSER);
	oci_timestamp(c.created, sizeof(c.created));
	/*
	 * CVE-2019-5736: no container process may reach this binary through
	 * /proc/<pid>/exe. With a pid namespace of its own nobody else can see
	 * the container process before its exec, which goes through the sealed
	 * init stub. Otherwise this whole process moves to a sealed copy first.
	 */
	c.use_stub = oci_stub_usable(c.spec);
	if (!c.use_stub && !oci_exe_is_sealed()) {
		oci_spec_free(c.spec);
		free(raw);
		return oci_reexec_sealed(o->argv, err);
	}
	r = validate(&c, err);
	if (!r)
		r = oci_root_ensure(o->root, err);
	if (r < 0)
		goto out;
	r = c.dirfd = oci_state_create_dir(o->root, o->id, err);
	if (r < 0)
		goto out;
	r = oci_fault("state", err);
	if (!r)
		r = copy_config(&c, raw, raw_len, err);
	if (r < 0)
		goto fail;
	/* Where the cgroups go; they are made while the container process starts. */
	c.cg = oci_cgroup_resolve(c.spec->linux_.cgroups_path, o->id, o->systemd_cgroup, err);
	if (!c.cg) {
		r = -(err && err->code ? err->code : EIO);
		goto fail;
	}
	if (o->console_socket && c.spec->process->terminal) {
		r = c.console_fd = oci_console_connect(o->console_socket, err);
		if (r >= 0)
			r = oci_fault("console", err);
	}
	if (r >= 0 && !o->run)
		r = c.listen_fd = listen_start(&c, err);
	if (r >= 0)
		r = sync_pair(c.sync, err);
	if (!r && (c.spec->process->apparmor_profile || c.spec->process->selinux_label)) {
		/* The process's attribute files, reached through our /proc: by the
		 * time it writes them it may have joined another mount namespace. */
		c.proc_fd = open(oci_lsm_host_default.proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c.proc_fd < 0)
			r = vk_error_errno(err, errno, "cannot open %s", oci_lsm_host_default.proc);
	}
	if (!r && !oci_spec_has_ns(c.spec, CLONE_NEWNS) && c.spec->n_mounts) {
		/* Its mounts will be ours: what is below root.path before it starts. */
		c.host_mnts = true;
		r = oci_hostmnts_scan("/proc/self/mountinfo", c.spec->root_path, &c.mnts_before,
		                      err);
	}
	if (!r)
		r = oci_fault("clone", err);
	if (!r)
		r = do_clone(&c, err);
	if (r < 0)
		goto fail;
	close(c.sync[1]);
	c.sync[1] = -1;
	if (c.two_stage)
		r = two_stage_handshake(&c, err);
	else if (c.userns)
		r = oci_idmaps_write(c.pid, c.spec, c.rootless, err);
	if (!r)
		r = oci_fault("userns", err);
	if (r < 0)
		goto fail;
	sync_send(c.sync[0], SYNC_GO, c.pid, NULL, -1);
	/* The container process now builds its namespaces and mounts in parallel. */
	r = make_cgroups(&c, err);
	if (r < 0)
		goto fail;
	oci_fault_wait("cgroups");
	sync_send(c.sync[0], SYNC_CG_DONE, 0, NULL, -1);
	r = until_ready(&c, err);
	if (!r && c.host_mnts)
		r = host_mounts_made(&c, &c.mnts, err);
	if (!r)
		r = save_state(&c, err);
	if (!r) {
		oci_fault_wait("ready");
		r = oci_fault("pid-file", err);
	}
	if (!r && o->pid_file)
		r = oci_write_pid_file(o->pid_file, c.pid, err);
	if (r < 0)
		goto fail;
	if (!o->run) {
		oci_debug("container %s created, pid %d", o->id, c.pid);
		r = 0;
		goto out;
	}
	r = oci_run_foreground(&c, err);
	goto out;
fail:
	if (o->pid_file && c.pid > 0)
		unlink(o->pid_file);
	if (c.pid > 0)
		child_error(&c, err);
	cleanup(&c);
out:
	free(raw);
	close_all(&c);
	return r;
}
