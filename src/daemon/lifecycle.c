/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle operations (see lifecycle.h). States and reasons, as in libvirt:
 *   shutoff:  defined (never started), saved (its state went to a file),
 *             migrated (it went to another daemon, which runs it now),
 *             shutdown (powered off / asked to stop,
 *             or exited with status 0), destroyed (killed), failed (could not
 *             start), daemon (found gone after a daemon restart, with no record
 *             of how it ended); containers also exited (a non-zero status) and
 *             signal (a signal we did not send)
 *   starting: user, autostart, incoming (waits for a migration)
 *   running:  booted, unpaused, restored (started from a saved state),
 *             migrated (arrived from another daemon)
 *   paused:   user, restored, migrated (saved or sent while paused)
 *   stopping: user
 *   crashed:  VMs only: error (virtkit-vm's non-zero exit), signal (killed by a
 *             signal we did not send)
 */
#include "daemon/lifecycle.h"
#include "daemon/lifecycle-int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/console.h"
#include "daemon/driver.h"
#include "daemon/monitor.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "daemon/shim.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finalizers; /* background finalization threads alive */
	pthread_t autostart;
	bool autostart_running;
} bg = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, false};

static struct lifecycle_settings settings;

void lifecycle_init(const struct lifecycle_settings *s)
{
	settings = *s;
}

const struct driver *lc_drv(const struct instance *inst)
{
	return driver_for(inst->type);
}

int lifecycle_job_begin(struct instance *inst, const char *job, int timeout_ms,
                        struct vk_error *err)
{
	return instance_job_begin(inst, job, timeout_ms, err);
}

void lifecycle_job_end(struct instance *inst)
{
	while (!instance_job_try_end(inst))
		lifecycle_finalize(inst);
}

static int64_t now_ms(void)
{
	return (int64_t)(vk_now_ns() / 1000000);
}

static void rt_set_console(struct instance *inst, struct console *c)
{
	pthread_mutex_lock(&inst->lock);
	inst->rt.console = c;
	pthread_mutex_unlock(&inst->lock);
}

/* Release everything the runtime holds and remove its folder. */
static void rt_release(struct instance *inst)
{
	struct runtime *rt = &inst->rt;
	struct console *c = rt->console;
	int st;

	rt_set_console(inst, NULL);
	console_close(c);
	/* The shim records the workload's end and exits 0 (1 when it could not start it). */
	if (rt->shim_is_child && rt->shim_pid > 0 &&
	    proc_wait_timeout(rt->shim_pid, rt->shim_pidfd, 2000, &st) == 0 &&
	    (WIFSIGNALED(st) || WEXITSTATUS(st) > 1) && !rt->kill_requested) {
		char last[256];
		shim_last_log_line(rt->dir, last, sizeof(last));
		vk_err("instance '%s': its shim ended abnormally (%s %d): %s", inst->name,
		       WIFSIGNALED(st) ? "signal" : "status",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), last);
	}
	if (rt->shim_pidfd >= 0)
		close(rt->shim_pidfd);
	if (rt->pidfd >= 0)
		close(rt->pidfd);
	if (rt->dir[0])
		rm_rf(rt->dir);
	json_object_put(rt->def);
	memset(rt, 0, sizeof(*rt));
	rt->shim_pidfd = -1;
	rt->pidfd = -1;
}

static int rt_prepare(struct instance *inst, struct vk_error *err)
{
	int r;

	inst->rt.shim_pidfd = -1;
	inst->rt.pidfd = -1;
	if (paths_instance_dir(settings.paths, inst->uuid, inst->rt.dir, sizeof(inst->rt.dir)) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the run folder '%s' is too long",
		                    settings.paths->run_dir);
	rm_rf(inst->rt.dir);
	if ((r = mkdir_p(inst->rt.dir, 0700)) < 0)
		return vk_error_errno(err, -r, "cannot create '%s'", inst->rt.dir);
	return 0;
}

static int open_console(struct instance *inst, struct vk_error *err)
{
	char sock[PATH_MAX], log[PATH_MAX];
	struct console *c;
	int r;

	if (lc_drv(inst)->console_path(inst, sock, sizeof(sock)) < 0 ||
	    paths_log(settings.paths, inst->uuid, log, sizeof(log)) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the console socket path is too long");
	r = console_open(sock, log,
	                 def_get_bool(json_object_object_get(inst->rt.def, "console"), "log", true),
	                 &c, err);
	if (r == 0)
		rt_set_console(inst, c);
	return r;
}

/* Wait for the monitor to report the exit; true when it did. */
bool lc_wait_exit(struct instance *inst, int timeout_ms)
{
	struct timespec dl;
	bool done;

	timespec_after_ms(&dl, CLOCK_MONOTONIC, timeout_ms);
	pthread_mutex_lock(&inst->lock);
	while (!inst->exit_pending)
		if (pthread_cond_timedwait(&inst->cond, &inst->lock, &dl) == ETIMEDOUT)
			break;
	done = inst->exit_pending;
	pthread_mutex_unlock(&inst->lock);
	return done;
}

/* Finalize now an exit the monitor already reported (job held). */
void lc_flush_exit(struct instance *inst)
{
	pthread_mutex_lock(&inst->lock);
	while (inst->exit_pending) {
		inst->exit_pending = false;
		pthread_mutex_unlock(&inst->lock);
		lifecycle_finalize(inst);
		pthread_mutex_lock(&inst->lock);
	}
	pthread_mutex_unlock(&inst->lock);
}

enum inst_state lc_state(struct instance *inst)
{
	enum inst_state s;

	pthread_mutex_lock(&inst->lock);
	s = inst->state;
	pthread_mutex_unlock(&inst->lock);
	return s;
}

/* --- start ------------------------------------------------------------------ */

/*
 * restore: the saved state to start from (a VM), or NULL to boot. incoming: start a
 * VM that waits for a migration instead (it stays starting/incoming).
 */
int lc_start(struct instance *inst, bool autostart, const char *restore, bool incoming,
             struct vk_error *err)
{
	enum inst_state s = lc_state(inst);
	int r;

	if (inst_state_active(s))
		return vk_error_set(err, EALREADY, "instance '%s' is already %s", inst->name,
		                    inst_state_name(s));
	memset(&inst->rt, 0, sizeof(inst->rt));
	inst->rt.restore_path = restore;
	inst->rt.incoming = incoming;
	inst->rt.def = instance_def(inst);
	if (!inst->rt.def)
		return vk_error_set(err, ENOMEM, "cannot start instance '%s': out of memory",
		                    inst->name);
	instance_set_state(inst, ST_STARTING,
	                   incoming    ? "incoming"
	                   : autostart ? "autostart"
	                               : "user",
	                   "starting");
	if ((r = rt_prepare(inst, err)) < 0 || (r = open_console(inst, err)) < 0 ||
	    (r = lc_drv(inst)->start(inst, err)) < 0) {
		vk_error_prefix(err, "cannot %s instance '%s'",
		                restore    ? "restore"
		                : incoming ? "receive"
		                           : "start",
		                inst->name);
		if (err && err->code != EINVAL)
			err->code = EIO;
		/* The client hears why; so does the log, which outlives the request. */
		vk_warn("%s (%s start)", err && err->msg[0] ? err->msg : "a start failed",
		        autostart ? "autostart" : "user");
		lc_drv(inst)->cleanup(inst);
		rt_release(inst);
		instance_set_state(inst, ST_SHUTOFF, "failed", "failed");
		return r < 0 ? -(err ? err->code : EIO) : r;
	}
	inst->rt.started_ms = now_ms();
	if ((r = monitor_watch(inst)) < 0) {
		/* Unwatched, its end would never be seen and a stop never finish. */
		vk_error_errno(err, -r, "cannot start instance '%s': cannot watch its process",
		               inst->name);
		if (err)
			err->code = EIO;
		inst->rt.kill_requested = true;
		(void)lc_drv(inst)->destroy(inst, NULL);
		if (inst->rt.shim_pid > 0)
			kill(-inst->rt.shim_pid, SIGKILL);
		lc_drv(inst)->cleanup(inst);
		rt_release(inst);
		instance_set_state(inst, ST_SHUTOFF, "failed", "failed");
		return -EIO;
	}
	inst->rt.restore_path = NULL; /* the caller's string */
	if (incoming)
		return 0; /* lifecycle_incoming_confirm() says when it runs */
	/* A machine saved while paused comes back paused (docs/api.md). */
	instance_set_state(inst, inst->rt.start_paused ? ST_PAUSED : ST_RUNNING,
	                   restore ? "restored" : "booted", restore ? "restored" : "started");
	return 0;
}

int lifecycle_start(struct instance *inst, bool autostart, struct vk_error *err)
{
	int r;

	if ((r = lifecycle_job_begin(inst, "start", JOB_WAIT_MS, err)) < 0)
		return r;
	r = lc_start(inst, autostart, NULL, false, err);
	lifecycle_job_end(inst);
	return r;
}

/* --- stop, kill, restart ------------------------------------------------------ */

/*
 * A graceful stop of a workload that must not be killed (a VM) ran out of
 * time, or could not ask: it goes on running, in the state it had (a paused
 * one was resumed to be asked), and the client hears how to force it.
 */
static int stop_failed(struct instance *inst, enum inst_state was, const char *reason, bool asked,
                       int timeout_s, const struct vk_error *why, struct vk_error *err)
{
	if (lc_wait_exit(inst, 0)) {
		lc_flush_exit(inst); /* it ended just now after all */
		return 0;
	}
	inst->rt.stop_requested = false;
	if (was == ST_STOPPING)
		reason = "booted";
	instance_set_state(inst, ST_RUNNING, was == ST_PAUSED ? "unpaused" : reason, "stop-failed");
	if (!asked)
		return vk_error_set(err, EIO,
		                    "instance '%s' is still running: cannot ask its guest to power "
		                    "off (%s); a forced stop (virtkit stop --force) pulls the plug",
		                    inst->name, why->msg);
	return vk_error_set(err, ETIMEDOUT,
	                    "instance '%s' is still running: its guest did not power off within "
	                    "%d s of the request; a forced stop (virtkit stop --force) pulls the "
	                    "plug, losing what the guest has not written",
	                    inst->name, timeout_s);
}

static int do_stop(struct instance *inst, bool force, int timeout_s, struct stop_report *rep,
                   struct vk_error *err)
{
	enum inst_state s = lc_state(inst);
	struct vk_error e2 = {0};
	bool exited = false, asked = false;
	char reason[sizeof(inst->reason)];

	/*
	 * ST_STOPPING: an earlier stop timed out (the workload did not die
	 * even from SIGKILL in time). Trying again must be possible, or the
	 * instance could never leave that state while this daemon runs.
	 */
	if (s != ST_RUNNING && s != ST_PAUSED && s != ST_STOPPING)
		return vk_error_set(err, ENOTCONN, "instance '%s' is not running (it is %s)",
		                    inst->name, inst_state_name(s));
	if (timeout_s <= 0)
		timeout_s = lc_drv(inst)->stop_timeout_s ? lc_drv(inst)->stop_timeout_s
		                                         : settings.stop_timeout_s;
	pthread_mutex_lock(&inst->lock);
	snprintf(reason, sizeof(reason), "%s", inst->reason);
	pthread_mutex_unlock(&inst->lock);
	inst->rt.stop_requested = true;
	if (s != ST_STOPPING)
		instance_set_state(inst, ST_STOPPING, "user", "stopping");
	if (!force) {
		/* A frozen workload cannot act on a power-down request or a SIGTERM. */
		if (s == ST_PAUSED && lc_drv(inst)->resume(inst, &e2) < 0)
			vk_warn("instance '%s': %s", inst->name, e2.msg);
		if (lc_drv(inst)->shutdown(inst, &e2) == 0) {
			asked = true;
			exited = lc_wait_exit(inst, timeout_s * 1000);
		} else if (!lc_drv(inst)->stop_never_kills) {
			vk_warn("instance '%s': %s; forcing it off", inst->name, e2.msg);
		}
	}
	if (!exited && !force && lc_drv(inst)->stop_never_kills)
		return stop_failed(inst, s, reason, asked, timeout_s, &e2, err);
	if (!exited) {
		/* Said to the client (and logged): a graceful stop that had to kill. */
		if (!force) {
			inst->rt.stop_escalated = true;
			vk_info("instance '%s' did not stop within %d s%s%s: killing it",
			        inst->name, timeout_s, inst->rt.stop_signal[0] ? " of " : "",
			        inst->rt.stop_signal);
		}
		inst->rt.kill_requested = true;
		if (lc_drv(inst)->destroy(inst, &e2) < 0)
			vk_warn("instance '%s': %s", inst->name, e2.msg);
		/* The shim's session holds the workload: nothing of it may survive. */
		if (!lc_wait_exit(inst, LC_KILL_WAIT_MS / 3) && inst->rt.shim_pid > 0)
			kill(-inst->rt.shim_pid, SIGKILL);
		exited = lc_wait_exit(inst, LC_KILL_WAIT_MS);
	}
	if (rep) {
		rep->escalated = inst->rt.stop_escalated;
		rep->timeout_s = timeout_s;
		snprintf(rep->signal, sizeof(rep->signal), "%s", inst->rt.stop_signal);
	}
	if (!exited)
		return vk_error_set(err, ETIMEDOUT, "instance '%s' did not stop within %d s",
		                    inst->name, timeout_s + LC_KILL_WAIT_MS / 1000);
	lc_flush_exit(inst); /* releases rt */
	return 0;
}

int lifecycle_stop(struct instance *inst, bool force, int timeout_s, struct stop_report *rep,
                   struct vk_error *err)
{
	int r;

	if ((r = lifecycle_job_begin(inst, "stop", JOB_WAIT_MS, err)) < 0)
		return r;
	r = do_stop(inst, force, timeout_s, rep, err);
	lifecycle_job_end(inst);
	return r;
}

int lifecycle_kill(struct instance *inst, struct vk_error *err)
{
	int r;

	if ((r = lifecycle_job_begin(inst, "kill", JOB_WAIT_MS, err)) < 0)
		return r;
	r = do_stop(inst, true, 1, NULL, err);
	lifecycle_job_end(inst);
	return r;
}

int lifecycle_restart(struct instance *inst, int timeout_s, struct vk_error *err)
{
	int r;

	if ((r = lifecycle_job_begin(inst, "restart", JOB_WAIT_MS, err)) < 0)
		return r;
	r = do_stop(inst, false, timeout_s, NULL, err);
	if (r == 0)
		r = lc_start(inst, false, NULL, false, err);
	lifecycle_job_end(inst);
	return r;
}

/* --- pause, resume -------------------------------------------------------------- */

int lifecycle_pause(struct instance *inst, struct vk_error *err)
{
	enum inst_state s;
	int r;

	if ((r = lifecycle_job_begin(inst, "pause", JOB_WAIT_MS, err)) < 0)
		return r;
	s = lc_state(inst);
	if (s == ST_PAUSED)
		r = vk_error_set(err, EALREADY, "instance '%s' is already paused", inst->name);
	else if (s != ST_RUNNING)
		r = vk_error_set(err, ENOTCONN, "instance '%s' is not running (it is %s)",
		                 inst->name, inst_state_name(s));
	else if ((r = lc_drv(inst)->pause(inst, err)) == 0)
		instance_set_state(inst, ST_PAUSED, "user", "paused");
	lifecycle_job_end(inst);
	return r;
}

int lifecycle_resume(struct instance *inst, struct vk_error *err)
{
	int r;

	if ((r = lifecycle_job_begin(inst, "resume", JOB_WAIT_MS, err)) < 0)
		return r;
	if (lc_state(inst) != ST_PAUSED)
		r = vk_error_set(err, ENOTCONN, "instance '%s' is not paused (it is %s)",
		                 inst->name, inst_state_name(lc_state(inst)));
	else if ((r = lc_drv(inst)->resume(inst, err)) == 0)
		instance_set_state(inst, ST_RUNNING, "unpaused", "resumed");
	lifecycle_job_end(inst);
	return r;
}

/* --- exit ------------------------------------------------------------------------ */

static void *finalize_thread(void *arg)
{
	struct instance *inst = arg;

	lifecycle_job_end(inst); /* finalizes: exit_pending is set */
	instance_unref(inst);
	pthread_mutex_lock(&bg.lock);
	bg.finalizers--;
	pthread_cond_broadcast(&bg.cond);
	pthread_mutex_unlock(&bg.lock);
	return NULL;
}

void lifecycle_on_exit(struct instance *inst)
{
	pthread_attr_t a;
	pthread_t t;

	pthread_mutex_lock(&inst->lock);
	inst->exit_pending = true;
	if (inst->job) {
		/* The job holder finalizes (instance_job_end). */
		pthread_cond_broadcast(&inst->cond);
		pthread_mutex_unlock(&inst->lock);
		return;
	}
	inst->job = true;
	inst->job_name = "exit";
	pthread_mutex_unlock(&inst->lock);

	pthread_mutex_lock(&bg.lock);
	bg.finalizers++;
	pthread_mutex_unlock(&bg.lock);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, finalize_thread, instance_ref(inst)) != 0)
		finalize_thread(inst); /* no thread: do it here */
	pthread_attr_destroy(&a);
}

void lifecycle_finalize(struct instance *inst)
{
	struct runtime *rt = &inst->rt;
	struct exit_info ex;
	enum inst_state st;
	const char *reason, *event;

	if (!rt->dir[0])
		return; /* nothing runs */
	shim_read_exit(rt->dir, &ex);
	/* A shim that died before its workload must not leave the workload behind. */
	if (rt->pidfd >= 0) {
		struct pollfd p = {.fd = rt->pidfd, .events = POLLIN};
		if (poll(&p, 1, 0) == 0)
			proc_pidfd_signal(rt->pidfd, SIGKILL);
	}
	if (ex.known)
		instance_set_exit(inst, &ex);
	if ((rt->saving || rt->migrating) && ex.known && !ex.signaled && ex.code == 0) {
		st = ST_SHUTOFF;
		reason = rt->saving ? "saved" : "migrated";
	} else if (rt->kill_requested) {
		st = ST_SHUTOFF;
		reason = rt->saving ? "saved" : rt->migrating ? "migrated" : "destroyed";
	} else if (rt->stop_requested || (ex.known && !ex.signaled && ex.code == 0)) {
		st = ST_SHUTOFF;
		reason = "shutdown";
	} else if (!ex.known) {
		st = ST_SHUTOFF;
		reason = "daemon";
	} else if (inst->type == DEF_CONTAINER) {
		/* A container's program ending with a status is its answer, not a crash (Podman). */
		st = ST_SHUTOFF;
		reason = ex.signaled ? "signal" : "exited";
		vk_info("instance '%s' ended: %s %d", inst->name,
		        ex.signaled ? "signal" : "exit status", ex.code);
	} else {
		st = ST_CRASHED;
		reason = ex.signaled ? "signal" : "error";
		vk_warn("instance '%s' ended: %s %d", inst->name,
		        ex.signaled ? "signal" : "exit status", ex.code);
	}
	event = st == ST_CRASHED ? "crashed" : "stopped";
	/*
	 * The workload is gone: say so at once, then tidy up (the runtime's
	 * delete, the console, the run folder) still under the job, so that a
	 * start waits for the tidying.
	 */
	instance_set_state(inst, st, reason, event);
	lc_drv(inst)->cleanup(inst);
	rt_release(inst);
}

/* --- daemon start and stop ------------------------------------------------------ */

void lifecycle_recover(struct instance *inst)
{
	struct vk_error err = {0};
	enum inst_state was = lc_state(inst), st;
	char dir[PATH_MAX];
	int r;

	if (!inst_state_active(was)) {
		/* Nothing runs; a folder left by a crash at the wrong moment is stale. */
		if (paths_instance_dir(settings.paths, inst->uuid, dir, sizeof(dir)) == 0)
			rm_rf(dir);
		return;
	}
	if (lifecycle_job_begin(inst, "recover", JOB_WAIT_MS, &err) < 0)
		return;
	memset(&inst->rt, 0, sizeof(inst->rt));
	inst->rt.shim_pidfd = inst->rt.pidfd = -1;
	paths_instance_dir(settings.paths, inst->uuid, inst->rt.dir, sizeof(inst->rt.dir));
	inst->rt.def = instance_def(inst);
	if (shim_find(inst, &err) < 0) {
		vk_info("instance '%s' was %s and is gone: %s", inst->name, inst_state_name(was),
		        err.msg);
		/* Stopping when the daemon died: it ended because it was asked to. */
		inst->rt.stop_requested = was == ST_STOPPING;
		lifecycle_finalize(inst);
		lifecycle_job_end(inst);
		return;
	}
	r = lc_drv(inst)->reattach(inst, &st, &err);
	/* Unwatched, its end would never be seen and a stop never finish (see do_start). */
	if (r == 0 && (r = monitor_watch(inst)) < 0)
		vk_error_errno(&err, -r, "cannot watch its process");
	if (r < 0) {
		vk_warn("cannot reattach instance '%s': %s; stopping it", inst->name, err.msg);
		inst->rt.kill_requested = true;
		(void)lc_drv(inst)->destroy(inst, NULL);
		/* No shim found (pid 0): kill(0) would hit virtkitd's own process group. */
		if (inst->rt.shim_pid > 0)
			kill(-inst->rt.shim_pid, SIGKILL);
		if (!inst->rt.watched && monitor_watch(inst) < 0) {
			lc_drv(inst)->cleanup(inst);
			rt_release(inst);
			instance_set_state(inst, ST_SHUTOFF, "destroyed", "stopped");
		}
		lifecycle_job_end(inst);
		return;
	}
	inst->rt.started_ms = now_ms();
	pthread_mutex_lock(&inst->lock);
	inst->pid = inst->rt.pid;
	pthread_mutex_unlock(&inst->lock);
	if (open_console(inst, &err) < 0)
		vk_warn("instance '%s': no console: %s", inst->name, err.msg);
	if (st != was)
		instance_set_state(inst, st, st == ST_PAUSED ? "user" : "booted",
		                   st == ST_PAUSED ? "paused" : "started");
	vk_info("reattached instance '%s' (%s, pid %d)", inst->name, inst_state_name(st),
	        (int)inst->rt.pid);
	lifecycle_job_end(inst);
}

static void *autostart_thread(void *arg)
{
	struct instance **list;
	size_t n, i;

	(void)arg;
	if (instance_list(&list, &n) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		struct vk_error err = {0};
		bool as;
		pthread_mutex_lock(&list[i]->lock);
		as = list[i]->autostart && !inst_state_active(list[i]->state);
		pthread_mutex_unlock(&list[i]->lock);
		/* A failed start logs itself (do_start); what remains is a busy instance. */
		if (as && lifecycle_start(list[i], true, &err) < 0 && err.code == EBUSY)
			vk_err("autostart: %s", err.msg);
	}
	instance_list_free(list, n);
	return NULL;
}

void lifecycle_autostart_all(void)
{
	if (pthread_create(&bg.autostart, NULL, autostart_thread, NULL) != 0)
		vk_err("cannot start the autostart thread");
	else
		bg.autostart_running = true;
}

void lifecycle_detach_all(void)
{
	struct instance **list;
	size_t n, i;

	if (instance_list(&list, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		struct console *c;
		if (lifecycle_job_begin(list[i], "shutdown", JOB_WAIT_MS, NULL) < 0)
			continue;
		c = list[i]->rt.console;
		rt_set_console(list[i], NULL);
		console_close(c);
		lifecycle_job_end(list[i]);
	}
	instance_list_free(list, n);
}

void lifecycle_shutdown(void)
{
	struct timespec dl;

	if (bg.autostart_running)
		pthread_join(bg.autostart, NULL);
	bg.autostart_running = false;

	timespec_after_ms(&dl, CLOCK_REALTIME, 10000); /* bg.cond runs on CLOCK_REALTIME */
	pthread_mutex_lock(&bg.lock);
	while (bg.finalizers > 0)
		if (pthread_cond_timedwait(&bg.cond, &bg.lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&bg.lock);
}
