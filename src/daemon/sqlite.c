/* SPDX-License-Identifier: MIT */
/* The daemon's SQLite conventions (sqlite.h). */
#include "daemon/sqlite.h"

#include <errno.h>

int vkd_db_error(sqlite3 *db, struct vk_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(db) & 0xff;

	if (code == SQLITE_CONSTRAINT)
		return vk_error_set(err, EEXIST, "%s: %s", what, sqlite3_errmsg(db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return vk_error_set(err, EBUSY, "%s: the database is locked", what);
	return vk_error_set(err, EIO, "%s: %s", what, sqlite3_errmsg(db));
}

int vkd_db_open(const char *path, const char *schema, const char *what, sqlite3 **out,
                struct vk_error *err)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int r;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = vk_error_set(err, EIO, "cannot open database '%s': %s", path,
		                 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	sqlite3_busy_timeout(db, 5000);
	/* WAL (store.c set it for the file) and FULL: what was created survives a crash. */
	if (sqlite3_exec(
	            db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	            NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		r = vk_error_set(err, EIO, "cannot prepare the %s in '%s': %s", what, path,
		                 msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return r;
	}
	*out = db;
	return 0;
}
