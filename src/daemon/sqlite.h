/* SPDX-License-Identifier: MIT */
/*
 * The daemon's SQLite conventions, shared by its stores (store.c, netstore.c,
 * imagestore.c): one error mapping and one way to open a database file.
 */
#ifndef VKD_SQLITE_H
#define VKD_SQLITE_H

#include <sqlite3.h>

#include "common/error.h"

/* The last error on db as a sentence after `what`: -EEXIST for a constraint, -EBUSY for a
 * locked database, -EIO otherwise. */
int vkd_db_error(sqlite3 *db, struct vk_error *err, const char *what);

/*
 * Open (or create) the database file at path in WAL mode with synchronous=FULL and
 * foreign keys, then run schema (idempotent statements). `what` names the contents for
 * the error ("images", "networks"). On failure nothing stays open.
 */
int vkd_db_open(const char *path, const char *schema, const char *what, sqlite3 **out,
                struct vk_error *err);

#endif
