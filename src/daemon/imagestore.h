/* SPDX-License-Identifier: MIT */
/*
 * The images' durable state, in the daemon's SQLite database (its own
 * connection and tables beside store.h's):
 *   images(fingerprint PK, type, info, size, created_ms)   one row per imported image
 *   image_aliases(alias PK, fingerprint)                   names for images
 *   image_users(instance PK, name, fingerprint)            instances launched from an image
 * An image with users cannot be deleted (the foreign key refuses it too). The
 * files live in STATE_DIR/images/FINGERPRINT/ (images.h); a row is written
 * only once the folder is complete, and the folder goes only after its row.
 * Every change is one synchronous transaction; the functions are thread-safe.
 */
#ifndef VKD_IMAGESTORE_H
#define VKD_IMAGESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "daemon/def-image.h"
#include "daemon/def.h"

#define IMAGE_ALIAS_MAX 63

struct imagestore;

struct image_row {
	char fingerprint[IMAGE_FP_LEN + 1];
	char type[16]; /* vm, container */
	char *info;    /* the normalized description (JSON text) */
	int64_t size;  /* bytes on the host */
	int64_t created_ms;
	char **aliases; /* sorted */
	size_t nr_aliases;
};

struct image_user {
	char instance[DEF_UUID_LEN + 1];
	char name[DEF_NAME_MAX + 1];
	char fingerprint[IMAGE_FP_LEN + 1];
};

int imagestore_open(const char *path, struct imagestore **out, struct vk_error *err) VK_MUST_CHECK;
void imagestore_close(struct imagestore *s);

/* An image and its aliases, at once; -EEXIST (naming it) when the image or an alias exists. */
int imagestore_insert(struct imagestore *s, const struct image_row *img,
                      struct vk_error *err) VK_MUST_CHECK;
/* -ENOENT when there is no such image. */
int imagestore_get(struct imagestore *s, const char *fingerprint, struct image_row *out,
                   struct vk_error *err) VK_MUST_CHECK;
/*
 * What a user's reference names: an alias, a fingerprint, or a unique prefix of one (at
 * least 4 hex digits, "sha256:" allowed before it). -ENOENT, or -EINVAL when ambiguous.
 */
int imagestore_resolve(struct imagestore *s, const char *ref, char fp[IMAGE_FP_LEN + 1],
                       struct vk_error *err) VK_MUST_CHECK;
/* Every image, by creation time. Free with imagestore_rows_free. */
int imagestore_list(struct imagestore *s, struct image_row **out, size_t *n,
                    struct vk_error *err) VK_MUST_CHECK;
void imagestore_row_free(struct image_row *r);
void imagestore_rows_free(struct image_row *rows, size_t n);
/* The image and its aliases; -EBUSY when instances use it, -ENOENT. */
int imagestore_delete(struct imagestore *s, const char *fingerprint,
                      struct vk_error *err) VK_MUST_CHECK;

int imagestore_alias_add(struct imagestore *s, const char *alias, const char *fingerprint,
                         struct vk_error *err) VK_MUST_CHECK;
int imagestore_alias_del(struct imagestore *s, const char *alias,
                         struct vk_error *err) VK_MUST_CHECK;
/* The image an alias names: 0 with fp set, or -ENOENT. */
int imagestore_alias_target(struct imagestore *s, const char *alias, char fp[IMAGE_FP_LEN + 1]);
/* Every alias: parallel arrays (free each string and the arrays). */
int imagestore_alias_list(struct imagestore *s, char ***aliases, char ***targets, size_t *n,
                          struct vk_error *err) VK_MUST_CHECK;

int imagestore_user_add(struct imagestore *s, const struct image_user *u,
                        struct vk_error *err) VK_MUST_CHECK;
int imagestore_user_del(struct imagestore *s, const char *instance,
                        struct vk_error *err) VK_MUST_CHECK;
/* The users of one image (fingerprint), or of all (NULL). Free with free(). */
int imagestore_users(struct imagestore *s, const char *fingerprint, struct image_user **out,
                     size_t *n, struct vk_error *err) VK_MUST_CHECK;

#endif
