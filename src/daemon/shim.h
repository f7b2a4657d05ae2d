/* SPDX-License-Identifier: MIT */
/*
 * The shim: a small process per running instance (virtkitd re-executed as
 * `virtkitd __shim RUNDIR`, like conmon for Podman) that owns the workload so
 * that the daemon can die and come back without touching it:
 *  - it spawns the workload (virtkit-vm; or `RUNTIME create` + `start` for a
 *    container) and is its parent (a child subreaper, for container inits);
 *  - for containers it holds the pty master or the stdio pipes, serves them on
 *    RUNDIR/console.sock (one client at a time, like virtkit-vm's console
 *    socket) and keeps the last 64 KiB of output for the next client;
 *  - it records how the workload ended in RUNDIR/exit and then exits.
 * Files in RUNDIR: shim.json (its orders, written by the daemon), shim.pid
 * ("PID STARTTIME"), pid (the workload), exit ("exited N" / "signaled N" /
 * "failed MESSAGE"), shim.log (its and the workload's stderr).
 */
#ifndef VKD_SHIM_H
#define VKD_SHIM_H

#include <stdbool.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/instance.h"

/* The program a shim runs as (main.c finds it at start-up and hands it to the drivers). */
struct shim_program {
	const char *path; /* virtkit-shim, or virtkitd itself */
	bool daemon;      /* path is virtkitd: run as `virtkitd __shim DIR` */
};

/*
 * Daemon side: write cfg as RUNDIR/shim.json, spawn the shim and wait up to
 * timeout_ms for it to report the workload running. Sets rt.shim_pid,
 * rt.shim_pidfd and *pid (the workload).
 */
int shim_spawn(struct instance *inst, const struct shim_program *prog, json_object *cfg,
               int timeout_ms, pid_t *pid, struct vk_error *err) VK_MUST_CHECK;

/* Daemon side, after a restart: find the shim of rt.dir alive (sets rt.shim_*). */
int shim_find(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;

/* How the workload ended (known=false when the file is missing). */
void shim_read_exit(const char *dir, struct exit_info *out);

/* The last line of RUNDIR/shim.log, for error messages. */
void shim_last_log_line(const char *dir, char *buf, size_t len);

#endif
