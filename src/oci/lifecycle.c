/* SPDX-License-Identifier: MIT */
/*
 * Commands on an existing container: state, start, kill, delete, pause,
 * resume, update. They find it under --root and act on the recorded pid
 * (checked against its start time, so a recycled pid is never signalled)
 * and cgroup.
 */
#include "container-internal.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "hooks.h"
#include "hostmounts.h"
#include "log.h"

int oci_container_load(const char *root, const char *id, struct oci_state *st,
                       enum oci_status *status, struct vk_error *err)
{
	int fd, r;

	r = oci_validate_id(id, err);
	if (r < 0)
		return r;
	fd = oci_state_open(root, id, false, err);
	if (fd < 0)
		return fd;
	r = oci_state_load(fd, id, st, err);
	if (r == -ENOENT) {
		/* No state yet: creating while its create holds the lock (it does from
		 * the moment the directory has this name); a create that died. */
		st->id = strdup(id);
		*status = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK
		                  ? OCI_STATUS_CREATING
		                  : OCI_STATUS_STOPPED;
		close(fd);
		return 0;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	*status = oci_state_status(fd, st);
	close(fd);
	if (*status == OCI_STATUS_RUNNING && st->cgroup_json) {
		struct oci_cgroup *cg = oci_cgroup_from_json(st->cgroup_json, NULL);

		if (cg && oci_cgroup_is_frozen(cg))
			*status = OCI_STATUS_PAUSED;
		oci_cgroup_free(cg);
	}
	return 0;
}

int oci_container_open_locked(const char *root, const char *id, int *fd, struct oci_state *st,
                              enum oci_status *status, struct vk_error *err)
{
	int r = oci_validate_id(id, err);

	if (r < 0)
		return r;
	*fd = oci_state_open(root, id, true, err);
	if (*fd < 0)
		return *fd;
	r = oci_state_load(*fd, id, st, err);
	if (r == -ENOENT) {
		/* Locked and still no state: a create that died half way. */
		st->id = strdup(id);
		*status = OCI_STATUS_STOPPED;
		return 0;
	}
	if (r < 0) {
		close(*fd);
		*fd = -1;
		return r;
	}
	*status = oci_state_status(*fd, st);
	return 0;
}

/* poststart and poststop: every hook runs, a failing one is a warning. */
static void run_state_hooks(int dirfd, const struct oci_state *st, enum oci_hook_kind kind,
                            enum oci_status status)
{
	struct vk_error e = {0};
	struct oci_spec *spec = oci_spec_load_saved(dirfd, &e);
	json_object *o;

	if (!spec) {
		oci_warn("cannot run the %s hooks: %s", oci_hook_kind_name(kind), e.msg);
		return;
	}
	if (spec->hooks[kind].n) {
		o = oci_state_to_json(st, status);
		oci_hooks_run_warn(&spec->hooks[kind], kind,
		                   json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	oci_spec_free(spec);
}

/* Wait until the process behind pidfd has exited, for timeout_ms at most. */
static void wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};

	if (pidfd < 0)
		return;
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
}

int oci_container_start(const char *root, const char *id, struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct oci_state st = {0};
	enum oci_status status;
	char buf[VK_ERROR_MSG_MAX + 2];
	size_t got = 0;
	int fd, s = -1, pidfd = -1, r;
	bool connected = false;
	ssize_t n;

	r = oci_container_open_locked(root, id, &fd, &st, &status, err);
	if (r < 0)
		return r;
	if (status != OCI_STATUS_CREATED) {
		r = vk_error_set(err, EINVAL,
		                 status == OCI_STATUS_STOPPED
		                         ? "cannot start a container that has stopped"
		                         : "cannot start an already running container");
		goto out;
	}
	/* Pinned now (status checked its start time): waited for if it fails below. */
	pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", fd, OCI_START_SOCK);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = vk_error_errno(err, errno, "container %s is not waiting to be started", id);
		goto out;
	}
	connected = true;
	/* 'S': it accepted; then EOF once it exec'd, or 'E' and why it could not. */
	while (got < sizeof(buf) - 1) {
		n = read(s, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == 1 && buf[0] == 'S')
			unlinkat(fd, OCI_START_SOCK, 0);
	}
	buf[got] = '\0';
	if (got == 0 || buf[0] != 'S') {
		unlinkat(fd, OCI_START_SOCK, 0);
		r = vk_error_set(err, EIO, "the container process exited before it started");
		goto out;
	}
	if (got > 1 && buf[1] == 'X') {
		/* From the init stub: "X<errno>:<text>". */
		char *colon = strchr(buf + 2, ':');
		int e = atoi(buf + 2);

		r = vk_error_errno(err, e > 0 ? e : EIO, "%s", colon ? colon + 1 : buf + 2);
		goto out;
	}
	if (got > 1 && buf[1] == 'E') {
		r = vk_error_set(
		        err, strstr(buf, "not found") || strstr(buf, "no such file") ? ENOENT : EIO,
		        "%s", buf + 2);
		goto out;
	}
	run_state_hooks(fd, &st, OCI_HOOK_POSTSTART, OCI_STATUS_RUNNING);
	r = 0;
out:
	/*
	 * A process that failed to start closes the connection (its last words
	 * sent) a moment before it has exited: until then `state` would still
	 * say running. Return once it has, so that the container is stopped
	 * when start reports the failure (a delete right after it succeeds).
	 */
	if (r < 0 && connected)
		wait_exit(pidfd, 10000);
	if (pidfd >= 0)
		close(pidfd);
	if (s >= 0)
		close(s);
	close(fd);
	oci_state_clear(&st);
	return r;
}

static int signal_pid(const struct oci_state *st, int sig, struct vk_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0), r = 0;

	/* The pidfd pins the process: re-check it is still the one we recorded. */
	if (pidfd < 0 || !oci_pid_alive(st->pid, st->pid_start)) {
		if (pidfd >= 0)
			close(pidfd);
		return vk_error_set(err, ESRCH, "container not running");
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		r = vk_error_errno(err, errno, "cannot send signal %d to the container", sig);
	close(pidfd);
	return r;
}

int oci_container_kill(const char *root, const char *id, int sig, bool all, struct vk_error *err)
{
	struct oci_state st = {0};
	enum oci_status status;
	int r;

	r = oci_container_load(root, id, &st, &status, err);
	if (r < 0)
		return r;
	if (status == OCI_STATUS_STOPPED || status == OCI_STATUS_CREATING) {
		r = vk_error_set(err, ESRCH, "container not running");
		goto out;
	}
	if (all && st.cgroup_json) {
		struct oci_cgroup *cg = oci_cgroup_from_json(st.cgroup_json, NULL);

		if (cg) {
			oci_cgroup_kill_all(cg, sig);
			if (status == OCI_STATUS_PAUSED && sig == SIGKILL &&
			    oci_cgroup_freeze(cg, false, NULL) < 0)
				oci_debug("thaw after kill failed");
			oci_cgroup_free(cg);
		}
		r = 0;
		goto out;
	}
	r = signal_pid(&st, sig, err);
out:
	oci_state_clear(&st);
	return r;
}

/* Kill everything of the container and wait (bounded) for its init to go. */
static void kill_and_wait(const struct oci_state *st, struct oci_cgroup *cg)
{
	int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);

	if (cg && oci_cgroup_is_frozen(cg) && oci_cgroup_freeze(cg, false, NULL) < 0)
		oci_debug("cannot thaw before kill");
	if (pidfd >= 0 && oci_pid_alive(st->pid, st->pid_start))
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	if (cg)
		oci_cgroup_kill_all(cg, SIGKILL);
	if (pidfd >= 0) {
		struct pollfd p = {pidfd, POLLIN, 0};

		while (poll(&p, 1, 10000) < 0 && errno == EINTR)
			;
		close(pidfd);
	}
}

void oci_container_destroy(const char *root, int fd, const struct oci_state *st,
                           enum oci_status status)
{
	struct oci_cgroup *cg = NULL;
	struct vk_error e = {0};

	if (st->cgroup_json)
		cg = oci_cgroup_from_json(st->cgroup_json, NULL);
	if (status != OCI_STATUS_STOPPED || (cg && !(st->ns_flags & CLONE_NEWPID)))
		kill_and_wait(st, cg);
	if (st->mounts_json && st->rootfs) {
		/* Without a mount namespace its mounts are in ours, below its root. */
		struct oci_hostmnts m;

		if (oci_hostmnts_from_json(st->mounts_json, &m) < 0)
			oci_warn("container %s: the mounts in its state are corrupt", st->id);
		else if (oci_hostmnts_remove(st->rootfs, &m))
			oci_warn("container %s leaves mounts below %s", st->id, st->rootfs);
		oci_hostmnts_clear(&m);
	}
	if (st->bundle)
		run_state_hooks(fd, st, OCI_HOOK_POSTSTOP, OCI_STATUS_STOPPED);
	if (cg && oci_cgroup_destroy(cg, &e) < 0)
		oci_warn("%s", e.msg);
	oci_cgroup_free(cg);
	oci_state_remove(root, st->id, fd);
}

int oci_container_delete(const char *root, const char *id, bool force, struct vk_error *err)
{
	struct oci_state st = {0};
	struct oci_cgroup *cg = NULL;
	enum oci_status status;
	int fd, r;

	r = oci_container_open_locked(root, id, &fd, &st, &status, err);
	if (r == -ENOENT && force) {
		/* As runc: nothing to delete is no error with --force (containerd's
		 * shim deletes with --force on every teardown). */
		vk_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (status != OCI_STATUS_STOPPED && status != OCI_STATUS_CREATED && !force) {
		if (status == OCI_STATUS_RUNNING && st.cgroup_json) {
			cg = oci_cgroup_from_json(st.cgroup_json, NULL);
			if (cg && oci_cgroup_is_frozen(cg))
				status = OCI_STATUS_PAUSED;
		}
		r = vk_error_set(err, EBUSY, "cannot delete container %s that is not stopped: %s",
		                 id, oci_status_name(status));
		goto out;
	}
	oci_container_destroy(root, fd, &st, status);
	r = 0;
out:
	oci_cgroup_free(cg);
	close(fd);
	oci_state_clear(&st);
	return r;
}

int oci_container_pause(const char *root, const char *id, bool pause, struct vk_error *err)
{
	struct oci_state st = {0};
	struct oci_cgroup *cg = NULL;
	enum oci_status status;
	int fd, r;

	r = oci_container_open_locked(root, id, &fd, &st, &status, err);
	if (r < 0)
		return r;
	if (status == OCI_STATUS_STOPPED || status == OCI_STATUS_CREATED) {
		r = vk_error_set(err, EINVAL, "container not running");
		goto out;
	}
	cg = oci_cgroup_from_json(st.cgroup_json, err);
	if (!cg || cg->n == 0) {
		r = vk_error_set(err, ENOTSUP, "container %s has no cgroup to freeze", id);
		goto out;
	}
	if (!pause && !oci_cgroup_is_frozen(cg)) {
		r = vk_error_set(err, EINVAL, "container not paused");
		goto out;
	}
	r = oci_cgroup_freeze(cg, pause, err);
out:
	oci_cgroup_free(cg);
	close(fd);
	oci_state_clear(&st);
	return r;
}

int oci_container_update(const char *root, const char *id, const struct oci_resources *res,
                         struct vk_error *err)
{
	struct oci_state st = {0};
	struct oci_cgroup *cg = NULL;
	enum oci_status status;
	int fd, r;

	r = oci_container_open_locked(root, id, &fd, &st, &status, err);
	if (r < 0)
		return r;
	if (status == OCI_STATUS_STOPPED) {
		r = vk_error_set(err, EINVAL, "container not running");
		goto out;
	}
	cg = oci_cgroup_from_json(st.cgroup_json, err);
	if (!cg || cg->n == 0) {
		r = vk_error_set(err, ENOTSUP, "container %s has no cgroup to update", id);
		goto out;
	}
	r = oci_cgroup_apply(cg, res, NULL, 0, true, err);
out:
	oci_cgroup_free(cg);
	close(fd);
	oci_state_clear(&st);
	return r;
}
