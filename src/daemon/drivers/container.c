/* SPDX-License-Identifier: MIT */
/*
 * The container driver: an OCI runtime with the runc/crun command line
 * (virtkit-oci by default; --oci-runtime selects another) and the daemon's
 * own --root. The shim runs `create` + `start` and holds the console; the
 * daemon runs `state`, `kill`, `pause`, `resume`, `delete` and `exec`.
 * Saving (`checkpoint`) and starting from a saved state (the shim runs
 * `restore` instead of `create` + `start`) are in container-save.c.
 * The container id is the instance uuid.
 */
#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/driver.h"
#include "daemon/drivers/cgroup-stats.h"
#include "daemon/drivers/container-save.h"
#include "daemon/drivers/settings.h"
#include "daemon/drivers/oci-spec.h"
#include "daemon/network.h"
#include "daemon/proc.h"
#include "daemon/shim.h"

#define RUNTIME_TIMEOUT_MS 30000
#define START_TIMEOUT_MS   60000

extern char **environ;

/* Run `RUNTIME --root ROOT verb [arg] ID [arg2]`; on failure the message names the verb. */
static int runtime(struct instance *inst, const char *verb, const char *arg, const char *arg2,
                   char *out, size_t outlen, struct vk_error *err)
{
	const char *argv[10];
	char buf[2048], last[300];
	int n = 0, st = 0, r;

	argv[n++] = drv_settings.oci_runtime;
	argv[n++] = "--root";
	argv[n++] = drv_settings.oci_root;
	argv[n++] = verb;
	if (arg)
		argv[n++] = arg;
	argv[n++] = inst->uuid;
	if (arg2)
		argv[n++] = arg2;
	argv[n] = NULL;
	if (!out) {
		out = buf;
		outlen = sizeof(buf);
	}
	if ((r = proc_run(argv, RUNTIME_TIMEOUT_MS, out, outlen, &st, err)) < 0)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		proc_last_line(out, last, sizeof(last));
		proc_strip_prog(last, drv_settings.oci_runtime);
		return vk_error_set(err, EIO, "OCI runtime '%s %s' failed for '%s'%s%s",
		                    drv_settings.oci_runtime, verb, inst->name, last[0] ? ": " : "",
		                    last);
	}
	return 0;
}

/* `state ID` → status and pid; -ESRCH when the runtime does not know it. */
static int runtime_state(struct instance *inst, char *status, size_t len, pid_t *pid,
                         struct vk_error *err)
{
	char out[8192];
	json_object *o;
	const char *s;
	int r;

	if ((r = runtime(inst, "state", NULL, NULL, out, sizeof(out), NULL)) < 0)
		return vk_error_set(err, ESRCH, "container of '%s' not found by the OCI runtime",
		                    inst->name);
	o = json_tokener_parse(out);
	s = def_get_str(o, "status");
	if (!s) {
		json_object_put(o);
		return vk_error_set(err, EPROTO, "OCI runtime 'state' gave no status for '%s'",
		                    inst->name);
	}
	snprintf(status, len, "%s", s);
	*pid = (pid_t)def_get_int(o, "pid", 0);
	json_object_put(o);
	return 0;
}

/*
 * Whether the runtime keeps state for this container: runc, crun and
 * virtkit-oci keep it in ROOT/ID. A stat instead of a `state` run.
 */
static bool runtime_knows(struct instance *inst)
{
	char path[PATH_MAX];
	struct stat st;

	if (fmt_buf(path, sizeof(path), "%s/%s", drv_settings.oci_root, inst->uuid) < 0)
		return true;
	return stat(path, &st) == 0;
}

static bool bundle_terminal(const char *bundle)
{
	char path[PATH_MAX];
	json_object *cfg, *p;
	bool t;

	fmt_buf(path, sizeof(path), "%s/config.json", bundle);
	cfg = json_object_from_file(path);
	p = cfg ? json_object_object_get(cfg, "process") : NULL;
	t = def_get_bool(p, "terminal", false);
	json_object_put(cfg);
	return t;
}

static int ct_start(struct instance *inst, struct vk_error *err)
{
	json_object *def = inst->rt.def, *cfg, *spec;
	char bundle[PATH_MAX], path[PATH_MAX], cg[128], images[PATH_MAX];
	struct network_ct net;
	const char *txt;
	bool term;
	pid_t pid;
	int r;

	if (access(drv_settings.oci_runtime, X_OK) != 0)
		return vk_error_errno(err, errno,
		                      "cannot run the OCI runtime '%s' (see --oci-runtime)",
		                      drv_settings.oci_runtime);
	if (inst->rt.restore_path) {
		/* A snapshot's root file system goes back before anything runs on it. */
		if ((r = ct_rootfs(def, path, sizeof(path), err)) < 0 ||
		    (r = ct_restore_prepare(inst, path, images, sizeof(images), err)) < 0)
			return r;
	}
	if (def_get_str(def, "bundle")) {
		fmt_buf(bundle, sizeof(bundle), "%s", def_get_str(def, "bundle"));
		term = bundle_terminal(bundle);
	} else {
		struct stat st;
		const char *rootfs = def_get_str(def, "rootfs");
		int e = stat(rootfs, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
		if (e)
			return vk_error_errno(
			        err, e, "container root file system '%s' is not a folder", rootfs);
		if (fmt_buf(bundle, sizeof(bundle), "%s/bundle", inst->rt.dir) < 0)
			return vk_error_set(err, ENAMETOOLONG, "the run folder is too long");
		if (mkdir(bundle, 0700) < 0)
			return vk_error_errno(err, errno, "cannot create '%s'", bundle);
		snprintf(cg, sizeof(cg), "/virtkit/%s", inst->uuid);
		/* The network first: the spec names the namespace it prepared (cleanup undoes it). */
		if ((r = network_ct_attach(inst, &net, err)) < 0)
			return r;
		spec = oci_spec_build(def, cg, &net);
		txt = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
		                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
		fmt_buf(path, sizeof(path), "%s/config.json", bundle);
		r = write_file_replace(path, txt, 0600);
		json_object_put(spec);
		if (r < 0)
			return vk_error_errno(err, -r, "cannot write '%s'", path);
		term = def_get_bool(json_object_object_get(def, "process"), "terminal", true);
	}
	/* A container left over by a crash between create and delete would block the id. */
	if (runtime_knows(inst))
		(void)runtime(inst, "delete", "--force", NULL, NULL, 0, NULL);
	cfg = json_object_new_object();
	json_object_object_add(cfg, "kind", json_object_new_string("container"));
	json_object_object_add(cfg, "runtime", json_object_new_string(drv_settings.oci_runtime));
	json_object_object_add(cfg, "root", json_object_new_string(drv_settings.oci_root));
	json_object_object_add(cfg, "bundle", json_object_new_string(bundle));
	json_object_object_add(cfg, "id", json_object_new_string(inst->uuid));
	json_object_object_add(cfg, "terminal", json_object_new_boolean(term));
	if (inst->rt.restore_path)
		json_object_object_add(cfg, "restore", json_object_new_string(images));
	r = shim_spawn(inst, &drv_settings.shim, cfg, START_TIMEOUT_MS, &pid, err);
	json_object_put(cfg);
	if (r < 0)
		return r;
	inst->rt.pid = pid;
	inst->rt.pidfd = proc_pidfd_open(pid);
	return 0;
}

static int ct_kill(struct instance *inst, const char *sig, struct vk_error *err)
{
	char status[32];
	pid_t pid;
	int r = runtime(inst, "kill", NULL, sig, NULL, 0, err);

	/* Failing to signal a container that already stopped is not an error. */
	if (r < 0 && (runtime_state(inst, status, sizeof(status), &pid, NULL) < 0 ||
	              strcmp(status, "stopped") == 0)) {
		vk_error_clear(err);
		return 0;
	}
	return r;
}

/* The bundle's image stop signal (OCI image annotation), or NULL. */
static const char *bundle_stop_signal(const char *bundle, char *buf, size_t len)
{
	char path[PATH_MAX];
	json_object *cfg, *a;
	const char *v;

	fmt_buf(path, sizeof(path), "%s/config.json", bundle);
	cfg = json_object_from_file(path);
	a = cfg ? json_object_object_get(cfg, "annotations") : NULL;
	v = def_get_str(a, "org.opencontainers.image.stopSignal");
	if (v)
		snprintf(buf, len, "%s", v);
	json_object_put(cfg);
	return v ? buf : NULL;
}

/* The definition's stop_signal, else a bundle's image stop signal, else SIGTERM (Podman's order). */
static int ct_shutdown(struct instance *inst, struct vk_error *err)
{
	const char *sig = def_get_str(inst->rt.def, "stop_signal"), *bundle;
	char buf[32];

	if (!sig && (bundle = def_get_str(inst->rt.def, "bundle")))
		sig = bundle_stop_signal(bundle, buf, sizeof(buf));
	if (!sig)
		sig = "SIGTERM";
	snprintf(inst->rt.stop_signal, sizeof(inst->rt.stop_signal), "%s", sig);
	return ct_kill(inst, sig, err);
}

static int ct_destroy(struct instance *inst, struct vk_error *err)
{
	return ct_kill(inst, "KILL", err);
}

static int ct_pause(struct instance *inst, struct vk_error *err)
{
	return runtime(inst, "pause", NULL, NULL, NULL, 0, err);
}

static int ct_resume(struct instance *inst, struct vk_error *err)
{
	return runtime(inst, "resume", NULL, NULL, NULL, 0, err);
}

static int ct_reattach(struct instance *inst, enum inst_state *st, struct vk_error *err)
{
	uint64_t deadline = vk_now_ns() + (uint64_t)START_TIMEOUT_MS * 1000000;
	char status[32];
	pid_t pid;
	int r;

	for (;;) {
		struct pollfd p = {.fd = inst->rt.shim_pidfd, .events = POLLIN};
		if ((r = runtime_state(inst, status, sizeof(status), &pid, err)) < 0)
			return r;
		if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0)
			break;
		if (strcmp(status, "stopped") == 0 || poll(&p, 1, 0) > 0)
			return vk_error_set(err, ESRCH, "container of '%s' has stopped",
			                    inst->name);
		/* "creating"/"created": the shim is still starting it. */
		if (vk_now_ns() > deadline)
			return vk_error_set(err, ETIMEDOUT, "container of '%s' is stuck in '%s'",
			                    inst->name, status);
		usleep(50000);
	}
	*st = strcmp(status, "paused") == 0 ? ST_PAUSED : ST_RUNNING;
	inst->rt.pid = pid;
	inst->rt.pidfd = proc_pidfd_open(pid);
	network_reattach(inst);
	return 0;
}

/* The container's cgroup, all its processes: what Podman's stats show. */
static int ct_stats(struct instance *inst, json_object *out, struct vk_error *err)
{
	struct cg_stats cs;
	int r = cg_stats_for_pid(inst->rt.pid, &cs, err);

	if (r < 0)
		return vk_error_prefix(err, "cannot read the cgroup of '%s'", inst->name);
	json_object_object_add(out, "pid", json_object_new_int(inst->rt.pid));
	cg_stats_to_json(&cs, out);
	return 0;
}

static void ct_cleanup(struct instance *inst)
{
	struct vk_error err = {0};

	/* The runtime may not know it (any more); its network namespace may still be there. */
	if (runtime_knows(inst) && runtime(inst, "delete", "--force", NULL, NULL, 0, &err) < 0)
		vk_warn("instance '%s': %s", inst->name, err.msg);
	network_detach(inst);
}

static int ct_console_path(struct instance *inst, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/console.sock", inst->rt.dir) < len ? 0
	                                                                         : -ENAMETOOLONG;
}

int container_exec_spawn(struct instance *inst, const char *const *args, size_t nargs,
                         const int fds[3], const char *pid_file, const char *console_socket,
                         pid_t *pid, struct vk_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char **argv = calloc(nargs + 13, sizeof(*argv));
	size_t n = 0, i;
	int r;

	if (!argv)
		return vk_error_set(err, ENOMEM, "out of memory");
	argv[n++] = drv_settings.oci_runtime;
	argv[n++] = "--root";
	argv[n++] = drv_settings.oci_root;
	argv[n++] = "exec";
	argv[n++] = "--pid-file";
	argv[n++] = pid_file;
	if (console_socket) {
		argv[n++] = "--tty";
		argv[n++] = "--console-socket";
		argv[n++] = console_socket;
	}
	argv[n++] = inst->uuid;
	for (i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], (int)i);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	proc_spawnattr_init(&attr, false);
	r = posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	if (r != 0)
		return vk_error_errno(err, r, "cannot run the OCI runtime '%s'",
		                      drv_settings.oci_runtime);
	return 0;
}

const struct driver container_driver = {
        .name = "container",
        .stop_timeout_s = 10, /* Podman's default */
        .start = ct_start,
        .shutdown = ct_shutdown,
        .destroy = ct_destroy,
        .pause = ct_pause,
        .save = ct_save,
        .resume = ct_resume,
        .reattach = ct_reattach,
        .stats = ct_stats,
        .cleanup = ct_cleanup,
        .console_path = ct_console_path,
};
