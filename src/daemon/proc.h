/* SPDX-License-Identifier: MIT */
/*
 * Process and file helpers for the daemon and the shim: pidfds, process
 * identity (pid + start time, so a recycled pid is never mistaken for ours),
 * running a short command with a timeout, and folder housekeeping.
 */
#ifndef VKD_PROC_H
#define VKD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"

#include <spawn.h>

/*
 * Spawn attributes every child of the daemon or the shim gets: an empty
 * signal mask and default dispositions (the daemon blocks and ignores some
 * signals, which exec would otherwise pass on), and optionally a new session.
 */
void proc_spawnattr_init(posix_spawnattr_t *attr, bool new_session);

int proc_pidfd_open(pid_t pid);
int proc_pidfd_signal(int pidfd, int sig);
/* Field 22 of /proc/PID/stat (clock ticks since boot); -ESRCH when gone or a zombie. */
int proc_start_time(pid_t pid, uint64_t *out);
/* CPU time and resident memory of a process. */
int proc_usage(pid_t pid, uint64_t *cpu_ns, uint64_t *rss_bytes);

/*
 * Run argv (argv[0] a path) with stdin from /dev/null and stdout+stderr
 * captured into out (NUL-terminated, truncated to len). Killed after
 * timeout_ms. Returns 0 and the wait status in *status, or -errno.
 */
int proc_run(const char *const *argv, int timeout_ms, char *out, size_t len, int *status,
             struct vk_error *err) VK_MUST_CHECK;

/* The time timeout_ms from now on clock clk, for pthread_cond_timedwait(). */
void timespec_after_ms(struct timespec *ts, clockid_t clk, int timeout_ms);

/* Wait for a child pid up to timeout_ms (polling its pidfd); -ETIMEDOUT. */
int proc_wait_timeout(pid_t pid, int pidfd, int timeout_ms, int *status);

/* The last non-empty line of a text (for error messages), in buf. */
void proc_last_line(const char *text, char *buf, size_t len);
/*
 * A helper's error line without the helper's own prefix ("virtkit-vm: ",
 * "virtkit-oci: error: ", runc's time=... level=error msg="..."), so that
 * the sentence we pass on carries one program name, ours. prog (a path or a
 * name, may be NULL) is one more name to drop.
 */
void proc_strip_prog(char *line, const char *prog);

/* snprintf that reports truncation: 0, or -ENAMETOOLONG with buf truncated. */
int fmt_buf(char *buf, size_t len, const char *fmt, ...) VK_PRINTF(3, 4);

/*
 * Replace a file atomically (temporary file + rename) without fsync: for the
 * run folder (tmpfs in production), whose files never need to outlive the
 * machine, only a crash of the writer.
 */
int write_file_replace(const char *path, const char *text, mode_t mode);

int mkdir_p(const char *path, mode_t mode);
int rm_rf(const char *path);
/* The bytes of the regular files at or below path (not following symlinks). */
int64_t proc_tree_bytes(const char *path);
/* Read a small text file (at most len-1 bytes) into buf. */
int read_small_file(const char *path, char *buf, size_t len);
/* Read a "PID [STARTTIME]" file DIR/FILE: 0 with *pid set, -ENOENT, -EINVAL. */
int proc_read_pid(const char *dir, const char *file, pid_t *pid);

/* One descriptor sent with SCM_RIGHTS on sock (a runtime's --console-socket): fd or -errno. */
int proc_recv_fd(int sock);

/* Find an executable: an explicit path, or a name searched in $PATH. */
bool find_executable(const char *name, char *out, size_t len);

#endif
