/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle operations on instances: each takes the instance's job, checks
 * that the operation is valid in the current state (-EALREADY / -ENOTCONN
 * otherwise, which the API turns into 409), drives the driver and records
 * every state change with its reason (libvirt's model). Jobs end here too:
 * an exit the monitor reported while a job was held is finalized before the
 * job is released.
 */
#ifndef VKD_LIFECYCLE_H
#define VKD_LIFECYCLE_H

#include <stdbool.h>

#include "common/error.h"
#include "daemon/instance.h"

struct vkd_paths;

#define JOB_WAIT_MS 30000

/* Handed down by main.c before any other call; read-only afterwards. */
struct lifecycle_settings {
	const struct vkd_paths *paths; /* run folders, console logs */
	int stop_timeout_s;            /* graceful stop, when a request names none */
};

void lifecycle_init(const struct lifecycle_settings *s);

/* Any change to an instance runs under its job (instance.h); these take and release it. */
int lifecycle_job_begin(struct instance *inst, const char *job, int timeout_ms,
                        struct vk_error *err) VK_MUST_CHECK;
void lifecycle_job_end(struct instance *inst);

int lifecycle_start(struct instance *inst, bool autostart, struct vk_error *err) VK_MUST_CHECK;
/* What a stop did, for the client: whether the graceful stop ran out of time and killed. */
struct stop_report {
	bool escalated;
	int timeout_s;   /* how long it waited */
	char signal[16]; /* what it sent first ("SIGTERM"), "" for a VM's power-down */
};

/* timeout_s <= 0: the driver's default (containers 10 s), else the daemon's. rep may be NULL. */
int lifecycle_stop(struct instance *inst, bool force, int timeout_s, struct stop_report *rep,
                   struct vk_error *err) VK_MUST_CHECK;
int lifecycle_kill(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_restart(struct instance *inst, int timeout_s, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_pause(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_resume(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
/*
 * Save a running or paused VM's state to path (absolute, on this host): it
 * then stops (shutoff, reason "saved"), or goes on with keep_running (a
 * snapshot). *reply: virtkit-vm's answer (bytes written), caller frees.
 */
int lifecycle_save(struct instance *inst, const char *path, bool keep_running, json_object **reply,
                   struct vk_error *err) VK_MUST_CHECK;
/* A snapshot of a running VM: lifecycle_save() with keep_running, and at the same moment
 * qcow2 overlays over its disks (overlays: [{"disk": N, "path": P}], driver.h). */
int lifecycle_snapshot(struct instance *inst, const char *path, json_object *overlays,
                       json_object **reply, struct vk_error *err) VK_MUST_CHECK;
/* Start a shut-off VM from a state saved for it (running, reason "restored"; paused, reason
 * "restored", when it was saved while paused). */
int lifecycle_restore(struct instance *inst, const char *path, struct vk_error *err) VK_MUST_CHECK;

/*
 * Migration (api-migrate.h drives it; docs/api.md, "Migration"). The source:
 * send the running (or paused) VM to `to`, the address of a receiver another
 * daemon started; on success it has ended (shutoff, reason "migrated"), on
 * failure it goes on here and err says why.
 */
int lifecycle_migrate(struct instance *inst, const char *to, bool live, json_object **reply,
                      struct vk_error *err) VK_MUST_CHECK;
/* The destination: start a shut-off VM as a receiver (starting, reason "incoming"); addr
 * gets the address to send it to ("unix:PATH"). */
int lifecycle_incoming(struct instance *inst, char *addr, size_t len,
                       struct vk_error *err) VK_MUST_CHECK;
/* The machine was sent: wait until it runs here (running or paused, reason "migrated"). */
int lifecycle_incoming_confirm(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
/* The migration failed: end the receiver (shut off); nothing to do when it ended already. */
int lifecycle_incoming_abort(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;

/* The workload ended (the monitor's exit callback, no job held). */
void lifecycle_on_exit(struct instance *inst);
/* Record how it ended and release its resources (job held). */
void lifecycle_finalize(struct instance *inst);

/* At daemon start, before serving: reattach to what still runs. */
void lifecycle_recover(struct instance *inst);
/* At daemon start: start instances marked autostart (in a background thread). */
void lifecycle_autostart_all(void);
/* At daemon shutdown: disconnect every console client (instances keep running). */
void lifecycle_detach_all(void);
/* Wait for autostart and background finalizations at shutdown. */
void lifecycle_shutdown(void);

#endif
