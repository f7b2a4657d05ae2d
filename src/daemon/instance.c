/* SPDX-License-Identifier: MIT */
/*
 * The instance registry, references, the job lock and state persistence
 * (see instance.h for the locking rules).
 */
#include "daemon/instance.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/proc.h"
#include "daemon/store.h"

static const char *const state_names[] = {
        [ST_SHUTOFF] = "shutoff", [ST_STARTING] = "starting", [ST_RUNNING] = "running",
        [ST_PAUSED] = "paused",   [ST_STOPPING] = "stopping", [ST_CRASHED] = "crashed",
};

const char *inst_state_name(enum inst_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int inst_state_parse(const char *s, enum inst_state *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(state_names); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum inst_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool inst_state_active(enum inst_state s)
{
	return s == ST_STARTING || s == ST_RUNNING || s == ST_PAUSED || s == ST_STOPPING;
}

/* --- registry: an array sorted by name ----------------------------------- */

static struct {
	pthread_mutex_t lock;
	struct instance **v;
	size_t n, cap;
	struct store *store; /* where state changes are persisted */
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

void instance_registry_init(struct store *store)
{
	reg.store = store;
}

/* Index of name, or -(insertion point) - 1. */
static long find_locked(const char *name)
{
	size_t lo = 0, hi = reg.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(reg.v[mid]->name, name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static bool name_taken_locked(const char *name, const char *uuid)
{
	size_t i;

	if (find_locked(name) >= 0)
		return true;
	for (i = 0; uuid && i < reg.n; i++)
		if (strcmp(reg.v[i]->uuid, uuid) == 0)
			return true;
	return false;
}

struct instance *instance_ref(struct instance *inst)
{
	__atomic_add_fetch(&inst->refs, 1, __ATOMIC_RELAXED);
	return inst;
}

void instance_unref(struct instance *inst)
{
	if (!inst || __atomic_sub_fetch(&inst->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	json_object_put(inst->def);
	json_object_put(inst->rt.def);
	free(inst->summary);
	pthread_mutex_destroy(&inst->lock);
	pthread_cond_destroy(&inst->cond);
	free(inst);
}

int instance_add(json_object *def, bool autostart, enum inst_state st, const char *reason,
                 bool pending, struct instance **out, struct vk_error *err)
{
	struct instance *inst;
	pthread_condattr_t ca;
	long pos;

	inst = calloc(1, sizeof(*inst));
	if (!inst)
		return vk_error_set(err, ENOMEM, "out of memory");
	snprintf(inst->name, sizeof(inst->name), "%s", def_name(def));
	snprintf(inst->uuid, sizeof(inst->uuid), "%s", def_uuid(def));
	inst->type = def_type(def);
	pthread_mutex_init(&inst->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inst->cond, &ca);
	pthread_condattr_destroy(&ca);
	inst->refs = 1;
	inst->def = json_object_get(def);
	inst->autostart = autostart;
	inst->state = st;
	snprintf(inst->reason, sizeof(inst->reason), "%s", reason);
	inst->rt.shim_pidfd = -1;
	inst->rt.pidfd = -1;
	inst->pending = pending;

	pthread_mutex_lock(&reg.lock);
	pos = find_locked(inst->name);
	if (pos >= 0 || name_taken_locked(inst->name, inst->uuid)) {
		pthread_mutex_unlock(&reg.lock);
		if (pos >= 0)
			vk_error_set(err, EEXIST, "instance '%s' already exists", inst->name);
		else
			vk_error_set(err, EEXIST, "an instance with uuid %s already exists",
			             inst->uuid);
		instance_unref(inst);
		return -EEXIST;
	}
	if (reg.n == reg.cap) {
		size_t cap = reg.cap ? reg.cap * 2 : 64;
		struct instance **v = realloc(reg.v, cap * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&reg.lock);
			instance_unref(inst);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		reg.v = v;
		reg.cap = cap;
	}
	pos = -pos - 1;
	memmove(&reg.v[pos + 1], &reg.v[pos], (reg.n - (size_t)pos) * sizeof(*reg.v));
	reg.v[pos] = instance_ref(inst); /* the registry's reference */
	reg.n++;
	pthread_mutex_unlock(&reg.lock);
	*out = inst;
	return 0;
}

void instance_publish(struct instance *inst)
{
	pthread_mutex_lock(&reg.lock);
	inst->pending = false;
	pthread_mutex_unlock(&reg.lock);
}

void instance_remove(struct instance *inst)
{
	long pos;

	pthread_mutex_lock(&reg.lock);
	pos = find_locked(inst->name);
	if (pos >= 0 && reg.v[pos] == inst) {
		memmove(&reg.v[pos], &reg.v[pos + 1], (reg.n - (size_t)pos - 1) * sizeof(*reg.v));
		reg.n--;
	} else {
		inst = NULL;
	}
	pthread_mutex_unlock(&reg.lock);
	if (inst) {
		pthread_mutex_lock(&inst->lock);
		inst->removed = true;
		pthread_cond_broadcast(&inst->cond);
		pthread_mutex_unlock(&inst->lock);
		instance_unref(inst);
	}
}

struct instance *instance_lookup(const char *name, struct vk_error *err)
{
	struct instance *inst = NULL;
	long pos;

	pthread_mutex_lock(&reg.lock);
	pos = find_locked(name);
	if (pos >= 0 && !reg.v[pos]->pending)
		inst = instance_ref(reg.v[pos]);
	pthread_mutex_unlock(&reg.lock);
	if (!inst)
		vk_error_set(err, ENOENT, "instance '%s' not found", name);
	return inst;
}

/* 8-4-4-4-12 hexadecimal digits, either case. */
static bool uuid_shaped(const char *s)
{
	if (strlen(s) != DEF_UUID_LEN)
		return false;
	for (size_t i = 0; i < DEF_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

struct instance *instance_find(const char *name_or_uuid, struct vk_error *err)
{
	struct instance *inst = NULL;
	char uuid[DEF_UUID_LEN + 1];

	if (uuid_shaped(name_or_uuid)) {
		for (size_t i = 0; i <= DEF_UUID_LEN; i++)
			uuid[i] = (char)tolower((unsigned char)name_or_uuid[i]);
		pthread_mutex_lock(&reg.lock);
		for (size_t i = 0; i < reg.n && !inst; i++)
			if (!reg.v[i]->pending && strcmp(reg.v[i]->uuid, uuid) == 0)
				inst = instance_ref(reg.v[i]);
		pthread_mutex_unlock(&reg.lock);
		if (inst)
			return inst;
	}
	inst = instance_lookup(name_or_uuid, NULL);
	if (!inst)
		vk_error_set(err, ENOENT, "instance '%s' not found", name_or_uuid);
	return inst;
}

int instance_list(struct instance ***out, size_t *n)
{
	struct instance **v;
	size_t i;

	pthread_mutex_lock(&reg.lock);
	v = malloc((reg.n ? reg.n : 1) * sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&reg.lock);
		return -ENOMEM;
	}
	*n = 0;
	for (i = 0; i < reg.n; i++)
		if (!reg.v[i]->pending)
			v[(*n)++] = instance_ref(reg.v[i]);
	pthread_mutex_unlock(&reg.lock);
	*out = v;
	return 0;
}

void instance_list_free(struct instance **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		instance_unref(list[i]);
	free(list);
}

/* --- jobs ------------------------------------------------------------------ */

int instance_job_begin(struct instance *inst, const char *job, int timeout_ms, struct vk_error *err)
{
	struct timespec deadline;
	int r = 0;

	timespec_after_ms(&deadline, CLOCK_MONOTONIC, timeout_ms);
	pthread_mutex_lock(&inst->lock);
	while (inst->job && !inst->removed) {
		if (pthread_cond_timedwait(&inst->cond, &inst->lock, &deadline) == ETIMEDOUT) {
			r = vk_error_set(err, EBUSY, "instance '%s' is busy (%s in progress)",
			                 inst->name, inst->job_name);
			break;
		}
	}
	if (r == 0 && inst->removed)
		r = vk_error_set(err, ENOENT, "instance '%s' not found", inst->name);
	if (r == 0) {
		inst->job = true;
		inst->job_name = job;
	}
	pthread_mutex_unlock(&inst->lock);
	return r;
}

bool instance_job_try_end(struct instance *inst)
{
	bool ended = false;

	pthread_mutex_lock(&inst->lock);
	/* An exit reported while we held the job is ours to finalize: keep the job for it. */
	if (inst->exit_pending) {
		inst->exit_pending = false;
	} else {
		inst->job = false;
		inst->job_name = NULL;
		pthread_cond_broadcast(&inst->cond);
		ended = true;
	}
	pthread_mutex_unlock(&inst->lock);
	return ended;
}

void instance_set_exit(struct instance *inst, const struct exit_info *ex)
{
	pthread_mutex_lock(&inst->lock);
	inst->last_exit = *ex;
	free(inst->summary);
	inst->summary = NULL;
	pthread_mutex_unlock(&inst->lock);
}

void instance_event(struct instance *inst, const char *event, struct vk_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->instance, sizeof(ev->instance), "%s", inst->name);
	snprintf(ev->uuid, sizeof(ev->uuid), "%s", inst->uuid);
	snprintf(ev->type, sizeof(ev->type), "%s", def_type_name(inst->type));
	snprintf(ev->event, sizeof(ev->event), "%s", event);
	pthread_mutex_lock(&inst->lock);
	snprintf(ev->state, sizeof(ev->state), "%s", inst_state_name(inst->state));
	snprintf(ev->reason, sizeof(ev->reason), "%s", inst->reason);
	if (inst->last_exit.known && (!strcmp(event, "stopped") || !strcmp(event, "crashed"))) {
		ev->exit_known = true;
		ev->exit_signal = inst->last_exit.signaled ? inst->last_exit.code : 0;
		ev->exit_code = inst->last_exit.signaled ? -1 : inst->last_exit.code;
	}
	pthread_mutex_unlock(&inst->lock);
}

void instance_set_state(struct instance *inst, enum inst_state st, const char *reason,
                        const char *event)
{
	struct vk_event ev;
	struct vk_error err = {0};

	pthread_mutex_lock(&inst->lock);
	inst->state = st;
	snprintf(inst->reason, sizeof(inst->reason), "%s", reason);
	if (st == ST_STARTING)
		inst->last_exit.known = false;
	inst->pid = inst_state_active(st) ? inst->rt.pid : 0;
	free(inst->summary);
	inst->summary = NULL;
	pthread_cond_broadcast(&inst->cond);
	pthread_mutex_unlock(&inst->lock);

	instance_event(inst, event, &ev); /* the job is held: nobody changed them since */
	if (store_set_state(reg.store, inst->uuid, inst_state_name(st), reason, &ev, &err) < 0)
		vk_err("instance '%s': %s", inst->name, err.msg);
}

/* The summary object; inst->lock held. */
static json_object *summary_locked(struct instance *inst)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(inst->name));
	json_object_object_add(o, "uuid", json_object_new_string(inst->uuid));
	json_object_object_add(o, "type", json_object_new_string(def_type_name(inst->type)));
	json_object_object_add(o, "state", json_object_new_string(inst_state_name(inst->state)));
	json_object_object_add(o, "reason", json_object_new_string(inst->reason));
	json_object_object_add(o, "autostart", json_object_new_boolean(inst->autostart));
	/* How the last run ended, while nothing runs. */
	if (inst->last_exit.known && !inst_state_active(inst->state))
		json_object_object_add(o, inst->last_exit.signaled ? "signal" : "exit_code",
		                       json_object_new_int(inst->last_exit.code));
	return o;
}

json_object *instance_summary(struct instance *inst)
{
	json_object *o;

	pthread_mutex_lock(&inst->lock);
	o = summary_locked(inst);
	pthread_mutex_unlock(&inst->lock);
	return o;
}

void instance_set_autostart(struct instance *inst, bool on)
{
	pthread_mutex_lock(&inst->lock);
	inst->autostart = on;
	free(inst->summary);
	inst->summary = NULL;
	pthread_mutex_unlock(&inst->lock);
}

int instance_summary_append(struct instance *inst, const char *type, const char *state, char **buf,
                            size_t *len, size_t *cap)
{
	size_t n;
	int r = 0;

	if (type && strcmp(type, def_type_name(inst->type)) != 0)
		return 0;
	pthread_mutex_lock(&inst->lock);
	if (state && strcmp(state, inst_state_name(inst->state)) != 0)
		goto out;
	if (!inst->summary) {
		json_object *o = summary_locked(inst);
		inst->summary = strdup(json_object_to_json_string_ext(
		        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		if (!inst->summary) {
			r = -ENOMEM;
			goto out;
		}
	}
	n = strlen(inst->summary);
	if (*len + n + 2 > *cap) {
		size_t c = (*len + n + 2) * 2;
		char *b = realloc(*buf, c);
		if (!b) {
			r = -ENOMEM;
			goto out;
		}
		*buf = b;
		*cap = c;
	}
	if (*len && (*buf)[*len - 1] != '[')
		(*buf)[(*len)++] = ',';
	memcpy(*buf + *len, inst->summary, n);
	*len += n;
out:
	pthread_mutex_unlock(&inst->lock);
	return r;
}

json_object *instance_def(struct instance *inst)
{
	json_object *d = NULL;

	/*
	 * A private copy, not a new reference: json-c's reference counts are
	 * not atomic (Debian builds it without ENABLE_THREADING), so the
	 * definition object must never be shared between threads. The copy
	 * only reads inst->def, which is replaced whole and never modified.
	 */
	pthread_mutex_lock(&inst->lock);
	if (json_object_deep_copy(inst->def, &d, NULL) < 0)
		d = NULL;
	pthread_mutex_unlock(&inst->lock);
	return d;
}
