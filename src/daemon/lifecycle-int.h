/* SPDX-License-Identifier: MIT */
/*
 * What lifecycle.c shares with lifecycle-saved.c (private to the lifecycle
 * layer): the driver of an instance, its state, waiting for and finalizing
 * its workload's exit, and the start every operation builds on.
 */
#ifndef VKD_LIFECYCLE_INT_H
#define VKD_LIFECYCLE_INT_H

#include <stdbool.h>

#include "common/error.h"
#include "daemon/instance.h"

#define LC_KILL_WAIT_MS 15000

struct driver;

const struct driver *lc_drv(const struct instance *inst);
enum inst_state lc_state(struct instance *inst);
/* Wait for the monitor to report the exit; true when it did. */
bool lc_wait_exit(struct instance *inst, int timeout_ms);
/* Finalize now an exit the monitor already reported (job held). */
void lc_flush_exit(struct instance *inst);
/*
 * Start inst (job held): boot, or from the saved state at restore (a VM), or as a
 * receiver of a migration (incoming: it stays starting/incoming). Running (or paused, for a
 * machine saved paused) on success; shut off, reason failed, on failure.
 */
int lc_start(struct instance *inst, bool autostart, const char *restore, bool incoming,
             struct vk_error *err) VK_MUST_CHECK;

#endif
