/* SPDX-License-Identifier: MIT */
/*
 * The saved_states table (see store-saved.h): saved_states(path, uuid,
 * created_ms), primary key path. Created by store_saved_init() on databases
 * of any schema version, like the volumes table: the instances and events
 * tables do not change, and a daemon without it ignores the table.
 */
#include "daemon/store-saved.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/store-int.h"

static const char schema[] = "CREATE TABLE IF NOT EXISTS saved_states ("
                             " path TEXT PRIMARY KEY NOT NULL,"
                             " uuid TEXT NOT NULL,"
                             " created_ms INTEGER NOT NULL);";

int store_saved_init(struct store *s, struct vk_error *err)
{
	char *msg = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK)
		r = vk_error_set(err, EIO, "cannot create the saved_states table: %s",
		                 msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_saved_put(struct store *s, const char *path, const char *uuid, int64_t created_ms,
                    struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT OR REPLACE INTO saved_states (path, uuid, created_ms) "
	                       "VALUES (?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot record the saved state");
		goto out;
	}
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, created_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_db_error(s, err, "cannot record the saved state");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_saved_get(struct store *s, const char *path, char uuid[DEF_UUID_LEN + 1],
                    struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT uuid FROM saved_states WHERE path = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		r = store_db_error(s, err, "cannot read the saved states");
		goto out;
	}
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(uuid, DEF_UUID_LEN + 1, "%s", t ? (const char *)t : "");
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = vk_error_set(err, ENOENT, "no instance was saved to '%s' by this daemon", path);
	} else {
		r = store_db_error(s, err, "cannot read the saved states");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_saved_forget(struct store *s, const char *uuid, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "DELETE FROM saved_states WHERE uuid = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		r = store_db_error(s, err, "cannot forget the saved states");
		goto out;
	}
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_db_error(s, err, "cannot forget the saved states");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}
