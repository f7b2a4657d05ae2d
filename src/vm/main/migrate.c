/* SPDX-License-Identifier: MIT */
/*
 * `save` and `migrate` (migrate.h): one job at a time, on a thread of its own.
 *
 * save PATH: stop every CPU, take the machine lock, write the state (header,
 * configuration, devices, the RAM pages that are not zero, end) to a new file
 * beside PATH, fsync it and rename it over PATH; then either end the run
 * ("saved") or let the CPUs go on (keep_running). A failure leaves no file and
 * the machine running.
 *
 * migrate TO: connect, send the header and the configuration, then
 *   live: start the dirty log (CPUs stopped a moment), send every page that
 *     is not zero while the guest runs, then in rounds: stop the CPUs a
 *     moment to collect what the guest dirtied (dirty_sync + harvest), and
 *     send those pages while it runs again. Once a round's pages would go out
 *     within the downtime target at the rate the link achieved (or after
 *     max_rounds: the guest dirties faster than the link carries, and the
 *     rest goes as a short stop-and-copy), stop the CPUs for good:
 *   both: with the machine lock held, the devices' state (virtio-blk first
 *     finishes its requests), the pages dirtied since (all non-zero pages when
 *     not live), the disks' locks let go, END; then wait for the destination's
 *     answer. OK: the run ends ("migrated"). Anything else: the locks are
 *     taken back, the log stops and the CPUs go on: the source resumes.
 * The downtime reported is the source's: from the final stop of the CPUs to
 * the destination's OK.
 *
 * disk-overlay (and save's disk_overlays): with the CPUs stopped, qcow2
 * overlays go over the disks' images (vm_registry_disk_overlay); a save puts
 * them while the state is taken, so that the images hold the disks as the
 * state has them (a snapshot's disks) and the guest writes the overlays.
 */
#include "vm/main/migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/loop.h"
#include "vm/main/migrate-net.h"
#include "vm/mem.h"
#include "vm/registry.h"
#include "vm/state.h"

#define DEFAULT_DOWNTIME_MS 300
#define DEFAULT_MAX_ROUNDS  30

#define MAX_OVERLAYS        16

enum job_kind { JOB_SAVE, JOB_MIGRATE, JOB_OVERLAY };

/* A qcow2 overlay to put over a disk (registry.h, vm_registry_disk_overlay). */
struct overlay {
	unsigned disk;
	char *path;
};

struct vm_migrator {
	struct vm_loop *loop;
	const struct vm_control_ops *ops;
	void *machine;
	char *config;
	int efd; /* the job is over: the loop calls done */

	pthread_mutex_t lock; /* running, cancel, sock */
	bool running;
	bool cancel;
	int sock; /* the migration's connection, -1: none (shut down to cancel) */
	pthread_t thread;

	/* the job */
	enum job_kind kind;
	char *path; /* save: the file; migrate: the address */
	bool keep_running, live;
	uint64_t bandwidth, downtime_ns;
	unsigned max_rounds;
	struct overlay overlays[MAX_OVERLAYS]; /* save and disk-overlay */
	unsigned nr_overlays;
	vm_migrate_done done;
	void *ctx;

	/* its outcome */
	int result;
	struct vk_error err;
	uint64_t bytes, ram_bytes, total_ns, downtime_ms_x1000, rounds;
	bool converged;
};

static bool cancelled(struct vm_migrator *m)
{
	bool c;

	pthread_mutex_lock(&m->lock);
	c = m->cancel;
	pthread_mutex_unlock(&m->lock);
	return c;
}

/* ---- save, disk overlays ------------------------------------------------------------- */

/* CPUs stopped, machine lock held. With several, a failure leaves the disks before the
 * one at fault on their overlays (the error says which). */
static int put_overlays(struct vm_migrator *m, struct vm_registry *reg, struct vk_error *err)
{
	for (unsigned i = 0; i < m->nr_overlays; i++) {
		int r = vm_registry_disk_overlay(reg, m->overlays[i].disk, m->overlays[i].path,
		                                 err);

		if (r < 0) {
			if (i > 0)
				vk_error_prefix(err,
				                "disks before disk %u write to their overlays "
				                "already",
				                m->overlays[i].disk);
			return r;
		}
	}
	return 0;
}

static int overlay_job(struct vm_migrator *m, struct vk_error *err)
{
	struct vm_registry *reg = m->ops->registry(m->machine);
	int r = m->ops->cpus_stop(m->machine, err);

	if (r < 0)
		return r;
	vm_loop_lock(m->loop);
	r = put_overlays(m, reg, err);
	vm_loop_unlock(m->loop);
	m->ops->cpus_resume(m->machine);
	return r;
}

static int write_state(struct vm_migrator *m, struct vm_registry *reg, struct vm_state_out *out,
                       const uint64_t *const *dirty, struct vk_error *err)
{
	uint64_t pages = 0;
	int r = vm_registry_save(reg, out, err);

	if (r == 0)
		r = vm_registry_save_ram(reg, out, dirty, &pages, err);
	m->ram_bytes += pages * VM_STATE_PAGE;
	return r;
}

static int save_job(struct vm_migrator *m, struct vk_error *err)
{
	struct vm_registry *reg = m->ops->registry(m->machine);
	char *tmp = NULL, *dir = NULL;
	struct vm_state_out *out = NULL;
	bool stopped = false;
	int fd = -1, r;

	if (asprintf(&tmp, "%s.XXXXXX", m->path) < 0 || !(dir = strdup(m->path))) {
		r = vk_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = vk_error_errno(err, errno, "cannot create '%s'", m->path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	out = vm_state_out_new(fd);
	if (!out) {
		r = vk_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = m->ops->cpus_stop(m->machine, err);
	if (r < 0)
		goto out;
	stopped = true;
	vm_loop_lock(m->loop);
	reg->live_clock = false;
	r = vm_state_write_header(out, reg->arch, reg->board, m->config, strlen(m->config),
	                          vm_mem_total(reg->mem), err);
	if (r == 0)
		r = write_state(m, reg, out, NULL, err);
	if (r == 0)
		r = vm_state_write_record(out, VM_STATE_END, "end", 1, NULL, 0, err);
	if (r == 0)
		r = vm_state_flush(out, err);
	vm_loop_unlock(m->loop);
	if (r == 0 && fsync(fd) < 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", m->path);
	if (r == 0 && rename(tmp, m->path) < 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", m->path);
	if (r == 0) {
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
		free(tmp);
		tmp = NULL;
		m->bytes = vm_state_out_bytes(out);
	}
	/* Last, the CPUs still stopped: the disks stay as the state has them, and the guest
	 * writes overlays from now on. Without them there is no snapshot: no file either. */
	if (r == 0 && m->nr_overlays) {
		vm_loop_lock(m->loop);
		r = put_overlays(m, reg, err);
		vm_loop_unlock(m->loop);
		if (r < 0)
			unlink(m->path);
	}
out:
	if (r < 0 && err->msg[0] && !strstr(err->msg, m->path))
		vk_error_prefix(err, "cannot save the machine to '%s'", m->path);
	/* Saved and ending: the CPUs stay stopped until the machine is gone. */
	if (stopped && (r < 0 || m->keep_running))
		m->ops->cpus_resume(m->machine);
	vm_state_out_free(out);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return r;
}

/* ---- migrate ----------------------------------------------------------------------- */

struct dirty_set {
	unsigned nr;
	uint64_t *bits[VM_MEM_MAX_REGIONS];
	const uint64_t *view[VM_MEM_MAX_REGIONS];
};

static void dirty_free(struct dirty_set *d)
{
	for (unsigned i = 0; i < d->nr; i++)
		free(d->bits[i]);
	memset(d, 0, sizeof(*d));
}

static int dirty_alloc(struct dirty_set *d, const struct vm_mem *mem, struct vk_error *err)
{
	d->nr = mem->nr;
	for (unsigned i = 0; i < mem->nr; i++) {
		d->bits[i] = calloc(vm_mem_dirty_words(&mem->regions[i]), sizeof(uint64_t));
		if (!d->bits[i]) {
			dirty_free(d);
			return vk_error_set(err, ENOMEM, "out of memory for the dirty log");
		}
		d->view[i] = d->bits[i];
	}
	return 0;
}

/* With the CPUs stopped and the machine lock held: what the guest dirtied since the last
 * harvest, ORed into d (pages of a round not sent yet stay in it). Returns the pages in d. */
static uint64_t harvest(struct vm_migrator *m, struct vm_mem *mem, struct dirty_set *d)
{
	uint64_t total = 0;

	m->ops->dirty_sync(m->machine);
	for (unsigned i = 0; i < mem->nr; i++) {
		size_t words = vm_mem_dirty_words(&mem->regions[i]);
		uint64_t *tmp = malloc(words * sizeof(uint64_t));

		if (!tmp) {
			/* Keep the bits where they are: everything counts as dirty instead. */
			memset(d->bits[i], 0xff, words * sizeof(uint64_t));
			total += words * 64;
			continue;
		}
		vm_mem_dirty_harvest(mem, i, tmp);
		for (size_t w = 0; w < words; w++) {
			d->bits[i][w] |= tmp[w];
			total += (uint64_t)__builtin_popcountll(d->bits[i][w]);
		}
		free(tmp);
	}
	return total;
}

static void dirty_clear(struct dirty_set *d, const struct vm_mem *mem)
{
	for (unsigned i = 0; i < d->nr; i++)
		memset(d->bits[i], 0, vm_mem_dirty_words(&mem->regions[i]) * sizeof(uint64_t));
}

static int precopy(struct vm_migrator *m, struct vm_registry *reg, struct vm_state_out *out,
                   struct dirty_set *d, struct vk_error *err)
{
	uint64_t pages, t0, sent0, rate = 0;
	int r;

	/* Round 0: the RAM that is not zero (the destination's RAM starts zeroed); the
	 * devices' state goes once, at the switchover. */
	t0 = vk_now_ns();
	sent0 = vm_state_out_bytes(out);
	r = vm_registry_save_ram(reg, out, NULL, &pages, err);
	m->ram_bytes += pages * VM_STATE_PAGE;
	if (r == 0)
		r = vm_state_flush(out, err);
	m->rounds = 1;
	while (r == 0 && !cancelled(m)) {
		uint64_t dt = vk_now_ns() - t0, bytes;

		if (dt)
			rate = (uint64_t)((double)(vm_state_out_bytes(out) - sent0) * 1e9 /
			                  (double)dt);
		r = m->ops->cpus_stop(m->machine, err);
		if (r < 0)
			break;
		vm_loop_lock(m->loop);
		pages = harvest(m, reg->mem, d);
		vm_loop_unlock(m->loop);
		m->ops->cpus_resume(m->machine);
		bytes = pages * (VM_STATE_PAGE + 48);
		/* Small enough to go out within the downtime target: the final round. */
		if (rate && (double)bytes * 1e9 / (double)rate <= (double)m->downtime_ns) {
			m->converged = true;
			break;
		}
		if (m->rounds >= m->max_rounds)
			break;
		t0 = vk_now_ns();
		sent0 = vm_state_out_bytes(out);
		r = vm_registry_save_ram(reg, out, d->view, &pages, err);
		if (r == 0)
			r = vm_state_flush(out, err);
		m->ram_bytes += pages * VM_STATE_PAGE;
		dirty_clear(d, reg->mem);
		m->rounds++;
	}
	if (r == 0 && cancelled(m))
		r = vk_error_set(err, ECANCELED, "the machine ended during the migration");
	return r;
}

/*
 * Sending failed because the destination closed the connection: it may have
 * said why first (it refuses a machine it cannot build with "ERR ..."). That
 * sentence replaces "Broken pipe"; nothing else is waited for.
 */
static void peer_reason(int fd, struct vk_error *err)
{
	struct vk_error why = {0};

	if (vm_migrate_read_answer(fd, &why) < 0 && why.code == EIO)
		*err = why;
}

static int migrate_job(struct vm_migrator *m, struct vk_error *err)
{
	struct vm_registry *reg = m->ops->registry(m->machine);
	struct vm_state_out *out = NULL;
	struct dirty_set d = {0};
	bool logging = false, stopped = false, released = false;
	uint64_t start = vk_now_ns(), stop_at = 0;
	int fd, r;
	const char *why;

	if (m->live && m->ops->no_live && (why = m->ops->no_live(m->machine)))
		return vk_error_set(err, ENOTSUP,
		                    "live migration is not possible: %s; migrate with \"live\": "
		                    "false (stop-and-copy) instead",
		                    why);
	fd = vm_migrate_connect(m->path, err);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&m->lock);
	m->sock = fd;
	pthread_mutex_unlock(&m->lock);
	out = vm_state_out_new(fd);
	r = out ? 0 : vk_error_set(err, ENOMEM, "out of memory");
	if (r == 0)
		vm_state_out_set_rate(out, m->bandwidth);
	if (r == 0)
		r = vm_state_write_header(out, reg->arch, reg->board, m->config, strlen(m->config),
		                          vm_mem_total(reg->mem), err);
	if (r == 0 && m->live) {
		r = dirty_alloc(&d, reg->mem, err);
		if (r == 0)
			r = m->ops->cpus_stop(m->machine, err);
		if (r == 0) {
			vm_loop_lock(m->loop);
			r = m->ops->dirty_start(m->machine, err);
			vm_loop_unlock(m->loop);
			logging = r == 0;
			m->ops->cpus_resume(m->machine);
		}
		if (r == 0)
			r = precopy(m, reg, out, &d, err);
	}
	if (r == 0)
		r = m->ops->cpus_stop(m->machine, err);
	if (r == 0) {
		stopped = true;
		stop_at = vk_now_ns();
		vm_loop_lock(m->loop);
		reg->live_clock = true;
		/* Devices first: finishing their requests writes guest RAM, which follows. */
		r = vm_registry_save(reg, out, err);
		if (r == 0 && m->live) {
			uint64_t pages;

			harvest(m, reg->mem, &d);
			r = vm_registry_save_ram(reg, out, d.view, &pages, err);
			m->ram_bytes += pages * VM_STATE_PAGE;
		} else if (r == 0) {
			uint64_t pages;

			r = vm_registry_save_ram(reg, out, NULL, &pages, err);
			m->ram_bytes += pages * VM_STATE_PAGE;
		}
		if (r == 0) {
			/* The destination takes the disks' locks once it has everything. */
			r = vm_registry_handover(reg, false, err);
			released = r == 0;
		}
		if (r == 0)
			r = vm_state_write_record(out, VM_STATE_END, "end", 1, NULL, 0, err);
		if (r == 0)
			r = vm_state_flush(out, err);
		vm_loop_unlock(m->loop);
	}
	if (r == 0)
		r = vm_migrate_read_answer(fd, err);
	else if (err->code == EPIPE || err->code == ECONNRESET)
		peer_reason(fd, err);
	if (r == 0 && cancelled(m))
		r = vk_error_set(err, ECANCELED, "the machine ended during the migration");
	m->bytes = out ? vm_state_out_bytes(out) : 0;
	m->total_ns = vk_now_ns() - start;
	if (stop_at)
		m->downtime_ms_x1000 = (vk_now_ns() - stop_at) / 1000;
	vm_loop_lock(m->loop);
	if (r < 0 && released) {
		struct vk_error e2 = {0};
		/* The source goes on: its disks are its own again. */
		if (vm_registry_handover(reg, true, &e2) < 0)
			vk_error_prefix(err, "%s; and the source cannot take its disks back (%s)",
			                err->msg, e2.msg);
	}
	if (logging)
		m->ops->dirty_stop(m->machine);
	vm_loop_unlock(m->loop);
	if (stopped && r < 0)
		m->ops->cpus_resume(m->machine);
	pthread_mutex_lock(&m->lock);
	m->sock = -1;
	pthread_mutex_unlock(&m->lock);
	vm_state_out_free(out);
	close(fd);
	dirty_free(&d);
	if (r < 0)
		vk_error_prefix(err, "migration to %s failed, the machine goes on here", m->path);
	return r;
}

/* ---- the thread and the loop --------------------------------------------------------- */

static void *job_thread(void *arg)
{
	struct vm_migrator *m = arg;
	uint64_t one = 1;

	vk_error_clear(&m->err);
	m->result = m->kind == JOB_SAVE      ? save_job(m, &m->err)
	            : m->kind == JOB_OVERLAY ? overlay_job(m, &m->err)
	                                     : migrate_job(m, &m->err);
	if (write(m->efd, &one, sizeof(one)) < 0) {
		/* the loop is gone: vm_migrator_free() joins us */
	}
	return NULL;
}

static struct json_object *job_reply(struct vm_migrator *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(m->result == 0));
	if (m->result < 0) {
		json_object_object_add(o, "error", json_object_new_string(m->err.msg));
		return o;
	}
	if (m->kind == JOB_OVERLAY)
		return o;
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)m->bytes));
	json_object_object_add(o, "ram_bytes", json_object_new_int64((int64_t)m->ram_bytes));
	if (m->kind == JOB_MIGRATE) {
		json_object_object_add(o, "live", json_object_new_boolean(m->live));
		json_object_object_add(o, "rounds", json_object_new_int64((int64_t)m->rounds));
		json_object_object_add(o, "converged", json_object_new_boolean(m->converged));
		json_object_object_add(o, "total_ms",
		                       json_object_new_int64((int64_t)(m->total_ns / 1000000)));
		json_object_object_add(o, "downtime_ms",
		                       json_object_new_double((double)m->downtime_ms_x1000 / 1000));
	}
	return o;
}

/* The loop's thread, machine lock held: the job is over. */
static void job_finished(void *opaque, int fd, short revents)
{
	struct vm_migrator *m = opaque;
	uint64_t n;
	bool end;

	if (read(fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	if (!m->running) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_mutex_lock(&m->lock);
	m->running = false;
	pthread_mutex_unlock(&m->lock);
	end = m->result == 0 &&
	      (m->kind == JOB_MIGRATE || (m->kind == JOB_SAVE && !m->keep_running));
	m->done(m->ctx, job_reply(m));
	if (end)
		m->ops->finish(m->machine, m->kind == JOB_SAVE ? "saved" : "migrated");
}

static void overlays_free(struct vm_migrator *m)
{
	for (unsigned i = 0; i < m->nr_overlays; i++)
		free(m->overlays[i].path);
	m->nr_overlays = 0;
}

/*
 * disk-overlay's {"disk": N, "path": P}, or save's "disk_overlays": [{"disk", "path"},
 * ...] (optional). Paths absolute; a disk at most once.
 */
static int get_overlays(struct vm_migrator *m, struct json_object *req, struct vk_error *err)
{
	struct json_object *list, *one = NULL, *d, *p;
	size_t n = 1;

	overlays_free(m);
	if (m->kind == JOB_MIGRATE)
		return 0;
	if (m->kind == JOB_SAVE) {
		if (!json_object_object_get_ex(req, "disk_overlays", &list) || !list)
			return 0;
		if (!json_object_is_type(list, json_type_array))
			return vk_error_set(err, EINVAL, "\"disk_overlays\" is not a list");
		n = json_object_array_length(list);
		if (n > MAX_OVERLAYS)
			return vk_error_set(err, EINVAL, "more than %d \"disk_overlays\"",
			                    MAX_OVERLAYS);
	}
	for (size_t i = 0; i < n; i++) {
		one = m->kind == JOB_SAVE ? json_object_array_get_idx(list, i) : req;
		if (!json_object_is_type(one, json_type_object) ||
		    !json_object_object_get_ex(one, "disk", &d) ||
		    !json_object_is_type(d, json_type_int) || json_object_get_int64(d) < 0 ||
		    json_object_get_int64(d) >= 1024 ||
		    !json_object_object_get_ex(one, "path", &p) ||
		    !json_object_is_type(p, json_type_string) ||
		    json_object_get_string(p)[0] != '/')
			return vk_error_set(err, EINVAL,
			                    "a disk overlay needs \"disk\" (0 is the first disk) "
			                    "and \"path\" (absolute)");
		for (unsigned j = 0; j < m->nr_overlays; j++)
			if (m->overlays[j].disk == (unsigned)json_object_get_int64(d))
				return vk_error_set(err, EINVAL, "disk %u is given two overlays",
				                    m->overlays[j].disk);
		m->overlays[m->nr_overlays].disk = (unsigned)json_object_get_int64(d);
		m->overlays[m->nr_overlays].path = strdup(json_object_get_string(p));
		if (!m->overlays[m->nr_overlays++].path)
			return vk_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

struct vm_migrator *vm_migrator_new(struct vm_loop *loop, const struct vm_control_ops *ops,
                                    void *machine, const char *config, struct vk_error *err)
{
	struct vm_migrator *m = calloc(1, sizeof(*m));

	if (!m || !(m->config = strdup(config))) {
		free(m);
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->ops = ops;
	m->machine = machine;
	m->sock = -1;
	pthread_mutex_init(&m->lock, NULL);
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0 || vm_loop_add_fd(loop, m->efd, POLLIN, job_finished, m) < 0) {
		vk_error_errno(err, errno, "cannot set up saving and migration");
		if (m->efd >= 0)
			close(m->efd);
		free(m->config);
		free(m);
		return NULL;
	}
	return m;
}

void vm_migrator_free(struct vm_migrator *m)
{
	bool running;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	running = m->running;
	m->cancel = true;
	if (m->sock >= 0)
		shutdown(m->sock, SHUT_RDWR);
	pthread_mutex_unlock(&m->lock);
	if (running)
		pthread_join(m->thread, NULL);
	vm_loop_del_fd(m->loop, m->efd);
	close(m->efd);
	pthread_mutex_destroy(&m->lock);
	overlays_free(m);
	free(m->path);
	free(m->config);
	free(m);
}

/* A size: a JSON number of bytes, or a string with a suffix ("100M"). */
static int get_size(struct json_object *req, const char *key, uint64_t *out, struct vk_error *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		*out = (uint64_t)json_object_get_int64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string) &&
	    vk_parse_size(json_object_get_string(v), out, err) == 0)
		return 0;
	return vk_error_set(err, EINVAL, "\"%s\" is not a size in bytes (a number, or \"100M\")",
	                    key);
}

static int get_flag(struct json_object *req, const char *key, bool dflt, bool *out,
                    struct vk_error *err)
{
	struct json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(req, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return vk_error_set(err, EINVAL, "\"%s\" is not true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

int vm_migrator_start(struct vm_migrator *m, const char *cmd, struct json_object *req,
                      vm_migrate_done done, void *ctx, struct vk_error *err)
{
	struct json_object *v;
	const char *where;
	uint64_t n;
	int r;

	if (!m->ops->registry || !m->ops->registry(m->machine))
		return vk_error_set(err, ENOTSUP, "this machine cannot be saved");
	pthread_mutex_lock(&m->lock);
	r = m->running ? -EBUSY : 0;
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		return vk_error_set(err, EBUSY, "a save or a migration is under way");
	m->kind = !strcmp(cmd, "save")           ? JOB_SAVE
	          : !strcmp(cmd, "disk-overlay") ? JOB_OVERLAY
	                                         : JOB_MIGRATE;
	if ((r = get_overlays(m, req, err)) < 0)
		return r;
	if (m->kind == JOB_OVERLAY)
		goto start;
	if (!json_object_object_get_ex(req, m->kind == JOB_SAVE ? "path" : "to", &v) ||
	    !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		return vk_error_set(err, EINVAL,
		                    m->kind == JOB_SAVE
		                            ? "save needs \"path\": the file to write"
		                            : "migrate needs \"to\": unix:PATH or tcp:HOST:PORT");
	where = json_object_get_string(v);
	if (m->kind == JOB_SAVE && where[0] != '/')
		return vk_error_set(err, EINVAL, "save: \"path\" must be absolute ('%s')", where);
	if (m->kind == JOB_MIGRATE) {
		struct vm_migrate_addr a;
		if (vm_migrate_parse_uri(where, &a, err) < 0)
			return -EINVAL;
	}
	if ((r = get_flag(req, "keep_running", false, &m->keep_running, err)) < 0 ||
	    (r = get_flag(req, "live", true, &m->live, err)) < 0)
		return r;
	m->bandwidth = 0;
	if ((r = get_size(req, "bandwidth", &m->bandwidth, err)) < 0)
		return r;
	n = DEFAULT_DOWNTIME_MS;
	if ((r = get_size(req, "downtime_ms", &n, err)) < 0)
		return r;
	m->downtime_ns = n * 1000000ull;
	n = DEFAULT_MAX_ROUNDS;
	if ((r = get_size(req, "max_rounds", &n, err)) < 0)
		return r;
	if (n < 1 || n > 1000)
		return vk_error_set(err, EINVAL, "\"max_rounds\" must be 1 to 1000");
	m->max_rounds = (unsigned)n;
	free(m->path);
	m->path = strdup(where);
	if (!m->path)
		return vk_error_set(err, ENOMEM, "out of memory");
start:
	m->done = done;
	m->ctx = ctx;
	m->rounds = m->bytes = m->ram_bytes = m->total_ns = m->downtime_ms_x1000 = 0;
	m->converged = false;
	m->cancel = false;
	pthread_mutex_lock(&m->lock);
	r = pthread_create(&m->thread, NULL, job_thread, m);
	m->running = r == 0;
	pthread_mutex_unlock(&m->lock);
	if (r != 0)
		return vk_error_errno(err, r, "cannot start the %s", cmd);
	return 0;
}
