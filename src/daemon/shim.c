/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the per-instance shim (see shim.h): spawning it,
 * finding it again after a restart, reading what it recorded. The shim
 * process itself is shim-main.c.
 */
#include "daemon/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"

extern char **environ;

/* --- daemon side ------------------------------------------------------------ */

void shim_read_exit(const char *dir, struct exit_info *out)
{
	char path[PATH_MAX], buf[256];
	int n;

	memset(out, 0, sizeof(*out));
	fmt_buf(path, sizeof(path), "%s/exit", dir);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (sscanf(buf, "exited %d", &n) == 1) {
		out->known = true;
		out->code = n;
	} else if (sscanf(buf, "signaled %d", &n) == 1) {
		out->known = true;
		out->signaled = true;
		out->code = n;
	} else if (vk_startswith(buf, "failed ")) {
		out->known = true;
		out->code = 255;
		fmt_buf(out->detail, sizeof(out->detail), "%s", buf + 7);
	}
}

void shim_last_log_line(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX], text[4096];
	struct stat st;
	int fd;
	ssize_t n;

	buf[0] = '\0';
	fmt_buf(path, sizeof(path), "%s/shim.log", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(text) - 1)
		lseek(fd, st.st_size - (off_t)sizeof(text) + 1, SEEK_SET);
	n = vk_read_full(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	proc_last_line(text, buf, len);
	proc_strip_prog(buf, NULL);
}

int shim_spawn(struct instance *inst, const struct shim_program *prog, json_object *cfg,
               int timeout_ms, pid_t *pid, struct vk_error *err)
{
	const char *dir = inst->rt.dir;
	char path[PATH_MAX], log[PATH_MAX], line[512];
	const char *argv[] = {"virtkitd", "__shim", dir, NULL};
	const char *exe = prog->path;
	const char *txt = json_object_to_json_string_ext(
	        cfg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int sync[2], r, status;
	size_t used = 0;
	uint64_t deadline = vk_now_ns() + (uint64_t)timeout_ms * 1000000;
	pid_t sp;

	fmt_buf(path, sizeof(path), "%s/shim.json", dir);
	if ((r = write_file_replace(path, txt, 0600)) < 0)
		return vk_error_errno(err, -r, "cannot write '%s'", path);
	fmt_buf(log, sizeof(log), "%s/shim.log", dir);
	if (pipe2(sync, O_CLOEXEC) < 0)
		return vk_error_errno(err, errno, "cannot create a pipe");

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_adddup2(&fa, sync[1], 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	/* A session of its own: the daemon's death must not reach it. */
	proc_spawnattr_init(&attr, true);
	if (!prog->daemon) {
		/* The small virtkit-shim: a fraction of virtkitd's cost to exec. */
		argv[0] = "virtkit-shim";
		argv[1] = dir;
		argv[2] = NULL;
	}
	r = posix_spawn(&sp, exe, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sync[1]);
	if (r != 0) {
		close(sync[0]);
		return vk_error_errno(err, r, "cannot start the shim '%s'", exe);
	}
	inst->rt.shim_pid = sp;
	inst->rt.shim_is_child = true;
	inst->rt.shim_pidfd = proc_pidfd_open(sp);

	/* One line: "ok PID" or "error MESSAGE". EOF means the shim died. */
	line[0] = '\0';
	for (;;) {
		struct pollfd p = {.fd = sync[0], .events = POLLIN};
		int64_t left = (int64_t)(deadline - vk_now_ns()) / 1000000;
		ssize_t n;

		if (left <= 0) {
			r = vk_error_set(err, ETIMEDOUT, "the workload did not start within %d s",
			                 timeout_ms / 1000);
			goto fail;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(sync[0], line + used, sizeof(line) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		line[used] = '\0';
		if (strchr(line, '\n') || used == sizeof(line) - 1)
			break;
	}
	close(sync[0]);
	sync[0] = -1;
	line[strcspn(line, "\n")] = '\0';
	if (vk_startswith(line, "ok ")) {
		long v = strtol(line + 3, NULL, 10);
		if (v > 0) {
			*pid = (pid_t)v;
			return 0;
		}
	}
	if (vk_startswith(line, "error "))
		r = vk_error_set(err, EIO, "%s", line + 6);
	else {
		char last[256];
		shim_last_log_line(dir, last, sizeof(last));
		r = vk_error_set(err, EIO, "the workload exited at once%s%s", last[0] ? ": " : "",
		                 last);
	}
fail:
	if (sync[0] >= 0)
		close(sync[0]);
	/* The shim's session holds the workload: take it all down. */
	kill(-sp, SIGKILL);
	proc_wait_timeout(sp, inst->rt.shim_pidfd, 5000, &status);
	if (inst->rt.shim_pidfd >= 0)
		close(inst->rt.shim_pidfd);
	inst->rt.shim_pidfd = -1;
	inst->rt.shim_pid = 0;
	return r;
}

int shim_find(struct instance *inst, struct vk_error *err)
{
	char path[PATH_MAX], buf[64];
	unsigned long long want = 0;
	uint64_t have;
	long pid;
	int fd;

	fmt_buf(path, sizeof(path), "%s/shim.pid", inst->rt.dir);
	if (read_small_file(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%ld %llu", &pid, &want) != 2 || pid <= 0)
		return vk_error_set(err, ESRCH, "no shim record for instance '%s'", inst->name);
	fd = proc_pidfd_open((pid_t)pid);
	if (fd < 0)
		return vk_error_set(err, ESRCH, "the shim of instance '%s' is gone", inst->name);
	/* Same pid and same start time: the very process we spawned, not a recycled pid. */
	if (proc_start_time((pid_t)pid, &have) < 0 || have != want) {
		close(fd);
		return vk_error_set(err, ESRCH, "the shim of instance '%s' is gone", inst->name);
	}
	inst->rt.shim_pid = (pid_t)pid;
	inst->rt.shim_pidfd = fd;
	inst->rt.shim_is_child = false;
	return 0;
}
