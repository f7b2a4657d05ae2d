/* SPDX-License-Identifier: MIT */
/* The images' tables in the daemon's database (see imagestore.h). */
#include "daemon/imagestore.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "daemon/sqlite.h"

struct imagestore {
	sqlite3 *db;
	pthread_mutex_t lock;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS images ("
        " fingerprint TEXT PRIMARY KEY NOT NULL,"
        " type TEXT NOT NULL, info TEXT NOT NULL,"
        " size INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS image_aliases ("
        " alias TEXT PRIMARY KEY NOT NULL,"
        " fingerprint TEXT NOT NULL REFERENCES images(fingerprint) ON DELETE CASCADE);"
        "CREATE TABLE IF NOT EXISTS image_users ("
        " instance TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
        " fingerprint TEXT NOT NULL REFERENCES images(fingerprint));";

static int db_error(struct imagestore *s, struct vk_error *err, const char *what)
{
	return vkd_db_error(s->db, err, what);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int imagestore_open(const char *path, struct imagestore **out, struct vk_error *err)
{
	struct imagestore *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return vk_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	r = vkd_db_open(path, schema, "images", &s->db, err);
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

void imagestore_close(struct imagestore *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int step_done(struct imagestore *s, const char *sql, const char *const *texts,
                     const char *what, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, what);
	for (int i = 0; texts[i]; i++)
		sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_error(s, err, what);
	sqlite3_finalize(st);
	return r;
}

int imagestore_insert(struct imagestore *s, const struct image_row *img, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot store the image");
		goto out;
	}
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT INTO images (fingerprint, type, info, size, created_ms) "
	                       "VALUES (?, ?, ?, ?, ?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot store the image");
		goto rollback;
	}
	sqlite3_bind_text(st, 1, img->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, img->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, img->info, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, img->size);
	sqlite3_bind_int64(st, 5, img->created_ms ? img->created_ms : wall_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT
		            ? vk_error_set(err, EEXIST, "image %.12s is already imported",
		                           img->fingerprint)
		            : db_error(s, err, "cannot store the image");
		goto rollback;
	}
	for (size_t i = 0; i < img->nr_aliases; i++) {
		const char *t[] = {img->aliases[i], img->fingerprint, NULL};
		if ((r = step_done(s,
		                   "INSERT INTO image_aliases (alias, fingerprint) VALUES (?, ?)",
		                   t, "cannot store the alias", err)) < 0) {
			if (r == -EEXIST)
				r = vk_error_set(err, EEXIST, "the alias '%s' names another image",
				                 img->aliases[i]);
			goto rollback;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot store the image");
		goto rollback;
	}
	goto out;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

/* The aliases of row->fingerprint; lock held. */
static int load_aliases(struct imagestore *s, struct image_row *row, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT alias FROM image_aliases WHERE fingerprint = ? ORDER BY "
	                       "alias",
	                       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "cannot read the aliases");
	sqlite3_bind_text(st, 1, row->fingerprint, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **v = realloc(row->aliases, (row->nr_aliases + 1) * sizeof(*v));
		if (!v) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			break;
		}
		row->aliases = v;
		v[row->nr_aliases] = strdup((const char *)sqlite3_column_text(st, 0));
		if (!v[row->nr_aliases]) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			break;
		}
		row->nr_aliases++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the aliases");
	sqlite3_finalize(st);
	return r;
}

static int read_row(struct imagestore *s, sqlite3_stmt *st, struct image_row *row,
                    struct vk_error *err)
{
	memset(row, 0, sizeof(*row));
	copy_text(row->fingerprint, sizeof(row->fingerprint), st, 0);
	copy_text(row->type, sizeof(row->type), st, 1);
	row->info = strdup(sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2)
	                                              : "{}");
	row->size = sqlite3_column_int64(st, 3);
	row->created_ms = sqlite3_column_int64(st, 4);
	if (!row->info)
		return vk_error_set(err, ENOMEM, "out of memory");
	return load_aliases(s, row, err);
}

void imagestore_row_free(struct image_row *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_aliases; i++)
		free(r->aliases[i]);
	free(r->aliases);
	free(r->info);
	memset(r, 0, sizeof(*r));
}

void imagestore_rows_free(struct image_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		imagestore_row_free(&rows[i]);
	free(rows);
}

#define ROW_COLUMNS "fingerprint, type, info, size, created_ms"

int imagestore_get(struct imagestore *s, const char *fingerprint, struct image_row *out,
                   struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT " ROW_COLUMNS " FROM images WHERE fingerprint = ?",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the image");
		goto out;
	}
	sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(s, st, out, err);
	else if (rc == SQLITE_DONE)
		r = vk_error_set(err, ENOENT, "no image %.12s", fingerprint);
	else
		r = db_error(s, err, "cannot read the image");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		imagestore_row_free(out);
	return r;
}

int imagestore_resolve(struct imagestore *s, const char *ref, char fp[IMAGE_FP_LEN + 1],
                       struct vk_error *err)
{
	const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	size_t len = strlen(hex), found = 0;
	sqlite3_stmt *st = NULL;
	char like[IMAGE_FP_LEN + 2];
	bool is_hex = len >= 4 && len <= IMAGE_FP_LEN;
	int r = 0, rc;

	for (size_t i = 0; is_hex && i < len; i++)
		is_hex = isxdigit((unsigned char)hex[i]) && !isupper((unsigned char)hex[i]);
	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT fingerprint FROM image_aliases WHERE alias = ?", -1,
	                       &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the aliases");
		goto out;
	}
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		copy_text(fp, IMAGE_FP_LEN + 1, st, 0);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!is_hex) {
		r = vk_error_set(err, ENOENT, "no image or alias '%.80s'", ref);
		goto out;
	}
	snprintf(like, sizeof(like), "%s%%", hex);
	if (sqlite3_prepare_v2(s->db, "SELECT fingerprint FROM images WHERE fingerprint LIKE ?", -1,
	                       &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the images");
		goto out;
	}
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (found++ == 0)
			copy_text(fp, IMAGE_FP_LEN + 1, st, 0);
	if (found == 0)
		r = vk_error_set(err, ENOENT, "no image or alias '%.80s'", ref);
	else if (found > 1)
		r = vk_error_set(err, EINVAL,
		                 "'%.80s' is the start of %zu images' fingerprints: give "
		                 "more of it",
		                 ref, found);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_list(struct imagestore *s, struct image_row **out, size_t *n, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	struct image_row *rows = NULL;
	size_t count = 0;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT " ROW_COLUMNS " FROM images ORDER BY created_ms", -1,
	                       &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the images");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct image_row *v = realloc(rows, (count + 1) * sizeof(*v));
		if (!v) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		rows = v;
		if ((r = read_row(s, st, &rows[count], err)) < 0) {
			imagestore_row_free(&rows[count]);
			goto out;
		}
		count++;
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the images");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		imagestore_rows_free(rows, count);
		return r;
	}
	*out = rows;
	*n = count;
	return 0;
}

int imagestore_delete(struct imagestore *s, const char *fingerprint, struct vk_error *err)
{
	const char *t[] = {fingerprint, NULL};
	int r;

	pthread_mutex_lock(&s->lock);
	r = step_done(s, "DELETE FROM images WHERE fingerprint = ?", t, "cannot delete the image",
	              err);
	if (r == -EEXIST) /* the users' foreign key */
		r = vk_error_set(err, EBUSY, "image %.12s is in use by instances", fingerprint);
	else if (r == 0 && sqlite3_changes(s->db) == 0)
		r = vk_error_set(err, ENOENT, "no image %.12s", fingerprint);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_alias_add(struct imagestore *s, const char *alias, const char *fingerprint,
                         struct vk_error *err)
{
	const char *t[] = {alias, fingerprint, NULL};
	int r;

	pthread_mutex_lock(&s->lock);
	r = step_done(s, "INSERT INTO image_aliases (alias, fingerprint) VALUES (?, ?)", t,
	              "cannot store the alias", err);
	if (r == -EEXIST)
		r = vk_error_set(err, EEXIST, "the alias '%s' is taken (delete it first)", alias);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_alias_del(struct imagestore *s, const char *alias, struct vk_error *err)
{
	const char *t[] = {alias, NULL};
	int r;

	pthread_mutex_lock(&s->lock);
	r = step_done(s, "DELETE FROM image_aliases WHERE alias = ?", t, "cannot delete the alias",
	              err);
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = vk_error_set(err, ENOENT, "no alias '%.80s'", alias);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_alias_target(struct imagestore *s, const char *alias, char fp[IMAGE_FP_LEN + 1])
{
	sqlite3_stmt *st = NULL;
	int r = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT fingerprint FROM image_aliases WHERE alias = ?", -1,
	                       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, alias, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			copy_text(fp, IMAGE_FP_LEN + 1, st, 0);
			r = 0;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_alias_list(struct imagestore *s, char ***aliases, char ***targets, size_t *n,
                          struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	char **a = NULL, **t = NULL;
	size_t count = 0;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT alias, fingerprint FROM image_aliases ORDER BY alias",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the aliases");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **na = realloc(a, (count + 1) * sizeof(*na)), **nt;
		if (na)
			a = na;
		nt = na ? realloc(t, (count + 1) * sizeof(*nt)) : NULL;
		if (nt)
			t = nt;
		if (!na || !nt) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		a[count] = strdup((const char *)sqlite3_column_text(st, 0));
		t[count] = strdup((const char *)sqlite3_column_text(st, 1));
		count++;
		if (!a[count - 1] || !t[count - 1]) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the aliases");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		for (size_t i = 0; i < count; i++) {
			free(a[i]);
			free(t[i]);
		}
		free(a);
		free(t);
		return r;
	}
	*aliases = a;
	*targets = t;
	*n = count;
	return 0;
}

int imagestore_user_add(struct imagestore *s, const struct image_user *u, struct vk_error *err)
{
	const char *t[] = {u->instance, u->name, u->fingerprint, NULL};
	int r;

	pthread_mutex_lock(&s->lock);
	r = step_done(s, "INSERT INTO image_users (instance, name, fingerprint) VALUES (?, ?, ?)",
	              t, "cannot record the image's user", err);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_user_del(struct imagestore *s, const char *instance, struct vk_error *err)
{
	const char *t[] = {instance, NULL};
	int r;

	pthread_mutex_lock(&s->lock);
	r = step_done(s, "DELETE FROM image_users WHERE instance = ?", t,
	              "cannot forget the image's user", err);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int imagestore_users(struct imagestore *s, const char *fingerprint, struct image_user **out,
                     size_t *n, struct vk_error *err)
{
	sqlite3_stmt *st = NULL;
	struct image_user *v = NULL;
	size_t count = 0;
	int r = 0, rc;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db,
	                       fingerprint ? "SELECT instance, name, fingerprint FROM image_users "
	                                     "WHERE fingerprint = ? ORDER BY name"
	                                   : "SELECT instance, name, fingerprint FROM image_users "
	                                     "ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK) {
		r = db_error(s, err, "cannot read the images' users");
		goto out;
	}
	if (fingerprint)
		sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct image_user *nv = realloc(v, (count + 1) * sizeof(*nv));
		if (!nv) {
			r = vk_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		v = nv;
		copy_text(v[count].instance, sizeof(v[count].instance), st, 0);
		copy_text(v[count].name, sizeof(v[count].name), st, 1);
		copy_text(v[count].fingerprint, sizeof(v[count].fingerprint), st, 2);
		count++;
	}
	if (rc != SQLITE_DONE)
		r = db_error(s, err, "cannot read the images' users");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		free(v);
		return r;
	}
	*out = v;
	*n = count;
	return 0;
}
