/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle operations on instances: each takes the instance's job, checks
 * that the operation is valid in the current state (-EALREADY / -ENOTCONN
 * otherwise, which the API turns into 409), drives the driver and records
 * every state change with its reason (libvirt's model).
 */
#ifndef VKD_LIFECYCLE_H
#define VKD_LIFECYCLE_H

#include <stdbool.h>

#include "common/error.h"
#include "daemon/instance.h"

#define JOB_WAIT_MS 30000

int lifecycle_start(struct instance *inst, bool autostart, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_stop(struct instance *inst, bool force, int timeout_s,
                   struct vk_error *err) VK_MUST_CHECK;
int lifecycle_kill(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_restart(struct instance *inst, int timeout_s, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_pause(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
int lifecycle_resume(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;

/* The workload ended (called by the monitor, no job held). */
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
