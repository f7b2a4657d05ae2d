/* SPDX-License-Identifier: MIT */
/*
 * exec: a new process in a running container. An intermediate child joins
 * every namespace of the container's init at once (setns on a pidfd), then
 * forks the process proper (CLONE_PARENT, so the runtime can wait for it),
 * which the runtime puts in the container's cgroup before it goes on to the
 * same final setup as the init (process.c).
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "fault.h"
#include "log.h"
#include "lsm.h"
#include "ns.h"
#include "process.h"
#include "sync.h"

struct exec_ctx {
	const struct oci_exec_opts *o;
	struct oci_spec *spec;    /* the container's config.json copy */
	struct oci_process *proc; /* what to run */
	struct oci_state st;
	int pidfd;
	int proc_fd; /* our /proc for the LSM attributes, or -1 */
	int sync[2];
	int ns_flags;
};

static int add_strv(struct oci_strv *v, char *const *add, int n)
{
	char **nv = realloc(v->v, (v->n + (size_t)n + 1) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	v->v = nv;
	for (int i = 0; i < n; i++) {
		v->v[v->n] = strdup(add[i]);
		if (!v->v[v->n])
			return -ENOMEM;
		v->n++;
	}
	v->v[v->n] = NULL;
	return 0;
}

/* The process from --process, or the container's with the command line's changes. */
/* --apparmor and --process-label win over the process's own (as runc). */
static int set_lsm(struct oci_process *p, const struct oci_exec_opts *o, struct vk_error *err)
{
	if (o->apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = strdup(o->apparmor);
		if (!p->apparmor_profile)
			return vk_error_set(err, ENOMEM, "out of memory");
	}
	if (o->process_label) {
		free(p->selinux_label);
		p->selinux_label = strdup(o->process_label);
		if (!p->selinux_label)
			return vk_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int build_process(struct exec_ctx *x, struct vk_error *err)
{
	const struct oci_exec_opts *o = x->o;
	struct oci_process *p;

	if (o->process_file) {
		x->proc = oci_process_parse_file(o->process_file, err);
		if (!x->proc)
			return -EINVAL;
		if (o->tty_set)
			x->proc->terminal = o->tty;
		return set_lsm(x->proc, o, err);
	}
	if (!x->spec->process || o->n_args == 0)
		return vk_error_set(err, EINVAL, "exec needs a command (or --process FILE)");
	p = x->spec->process;
	x->spec->process = NULL;
	x->proc = p;
	oci_strv_free(&p->args);
	if (add_strv(&p->args, o->args, o->n_args) < 0 || add_strv(&p->env, o->env, o->n_env) < 0)
		return vk_error_set(err, ENOMEM, "out of memory");
	if (o->cwd) {
		free(p->cwd);
		p->cwd = strdup(o->cwd);
	}
	if (o->user) {
		unsigned uid = 0, gid = 0;
		int n = sscanf(o->user, "%u:%u", &uid, &gid);

		if (n < 1)
			return vk_error_set(err, EINVAL, "--user wants uid[:gid], got '%s'",
			                    o->user);
		p->user.uid = uid;
		p->user.gid = n == 2 ? gid : 0;
		p->user.n_additional_gids = 0;
	}
	for (int i = 0; i < o->n_caps; i++) {
		cap_value_t v;

		if (cap_from_name(o->caps[i], &v) < 0)
			return vk_error_set(err, EINVAL, "--cap: unknown capability '%s'",
			                    o->caps[i]);
		p->caps.present = true;
		p->caps.bounding |= 1ull << v;
		p->caps.effective |= 1ull << v;
		p->caps.permitted |= 1ull << v;
		p->caps.inheritable |= 1ull << v;
		p->caps.ambient |= 1ull << v;
	}
	p->terminal = o->tty;
	if (o->no_new_privs)
		p->no_new_privileges = true;
	return set_lsm(p, o, err);
}

/* Namespace types where the container's process differs from us. */
static int differing_ns(pid_t pid)
{
	int flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(oci_ns_all); i++) {
		char a[64], b[64];
		struct stat sa, sb;

		snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, oci_ns_proc_name(oci_ns_all[i]));
		snprintf(b, sizeof(b), "/proc/self/ns/%s", oci_ns_proc_name(oci_ns_all[i]));
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
		    (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
			flags |= oci_ns_all[i];
	}
	return flags;
}

VK_NORETURN static void exec_child(struct exec_ctx *x)
{
	struct oci_proc_ctx pc = {.proc = x->proc,
	                          .seccomp = x->spec->linux_.seccomp,
	                          .preserve_fds = x->o->preserve_fds,
	                          .userns = (x->ns_flags & CLONE_NEWUSER) != 0,
	                          .proc_fd = x->proc_fd,
	                          .seccomp_listener = -1};
	struct vk_error err = {0};
	struct sync_msg m;
	int fd = x->sync[1];

	if (sync_recv(fd, &m, NULL, -1) < 0 || m.type != SYNC_GO)
		_exit(1);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (x->proc->terminal) {
		int master, slave;
		char name[64];

		if (oci_console_open(-1, "/dev/ptmx", x->proc->console_height,
		                     x->proc->console_width, &master, &slave, name, sizeof(name),
		                     &err) < 0)
			sync_die(fd, &err, 1);
		if (sync_send(fd, SYNC_PTY, 0, name, master) < 0)
			_exit(1);
		close(master);
		if (oci_console_attach(slave, &err) < 0)
			sync_die(fd, &err, 1);
		close(slave);
	}
	if (oci_proc_limits(x->proc, &err) < 0 || oci_proc_lookup(&pc, &err) < 0 ||
	    oci_proc_finalize(&pc, &err) < 0)
		sync_die(fd, &err, err.code == ENOENT ? 127 : err.code == EACCES ? 126 : 1);
	oci_proc_exec(&pc, &err);
	sync_die(fd, &err, err.code == ENOENT ? 127 : err.code == EACCES ? 126 : 1);
}

VK_NORETURN static void exec_stage1(struct exec_ctx *x)
{
	struct vk_error err = {0};
	int keep[4] = {x->sync[1], x->pidfd, oci_log_fd(), x->proc_fd};
	pid_t child;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	oci_close_fds_except(3 + x->o->preserve_fds, keep, 4);
	if (x->ns_flags && setns(x->pidfd, x->ns_flags) < 0) {
		vk_error_errno(&err, errno, "cannot join the namespaces of container %s", x->o->id);
		sync_die(x->sync[1], &err, 1);
	}
	close(x->pidfd);
	child = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (child < 0) {
		vk_error_errno(&err, errno, "cannot start the process in container %s", x->o->id);
		sync_die(x->sync[1], &err, 1);
	}
	if (child == 0)
		exec_child(x);
	sync_send(x->sync[1], SYNC_PID, child, NULL, -1);
	_exit(0);
}

static int wait_exit(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 255;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int oci_container_exec(const struct oci_exec_opts *o, struct vk_error *err)
{
	struct exec_ctx x = {.o = o, .pidfd = -1, .proc_fd = -1, .sync = {-1, -1}};
	struct oci_cgroup *cg = NULL;
	enum oci_status status;
	struct sync_msg m;
	int r, passfd, console = -1, master = -1, pfd;
	int dfd;
	pid_t stage1, pid = 0;

	r = oci_container_load(o->root, o->id, &x.st, &status, err);
	if (r < 0)
		return r;
	/* Not "created": its process is still the runtime, which must stay out of reach. */
	if (status != OCI_STATUS_RUNNING) {
		r = vk_error_set(err, EINVAL, "cannot exec in a %s container",
		                 oci_status_name(status));
		goto out;
	}
	dfd = oci_state_open(o->root, o->id, false, err);
	x.spec = dfd >= 0 ? oci_spec_load_saved(dfd, err) : NULL;
	if (dfd >= 0)
		close(dfd);
	if (!x.spec) {
		r = -EIO;
		goto out;
	}
	r = build_process(&x, err);
	if (r < 0)
		goto out;
	if (x.proc->terminal && !o->console_socket && o->detach) {
		r = vk_error_set(err, EINVAL, "--tty with --detach needs --console-socket");
		goto out;
	}
	r = oci_lsm_check(&oci_lsm_host_default, x.proc, NULL, err);
	if (r < 0)
		goto out;
	if (x.proc->apparmor_profile || x.proc->selinux_label) {
		x.proc_fd = open(oci_lsm_host_default.proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (x.proc_fd < 0) {
			r = vk_error_errno(err, errno, "cannot open %s", oci_lsm_host_default.proc);
			goto out;
		}
	}
	x.pidfd = (int)syscall(SYS_pidfd_open, x.st.pid, 0);
	if (x.pidfd < 0 || !oci_pid_alive(x.st.pid, x.st.pid_start)) {
		r = vk_error_set(err, ESRCH, "container not running");
		goto out;
	}
	x.ns_flags = differing_ns(x.st.pid);
	cg = oci_cgroup_from_json(x.st.cgroup_json, NULL);
	if (x.proc->terminal && o->console_socket) {
		r = console = oci_console_connect(o->console_socket, err);
		if (r < 0)
			goto out;
	}
	r = sync_pair(x.sync, err);
	if (r < 0)
		goto out;
	stage1 = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	if (stage1 < 0) {
		r = vk_error_errno(err, errno, "cannot fork");
		goto out;
	}
	if (stage1 == 0)
		exec_stage1(&x);
	close(x.sync[1]);
	x.sync[1] = -1;
	r = sync_recv(x.sync[0], &m, NULL, -1);
	waitpid(stage1, NULL, 0);
	if (r < 0 || m.type != SYNC_PID) {
		r = r == 0 && m.type == SYNC_ERROR ? vk_error_set(err, m.value, "%s", m.text)
		                                   : vk_error_set(err, EIO, "exec setup failed");
		goto out;
	}
	pid = m.value;
	if (cg && oci_cgroup_enter(cg, pid, err) < 0) {
		if (!x.st.rootless)
			goto kill;
		vk_error_clear(err);
	}
	sync_send(x.sync[0], SYNC_GO, pid, NULL, -1);
	for (;;) {
		r = sync_recv(x.sync[0], &m, &passfd, -1);
		if (r < 0)
			break; /* EOF: exec'd */
		if (m.type == SYNC_ERROR) {
			r = vk_error_set(err, m.value > 0 ? m.value : EIO, "%s", m.text);
			goto kill;
		}
		if (m.type == SYNC_PTY && console >= 0) {
			r = oci_console_send(console, passfd, m.text, err);
			close(passfd);
			if (r < 0)
				goto kill;
		} else if (m.type == SYNC_PTY) {
			master = passfd;
		} else if (passfd >= 0) {
			close(passfd);
		}
	}
	if (o->pid_file) {
		char tmp[4200], buf[32];
		int fd, n = snprintf(buf, sizeof(buf), "%d", pid);

		snprintf(tmp, sizeof(tmp), "%s.tmp%d", o->pid_file, getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
		    rename(tmp, o->pid_file) < 0) {
			r = vk_error_errno(err, errno, "cannot write --pid-file '%s'", o->pid_file);
			goto kill;
		}
	}
	if (o->detach) {
		r = 0;
		goto out;
	}
	oci_forward_signals(pid);
	if (master >= 0) {
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		oci_console_proxy(master, pfd);
		if (pfd >= 0)
			close(pfd);
	}
	r = wait_exit(pid);
	goto out;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	if (master >= 0)
		close(master);
	if (console >= 0)
		close(console);
	for (int i = 0; i < 2; i++)
		if (x.sync[i] >= 0)
			close(x.sync[i]);
	if (x.pidfd >= 0)
		close(x.pidfd);
	if (x.proc_fd >= 0)
		close(x.proc_fd);
	oci_cgroup_free(cg);
	oci_process_free(x.proc);
	oci_spec_free(x.spec);
	oci_state_clear(&x.st);
	return r;
}
