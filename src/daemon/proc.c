/* SPDX-License-Identifier: MIT */
/* Process and file helpers (see proc.h). */
#include "daemon/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

void proc_spawnattr_init(posix_spawnattr_t *attr, bool new_session)
{
	sigset_t none, dfl;

	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &dfl);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                       (new_session ? POSIX_SPAWN_SETSID : 0));
}

int proc_pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int proc_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int proc_start_time(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	int r, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((r = read_small_file(path, buf, sizeof(buf))) < 0)
		return -ESRCH;
	/* comm may contain spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -ESRCH;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return -ESRCH;
	for (i = 3; i < 22; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -ESRCH;
		p++;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return -ESRCH;
	*out = v;
	return 0;
}

int proc_usage(pid_t pid, uint64_t *cpu_ns, uint64_t *rss_bytes)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0, rss = 0;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	p = strrchr(buf, ')');
	if (!p)
		return -ESRCH;
	p += 2;
	/* After ')': field 3 is state; utime=14, stime=15, rss=24. */
	for (i = 3; i < 24 && p; i++) {
		if (i == 14)
			sscanf(p, "%llu", &ut);
		else if (i == 15)
			sscanf(p, "%llu", &st);
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		sscanf(p, "%llu", &rss);
	*cpu_ns = (uint64_t)(ut + st) * (1000000000ull / (uint64_t)(tick > 0 ? tick : 100));
	*rss_bytes = (uint64_t)rss * (uint64_t)(page > 0 ? page : 4096);
	return 0;
}

void timespec_after_ms(struct timespec *ts, clockid_t clk, int timeout_ms)
{
	clock_gettime(clk, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int proc_wait_timeout(pid_t pid, int pidfd, int timeout_ms, int *status)
{
	uint64_t deadline = vk_now_ns() + (uint64_t)timeout_ms * 1000000;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		int64_t left;
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		left = (int64_t)(deadline - vk_now_ns()) / 1000000;
		if ((int64_t)(deadline - vk_now_ns()) <= 0)
			return -ETIMEDOUT;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			poll(&p, 1, (int)VK_MIN(left + 1, 1000));
		} else {
			usleep(2000);
		}
	}
}

int proc_run(const char *const *argv, int timeout_ms, char *out, size_t len, int *status,
             struct vk_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2], pidfd, r;
	size_t used = 0;
	pid_t pid;
	uint64_t deadline = vk_now_ns() + (uint64_t)timeout_ms * 1000000;

	if (len)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vk_error_errno(err, errno, "cannot create a pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	proc_spawnattr_init(&attr, false);
	r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return vk_error_errno(err, r, "cannot run '%s'", argv[0]);
	}
	pidfd = proc_pidfd_open(pid);
	vk_set_nonblock(pipefd[0], true);
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int64_t left = (int64_t)(deadline - vk_now_ns()) / 1000000;
		char tmp[1024];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			close(pipefd[0]);
			if (pidfd >= 0)
				close(pidfd);
			return vk_error_set(err, ETIMEDOUT, "'%s' did not finish within %d ms",
			                    argv[0], timeout_ms);
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(pipefd[0], tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (len && used < len - 1) {
			size_t c = VK_MIN((size_t)n, len - 1 - used);
			memcpy(out + used, tmp, c);
			used += c;
			out[used] = '\0';
		}
	}
	close(pipefd[0]);
	r = proc_wait_timeout(pid, pidfd,
	                      (int)VK_MAX((int64_t)(deadline - vk_now_ns()) / 1000000, 1), status);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
		r = vk_error_set(err, ETIMEDOUT, "'%s' did not finish within %d ms", argv[0],
		                 timeout_ms);
	}
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

void proc_last_line(const char *text, char *buf, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

void proc_strip_prog(char *line, const char *prog)
{
	static const char *const progs[] = {"virtkit-vm", "virtkit-oci", "virtkit-shim",
	                                    "virtkitd",   "runc",        "crun"};
	static const char *const levels[] = {"error: ", "warning: ", "fatal: "};
	const char *from = line;
	char *msg;
	size_t n;

	/* runc and its kin (logrus): time="..." level=error msg="TEXT" */
	if ((msg = strstr(line, " msg=\"")) && strstr(line, "level=")) {
		msg += 6;
		n = strlen(msg);
		if (n && msg[n - 1] == '"')
			msg[n - 1] = '\0';
		memmove(line, msg, strlen(msg) + 1);
		return;
	}
	if (prog && strrchr(prog, '/'))
		prog = strrchr(prog, '/') + 1;
	for (size_t i = 0; i <= ARRAY_SIZE(progs); i++) {
		const char *p = i < ARRAY_SIZE(progs) ? progs[i] : prog;

		if (!p || !*p)
			continue;
		n = strlen(p);
		if (strncmp(line, p, n) != 0 || line[n] != ':' || line[n + 1] != ' ')
			continue;
		from = line + n + 2;
		for (size_t j = 0; j < ARRAY_SIZE(levels); j++)
			if (vk_startswith(from, levels[j]))
				from += strlen(levels[j]);
		break;
	}
	memmove(line, from, strlen(from) + 1);
}

int fmt_buf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int write_file_replace(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, r = 0;

	if (fmt_buf(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (vk_write_full(fd, text, len) < 0)
		r = -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_rf_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth > 16)
		return -ELOOP;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_rf_at(fd, e->d_name, depth + 1) < 0)
			r = -EIO;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, 0);
}

int64_t proc_tree_bytes(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int64_t total = 0;
	DIR *d;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < sizeof(sub))
			total += proc_tree_bytes(sub);
	}
	if (d)
		closedir(d);
	return total;
}

int read_small_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = vk_read_full(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

bool find_executable(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/')) {
		if (access(name, X_OK) != 0)
			return false;
		snprintf(out, len, "%s", name);
		return true;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
		    access(out, X_OK) == 0)
			return true;
		p += n;
		if (*p == ':')
			p++;
	}
	return false;
}

int proc_read_pid(const char *dir, const char *file, pid_t *pid)
{
	char path[PATH_MAX], buf[64];
	long v;

	fmt_buf(path, sizeof(path), "%s/%s", dir, file);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	v = strtol(buf, NULL, 10);
	if (v <= 0 || v > 4194304)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int proc_recv_fd(int sock)
{
	char data[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = cbuf,
	                     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}
