/* SPDX-License-Identifier: MIT */
/*
 * The driver interface: what the daemon needs from a kind of workload
 * (define-time checks live in def.c; here: start, stop, state, console,
 * stats, and reattaching after a daemon restart). Each driver is one file
 * with one static const table. An external-QEMU driver would be a third
 * table: spawn qemu-system-* with -qmp and -chardev socket under the shim.
 *
 * All functions are called with the instance's job held.
 */
#ifndef VKD_DRIVER_H
#define VKD_DRIVER_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/instance.h"
#include "daemon/shim.h"

struct driver {
	const char *name;
	/* Seconds a graceful stop waits before it kills, when the request gives none (0: the
	 * daemon's --stop-timeout). */
	int stop_timeout_s;
	/*
	 * A graceful stop that runs out of time (or cannot ask) fails and leaves
	 * the workload running, instead of killing it: pulling a VM's plug loses
	 * what its guest has not written, so only a forced stop does that.
	 */
	bool stop_never_kills;
	/*
	 * Spawn the workload of inst->rt.def in inst->rt.dir (created, empty)
	 * and return once it runs: rt.shim_pid/shim_pidfd and rt.pid/pidfd set.
	 */
	int (*start)(struct instance *inst, struct vk_error *err);
	/* Ask the workload to stop (guest power-down, the stop signal); returns at once. Sets
	 * rt.stop_signal to the signal it sent, if any. */
	int (*shutdown)(struct instance *inst, struct vk_error *err);
	/* Stop it now (SIGKILL); returns at once. */
	int (*destroy)(struct instance *inst, struct vk_error *err);
	int (*pause)(struct instance *inst, struct vk_error *err);
	/*
	 * Optional (VMs): write the workload's state to path (absolute); it then
	 * ends with status 0, or goes on with keep_running. *reply: what the
	 * workload said (sizes), owned by the caller. NULL: it cannot be saved.
	 * A start with rt.restore_path set starts it from such a file (rt.start_paused: the
	 * machine was paused when it was saved, and is paused again).
	 */
	int (*save)(struct instance *inst, const char *path, bool keep_running, json_object **reply,
	            struct vk_error *err);
	/* Optional (VMs): save with keep_running, and put qcow2 overlays over disks at that
	 * moment (overlays: [{"disk": N, "path": P}], virtkit-vm's disk_overlays). */
	int (*snapshot)(struct instance *inst, const char *path, json_object *overlays,
	                json_object **reply, struct vk_error *err);
	int (*resume)(struct instance *inst, struct vk_error *err);
	/*
	 * Optional (VMs): send the running workload to `to` (a `virtkit-vm run --incoming`
	 * address); on success it ends with status 0, on failure it goes on here. *reply as
	 * save's. A start with rt.incoming set starts such a receiver and returns once it
	 * listens; ready() then waits until the machine it received runs (*st: running or
	 * paused).
	 */
	int (*migrate)(struct instance *inst, const char *to, bool live, json_object **reply,
	               struct vk_error *err);
	int (*ready)(struct instance *inst, enum inst_state *st, struct vk_error *err);
	/*
	 * After a daemon restart, with rt.dir set and the shim found alive
	 * (rt.shim_* set): find the workload (rt.pid/pidfd) and its state.
	 * -ESRCH when it is gone.
	 */
	int (*reattach)(struct instance *inst, enum inst_state *st, struct vk_error *err);
	/* Counters of the running workload, added to out. */
	int (*stats)(struct instance *inst, json_object *out, struct vk_error *err);
	/* After the workload ended: release what start created outside rt.dir. */
	void (*cleanup)(struct instance *inst);
	/* The console socket the console hub connects to. */
	int (*console_path)(struct instance *inst, char *buf, size_t len);
};

/*
 * What the drivers need of the daemon's configuration, handed down once by
 * main.c before any instance runs and read-only afterwards. The strings must
 * outlive the daemon's run.
 */
struct driver_settings {
	const char *vm_binary;   /* virtkit-vm */
	const char *oci_runtime; /* a runc-compatible OCI runtime */
	const char *oci_root;    /* its --root */
	struct shim_program shim;
};

void drivers_init(const struct driver_settings *s);

extern const struct driver vm_driver;
extern const struct driver container_driver;

/*
 * Containers only: spawn `RUNTIME exec --pid-file PID_FILE ID args...` with
 * fds[0..2] as its stdio (the exec endpoint relays them). The runtime writes
 * the command's own pid (its child) to pid_file once it runs. With a
 * console_socket the command gets a terminal (`--tty --console-socket`): the
 * runtime sends its master to that socket.
 */
int container_exec_spawn(struct instance *inst, const char *const *args, size_t nargs,
                         const int fds[3], const char *pid_file, const char *console_socket,
                         pid_t *pid, struct vk_error *err) VK_MUST_CHECK;

static inline const struct driver *driver_for(enum def_type t)
{
	return t == DEF_CONTAINER ? &container_driver : &vm_driver;
}

#endif
