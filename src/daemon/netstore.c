/* SPDX-License-Identifier: MIT */
/* The networks' tables in the daemon's database (see netstore.h). */
#include "daemon/netstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "daemon/sqlite.h"

struct netstore {
	sqlite3 *db;
	pthread_mutex_t lock;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS networks ("
                             " name TEXT PRIMARY KEY NOT NULL,"
                             " definition TEXT NOT NULL);"
                             "CREATE TABLE IF NOT EXISTS network_addresses ("
                             " network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,"
                             " instance TEXT NOT NULL, nic INTEGER NOT NULL,"
                             " name TEXT NOT NULL, mac TEXT NOT NULL, ip INTEGER NOT NULL,"
                             " PRIMARY KEY (network, instance, nic),"
                             " UNIQUE (network, ip));";

static int db_error(struct netstore *s, struct vk_error *err, const char *what)
{
	return vkd_db_error(s->db, err, what);
}

int netstore_open(const char *path, struct netstore **out, struct vk_error *err)
{
	struct netstore *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return vk_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	r = vkd_db_open(path, schema, "networks", &s->db, err);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}

void netstore_close(struct netstore *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int netstore_load(struct netstore *s, int (*cb)(void *opaque, const char *definition), void *opaque,
                  struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	char **defs = NULL;
	size_t n = 0, i;
	int r = 0, rc;

	/* Read them all first: cb may use the store. */
	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT definition FROM networks ORDER BY name", -1, &st,
	                       NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the networks");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *def = (const char *)sqlite3_column_text(st, 0);
		char **v = realloc(defs, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(def ? def : "{}"))) {
			defs = v ? v : defs;
			r = vk_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		defs = v;
		n++;
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the networks");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = cb(opaque, defs[i]);
		free(defs[i]);
	}
	free(defs);
	return r;
}

/* Prepare sql, bind up to three texts (the first NULL ends them), step once. */
static int run(struct netstore *s, const char *sql, const char *what, struct vk_error *err,
               const char *t1, const char *t2, const char *t3)
{
	const char *texts[] = {t1, t2, t3};
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, what);
		goto out;
	}
	for (int i = 0; i < 3 && texts[i]; i++)
		sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_error(s, err, what);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int netstore_insert(struct netstore *s, const char *name, const char *definition,
                    struct vk_error *err)
{
	return run(s, "INSERT INTO networks (name, definition) VALUES (?, ?)",
	           "cannot store the network", err, name, definition, NULL);
}

int netstore_delete(struct netstore *s, const char *name, struct vk_error *err)
{
	return run(s, "DELETE FROM networks WHERE name = ?", "cannot delete the network", err, name,
	           NULL, NULL);
}

int netstore_addrs(struct netstore *s, const char *network, struct netstore_addr **out, size_t *n,
                   struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	struct netstore_addr *v = NULL;
	size_t k = 0, cap = 0;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT instance, nic, name, mac, ip FROM network_addresses "
	                       "WHERE network = ? ORDER BY ip",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the reservations");
		goto out;
	}
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct netstore_addr *a;
		if (k == cap) {
			struct netstore_addr *nv;
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				r = vk_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			v = nv;
		}
		a = &v[k++];
		memset(a, 0, sizeof(*a));
		snprintf(a->instance, sizeof(a->instance), "%s",
		         (const char *)sqlite3_column_text(st, 0));
		a->nic = (unsigned)sqlite3_column_int(st, 1);
		snprintf(a->name, sizeof(a->name), "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(a->mac, sizeof(a->mac), "%s", (const char *)sqlite3_column_text(st, 3));
		a->ip = (uint32_t)sqlite3_column_int64(st, 4);
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the reservations");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		free(v);
		return r;
	}
	*out = v;
	*n = k;
	return 0;
}

int netstore_addr_put(struct netstore *s, const char *network, const struct netstore_addr *a,
                      struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT OR REPLACE INTO network_addresses "
	                       "(network, instance, nic, name, mac, ip) VALUES (?, ?, ?, ?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot store the reservation");
		goto out;
	}
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->instance, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)a->nic);
	sqlite3_bind_text(st, 4, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, a->ip);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_error(s, err, "cannot store the reservation");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int netstore_addr_del(struct netstore *s, const char *network, const char *instance, unsigned nic,
                      struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       "DELETE FROM network_addresses WHERE network = ? AND instance = ? "
	                       "AND nic = ?",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot delete the reservation");
		goto out;
	}
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, instance, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)nic);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_error(s, err, "cannot delete the reservation");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}
