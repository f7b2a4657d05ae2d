/* SPDX-License-Identifier: MIT */
/* Final process setup and execve, for the container init and for exec. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "security.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void oci_close_fds_except(int first, const int *keep, size_t n)
{
	int lo = first;

	/* keep[] is small and unsorted: close the gaps between kept fds. */
	for (;;) {
		int next = -1;

		for (size_t i = 0; i < n; i++)
			if (keep[i] >= lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			syscall(SYS_close_range, (unsigned)lo, ~0U, 0);
			return;
		}
		if (next > lo)
			syscall(SYS_close_range, (unsigned)lo, (unsigned)(next - 1), 0);
		lo = next + 1;
	}
}

int oci_proc_limits(const struct oci_process *p, struct vk_error *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *rl = &p->rlimits[i];
		struct rlimit r = {rl->soft, rl->hard}, cur;

		if (setrlimit((__rlimit_resource_t)rl->resource, &r) == 0)
			continue;
		if (errno == EPERM && getrlimit((__rlimit_resource_t)rl->resource, &cur) == 0 &&
		    rl->hard > cur.rlim_max)
			return vk_error_set(
			        err, EPERM,
			        "cannot set %s to soft %llu hard %llu: raising the hard "
			        "limit above %llu needs CAP_SYS_RESOURCE, which this "
			        "process does not have",
			        rl->name, (unsigned long long)rl->soft,
			        (unsigned long long)rl->hard, (unsigned long long)cur.rlim_max);
		return vk_error_errno(err, errno, "cannot set %s to soft %llu hard %llu", rl->name,
		                      (unsigned long long)rl->soft, (unsigned long long)rl->hard);
	}
	if (p->has_oom_score_adj) {
		char buf[16];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			return vk_error_errno(err, errno, "cannot set oomScoreAdj");
		snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
		n = write(fd, buf, strlen(buf));
		close(fd);
		if (n < 0 && (errno == EACCES || errno == EPERM))
			return vk_error_set(err, EPERM,
			                    "cannot set oomScoreAdj to %d: lowering it needs "
			                    "CAP_SYS_RESOURCE, which this process does not have",
			                    p->oom_score_adj);
		if (n < 0)
			return vk_error_errno(err, errno, "cannot set oomScoreAdj to %d",
			                      p->oom_score_adj);
	}
	return 0;
}

static const char *env_get(const struct oci_strv *env, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], key, k) == 0 && env->v[i][k] == '=')
			return env->v[i] + k + 1;
	return NULL;
}

static bool is_exec(const char *path, int *why)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*why = errno;
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		*why = EISDIR;
		return false;
	}
	if (!(st.st_mode & 0111)) {
		*why = EACCES;
		return false;
	}
	return true;
}

int oci_proc_lookup(struct oci_proc_ctx *c, struct vk_error *err)
{
	const char *arg0, *path, *p;
	int why = ENOENT;

	if (!c->proc->args.n || !c->proc->args.v[0][0])
		return vk_error_set(err, EINVAL, "process.args must name a program to run");
	arg0 = c->proc->args.v[0];
	if (strchr(arg0, '/')) {
		if (!is_exec(arg0, &why)) {
			if (why == ENOENT)
				return vk_error_set(
				        err, ENOENT,
				        "exec: \"%s\": stat %s: no such file or directory", arg0,
				        arg0);
			return vk_error_set(err, why, "exec: \"%s\": %s", arg0,
			                    why == EACCES ? "permission denied" : strerror(why));
		}
		snprintf(c->exe, sizeof(c->exe), "%s", arg0);
		return 0;
	}
	path = env_get(&c->proc->env, "PATH");
	if (!path)
		path = DEFAULT_PATH;
	for (p = path;; p++) {
		size_t n = strcspn(p, ":");
		int w = ENOENT;

		snprintf(c->exe, sizeof(c->exe), "%.*s/%s", (int)n, n ? p : ".", arg0);
		if (is_exec(c->exe, &w))
			return 0;
		if (w == EACCES)
			why = EACCES;
		p += n;
		if (!*p)
			break;
	}
	if (why == EACCES)
		return vk_error_set(err, EACCES, "exec: \"%s\": permission denied", arg0);
	return vk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

/* HOME from the container's /etc/passwd for the target uid, "/" otherwise. */
static void home_of(uid_t uid, char *out, size_t cap)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	snprintf(out, cap, "/");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *fields[7] = {0}, *save = NULL, *tok = strtok_r(line, ":\n", &save);
		int i = 0;

		for (; tok && i < 7; tok = strtok_r(NULL, ":\n", &save))
			fields[i++] = tok;
		if (i >= 6 && strtoul(fields[2], NULL, 10) == uid) {
			snprintf(out, cap, "%s", fields[5]);
			break;
		}
	}
	fclose(f);
}

static int build_env(struct oci_proc_ctx *c, struct vk_error *err)
{
	const struct oci_strv *env = &c->proc->env;
	char home[512];
	size_t n = 0;

	c->envp = calloc(env->n + 2, sizeof(char *));
	if (!c->envp)
		return vk_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < env->n; i++)
		c->envp[n++] = env->v[i];
	if (!env_get(env, "HOME")) {
		home_of(c->proc->user.uid, home, sizeof(home));
		if (asprintf(&c->envp[n], "HOME=%s", home) < 0)
			return vk_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int switch_user(struct oci_proc_ctx *c, struct vk_error *err)
{
	const struct oci_user *u = &c->proc->user;
	gid_t gids[256];
	size_t n = VK_MIN(u->n_additional_gids, ARRAY_SIZE(gids));

	for (size_t i = 0; i < n; i++)
		gids[i] = u->additional_gids[i];
	if (setgroups(n, gids) < 0) {
		/* A rootless user namespace denies setgroups: fine unless groups were asked. */
		if (!(c->userns && errno == EPERM && n == 0))
			return vk_error_errno(err, errno, "cannot set additional groups");
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return vk_error_errno(err, errno, "cannot switch to gid %u", u->gid);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return vk_error_errno(err, errno, "cannot keep capabilities across setuid");
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return vk_error_errno(err, errno, "cannot switch to uid %u", u->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return vk_error_errno(err, errno, "cannot reset keepcaps");
	return 0;
}

/* chdir into cwd and make sure it resolved inside the container's root. */
static int enter_cwd(const char *cwd, struct vk_error *err)
{
	char got[PATH_MAX];

	if (chdir(cwd) < 0)
		return vk_error_errno(err, errno, "cannot change to process.cwd '%s'", cwd);
	if (!getcwd(got, sizeof(got)) || got[0] != '/')
		return vk_error_set(err, EPERM,
		                    "process.cwd '%s' resolves outside the container; refused",
		                    cwd);
	return 0;
}

int oci_proc_finalize(struct oci_proc_ctx *c, struct vk_error *err)
{
	const struct oci_process *p = c->proc;
	int r;

	r = oci_fault("process", err);
	if (r < 0)
		return r;
	r = enter_cwd(p->cwd ? p->cwd : "/", err);
	if (!r && c->proc_fd >= 0)
		r = oci_lsm_prepare(&oci_lsm_host_default, c->proc_fd, p, &c->lsm, err);
	if (r < 0)
		return r;
	r = build_env(c, err);
	if (r < 0)
		return r;
	if (c->seccomp && !p->no_new_privileges) {
		/* Without no_new_privs the filter must go in while we hold CAP_SYS_ADMIN. */
		r = oci_seccomp_load(c->seccomp, c->seccomp_listener, c->state_json, err);
		if (r < 0)
			return r;
	}
	r = oci_caps_bound(&p->caps, err);
	if (!r)
		r = switch_user(c, err);
	if (!r)
		r = oci_caps_apply(&p->caps, err);
	if (r < 0)
		return r;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vk_error_errno(err, errno, "cannot set no_new_privs");
	if (p->user.umask >= 0)
		umask((mode_t)p->user.umask);
	else
		umask(022);
	/* Nothing but stdio and the preserved fds may reach the program. */
	syscall(SYS_close_range, 3u + (unsigned)c->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->seccomp && p->no_new_privileges) {
		/* Last, so the filter sees only the program's own syscalls. */
		r = oci_seccomp_load(c->seccomp, c->seccomp_listener, c->state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int oci_proc_exec(struct oci_proc_ctx *c, struct vk_error *err)
{
	int r = oci_lsm_write(&c->lsm, err);

	if (r < 0)
		return r;
	execve(c->exe, c->proc->args.v, c->envp);
	if (errno == EACCES)
		return vk_error_set(err, EACCES, "exec: \"%s\": permission denied", c->exe);
	return vk_error_errno(err, errno, "exec: \"%s\"", c->exe);
}
