/* SPDX-License-Identifier: MIT */
/*
 * restore: the container is created again from its bundle, without a
 * process of ours in it: state directory, copy of config.json, cgroups made
 * and configured, the rootfs bind-mounted at <state>/criu-root (CRIU wants a
 * mount point for --root). Then `criu restore` runs inside the container's
 * cgroups and brings the processes back (their namespaces and mounts from
 * the image), detached and as our sibling, i.e. our child; we are also a
 * subreaper (unless --no-subreaper), so the restored init is reaped here
 * whichever way it comes. External resources come back from the bundle as it
 * is now: bind mounts (mnt[DEST]:SOURCE), /dev/null masks, joined network
 * and pid namespaces (--inherit-fd), new pipes or a new terminal for the
 * process's stdio. The state is recorded with the restored pid, criu-root is
 * unmounted. Any failure removes all of it: no state, cgroup, mount or
 * process is left.
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "criu.h"
#include "fault.h"
#include "log.h"

#define CRIU_ROOT "criu-root"
#define MAX_KEEP  8

struct restore {
	const struct oci_restore_opts *o;
	struct oci_spec *spec;
	struct oci_cgroup *cg;
	int dirfd;
	char criu_root[PATH_MAX];
	bool mounted;
	pid_t pid;
	int keep[MAX_KEEP]; /* fds CRIU inherits */
	size_t n_keep;
	int console_fd, master;
	json_object *desc; /* descriptors.json */
	json_object *ext;  /* virtkit-oci.json */
	char created[64];
};

static const struct {
	int type;
	const char *key;
} ext_ns[] = {
        {CLONE_NEWNET, "extRootNetNS"},
        {CLONE_NEWPID, "extRootPidNS"},
};

static int validate(struct restore *rs, struct vk_error *err)
{
	const struct oci_spec *s = rs->spec;
	struct stat sb;

	if (!s->process || !s->process->args.n)
		return vk_error_set(err, EINVAL,
		                    "config.json: process.args: required to restore a container");
	if (geteuid() != 0)
		return vk_error_set(err, EPERM,
		                    "restore needs root: CRIU cannot restore a "
		                    "rootless container");
	if (!oci_spec_has_ns(s, CLONE_NEWNS) || oci_spec_ns_path(s, CLONE_NEWNS))
		return vk_error_set(err, EOPNOTSUPP,
		                    "restore needs a mount namespace of the container's own "
		                    "(linux.namespaces: mount, without a path)");
	for (size_t i = 0; i < s->linux_.n_namespaces; i++) {
		const struct oci_namespace *ns = &s->linux_.namespaces[i];

		if (ns->path && ns->type != CLONE_NEWNET && ns->type != CLONE_NEWPID)
			return vk_error_set(err, EOPNOTSUPP,
			                    "restore into an existing %s namespace (%s) is not "
			                    "supported: only network and pid namespaces can be "
			                    "joined",
			                    oci_ns_name(ns->type), ns->path);
	}
	if (s->process->terminal && !rs->o->console_socket)
		return vk_error_set(err, EINVAL,
		                    "process.terminal needs --console-socket to restore: the "
		                    "restored process gets a new terminal");
	if (stat(rs->o->criu.image_path, &sb) < 0)
		return vk_error_errno(err, errno, "cannot use --image-path '%s'",
		                      rs->o->criu.image_path);
	if (!S_ISDIR(sb.st_mode))
		return vk_error_errno(err, ENOTDIR, "cannot use --image-path '%s'",
		                      rs->o->criu.image_path);
	return 0;
}

static json_object *read_json(const char *dir, const char *name, bool required,
                              struct vk_error *err)
{
	char path[PATH_MAX];
	json_object *j;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) < 0 && !required)
		return json_object_new_object();
	j = json_object_from_file(path);
	if (!j)
		vk_error_set(err, EINVAL, "cannot read %s: %s", path, json_util_get_last_err());
	return j;
}

static int keep_fd(struct restore *rs, int fd, struct vk_error *err)
{
	if (rs->n_keep >= MAX_KEEP) {
		close(fd);
		return vk_error_set(err, EMFILE, "too many descriptors for CRIU");
	}
	rs->keep[rs->n_keep++] = fd;
	return 0;
}

/* --inherit-fd for the namespaces the bundle joins, stdio pipes and the terminal. */
static int add_inherited(struct restore *rs, struct oci_argv *a, struct vk_error *err)
{
	json_object *tty = NULL;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ext_ns); i++) {
		const char *p = oci_spec_ns_path(rs->spec, ext_ns[i].type);
		int fd;

		if (!p)
			continue;
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return vk_error_errno(err, errno, "cannot open the %s namespace '%s'",
			                      oci_ns_name(ext_ns[i].type), p);
		r = keep_fd(rs, fd, err);
		if (r < 0)
			return r;
		oci_argv_add(a, "--inherit-fd");
		oci_argv_addf(a, "fd[%d]:%s", fd, ext_ns[i].key);
	}
	/* As runc: the process's pipes become the restoring caller's. */
	for (int fd = 0; fd < 3 && json_object_is_type(rs->desc, json_type_array); fd++) {
		const char *d = json_object_get_string(json_object_array_get_idx(rs->desc, fd));

		if (!d || strncmp(d, "pipe:", 5) != 0)
			continue;
		oci_argv_add(a, "--inherit-fd");
		oci_argv_addf(a, "fd[%d]:%s", fd, d);
	}
	if (json_object_object_get_ex(rs->ext, "tty", &tty)) {
		char name[64];
		int slave;

		if (!rs->spec->process->terminal)
			return vk_error_set(err, EINVAL,
			                    "the checkpoint has a terminal but config.json's "
			                    "process.terminal is false");
		rs->console_fd = oci_console_connect(rs->o->console_socket, err);
		if (rs->console_fd < 0)
			return rs->console_fd;
		r = oci_console_open(-1, "/dev/ptmx", 0, 0, &rs->master, &slave, name, sizeof(name),
		                     err);
		if (r < 0)
			return r;
		r = keep_fd(rs, slave, err);
		if (r < 0)
			return r;
		r = oci_console_send(rs->console_fd, rs->master, name, err);
		if (r < 0)
			return r;
		oci_argv_add(a, "--inherit-fd");
		oci_argv_addf(a, "fd[%d]:%s", slave, json_object_get_string(tty));
	} else if (rs->spec->process->terminal) {
		return vk_error_set(err, EINVAL,
		                    "config.json's process.terminal is true but the checkpoint "
		                    "has no terminal");
	}
	return 0;
}

static void add_masks(struct restore *rs, struct oci_argv *a)
{
	json_object *m = NULL;

	if (!json_object_object_get_ex(rs->ext, "masked", &m) ||
	    !json_object_is_type(m, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(m); i++) {
		oci_argv_add(a, "--external");
		oci_argv_addf(a, "mnt[%s]:/dev/null",
		              json_object_get_string(json_object_array_get_idx(m, i)));
	}
}

/* Where CRIU puts the restored tasks: the container's cgroup in each hierarchy. */
static void add_cgroup_roots(struct restore *rs, struct oci_argv *a)
{
	for (size_t i = 0; i < rs->cg->n; i++) {
		const struct oci_cg_hier *h = &rs->cg->h[i];

		oci_argv_add(a, "--cgroup-root");
		if (h->v2)
			oci_argv_add(a, h->path); /* the default for controllers not named */
		else
			oci_argv_addf(a, "%s:%s", h->name, h->path);
	}
}

static int save_state(struct restore *rs, struct vk_error *err)
{
	struct oci_state st = {
	        .id = (char *)rs->o->id,
	        .pid = rs->pid,
	        .pid_start = rs->pid > 0 ? oci_pid_start_time(rs->pid) : 0,
	        .bundle = rs->spec->bundle,
	        .rootfs = rs->spec->root_path,
	        .created = rs->created,
	        .owner = geteuid(),
	        .annotations_json = rs->spec->annotations_json,
	        .ns_flags = rs->spec->ns_flags,
	};
	int r;

	if (rs->pid <= 0) {
		st.creator = getpid();
		st.creator_start = oci_pid_start_time(st.creator);
	}
	st.cgroup_json = rs->cg ? oci_cgroup_to_json(rs->cg) : NULL;
	r = oci_state_save(rs->dirfd, &st, err);
	free(st.cgroup_json);
	return r;
}

static int mount_root(struct restore *rs, struct vk_error *err)
{
	snprintf(rs->criu_root, sizeof(rs->criu_root), "%s/%s/%s", rs->o->root, rs->o->id,
	         CRIU_ROOT);
	if (mkdirat(rs->dirfd, CRIU_ROOT, 0700) < 0)
		return vk_error_errno(err, errno, "cannot create %s", rs->criu_root);
	if (mount(rs->spec->root_path, rs->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;

		unlinkat(rs->dirfd, CRIU_ROOT, AT_REMOVEDIR);
		return vk_error_errno(err, e, "cannot bind-mount root.path '%s' for CRIU",
		                      rs->spec->root_path);
	}
	rs->mounted = true;
	/* Ours alone: nothing CRIU mounts below it propagates back to the rootfs. */
	if (mount(NULL, rs->criu_root, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return vk_error_errno(err, errno, "cannot make %s private", rs->criu_root);
	return 0;
}

static void unmount_root(struct restore *rs)
{
	if (!rs->mounted)
		return;
	if (umount2(rs->criu_root, MNT_DETACH) < 0)
		oci_warn("cannot unmount %s: %s", rs->criu_root, strerror(errno));
	else
		unlinkat(rs->dirfd, CRIU_ROOT, AT_REMOVEDIR);
	rs->mounted = false;
}

static int read_pid(const char *path, pid_t *pid, struct vk_error *err)
{
	char buf[32] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long v;

	if (fd < 0)
		return vk_error_errno(err, errno, "criu restore wrote no pid file '%s'", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	v = n > 0 ? strtol(buf, NULL, 10) : 0;
	if (v <= 0 || v > INT_MAX)
		return vk_error_set(err, EIO, "criu restore wrote no pid to '%s'", path);
	*pid = (pid_t)v;
	return 0;
}

static int run_criu(struct restore *rs, struct vk_error *err)
{
	const struct oci_criu_opts *co = &rs->o->criu;
	const char *work = co->work_path ? co->work_path : co->image_path;
	char pidfile[PATH_MAX];
	struct oci_argv a = {0};
	int r;

	snprintf(pidfile, sizeof(pidfile), "%s/restore-%s.pid", work, rs->o->id);
	unlink(pidfile);
	oci_criu_common_args(&a, co, "restore", rs->criu_root);
	oci_argv_add(&a, "--restore-detached");
	oci_argv_add(&a, "--restore-sibling");
	oci_argv_add(&a, "--pidfile");
	oci_argv_add(&a, pidfile);
	add_cgroup_roots(rs, &a);
	oci_criu_ext_mounts(&a, rs->spec, true);
	add_masks(rs, &a);
	r = add_inherited(rs, &a, err);
	if (!r)
		r = oci_fault("criu", err);
	if (!r)
		r = oci_criu_run(co, &a, "restore.log", rs->cg, rs->keep, rs->n_keep, err);
	if (!r)
		r = read_pid(pidfile, &rs->pid, err);
	else
		unlink(pidfile);
	oci_argv_free(&a);
	return r;
}

static void cleanup(struct restore *rs)
{
	int status;

	if (rs->pid > 0) {
		kill(rs->pid, SIGKILL);
		waitpid(rs->pid, &status, 0);
	}
	if (rs->cg)
		oci_cgroup_kill_all(rs->cg, SIGKILL);
	unmount_root(rs);
	if (rs->cg) {
		oci_cgroup_destroy(rs->cg, NULL);
		oci_cgroup_free(rs->cg);
		rs->cg = NULL;
	}
	if (rs->dirfd >= 0) {
		oci_state_remove(rs->o->root, rs->o->id, rs->dirfd);
		close(rs->dirfd);
		rs->dirfd = -1;
	}
	if (rs->o->pid_file)
		unlink(rs->o->pid_file);
}

/* Foreground: wait for the restored init, then delete the container (as run). */
static int wait_and_delete(struct restore *rs)
{
	struct oci_state st = {0};
	struct stat sb;
	int status = 0;

	oci_forward_signals(rs->pid);
	while (waitpid(rs->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			/* --no-subreaper and not our child: wait without a status. */
			while (kill(rs->pid, 0) == 0)
				usleep(100000);
			status = 0;
			break;
		}
	}
	oci_forward_signals(0);
	while (flock(rs->dirfd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (fstat(rs->dirfd, &sb) == 0 && sb.st_nlink > 0 &&
	    oci_state_load(rs->dirfd, rs->o->id, &st, NULL) == 0)
		oci_container_destroy(rs->o->root, rs->dirfd, &st, OCI_STATUS_STOPPED);
	oci_state_clear(&st);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int oci_container_restore(const struct oci_restore_opts *o, struct vk_error *err)
{
	struct restore rs = {.o = o, .dirfd = -1, .console_fd = -1, .master = -1};
	char *raw = NULL;
	size_t raw_len = 0;
	int r;

	r = oci_criu_check_opts(&o->criu, err);
	if (r < 0)
		return r;
	r = oci_validate_id(o->id, err);
	if (r < 0)
		return r;
	rs.spec = oci_spec_load(o->bundle, &raw, &raw_len, err);
	if (!rs.spec)
		return -(err->code ? err->code : EINVAL);
	oci_timestamp(rs.created, sizeof(rs.created));
	r = validate(&rs, err);
	if (r < 0)
		goto out;
	rs.desc = read_json(o->criu.image_path, OCI_CRIU_DESCRIPTORS, false, err);
	rs.ext = rs.desc ? read_json(o->criu.image_path, "virtkit-oci.json", false, err) : NULL;
	if (!rs.desc || !rs.ext) {
		r = -(err->code ? err->code : EINVAL);
		goto out;
	}
	if (o->criu.work_path) {
		r = oci_mkdir_p(o->criu.work_path, err);
		if (r < 0)
			goto out;
	}
	r = oci_root_ensure(o->root, err);
	if (r < 0)
		goto out;
	r = rs.dirfd = oci_state_create_dir(o->root, o->id, err);
	if (r < 0)
		goto out;
	r = oci_write_atomic_at(rs.dirfd, OCI_CONFIG_COPY, raw, raw_len, 0600, err);
	if (r < 0)
		goto fail;
	rs.cg = oci_cgroup_resolve(rs.spec->linux_.cgroups_path, o->id, false, err);
	if (!rs.cg) {
		r = -(err->code ? err->code : EIO);
		goto fail;
	}
	/*
	 * CRIU would restore into a frozen cgroup (a paused container's: the
	 * same cgroupsPath) and wait there for ever. Checked before it is made
	 * ours, so that the failure leaves that container alone.
	 */
	if (oci_cgroup_is_frozen(rs.cg)) {
		r = vk_error_set(err, EBUSY,
		                 "the cgroup of container %s is frozen (a paused container uses "
		                 "it?): CRIU would restore into stopped processes",
		                 o->id);
		oci_cgroup_free(rs.cg);
		rs.cg = NULL;
		goto fail;
	}
	r = oci_cgroup_make(rs.cg, false, &rs.spec->linux_.resources, err);
	if (r < 0) {
		oci_cgroup_free(rs.cg);
		rs.cg = NULL;
		goto fail;
	}
	/* Recorded now: if this process dies, delete still finds the cgroup. */
	r = save_state(&rs, err);
	if (!r)
		r = oci_cgroup_apply(rs.cg, &rs.spec->linux_.resources, rs.spec->linux_.devices,
		                     rs.spec->linux_.n_devices, false, err);
	if (!r)
		r = mount_root(&rs, err);
	if (!r && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		r = vk_error_errno(err, errno, "cannot become a subreaper");
	if (!r)
		r = run_criu(&rs, err);
	if (r < 0) {
		char why[VK_ERROR_MSG_MAX];

		memcpy(why, err->msg, sizeof(why));
		vk_error_set(err, err->code, "cannot restore container %s: %s", o->id, why);
		goto fail;
	}
	unmount_root(&rs);
	r = save_state(&rs, err);
	if (!r)
		r = oci_fault("pid-file", err);
	if (!r && o->pid_file)
		r = oci_write_pid_file(o->pid_file, rs.pid, err);
	if (r < 0)
		goto fail;
	oci_debug("container %s restored, pid %d", o->id, rs.pid);
	if (o->detach) {
		r = 0;
		goto out;
	}
	/* Others (kill, state, delete) may act on it while it runs. */
	flock(rs.dirfd, LOCK_UN);
	r = wait_and_delete(&rs);
	goto out;
fail:
	cleanup(&rs);
out:
	for (size_t i = 0; i < rs.n_keep; i++)
		close(rs.keep[i]);
	if (rs.console_fd >= 0)
		close(rs.console_fd);
	if (rs.master >= 0)
		close(rs.master);
	if (rs.dirfd >= 0)
		close(rs.dirfd);
	json_object_put(rs.desc);
	json_object_put(rs.ext);
	oci_cgroup_free(rs.cg);
	oci_spec_free(rs.spec);
	free(raw);
	return r;
}
