/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store (see store.h). Schema version 3:
 *   instances(uuid PK, name UNIQUE, type, definition, autostart, state, reason, ...)
 *   events(seq PK AUTOINCREMENT, time_ms, instance, uuid, type, event, state, reason,
 *          exit_code, exit_signal, detail)
 * The events table is trimmed to the last EVENTS_KEEP rows.
 */
#include "daemon/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "daemon/sqlite.h"
#include "daemon/store-int.h"

#define SCHEMA_VERSION 3
#define EVENTS_KEEP    10000

static const char schema[] = "CREATE TABLE IF NOT EXISTS instances ("
                             " uuid TEXT PRIMARY KEY NOT NULL,"
                             " name TEXT NOT NULL UNIQUE,"
                             " type TEXT NOT NULL,"
                             " definition TEXT NOT NULL,"
                             " autostart INTEGER NOT NULL DEFAULT 0,"
                             " state TEXT NOT NULL,"
                             " reason TEXT NOT NULL,"
                             " created_ms INTEGER NOT NULL,"
                             " updated_ms INTEGER NOT NULL,"
                             " exit_code INTEGER, exit_signal INTEGER);"
                             "CREATE TABLE IF NOT EXISTS events ("
                             " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                             " time_ms INTEGER NOT NULL,"
                             " instance TEXT NOT NULL, uuid TEXT NOT NULL, type TEXT NOT NULL,"
                             " event TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
                             " exit_code INTEGER, exit_signal INTEGER, detail TEXT);";

/* Version 1 -> 2: how the workload ended (NULL: not known), per instance and per event. */
static const char migrate_1_2[] = "ALTER TABLE instances ADD COLUMN exit_code INTEGER;"
                                  "ALTER TABLE instances ADD COLUMN exit_signal INTEGER;"
                                  "ALTER TABLE events ADD COLUMN exit_code INTEGER;"
                                  "ALTER TABLE events ADD COLUMN exit_signal INTEGER;";

/* Version 2 -> 3: more members of an event's JSON (image events). */
static const char migrate_2_3[] = "ALTER TABLE events ADD COLUMN detail TEXT;";

/* How the workload ended, in columns i and i + 1 (NULL, NULL when not known). */
static void bind_exit(sqlite3_stmt *st, int i, const struct vk_event *ev)
{
	if (ev && ev->exit_known) {
		sqlite3_bind_int(st, i, ev->exit_code);
		sqlite3_bind_int(st, i + 1, ev->exit_signal);
	} else {
		sqlite3_bind_null(st, i);
		sqlite3_bind_null(st, i + 1);
	}
}

static void column_exit(sqlite3_stmt *st, int i, bool *known, int *code, int *sig)
{
	*known = sqlite3_column_type(st, i) != SQLITE_NULL;
	*code = *known ? sqlite3_column_int(st, i) : 0;
	*sig = *known ? sqlite3_column_int(st, i + 1) : 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int db_error(struct store *s, struct vk_error *err, const char *what)
{
	return vkd_db_error(s->db, err, what);
}

int store_db_error(struct store *s, struct vk_error *err, const char *what)
{
	return db_error(s, err, what);
}

static int exec(struct store *s, const char *sql, struct vk_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = vk_error_set(err, EIO, "database error (%s): %s", sql,
		                     msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int store_open(const char *path, void (*committed)(const struct vk_event *ev), struct store **out,
               struct vk_error *err)
{
	struct store *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	int r, ver = 0;

	if (!s)
		return vk_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->committed = committed;
	if (sqlite3_open_v2(path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		r = vk_error_set(err, EIO, "cannot open database '%s': %s", path,
		                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/*
	 * WAL + synchronous=FULL: a commit is on disk (WAL fsync'd) before
	 * store_* returns, so an acknowledged definition survives a crash of
	 * the daemon or of the machine.
	 */
	if ((r = exec(s, "PRAGMA journal_mode=WAL", err)) < 0 ||
	    (r = exec(s, "PRAGMA synchronous=FULL", err)) < 0 ||
	    (r = exec(s, "PRAGMA foreign_keys=ON", err)) < 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver > SCHEMA_VERSION) {
		r = vk_error_set(
		        err, EPROTO,
		        "database '%s' has schema version %d, newer than this virtkitd (%d)", path,
		        ver, SCHEMA_VERSION);
		goto fail;
	}
	if ((r = exec(s, "BEGIN IMMEDIATE", err)) < 0)
		goto fail;
	if ((r = exec(s, schema, err)) < 0 || (ver == 1 && (r = exec(s, migrate_1_2, err)) < 0) ||
	    (ver >= 1 && ver <= 2 && (r = exec(s, migrate_2_3, err)) < 0) ||
	    (r = exec(s, "PRAGMA user_version=3", err)) < 0) {
		exec(s, "ROLLBACK", NULL);
		goto fail;
	}
	if ((r = exec(s, "COMMIT", err)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int store_load(struct store *s, int (*cb)(void *opaque, const struct store_instance *in),
               void *opaque, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT uuid, name, definition, autostart, state, reason, type, "
	                       "exit_code, exit_signal "
	                       "FROM instances ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read instances");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_instance in = {0};
		snprintf(in.uuid, sizeof(in.uuid), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(in.name, sizeof(in.name), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(in.type, sizeof(in.type), "%s", (const char *)sqlite3_column_text(st, 6));
		in.definition = (const char *)sqlite3_column_text(st, 2);
		in.autostart = sqlite3_column_int(st, 3) != 0;
		column_exit(st, 7, &in.exit_known, &in.exit_code, &in.exit_signal);
		snprintf(in.state, sizeof(in.state), "%s",
		         (const char *)sqlite3_column_text(st, 4));
		snprintf(in.reason, sizeof(in.reason), "%s",
		         (const char *)sqlite3_column_text(st, 5));
		if (!in.definition)
			continue;
		if ((r = cb(opaque, &in)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read instances");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int insert_event(struct store *s, struct vk_event *ev)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s,
	            "INSERT INTO events (time_ms, instance, uuid, type, event, state, reason, "
	            "exit_code, exit_signal, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            &st) < 0)
		return -EIO;
	ev->time_ms = wall_ms();
	sqlite3_bind_int64(st, 1, ev->time_ms);
	sqlite3_bind_text(st, 2, ev->instance, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ev->reason, -1, SQLITE_STATIC);
	bind_exit(st, 8, ev);
	if (ev->detail[0])
		sqlite3_bind_text(st, 10, ev->detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	ev->seq = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/*
 * Run one prepared change and its event in a transaction. The statement is
 * consumed. `what` names the operation for error messages.
 */
static int commit_change_sync(struct store *s, sqlite3_stmt *st, bool need_row, struct vk_event *ev,
                              const char *what, bool durable, struct vk_error *err);

static int commit_change(struct store *s, sqlite3_stmt *st, bool need_row, struct vk_event *ev,
                         const char *what, struct vk_error *err)
{
	return commit_change_sync(s, st, need_row, ev, what, true, err);
}

/*
 * durable: fsync the WAL before returning (synchronous=FULL): definitions.
 * Otherwise (state changes) the commit survives a crash of the daemon but
 * maybe not of the machine (synchronous=NORMAL); the next durable commit or
 * checkpoint makes it durable too, and state is reconciled at start anyway.
 */
static int commit_change_sync(struct store *s, sqlite3_stmt *st, bool need_row, struct vk_event *ev,
                              const char *what, bool durable, struct vk_error *err)
{
	int r = 0, rc;

	if (!durable)
		sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		r = db_error(s, err, what);
		goto restore;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = db_error(s, err, what);
		goto rollback;
	}
	if (need_row && sqlite3_changes(s->db) == 0) {
		r = vk_error_set(err, ENOENT, "%s: no such instance in the database", what);
		goto rollback;
	}
	if (ev && insert_event(s, ev) < 0) {
		r = db_error(s, err, what);
		goto rollback;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		r = db_error(s, err, what);
		goto rollback;
	}
	sqlite3_finalize(st);
	if (!durable)
		sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	if (ev) {
		if (s->committed)
			s->committed(ev);
		if (++s->inserts >= 1000) {
			char sql[96];
			s->inserts = 0;
			snprintf(sql, sizeof(sql), "DELETE FROM events WHERE seq <= %lld",
			         (long long)(ev->seq - EVENTS_KEEP));
			sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		}
	}
	return 0;
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
restore:
	if (!durable)
		sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return r;
}

int store_insert(struct store *s, const struct store_instance *in, struct vk_event *ev,
                 struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = wall_ms();
	int r;

	pthread_mutex_lock(&s->lock);
	if (prepare(s,
	            "INSERT INTO instances (uuid, name, type, definition, autostart, state, "
	            "reason, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            &st) < 0) {
		r = db_error(s, err, "cannot store the definition");
		goto out;
	}
	sqlite3_bind_text(st, 1, in->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in->definition, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, in->autostart);
	sqlite3_bind_text(st, 6, in->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, in->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_int64(st, 9, now);
	r = commit_change(s, st, false, ev, "cannot store the definition", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_set_definition(struct store *s, const char *uuid, const char *definition,
                         struct vk_event *ev, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (prepare(s, "UPDATE instances SET definition = ?, updated_ms = ? WHERE uuid = ?", &st) <
	    0) {
		r = db_error(s, err, "cannot store the definition");
		goto out;
	}
	sqlite3_bind_text(st, 1, definition, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_text(st, 3, uuid, -1, SQLITE_STATIC);
	r = commit_change(s, st, true, ev, "cannot store the definition", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_set_state(struct store *s, const char *uuid, const char *state, const char *reason,
                    struct vk_event *ev, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (prepare(s,
	            "UPDATE instances SET state = ?, reason = ?, updated_ms = ?, exit_code = ?, "
	            "exit_signal = ? WHERE uuid = ?",
	            &st) < 0) {
		r = db_error(s, err, "cannot store the state");
		goto out;
	}
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, wall_ms());
	bind_exit(st, 4, ev);
	sqlite3_bind_text(st, 6, uuid, -1, SQLITE_STATIC);
	r = commit_change_sync(s, st, true, ev, "cannot store the state", false, err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_set_autostart(struct store *s, const char *uuid, bool on, struct vk_event *ev,
                        struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (prepare(s, "UPDATE instances SET autostart = ?, updated_ms = ? WHERE uuid = ?", &st) <
	    0) {
		r = db_error(s, err, "cannot store autostart");
		goto out;
	}
	sqlite3_bind_int(st, 1, on);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_text(st, 3, uuid, -1, SQLITE_STATIC);
	r = commit_change(s, st, true, ev, "cannot store autostart", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_delete(struct store *s, const char *uuid, struct vk_event *ev, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (prepare(s, "DELETE FROM instances WHERE uuid = ?", &st) < 0) {
		r = db_error(s, err, "cannot delete the definition");
		goto out;
	}
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	r = commit_change(s, st, true, ev, "cannot delete the definition", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

int store_events_after(struct store *s, int64_t after, int limit,
                       int (*cb)(void *opaque, const struct vk_event *ev), void *opaque,
                       struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (prepare(s,
	            "SELECT seq, time_ms, instance, uuid, type, event, state, reason, exit_code, "
	            "exit_signal, detail FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
	            &st) < 0) {
		r = db_error(s, err, "cannot read events");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vk_event ev = {0};
		ev.seq = sqlite3_column_int64(st, 0);
		ev.time_ms = sqlite3_column_int64(st, 1);
		copy_col(ev.instance, sizeof(ev.instance), st, 2);
		copy_col(ev.uuid, sizeof(ev.uuid), st, 3);
		copy_col(ev.type, sizeof(ev.type), st, 4);
		copy_col(ev.event, sizeof(ev.event), st, 5);
		copy_col(ev.state, sizeof(ev.state), st, 6);
		copy_col(ev.reason, sizeof(ev.reason), st, 7);
		column_exit(st, 8, &ev.exit_known, &ev.exit_code, &ev.exit_signal);
		copy_col(ev.detail, sizeof(ev.detail), st, 10);
		if ((r = cb(opaque, &ev)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read events");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_event(struct store *s, struct vk_event *ev, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	/* A statement that changes nothing carries the event through commit_change's path. */
	if (prepare(s, "SELECT 1 WHERE 0", &st) < 0)
		r = db_error(s, err, "cannot store the event");
	else
		r = commit_change_sync(s, st, false, ev, "cannot store the event", false, err);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int64_t store_last_event_seq(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t seq = 0;

	pthread_mutex_lock(&s->lock);
	/* sqlite_sequence keeps the AUTOINCREMENT high-water mark even after trims. */
	if (prepare(s, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", &st) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return seq;
}
