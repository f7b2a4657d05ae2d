/* SPDX-License-Identifier: MIT */
/*
 * Running OCI hooks with the state on stdin and a timeout. Each hook leads a
 * process group of its own, killed whole when the timeout strikes, and the
 * hook process itself dies with the runtime (PR_SET_PDEATHSIG), so a runtime
 * killed half way leaves no hook behind. Not covered: children a hook started
 * when the runtime is killed (the parent-death signal reaches the hook only),
 * and anything that left the hook's process group.
 */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "log.h"

static int wait_timeout(pid_t pid, int timeout_s, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;
	int r;

	if (pidfd >= 0 && timeout_s > 0) {
		p.fd = pidfd;
		p.events = POLLIN;
		do {
			r = poll(&p, 1, timeout_s * 1000);
		} while (r < 0 && errno == EINTR);
		if (r == 0) {
			kill(-pid, SIGKILL); /* the hook and what it started */
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			close(pidfd);
			return -ETIMEDOUT;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int run_one(const struct oci_hook *h, enum oci_hook_kind kind, const char *state,
                   struct vk_error *err)
{
	char *const default_argv[] = {h->path, NULL};
	int pipefd[2], status = 0, r;
	pid_t pid, parent = getpid();

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vk_error_errno(err, errno, "cannot run %s hook %s", oci_hook_kind_name(kind),
		                      h->path);
	pid = fork();
	if (pid < 0) {
		r = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return vk_error_errno(err, r, "cannot run %s hook %s", oci_hook_kind_name(kind),
		                      h->path);
	}
	if (pid == 0) {
		static char *const empty_env[] = {NULL};

		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		if (dup2(pipefd[0], 0) < 0)
			_exit(126);
		/* Only stdio goes to a hook. */
		syscall(SYS_close_range, 3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		execve(h->path, h->args.n ? h->args.v : default_argv,
		       h->env.n ? h->env.v : empty_env);
		fprintf(stderr, "virtkit-oci: cannot exec hook %s: %s\n", h->path, strerror(errno));
		_exit(127);
	}
	/* Both sides set the group: the timeout's kill must find it either way. */
	setpgid(pid, pid);
	close(pipefd[0]);
	/* A hook that ignores stdin is fine: EPIPE is not an error. */
	if (vk_write_full(pipefd[1], state, strlen(state)) < 0)
		oci_debug("%s hook %s did not read the state", oci_hook_kind_name(kind), h->path);
	close(pipefd[1]);
	r = wait_timeout(pid, h->timeout, &status);
	if (r == -ETIMEDOUT)
		return vk_error_set(err, ETIMEDOUT, "%s hook %s timed out after %d s",
		                    oci_hook_kind_name(kind), h->path, h->timeout);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot wait for %s hook %s",
		                      oci_hook_kind_name(kind), h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return vk_error_set(err, EIO, "%s hook %s was killed by signal %d",
		                    oci_hook_kind_name(kind), h->path, WTERMSIG(status));
	return vk_error_set(err, EIO, "%s hook %s failed with exit status %d",
	                    oci_hook_kind_name(kind), h->path, WEXITSTATUS(status));
}

int oci_hooks_run(const struct oci_hook_list *l, enum oci_hook_kind kind, const char *state_json,
                  struct vk_error *err)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int r = 0;

	for (size_t i = 0; i < l->n && !r; i++) {
		oci_debug("running %s hook %s", oci_hook_kind_name(kind), l->v[i].path);
		r = run_one(&l->v[i], kind, state_json, err);
	}
	signal(SIGPIPE, old);
	return r;
}

unsigned oci_hooks_run_warn(const struct oci_hook_list *l, enum oci_hook_kind kind,
                            const char *state_json)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	unsigned failed = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct vk_error e = {0};

		oci_debug("running %s hook %s", oci_hook_kind_name(kind), l->v[i].path);
		if (run_one(&l->v[i], kind, state_json, &e) < 0) {
			oci_warn("%s", e.msg);
			failed++;
		}
	}
	signal(SIGPIPE, old);
	return failed;
}
