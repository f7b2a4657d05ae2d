/* SPDX-License-Identifier: MIT */
/*
 * The vm driver: one virtkit-vm process per VM (docs/virtkit-vm.md), run
 * under the shim with --control RUNDIR/control.sock and --console
 * socket:RUNDIR/console.sock. Pause, resume and power-down go through the
 * control socket (line-delimited JSON); force-stop is SIGKILL on its pidfd.
 * Save, restore and migration are virtkit-vm's (docs/virtkit-vm.md): the
 * receiving end of a migration is `run --incoming unix:RUNDIR/incoming.sock`.
 * A VM holds the volumes it runs from (volumes_acquire()) from its start until
 * its cleanup, so that none is deleted, resized or made a base under it.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/driver.h"
#include "daemon/drivers/settings.h"
#include "daemon/network.h"
#include "daemon/proc.h"
#include "daemon/shim.h"
#include "daemon/volumes.h"

#define CTL_TIMEOUT_MS   5000
#define SAVE_TIMEOUT_MS  600000 /* a save writes all of the guest's RAM that is not zero */
#define READY_TIMEOUT_MS 15000
#define INCOMING_SOCK    "incoming.sock" /* in the run folder: `run --incoming` listens there */

static int ctl_connect(const char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/*
 * One request on the control socket. Event lines (no "ok" member) are
 * skipped. *resp (when non-NULL) gets the response object.
 */
static int ctl_call(struct instance *inst, const char *cmd, const char *req, int timeout_ms,
                    json_object **resp, struct vk_error *err)
{
	char buf[65536];
	size_t used = 0;
	uint64_t deadline = vk_now_ns() + (uint64_t)timeout_ms * 1000000;
	int fd, r;

	if (resp)
		*resp = NULL;
	fd = ctl_connect(inst->rt.dir);
	if (fd < 0)
		return vk_error_errno(err, -fd, "cannot reach the control socket of '%s'",
		                      inst->name);
	if (vk_write_full(fd, req, strlen(req)) < 0) {
		r = vk_error_errno(err, errno, "cannot send '%s' to '%s'", cmd, inst->name);
		goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = (int64_t)(deadline - vk_now_ns()) / 1000000;
		char *nl;
		ssize_t n;

		if (left <= 0) {
			r = vk_error_set(err, ETIMEDOUT, "virtkit-vm of '%s' did not answer '%s'",
			                 inst->name, cmd);
			goto out;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0) {
			r = vk_error_set(err, ECONNRESET,
			                 "virtkit-vm of '%s' closed the control socket",
			                 inst->name);
			goto out;
		}
		used += (size_t)n;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			json_object *o, *ok;
			*nl = '\0';
			o = json_tokener_parse(buf);
			memmove(buf, nl + 1, used - (size_t)(nl + 1 - buf) + 1);
			used = strlen(buf);
			if (!o)
				continue;
			if (!json_object_object_get_ex(o, "ok", &ok)) {
				json_object_put(o); /* an event line */
				continue;
			}
			if (!json_object_get_boolean(ok)) {
				const char *e =
				        json_object_get_string(json_object_object_get(o, "error"));
				r = vk_error_set(err, EIO, "virtkit-vm of '%s' refused '%s': %s",
				                 inst->name, cmd, e ? e : "no reason given");
				json_object_put(o);
				goto out;
			}
			if (resp)
				*resp = o;
			else
				json_object_put(o);
			r = 0;
			goto out;
		}
		if (used == sizeof(buf) - 1) {
			r = vk_error_set(err, EPROTO, "virtkit-vm of '%s' sent an overlong line",
			                 inst->name);
			goto out;
		}
	}
out:
	close(fd);
	return r;
}

/* One request without arguments ({"cmd":...}). */
static int ctl_request(struct instance *inst, const char *cmd, json_object **resp,
                       struct vk_error *err)
{
	char req[96];

	snprintf(req, sizeof(req), "{\"cmd\":\"%s\",\"id\":1}\n", cmd);
	return ctl_call(inst, cmd, req, CTL_TIMEOUT_MS, resp, err);
}

/* One request built as a JSON object, which this takes: "id" is added, "cmd" names it in
 * errors. */
static int ctl_call_object(struct instance *inst, json_object *o, int timeout_ms,
                           json_object **resp, struct vk_error *err)
{
	json_object *cmd;
	char *line;
	int r;

	json_object_object_add(o, "id", json_object_new_int(1));
	if (asprintf(&line, "%s\n",
	             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		line = NULL;
	if (line && json_object_object_get_ex(o, "cmd", &cmd))
		r = ctl_call(inst, json_object_get_string(cmd), line, timeout_ms, resp, err);
	else
		r = vk_error_set(err, ENOMEM, "out of memory");
	free(line);
	json_object_put(o);
	return r;
}

static void push(json_object *a, const char *s)
{
	json_object_array_add(a, json_object_new_string(s));
}

static void size_arg(char *buf, size_t len, uint64_t bytes)
{
	if (bytes % (1u << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "M", bytes >> 20);
	else if (bytes % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 "K", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64, bytes);
}

/* disks[i]: the volume's path and format for volume disks (path "" for the others). */
static json_object *build_argv(struct instance *inst, const struct volume_disk *disks)
{
	json_object *def = inst->rt.def, *a = json_object_new_array(), *arr;
	char buf[PATH_MAX + 64];
	const char *s;
	size_t i;

	push(a, drv_settings.vm_binary);
	push(a, "run");
	if (inst->rt.restore_path) {
		/* The rest must agree with the saved machine; virtkit-vm says where not. */
		push(a, "--restore");
		push(a, inst->rt.restore_path);
	} else if (inst->rt.incoming) {
		/* Likewise with the machine that will arrive. */
		push(a, "--incoming");
		snprintf(buf, sizeof(buf), "unix:%s/" INCOMING_SOCK, inst->rt.dir);
		push(a, buf);
	}
	push(a, "--arch");
	push(a, def_get_str(def, "arch"));
	push(a, "--accel");
	push(a, def_get_str(def, "accel"));
	push(a, "--memory");
	size_arg(buf, sizeof(buf), (uint64_t)def_get_int(def, "memory", 256 << 20));
	push(a, buf);
	push(a, "--cpus");
	snprintf(buf, sizeof(buf), "%" PRId64, def_get_int(def, "cpus", 1));
	push(a, buf);
	if ((s = def_get_str(def, "boot")) && strcmp(s, "disk") == 0) {
		push(a, "--boot");
		push(a, s);
	}
	if ((s = def_get_str(def, "kernel"))) {
		push(a, "--kernel");
		push(a, s);
	}
	if ((s = def_get_str(def, "initrd"))) {
		push(a, "--initrd");
		push(a, s);
	}
	if ((s = def_get_str(def, "cmdline"))) {
		push(a, "--cmdline");
		push(a, s);
	}
	if ((s = def_get_str(def, "firmware"))) {
		push(a, "--firmware");
		push(a, s);
	}
	arr = json_object_object_get(def, "disks");
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		const char *path = disks[i].path[0] ? disks[i].path : def_get_str(d, "path");
		const char *fmt = disks[i].path[0] ? disks[i].format : def_get_str(d, "format");

		/* Without a format virtkit-vm refuses an image that looks like qcow2. */
		snprintf(buf, sizeof(buf), "%.*s%s%s%s", PATH_MAX, path, fmt ? ",format=" : "",
		         fmt ? fmt : "", def_get_bool(d, "readonly", false) ? ",readonly" : "");
		push(a, "--disk");
		push(a, buf);
	}
	arr = json_object_object_get(def, "networks");
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *n = json_object_array_get_idx(arr, i), *fwd;
		size_t j, off;
		push(a, "--net");
		if (strcmp(def_get_str(n, "type"), "tap") == 0) {
			off = (size_t)snprintf(buf, sizeof(buf), "tap,ifname=%s",
			                       def_get_str(n, "ifname"));
		} else if (strcmp(def_get_str(n, "type"), "user") != 0) {
			/* "network", "bridge": the tap network_vm_attach() put on the bridge. */
			char tap[16];
			network_ifname(inst->uuid, 't', (unsigned)i, tap);
			off = (size_t)snprintf(buf, sizeof(buf), "tap,ifname=%s", tap);
		} else {
			off = (size_t)snprintf(buf, sizeof(buf), "user");
			fwd = json_object_object_get(n, "hostfwd");
			for (j = 0; fwd && j < json_object_array_length(fwd) && off < sizeof(buf);
			     j++)
				off += (size_t)snprintf(
				        buf + off, sizeof(buf) - off, ",hostfwd=%s",
				        json_object_get_string(json_object_array_get_idx(fwd, j)));
		}
		if (def_get_str(n, "mac") && off < sizeof(buf))
			snprintf(buf + off, sizeof(buf) - off, ",mac=%s", def_get_str(n, "mac"));
		push(a, buf);
	}
	if (def_get_bool(def, "rng", false))
		push(a, "--rng");
	if (def_get_bool(def, "agent", false))
		push(a, "--agent");
	push(a, "--console");
	snprintf(buf, sizeof(buf), "socket:%s/console.sock", inst->rt.dir);
	push(a, buf);
	push(a, "--control");
	snprintf(buf, sizeof(buf), "%s/control.sock", inst->rt.dir);
	push(a, buf);
	if ((s = def_get_str(def, "on_reset")) && strcmp(s, "reboot") == 0) {
		push(a, "--on-reset");
		push(a, "reboot");
	}
	return a;
}

/* Wait until the control socket answers, or the shim (and so the VM) is gone. */
static int wait_ready(struct instance *inst, enum inst_state *st, struct vk_error *err)
{
	uint64_t deadline = vk_now_ns() + (uint64_t)READY_TIMEOUT_MS * 1000000;
	json_object *resp;
	int r;

	for (;;) {
		struct pollfd p = {.fd = inst->rt.shim_pidfd, .events = POLLIN};
		if (ctl_request(inst, "status", &resp, NULL) == 0) {
			const char *s = def_get_str(resp, "state");
			*st = s && strcmp(s, "paused") == 0 ? ST_PAUSED : ST_RUNNING;
			json_object_put(resp);
			return 0;
		}
		if (poll(&p, 1, 0) > 0) {
			char last[256];
			shim_last_log_line(inst->rt.dir, last, sizeof(last));
			proc_strip_prog(last, drv_settings.vm_binary);
			return vk_error_set(err, EIO, "virtkit-vm exited at once%s%s",
			                    last[0] ? ": " : "", last);
		}
		if (vk_now_ns() > deadline) {
			r = vk_error_set(err, ETIMEDOUT,
			                 "virtkit-vm did not open its control socket within %d s",
			                 READY_TIMEOUT_MS / 1000);
			return r;
		}
		usleep(20000);
	}
}

/*
 * `run --incoming`: wait until it listens (its socket exists), or is gone. It opens
 * its control socket only once the machine has arrived (vm_ready()).
 */
static int wait_listening(struct instance *inst, struct vk_error *err)
{
	uint64_t deadline = vk_now_ns() + (uint64_t)READY_TIMEOUT_MS * 1000000;
	char path[PATH_MAX + sizeof(INCOMING_SOCK) + 1];
	struct stat st;

	snprintf(path, sizeof(path), "%s/" INCOMING_SOCK, inst->rt.dir);
	for (;;) {
		struct pollfd p = {.fd = inst->rt.shim_pidfd, .events = POLLIN};

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (poll(&p, 1, 0) > 0) {
			char last[256];
			shim_last_log_line(inst->rt.dir, last, sizeof(last));
			proc_strip_prog(last, drv_settings.vm_binary);
			return vk_error_set(err, EIO, "virtkit-vm exited at once%s%s",
			                    last[0] ? ": " : "", last);
		}
		if (vk_now_ns() > deadline)
			return vk_error_set(
			        err, ETIMEDOUT,
			        "virtkit-vm did not listen for the migration within %d s",
			        READY_TIMEOUT_MS / 1000);
		usleep(20000);
	}
}

static int vm_start(struct instance *inst, struct vk_error *err)
{
	struct volume_disk disks[DEF_DISKS_MAX];
	json_object *cfg;
	enum inst_state st;
	pid_t pid;
	int r;

	if (access(drv_settings.vm_binary, X_OK) != 0)
		return vk_error_errno(err, errno, "cannot run the VM binary '%s' (see --vm-binary)",
		                      drv_settings.vm_binary);
	/* Released by vm_cleanup(), which follows a failed start too. */
	if ((r = volumes_acquire(inst->uuid, inst->name,
	                         json_object_object_get(inst->rt.def, "disks"), disks,
	                         DEF_DISKS_MAX, err)) < 0)
		return r;
	/* Taps on their bridges before virtkit-vm opens them (cleanup removes them). */
	if ((r = network_vm_attach(inst, err)) < 0)
		return r;
	cfg = json_object_new_object();
	json_object_object_add(cfg, "kind", json_object_new_string("vm"));
	json_object_object_add(cfg, "argv", build_argv(inst, disks));
	r = shim_spawn(inst, &drv_settings.shim, cfg, READY_TIMEOUT_MS, &pid, err);
	json_object_put(cfg);
	if (r < 0)
		return r;
	inst->rt.pid = pid;
	inst->rt.pidfd = proc_pidfd_open(pid);
	if (inst->rt.incoming)
		return wait_listening(inst, err);
	r = wait_ready(inst, &st, err);
	inst->rt.start_paused = r == 0 && st == ST_PAUSED;
	return r;
}

static int vm_shutdown(struct instance *inst, struct vk_error *err)
{
	/*
	 * Only ever a request to the guest (ACPI, the guest agent, SysRq): never
	 * `quit`, which would end the machine as abruptly as SIGKILL.
	 */
	return ctl_request(inst, "powerdown", NULL, err);
}

static int vm_destroy(struct instance *inst, struct vk_error *err)
{
	int r = inst->rt.pidfd >= 0 ? proc_pidfd_signal(inst->rt.pidfd, SIGKILL) : -ESRCH;

	if (r < 0 && r != -ESRCH)
		return vk_error_errno(err, -r, "cannot kill virtkit-vm of '%s'", inst->name);
	return 0;
}

static int vm_pause(struct instance *inst, struct vk_error *err)
{
	return ctl_request(inst, "pause", NULL, err);
}

static int vm_resume(struct instance *inst, struct vk_error *err)
{
	return ctl_request(inst, "resume", NULL, err);
}

static int vm_save_ov(struct instance *inst, const char *path, bool keep_running,
                      json_object *overlays, json_object **reply, struct vk_error *err)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string("save"));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "keep_running", json_object_new_boolean(keep_running));
	if (overlays)
		json_object_object_add(o, "disk_overlays", json_object_get(overlays));
	return ctl_call_object(inst, o, SAVE_TIMEOUT_MS, reply, err);
}

static int vm_save(struct instance *inst, const char *path, bool keep_running, json_object **reply,
                   struct vk_error *err)
{
	return vm_save_ov(inst, path, keep_running, NULL, reply, err);
}

static int vm_snapshot(struct instance *inst, const char *path, json_object *overlays,
                       json_object **reply, struct vk_error *err)
{
	return vm_save_ov(inst, path, true, overlays, reply, err);
}

static int vm_migrate(struct instance *inst, const char *to, bool live, json_object **reply,
                      struct vk_error *err)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string("migrate"));
	json_object_object_add(o, "to", json_object_new_string(to));
	json_object_object_add(o, "live", json_object_new_boolean(live));
	return ctl_call_object(inst, o, SAVE_TIMEOUT_MS, reply, err);
}

/* The machine arrived: its control socket answers (or the process is gone). */
static int vm_ready(struct instance *inst, enum inst_state *st, struct vk_error *err)
{
	return wait_ready(inst, st, err);
}

static int vm_reattach(struct instance *inst, enum inst_state *st, struct vk_error *err)
{
	pid_t pid;
	int r;

	if (proc_read_pid(inst->rt.dir, "pid", &pid) < 0)
		return vk_error_set(err, ESRCH, "no virtkit-vm pid recorded for '%s'", inst->name);
	inst->rt.pid = pid;
	inst->rt.pidfd = proc_pidfd_open(pid);
	if (inst->rt.pidfd < 0)
		return vk_error_set(err, ESRCH, "virtkit-vm of '%s' is gone", inst->name);
	/* It runs from its volumes already: hold them, refuse nothing. */
	volumes_adopt(inst->uuid, inst->name, json_object_object_get(inst->rt.def, "disks"));
	if ((r = wait_ready(inst, st, err)) == 0)
		network_reattach(inst);
	return r;
}

static int vm_stats(struct instance *inst, json_object *out, struct vk_error *err)
{
	json_object *resp, *v;
	uint64_t cpu = 0, rss = 0;
	int r;

	if ((r = ctl_request(inst, "status", &resp, err)) < 0)
		return r;
	if (json_object_object_get_ex(resp, "uptime_ms", &v))
		json_object_object_add(out, "uptime_ms", json_object_get(v));
	if (json_object_object_get_ex(resp, "memory", &v))
		json_object_object_add(out, "memory", json_object_get(v));
	if (json_object_object_get_ex(resp, "cpus", &v))
		json_object_object_add(out, "cpus", json_object_get(v));
	json_object_put(resp);
	if (proc_usage(inst->rt.pid, &cpu, &rss) == 0) {
		json_object_object_add(out, "cpu_ns", json_object_new_int64((int64_t)cpu));
		json_object_object_add(out, "rss_bytes", json_object_new_int64((int64_t)rss));
	}
	return 0;
}

static void vm_cleanup(struct instance *inst)
{
	network_detach(inst);
	volumes_release(inst->uuid);
}

static int vm_console_path(struct instance *inst, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/console.sock", inst->rt.dir) < len ? 0
	                                                                         : -ENAMETOOLONG;
}

const struct driver vm_driver = {
        .name = "vm",
        .stop_never_kills = true,
        .start = vm_start,
        .shutdown = vm_shutdown,
        .destroy = vm_destroy,
        .pause = vm_pause,
        .resume = vm_resume,
        .save = vm_save,
        .snapshot = vm_snapshot,
        .migrate = vm_migrate,
        .ready = vm_ready,
        .reattach = vm_reattach,
        .stats = vm_stats,
        .cleanup = vm_cleanup,
        .console_path = vm_console_path,
};
