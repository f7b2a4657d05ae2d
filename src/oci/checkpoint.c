/* SPDX-License-Identifier: MIT */
/*
 * checkpoint: CRIU dumps a running container's process tree (criu dump, or
 * pre-dump for an iterative first pass) into --image-path. What CRIU cannot
 * find out alone is declared on its command line: the container's bind
 * mounts and /dev/null masks as external mounts, a namespace the container
 * joined by path (network, pid) as an external namespace, a terminal as an
 * external tty. Next to CRIU's images the runtime writes
 * descriptors.json (fds 0-2, runc's file, used by restore to connect new
 * pipes) and virtkit-oci.json (the externals that restore must map).
 * Then, as runc, the checkpointed container is destroyed (CRIU killed its
 * processes): cgroups, mounts and state go, poststop hooks run. With
 * --leave-running or --pre-dump it runs on. CRIU stops the processes with
 * the container's freezer cgroup (--freeze-cgroup, as runc), so a paused
 * container can be checkpointed too (CRIU leaves a frozen cgroup frozen):
 * that is how virtkitd takes a container's rootfs and its processes at the
 * same instant. When CRIU fails, it resumes the
 * processes and the container stays as it was.
 */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"

/* The namespaces a container may join by path and still be checkpointed. */
static const struct {
	int type;
	const char *proc; /* /proc/<pid>/ns/<proc> */
	const char *key;  /* CRIU's external name (runc's) */
} ext_ns[] = {
        {CLONE_NEWNET, "net", "extRootNetNS"},
        {CLONE_NEWPID, "pid", "extRootPidNS"},
};

static int check_spec(const struct oci_state *st, const struct oci_spec *s, struct vk_error *err)
{
	if (st->rootless || geteuid() != 0)
		return vk_error_set(err, EPERM,
		                    "checkpoint needs root: CRIU cannot dump a rootless "
		                    "container");
	if (!oci_spec_has_ns(s, CLONE_NEWNS) || oci_spec_ns_path(s, CLONE_NEWNS))
		return vk_error_set(err, EOPNOTSUPP,
		                    "checkpoint needs a mount namespace of the container's own "
		                    "(linux.namespaces: mount, without a path): CRIU restores "
		                    "the mounts of a namespace it creates");
	for (size_t i = 0; i < s->linux_.n_namespaces; i++) {
		const struct oci_namespace *ns = &s->linux_.namespaces[i];
		bool ok = !ns->path;

		for (size_t j = 0; j < ARRAY_SIZE(ext_ns); j++)
			if (ns->type == ext_ns[j].type)
				ok = true;
		if (!ok)
			return vk_error_set(err, EOPNOTSUPP,
			                    "checkpoint of a container that joins an existing %s "
			                    "namespace (%s) is not supported: only network and "
			                    "pid namespaces can be external to CRIU",
			                    oci_ns_name(ns->type), ns->path);
	}
	return 0;
}

/* --external for joined namespaces, masks and the terminal; recorded in j. */
static int add_externals(struct oci_argv *a, pid_t pid, const struct oci_spec *s, json_object *j,
                         struct vk_error *err)
{
	json_object *masked = json_object_new_array();
	char path[PATH_MAX];
	struct stat sb;

	json_object_object_add(j, "masked", masked);
	for (size_t i = 0; i < ARRAY_SIZE(ext_ns); i++) {
		if (!oci_spec_ns_path(s, ext_ns[i].type))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ext_ns[i].proc);
		if (stat(path, &sb) < 0)
			return vk_error_errno(err, errno, "cannot inspect %s", path);
		oci_argv_add(a, "--external");
		oci_argv_addf(a, "%s[%llu]:%s", ext_ns[i].proc, (unsigned long long)sb.st_ino,
		              ext_ns[i].key);
	}
	/* Masked files are /dev/null bind mounts: CRIU must not dump them. */
	for (size_t i = 0; i < s->linux_.masked_paths.n; i++) {
		const char *m = s->linux_.masked_paths.v[i];

		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, m);
		if (lstat(path, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3))
			continue;
		oci_argv_add(a, "--external");
		oci_argv_addf(a, "mnt[%s]:%s", m, m);
		json_object_array_add(masked, json_object_new_string(m));
	}
	if (s->process && s->process->terminal) {
		char key[64];

		snprintf(path, sizeof(path), "/proc/%d/fd/0", pid);
		if (stat(path, &sb) < 0 || !S_ISCHR(sb.st_mode))
			return vk_error_set(err, EINVAL,
			                    "the container has a terminal (process.terminal) but "
			                    "its fd 0 is not one");
		snprintf(key, sizeof(key), "tty[%llx:%llx]", (unsigned long long)sb.st_rdev,
		         (unsigned long long)sb.st_dev);
		oci_argv_add(a, "--external");
		oci_argv_add(a, key);
		json_object_object_add(j, "tty", json_object_new_string(key));
	}
	return 0;
}

static int write_json(const char *dir, const char *name, json_object *o, struct vk_error *err)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (dfd < 0)
		return vk_error_errno(err, errno, "cannot open '%s'", dir);
	r = oci_write_atomic_at(dfd, name, text, strlen(text), 0600, err);
	close(dfd);
	return r;
}

/* descriptors.json: where fds 0-2 of the container's process lead (runc's format). */
static int write_descriptors(const char *dir, pid_t pid, struct vk_error *err)
{
	json_object *arr = json_object_new_array();
	char path[64], target[PATH_MAX];
	int r;

	for (int fd = 0; fd < 3; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		json_object_array_add(arr, json_object_new_string(n < 0 ? "/dev/null" : target));
	}
	r = write_json(dir, OCI_CRIU_DESCRIPTORS, arr, err);
	json_object_put(arr);
	return r;
}

/* The freezer CRIU stops the container with (runc does the same). */
static char *freeze_path(const struct oci_state *st)
{
	struct oci_cgroup *cg = oci_cgroup_from_json(st->cgroup_json, NULL);
	struct oci_cg_hier *h = cg ? oci_cgroup_find(cg, CGC_FREEZER) : NULL;
	char *p = NULL;

	if (cg && !h)
		h = oci_cgroup_v2(cg);
	if (h && asprintf(&p, "%s%s", h->mount, h->path) < 0)
		p = NULL;
	oci_cgroup_free(cg);
	return p;
}

int oci_container_checkpoint(const char *root, const char *id, const struct oci_criu_opts *o,
                             struct vk_error *err)
{
	const char *work = o->work_path ? o->work_path : o->image_path;
	struct oci_argv a = {0};
	struct oci_state st = {0};
	struct oci_spec *spec = NULL;
	enum oci_status status;
	json_object *ext = NULL;
	char *freezer = NULL;
	int fd = -1, r;

	r = oci_criu_check_opts(o, err);
	if (r < 0)
		return r;
	r = oci_container_open_locked(root, id, &fd, &st, &status, err);
	if (r < 0)
		return r;
	if (status != OCI_STATUS_RUNNING) {
		r = vk_error_set(err, EINVAL,
		                 "cannot checkpoint container %s: it is %s, not running", id,
		                 oci_status_name(status));
		goto out;
	}
	/* A paused one is dumped as it is: CRIU finds the freezer frozen and leaves it so. */
	freezer = freeze_path(&st);
	spec = oci_spec_load_saved(fd, err);
	if (!spec) {
		r = -(err->code ? err->code : EINVAL);
		goto out;
	}
	r = check_spec(&st, spec, err);
	if (!r)
		r = oci_mkdir_p(o->image_path, err);
	if (!r && o->work_path)
		r = oci_mkdir_p(o->work_path, err);
	if (r < 0)
		goto out;
	oci_criu_common_args(&a, o, o->pre_dump ? "pre-dump" : "dump", st.rootfs);
	oci_argv_add(&a, "--tree");
	oci_argv_addf(&a, "%d", st.pid);
	if (o->leave_running && !o->pre_dump)
		oci_argv_add(&a, "--leave-running");
	if (o->parent_path) {
		oci_argv_add(&a, "--prev-images-dir");
		oci_argv_add(&a, o->parent_path);
		oci_argv_add(&a, "--track-mem");
	}
	if (freezer) {
		oci_argv_add(&a, "--freeze-cgroup");
		oci_argv_add(&a, freezer);
	}
	oci_criu_ext_mounts(&a, spec, false);
	ext = json_object_new_object();
	r = add_externals(&a, st.pid, spec, ext, err);
	if (!r && !o->pre_dump)
		r = write_descriptors(o->image_path, st.pid, err);
	if (!r && !o->pre_dump)
		r = write_json(o->image_path, "virtkit-oci.json", ext, err);
	if (r < 0)
		goto out;
	r = oci_criu_run(o, &a, "dump.log", NULL, NULL, 0, err);
	if (r < 0) {
		/* CRIU resumed the processes it had frozen: the container runs on. */
		char why[VK_ERROR_MSG_MAX];

		memcpy(why, err->msg, sizeof(why));
		vk_error_set(err, err->code, "cannot checkpoint container %s: %s", id, why);
		goto out;
	}
	oci_debug("container %s checkpointed to %s (work %s)", id, o->image_path, work);
	if (!o->leave_running && !o->pre_dump) {
		/* As runc: the checkpointed container is destroyed. */
		oci_container_destroy(root, fd, &st, OCI_STATUS_RUNNING);
	}
	r = 0;
out:
	json_object_put(ext);
	free(freezer);
	oci_argv_free(&a);
	oci_spec_free(spec);
	if (fd >= 0)
		close(fd);
	oci_state_clear(&st);
	return r;
}
