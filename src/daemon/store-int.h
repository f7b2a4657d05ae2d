/* SPDX-License-Identifier: MIT */
/*
 * The store's insides, shared by its files only (store.c: instances and
 * events; store-volumes.c: the storage pool's volumes).
 */
#ifndef VKD_STORE_INT_H
#define VKD_STORE_INT_H

#include <pthread.h>

#include <sqlite3.h>

#include "common/error.h"
#include "daemon/event.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	void (*committed)(const struct vk_event *ev); /* after each event's commit, under lock */
	unsigned inserts;                             /* events since the last trim */
};

/* SQLite's last error as err: EEXIST for a constraint, EBUSY when locked, else EIO. */
int store_db_error(struct store *s, struct vk_error *err, const char *what);

#endif
