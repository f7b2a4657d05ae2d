/* SPDX-License-Identifier: MIT */
/*
 * The foreground half of `run`: start the created container, forward
 * signals, proxy a terminal when there is no console socket, wait for the
 * exit, then delete the container (poststop hooks, cgroup, state).
 */
#include "container-internal.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "fault.h"
#include "hooks.h"
#include "log.h"
#include "sync.h"

static volatile pid_t forward_to;

static void forward(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

void oci_forward_signals(pid_t pid)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	struct sigaction sa = {.sa_handler = forward};

	forward_to = pid;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* poststart and poststop: every hook runs, a failing one is a warning. */
static void run_hook_list(struct oci_ctr *c, enum oci_hook_kind kind, enum oci_status st)
{
	char *json;

	if (!c->spec->hooks[kind].n)
		return;
	json = oci_ctr_state_json(c, st, c->pid);
	if (json)
		oci_hooks_run_warn(&c->spec->hooks[kind], kind, json);
	else
		oci_warn("cannot run the %s hooks: out of memory", oci_hook_kind_name(kind));
	free(json);
}

/* After the container exited: what delete does, unless a delete beat us to it. */
static void teardown(struct oci_ctr *c)
{
	struct vk_error e = {0};
	struct stat st;

	while (flock(c->dirfd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (fstat(c->dirfd, &st) < 0 || st.st_nlink == 0)
		return; /* `delete --force` already did it */
	if (!oci_spec_has_ns(c->spec, CLONE_NEWPID))
		oci_cgroup_kill_all(c->cg, SIGKILL);
	if (oci_hostmnts_remove(c->spec->root_path, &c->mnts))
		oci_warn("container %s leaves mounts below %s", c->o->id, c->spec->root_path);
	run_hook_list(c, OCI_HOOK_POSTSTOP, OCI_STATUS_STOPPED);
	if (oci_cgroup_destroy(c->cg, &e) < 0)
		oci_warn("%s", e.msg);
	oci_state_remove(c->o->root, c->o->id, c->dirfd);
}

int oci_run_foreground(struct oci_ctr *c, struct vk_error *err)
{
	struct sync_msg m;
	int r, status = 0, pidfd;

	/* Others (kill, state, pause) may act on the container while it runs. */
	flock(c->dirfd, LOCK_UN);
	r = oci_fault("start", err);
	if (r < 0)
		goto fail;
	sync_send(c->sync[0], SYNC_START, 0, NULL, -1);
	/* EOF: the process exec'd (the socket is close-on-exec). */
	r = sync_recv(c->sync[0], &m, NULL, -1);
	if (r == 0 && m.type == SYNC_ERROR) {
		r = vk_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
		goto fail;
	}
	if (r == 0 && m.type == SYNC_EXEC_ERROR) {
		r = vk_error_errno(err, m.value > 0 ? m.value : EIO, "%s", m.text);
		goto fail;
	}
	/* Spec: a failing poststart hook is a warning, the container runs on. */
	run_hook_list(c, OCI_HOOK_POSTSTART, OCI_STATUS_RUNNING);
	if (c->o->detach)
		return 0;
	oci_forward_signals(c->pid);
	if (c->pty_master >= 0) {
		pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
		oci_console_proxy(c->pty_master, pidfd);
		if (pidfd >= 0)
			close(pidfd);
	}
	while (waitpid(c->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = 0;
			break;
		}
	}
	forward_to = 0;
	if (!c->o->keep)
		teardown(c);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
fail:
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
	oci_ctr_unmount_new(c);
	while (flock(c->dirfd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (c->cg)
		oci_cgroup_destroy(c->cg, NULL);
	oci_state_remove(c->o->root, c->o->id, c->dirfd);
	if (c->o->pid_file)
		unlink(c->o->pid_file);
	return r;
}
