/* SPDX-License-Identifier: MIT */
/*
 * The volumes table (see store-volumes.h):
 *   volumes(pool, name, format, capacity, base_volume, base_path, base_format, created_ms),
 *   primary key (pool, name).
 * Created by store_volumes_init() on databases of any schema version: the
 * instances and events tables do not change, and a daemon without volumes
 * ignores the table.
 */
#include "daemon/store-volumes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon/store-int.h"

static const char schema[] = "CREATE TABLE IF NOT EXISTS volumes ("
                             " pool TEXT NOT NULL,"
                             " name TEXT NOT NULL,"
                             " format TEXT NOT NULL,"
                             " capacity INTEGER NOT NULL,"
                             " base_volume TEXT,"
                             " base_path TEXT,"
                             " base_format TEXT,"
                             " created_ms INTEGER NOT NULL,"
                             " PRIMARY KEY (pool, name));"
                             "CREATE INDEX IF NOT EXISTS volumes_base"
                             " ON volumes (pool, base_volume);";

int store_volumes_init(struct store *s, struct vk_error *err)
{
	char *msg = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK)
		r = vk_error_set(err, EIO, "cannot create the volumes table: %s",
		                 msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Run one prepared change (consumed) under the lock held by the caller. */
static int run_change(struct store *s, sqlite3_stmt *st, bool need_row, const char *what,
                      struct vk_error *err)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE)
		r = store_db_error(s, err, what);
	else if (need_row && sqlite3_changes(s->db) == 0)
		r = vk_error_set(err, ENOENT, "%s: no such volume in the database", what);
	sqlite3_finalize(st);
	return r;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v[0])
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int store_volume_insert(struct store *s, const char *pool, const struct store_volume *v,
                        struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(
	            s->db,
	            "INSERT INTO volumes (pool, name, format, capacity, base_volume, "
	            "base_path, base_format, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	            -1, &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot store the volume");
		goto out;
	}
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)v->capacity);
	bind_opt(st, 5, v->base_volume);
	bind_opt(st, 6, v->base_path);
	bind_opt(st, 7, v->base_format);
	sqlite3_bind_int64(st, 8, v->created_ms);
	r = run_change(s, st, false, "cannot store the volume", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static void read_row(sqlite3_stmt *st, struct store_volume *v)
{
	memset(v, 0, sizeof(*v));
	copy_col(v->name, sizeof(v->name), st, 0);
	copy_col(v->format, sizeof(v->format), st, 1);
	v->capacity = (uint64_t)sqlite3_column_int64(st, 2);
	copy_col(v->base_volume, sizeof(v->base_volume), st, 3);
	copy_col(v->base_path, sizeof(v->base_path), st, 4);
	copy_col(v->base_format, sizeof(v->base_format), st, 5);
	v->created_ms = sqlite3_column_int64(st, 6);
}

#define COLUMNS "name, format, capacity, base_volume, base_path, base_format, created_ms"

int store_volume_get(struct store *s, const char *pool, const char *name, struct store_volume *out,
                     struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT " COLUMNS " FROM volumes WHERE pool = ? AND name = ?",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot read the volume");
		goto out;
	}
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, out);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = vk_error_set(err, ENOENT, "no volume '%s' in pool '%s'", name, pool);
	} else {
		r = store_db_error(s, err, "cannot read the volume");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_volume_list(struct store *s, const char *pool,
                      int (*cb)(void *opaque, const struct store_volume *v), void *opaque,
                      struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT " COLUMNS " FROM volumes WHERE pool = ? ORDER BY name", -1,
	                       &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot read the volumes");
		goto out;
	}
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_volume v;
		read_row(st, &v);
		if ((r = cb(opaque, &v)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_db_error(s, err, "cannot read the volumes");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_volume_set_capacity(struct store *s, const char *pool, const char *name,
                              uint64_t capacity, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "UPDATE volumes SET capacity = ? WHERE pool = ? AND name = ?",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot store the volume's size");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (int64_t)capacity);
	sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	r = run_change(s, st, true, "cannot store the volume's size", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_volume_delete(struct store *s, const char *pool, const char *name, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "DELETE FROM volumes WHERE pool = ? AND name = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot delete the volume");
		goto out;
	}
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = run_change(s, st, true, "cannot delete the volume", err);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_volume_child(struct store *s, const char *pool, const char *name,
                       char child[DEF_NAME_MAX + 1], struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT name FROM volumes WHERE pool = ? AND base_volume = ? "
	                       "ORDER BY name LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot read the volumes");
		goto out;
	}
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(child, DEF_NAME_MAX + 1, st, 0);
		r = 1;
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = store_db_error(s, err, "cannot read the volumes");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}
