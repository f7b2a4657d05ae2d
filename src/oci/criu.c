/* SPDX-License-Identifier: MIT */
/*
 * Running CRIU: the argument vector, the options checkpoint and restore
 * share, the external bind mounts of a spec, and the fork/exec of criu with
 * its failure turned into one sentence (see criu.h for why the command line).
 */
#include "criu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "spec.h"

void oci_argv_add(struct oci_argv *a, const char *s)
{
	char *d;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	d = strdup(s);
	if (!d) {
		a->oom = true;
		return;
	}
	a->v[a->n++] = d;
	a->v[a->n] = NULL;
}

void oci_argv_addf(struct oci_argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = true;
		return;
	}
	oci_argv_add(a, s);
	free(s);
}

void oci_argv_free(struct oci_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (struct oci_argv){0};
}

int oci_criu_check_opts(const struct oci_criu_opts *o, struct vk_error *err)
{
	static const char *const modes[] = {"soft", "full", "strict", "ignore"};
	bool mode_ok = !o->cgroups_mode;

	if (o->lazy_pages || o->page_server || o->status_fd)
		return vk_error_set(err, EOPNOTSUPP,
		                    "%s is not supported by virtkit-oci: lazy migration "
		                    "(a page server and userfaultfd) is not implemented; "
		                    "checkpoint and restore without it",
		                    o->lazy_pages    ? "--lazy-pages"
		                    : o->page_server ? "--page-server"
		                                     : "--status-fd");
	for (size_t i = 0; o->cgroups_mode && i < ARRAY_SIZE(modes); i++)
		if (strcmp(o->cgroups_mode, modes[i]) == 0)
			mode_ok = true;
	if (!mode_ok)
		return vk_error_set(err, EINVAL,
		                    "--manage-cgroups-mode '%s': expected soft, full, strict or "
		                    "ignore",
		                    o->cgroups_mode);
	if (o->empty_ns && strcmp(o->empty_ns, "network") != 0)
		return vk_error_set(err, EINVAL,
		                    "--empty-ns '%s': only 'network' can be left empty (as runc)",
		                    o->empty_ns);
	if (o->image_path && o->image_path[0] != '/')
		return vk_error_set(err, EINVAL, "--image-path '%s' is not absolute",
		                    o->image_path);
	if (o->work_path && o->work_path[0] != '/')
		return vk_error_set(err, EINVAL, "--work-path '%s' is not absolute", o->work_path);
	return 0;
}

void oci_criu_common_args(struct oci_argv *a, const struct oci_criu_opts *o, const char *action,
                          const char *root)
{
	bool restore = strcmp(action, "restore") == 0;

	oci_argv_add(a, "criu");
	oci_argv_add(a, action);
	oci_argv_add(a, "--images-dir");
	oci_argv_add(a, o->image_path);
	oci_argv_add(a, "--work-dir");
	oci_argv_add(a, o->work_path ? o->work_path : o->image_path);
	oci_argv_add(a, "--log-file");
	oci_argv_add(a, restore ? "restore.log" : "dump.log");
	/* Level 4 (debug), as runc: the log is what explains a failure. */
	oci_argv_add(a, "-v4");
	oci_argv_add(a, "--root");
	oci_argv_add(a, root);
	oci_argv_addf(a, "--manage-cgroups=%s", o->cgroups_mode ? o->cgroups_mode : "soft");
	if (o->tcp_established)
		oci_argv_add(a, "--tcp-established");
	if (o->tcp_skip_in_flight && !restore)
		oci_argv_add(a, "--skip-in-flight");
	if (o->link_remap && !restore)
		oci_argv_add(a, "--link-remap");
	if (o->ext_unix_sk)
		oci_argv_add(a, "--ext-unix-sk");
	if (o->shell_job)
		oci_argv_add(a, "--shell-job");
	if (o->file_locks)
		oci_argv_add(a, "--file-locks");
	if (o->auto_dedup)
		oci_argv_add(a, "--auto-dedup");
	if (o->empty_ns)
		oci_argv_add(a, "--empty-ns=net");
}

static bool is_bind(const struct oci_mount *m)
{
	if (m->type && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; i < m->options.n; i++)
		if (strcmp(m->options.v[i], "bind") == 0 || strcmp(m->options.v[i], "rbind") == 0)
			return true;
	return false;
}

void oci_criu_ext_mounts(struct oci_argv *a, const struct oci_spec *spec, bool restore)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];

		if (!is_bind(m) || !m->source)
			continue;
		oci_argv_add(a, "--external");
		if (!restore)
			oci_argv_addf(a, "mnt[%s]:%s", m->destination, m->destination);
		else if (m->source[0] == '/' || !spec->bundle)
			oci_argv_addf(a, "mnt[%s]:%s", m->destination, m->source);
		else
			oci_argv_addf(a, "mnt[%s]:%s/%s", m->destination, spec->bundle, m->source);
	}
}

int oci_mkdir_p(const char *path, struct vk_error *err)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return vk_error_set(err, ENAMETOOLONG, "path '%s' is empty or too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return vk_error_errno(err, errno, "cannot create directory '%s'", buf);
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* The first "Error (file:line): text" line of criu's log, without its prefix. */
static void first_log_error(const char *dir, const char *log, char *out, size_t cap)
{
	char path[4200], line[1024];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, log);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *e = strstr(line, "Error (");
		char *close;

		if (!e)
			continue;
		close = strstr(e, "): ");
		snprintf(out, cap, "%s", close ? close + 3 : e);
		out[strcspn(out, "\n")] = '\0';
		break;
	}
	fclose(f);
}

int oci_criu_run(const struct oci_criu_opts *o, struct oci_argv *a, const char *log,
                 struct oci_cgroup *cg, const int *keep, size_t n_keep, struct vk_error *err)
{
	const char *prog = o->criu ? o->criu : "criu";
	const char *work = o->work_path ? o->work_path : o->image_path;
	char why[400];
	int report[2], status, e = 0;
	pid_t pid;
	ssize_t n;

	if (a->oom)
		return vk_error_set(err, ENOMEM, "out of memory");
	if (pipe2(report, O_CLOEXEC) < 0)
		return vk_error_errno(err, errno, "cannot run %s", prog);
	oci_debug("running %s %s", prog, a->v[1]);
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(report[0]);
		close(report[1]);
		return vk_error_errno(err, e, "cannot run %s", prog);
	}
	if (pid == 0) {
		struct vk_error ce = {0};

		close(report[0]);
		if (cg && oci_cgroup_enter(cg, getpid(), &ce) < 0) {
			e = ce.code ? ce.code : EIO;
			goto child_fail;
		}
		for (size_t i = 0; i < n_keep; i++)
			if (keep[i] > 2)
				fcntl(keep[i], F_SETFD, 0);
		execvp(prog, a->v);
		e = errno;
	child_fail:
		if (write(report[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	n = read(report[0], &e, sizeof(e));
	close(report[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return vk_error_errno(err, errno, "cannot wait for %s", prog);
	}
	if (n == (ssize_t)sizeof(e) && e)
		return vk_error_errno(err, e, "cannot run %s (%s)", prog,
		                      e == ENOENT ? "install Debian's criu, or name it with --criu"
		                                  : "joining the container's cgroups");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	first_log_error(work, log, why, sizeof(why));
	if (WIFSIGNALED(status))
		return vk_error_set(err, EIO, "criu %s was killed by signal %d%s%s (log: %s/%s)",
		                    a->v[1], WTERMSIG(status), why[0] ? ": " : "", why, work, log);
	return vk_error_set(err, EIO, "criu %s failed (exit status %d)%s%s (log: %s/%s)", a->v[1],
	                    WEXITSTATUS(status), why[0] ? ": " : "", why, work, log);
}
