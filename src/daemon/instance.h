/* SPDX-License-Identifier: MIT */
/*
 * Instances in memory: the registry (name → instance), reference counting,
 * the state model and the per-instance job lock.
 *
 * Locking rules:
 *  - the registry lock protects the name table only; never held while
 *    waiting for an instance;
 *  - inst->lock protects the fields marked below; held only briefly;
 *  - the job (inst->job) serializes operations on one instance: every state
 *    change happens while holding the job, so state changes of one instance
 *    are totally ordered and persisted in that order. A job may block (spawn,
 *    wait for exit); other instances are unaffected.
 *  - the monitor reports a workload exit either by taking the job itself
 *    (when free) or by setting exit_pending for the job holder, which
 *    finalizes the instance before it lets the job go (lifecycle_job_end()
 *    loops on instance_job_try_end()).
 */
#ifndef VKD_INSTANCE_H
#define VKD_INSTANCE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/def.h"
#include "daemon/event.h"

enum inst_state {
	ST_SHUTOFF,
	ST_STARTING,
	ST_RUNNING,
	ST_PAUSED,
	ST_STOPPING,
	ST_CRASHED,
};

const char *inst_state_name(enum inst_state s);
int inst_state_parse(const char *s, enum inst_state *out);
/* True for the states in which a workload process may exist. */
bool inst_state_active(enum inst_state s);

struct console;
struct store;

/* How the workload ended, read from the shim's exit file. */
struct exit_info {
	bool known;
	bool signaled;
	int code; /* exit status or signal number */
	char detail[128];
};

/* Runtime data of an active instance; owned by the job holder. */
struct runtime {
	char dir[PATH_MAX];
	json_object *def; /* the definition it was started with */
	pid_t shim_pid;
	int shim_pidfd;
	bool shim_is_child; /* spawned by this daemon: reap it */
	pid_t pid;          /* the workload: virtkit-vm or the container's init */
	int pidfd;
	int64_t started_ms;
	bool stop_requested;
	bool kill_requested;
	bool stop_escalated;      /* a graceful stop ran out of time and killed it */
	char stop_signal[16];     /* what the graceful stop sent ("SIGTERM"), "" for a VM */
	bool watched;             /* registered with the monitor */
	bool saving;              /* its state was saved and it ends: the end is "saved" */
	bool migrating;           /* its machine went to another host: the end is "migrated" */
	const char *restore_path; /* during a start: the saved state to start from, or NULL */
	/* From its start until it is confirmed or aborted: it waits for a migration (a VM's
	 * `virtkit-vm run --incoming unix:RUNDIR/incoming.sock`), state starting/incoming. */
	bool incoming;
	bool start_paused; /* set by start: the saved machine was paused, and is again */
	struct console *console;
};

struct instance {
	/* Immutable after creation. */
	char name[DEF_NAME_MAX + 1];
	char uuid[DEF_UUID_LEN + 1];
	enum def_type type;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* job released, exit_pending set */
	int refs;

	/* Under lock. */
	json_object *def; /* the current definition (replaced whole on update) */
	bool autostart;
	enum inst_state state;
	char reason[32];
	pid_t pid;     /* the workload's pid while active, for display */
	char *summary; /* cached instance_summary() text; NULL after any change */
	bool removed;
	bool pending; /* under the registry lock: defined but not yet stored */
	bool job;
	const char *job_name;
	bool exit_pending;
	struct exit_info last_exit; /* how the workload last ended (known=false: not yet) */

	/* Owned by the job holder. */
	struct runtime rt;
};

/* --- registry --------------------------------------------------------------- */

/* Before any instance is added: state changes are persisted in store. */
void instance_registry_init(struct store *store);

/*
 * Create an instance from a normalized definition and add it to the
 * registry; fails with -EEXIST when the name or uuid is taken. A pending
 * instance holds its name but is invisible to lookups and lists until
 * instance_publish() (define: reserve the name, store, then publish). The
 * returned reference belongs to the caller.
 */
int instance_add(json_object *def, bool autostart, enum inst_state st, const char *reason,
                 bool pending, struct instance **out, struct vk_error *err) VK_MUST_CHECK;
void instance_publish(struct instance *inst);
/* Drop from the registry (the object lives on while referenced). */
void instance_remove(struct instance *inst);

/* A new reference, or NULL with -ENOENT in err. */
struct instance *instance_lookup(const char *name, struct vk_error *err);
/* The same by name or uuid: an argument shaped like a uuid is looked up as one first. */
struct instance *instance_find(const char *name_or_uuid, struct vk_error *err);
struct instance *instance_ref(struct instance *inst);
void instance_unref(struct instance *inst);

/* References to every instance, sorted by name; free with instance_list_free. */
int instance_list(struct instance ***out, size_t *n);
void instance_list_free(struct instance **list, size_t n);

/* --- jobs and state --------------------------------------------------------- */

/* Wait up to timeout_ms for the job; -EBUSY (naming the running job) or -ENOENT. */
int instance_job_begin(struct instance *inst, const char *job, int timeout_ms,
                       struct vk_error *err) VK_MUST_CHECK;
/*
 * Release the job, unless an exit was reported while it was held: then clear
 * that report and return false, keeping the job; the caller finalizes the
 * instance and tries again (lifecycle_job_end()).
 */
bool instance_job_try_end(struct instance *inst) VK_MUST_CHECK;

/* An event about inst (its state and reason as they are now), for the store. */
void instance_event(struct instance *inst, const char *event, struct vk_event *ev);

/* Record how the workload ended, for the next state change's event and the summary. */
void instance_set_exit(struct instance *inst, const struct exit_info *ex);

/*
 * Set and persist the state (caller holds the job); logs store errors. A
 * "stopped" or "crashed" event carries the exit recorded by instance_set_exit();
 * starting forgets it.
 */
void instance_set_state(struct instance *inst, enum inst_state st, const char *reason,
                        const char *event);

/* A JSON summary {name, uuid, type, state, reason, autostart[, exit_code | signal]}. */
json_object *instance_summary(struct instance *inst);
/*
 * The same summary as text, appended to *buf (realloc'd; *len, *cap updated)
 * when the instance matches the filters (NULL: any). The text is cached until
 * the next change, so that listing many instances costs a copy each.
 */
int instance_summary_append(struct instance *inst, const char *type, const char *state, char **buf,
                            size_t *len, size_t *cap);
/* Set autostart in memory (the caller stored it). */
void instance_set_autostart(struct instance *inst, bool on);
/* A private copy of the definition (NULL when out of memory). */
json_object *instance_def(struct instance *inst);

#endif
