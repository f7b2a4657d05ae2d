/* SPDX-License-Identifier: MIT */
/*
 * The monitor: one thread waiting (epoll) on the pidfd of every running
 * instance's shim, reporting exits to the callback it was started with (the
 * lifecycle's). Works the same for shims this daemon spawned and shims found
 * again after a restart.
 */
#ifndef VKD_MONITOR_H
#define VKD_MONITOR_H

#include "common/error.h"
#include "daemon/instance.h"

/* Start the thread; on_exit(inst) runs on it, once per watch. */
int monitor_init(void (*on_exit)(struct instance *inst), struct vk_error *err) VK_MUST_CHECK;
void monitor_shutdown(void);
/* Watch inst->rt.shim_pidfd (one exit report per watch; takes a reference). */
int monitor_watch(struct instance *inst) VK_MUST_CHECK;

#endif
