/* SPDX-License-Identifier: MIT */
/*
 * Saving, restoring, snapshots and migration of instances (lifecycle.h): the
 * operations that move a workload's state to a file or to another daemon's
 * receiver, each under the instance's job, on the helpers of lifecycle.c
 * (lifecycle-int.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "common/log.h"
#include "daemon/driver.h"
#include "daemon/lifecycle-int.h"
#include "daemon/lifecycle.h"

/* --- save, restore ---------------------------------------------------------------- */

/*
 * virtkit-vm has handed its machine over (saved it and ends, or sent it away):
 * wait for it to end, and end it when it does not.
 */
static void end_handed_over(struct instance *inst, const char *what)
{
	if (!lc_wait_exit(inst, LC_KILL_WAIT_MS)) {
		vk_warn("instance '%s' was %s but did not end: killing it", inst->name, what);
		(void)lc_drv(inst)->destroy(inst, NULL);
		if (!lc_wait_exit(inst, LC_KILL_WAIT_MS) && inst->rt.shim_pid > 0)
			kill(-inst->rt.shim_pid, SIGKILL);
	}
	lc_flush_exit(inst);
}

static int do_save(struct instance *inst, const char *path, bool keep_running,
                   json_object *overlays, json_object **reply, struct vk_error *err)
{
	enum inst_state s;
	int r;

	*reply = NULL;
	if (!lc_drv(inst)->save)
		return vk_error_set(err, EINVAL,
		                    "instance '%s' cannot be saved: its driver (%s) has no save",
		                    inst->name, lc_drv(inst)->name);
	if ((r = lifecycle_job_begin(inst, keep_running ? "snapshot" : "save", JOB_WAIT_MS, err)) <
	    0)
		return r;
	s = lc_state(inst);
	if (s != ST_RUNNING && s != ST_PAUSED) {
		r = vk_error_set(err, ENOTCONN, "instance '%s' is not running (it is %s)",
		                 inst->name, inst_state_name(s));
		goto out;
	}
	/* Set first: virtkit-vm exits as soon as it has answered. */
	inst->rt.saving = !keep_running;
	if (overlays)
		r = lc_drv(inst)->snapshot(inst, path, overlays, reply, err);
	else
		r = lc_drv(inst)->save(inst, path, keep_running, reply, err);
	if (r < 0) {
		/* virtkit-vm goes on when a save fails (docs/virtkit-vm.md). */
		inst->rt.saving = false;
		goto out;
	}
	if (keep_running)
		goto out;
	/* The state is in the file: nothing is lost by ending it. */
	end_handed_over(inst, "saved");
out:
	lifecycle_job_end(inst);
	if (r < 0) {
		json_object_put(*reply);
		*reply = NULL;
	}
	return r;
}

int lifecycle_save(struct instance *inst, const char *path, bool keep_running, json_object **reply,
                   struct vk_error *err)
{
	return do_save(inst, path, keep_running, NULL, reply, err);
}

int lifecycle_snapshot(struct instance *inst, const char *path, json_object *overlays,
                       json_object **reply, struct vk_error *err)
{
	if (!lc_drv(inst)->snapshot)
		return vk_error_set(err, EINVAL, "instance '%s' cannot take disk overlays",
		                    inst->name);
	return do_save(inst, path, true, overlays, reply, err);
}

int lifecycle_restore(struct instance *inst, const char *path, struct vk_error *err)
{
	int r;

	if (!lc_drv(inst)->save)
		return vk_error_set(err, EINVAL,
		                    "instance '%s' cannot be restored: its driver (%s) has no save",
		                    inst->name, lc_drv(inst)->name);
	if ((r = lifecycle_job_begin(inst, "restore", JOB_WAIT_MS, err)) < 0)
		return r;
	r = lc_start(inst, false, path, false, err);
	lifecycle_job_end(inst);
	return r;
}

/* --- migration -------------------------------------------------------------------- */

int lifecycle_migrate(struct instance *inst, const char *to, bool live, json_object **reply,
                      struct vk_error *err)
{
	enum inst_state s;
	int r;

	*reply = NULL;
	if (!lc_drv(inst)->migrate)
		return vk_error_set(err, EINVAL,
		                    "instance '%s' is a container: migrating one to another "
		                    "daemon is not implemented (save and restore it instead)",
		                    inst->name);
	if ((r = lifecycle_job_begin(inst, "migrate", JOB_WAIT_MS, err)) < 0)
		return r;
	s = lc_state(inst);
	if (s != ST_RUNNING && s != ST_PAUSED) {
		r = vk_error_set(err, ENOTCONN, "instance '%s' is not running (it is %s)",
		                 inst->name, inst_state_name(s));
		goto out;
	}
	/* Set first: virtkit-vm exits as soon as it has answered. */
	inst->rt.migrating = true;
	r = lc_drv(inst)->migrate(inst, to, live, reply, err);
	if (r < 0) {
		/* virtkit-vm takes its disks back and goes on (docs/virtkit-vm.md). */
		inst->rt.migrating = false;
		goto out;
	}
	/* The machine runs at the destination: this copy must not go on. */
	end_handed_over(inst, "migrated");
out:
	lifecycle_job_end(inst);
	if (r < 0) {
		json_object_put(*reply);
		*reply = NULL;
	}
	return r;
}

int lifecycle_incoming(struct instance *inst, char *addr, size_t len, struct vk_error *err)
{
	int r;

	if (!lc_drv(inst)->migrate)
		return vk_error_set(err, EINVAL,
		                    "instance '%s' is a container: it cannot receive a migration",
		                    inst->name);
	if ((r = lifecycle_job_begin(inst, "incoming", JOB_WAIT_MS, err)) < 0)
		return r;
	r = lc_start(inst, false, NULL, true, err);
	if (r == 0 && (size_t)snprintf(addr, len, "unix:%s/incoming.sock", inst->rt.dir) >= len)
		r = vk_error_set(err, ENAMETOOLONG, "the run folder '%s' is too long",
		                 inst->rt.dir);
	lifecycle_job_end(inst);
	return r;
}

/* Under the job: the instance waits for a migration. */
static int check_incoming(struct instance *inst, struct vk_error *err)
{
	enum inst_state s = lc_state(inst);

	if (s == ST_STARTING && inst->rt.incoming)
		return 0;
	return vk_error_set(err, ENOTCONN,
	                    "instance '%s' is not waiting for a migration (it is %s)", inst->name,
	                    inst_state_name(s));
}

int lifecycle_incoming_confirm(struct instance *inst, struct vk_error *err)
{
	enum inst_state st;
	int r;

	if ((r = lifecycle_job_begin(inst, "incoming", JOB_WAIT_MS, err)) < 0)
		return r;
	if ((r = check_incoming(inst, err)) == 0 && (r = lc_drv(inst)->ready(inst, &st, err)) < 0)
		vk_error_prefix(err, "instance '%s' did not arrive", inst->name);
	if (r == 0) {
		inst->rt.incoming = false;
		/* Paused at the source: paused here (the machine state says so). */
		instance_set_state(inst, st, "migrated", "migrated");
	}
	lifecycle_job_end(inst);
	return r;
}

int lifecycle_incoming_abort(struct instance *inst, struct vk_error *err)
{
	enum inst_state s;
	int r;

	if ((r = lifecycle_job_begin(inst, "incoming", JOB_WAIT_MS, err)) < 0)
		return r;
	s = lc_state(inst);
	if (inst_state_active(s) && (r = check_incoming(inst, err)) == 0) {
		inst->rt.kill_requested = true;
		(void)lc_drv(inst)->destroy(inst, NULL);
		if (!lc_wait_exit(inst, LC_KILL_WAIT_MS) && inst->rt.shim_pid > 0)
			kill(-inst->rt.shim_pid, SIGKILL);
		if (!lc_wait_exit(inst, LC_KILL_WAIT_MS))
			r = vk_error_set(err, ETIMEDOUT,
			                 "the receiver of instance '%s' did not end", inst->name);
		lc_flush_exit(inst);
	}
	lifecycle_job_end(inst);
	return r;
}
