/* SPDX-License-Identifier: MIT */
/*
 * The trust store of the TLS listener: the client certificates whose holders
 * may use the API over TLS (by SHA-256 fingerprint, with a name and the
 * certificate itself), and one-time join tokens that let a client add its own
 * certificate once. Kept in one JSON file of the state folder (mode 0600),
 * rewritten atomically at every change and held in memory behind a mutex: a
 * removal is seen by the next request. Tokens are stored as SHA-256 hashes
 * of their secrets, never the secrets themselves.
 */
#ifndef VKD_TRUST_H
#define VKD_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/x509.h"

#define TRUST_NAME_MAX      63
#define TRUST_SECRET_BYTES  16 /* a token's secret: 32 hex characters */
#define TRUST_TOKEN_TTL_MAX (30 * 86400)

struct trust;

/* Load (or start empty when the file does not exist). */
int trust_open(const char *path, struct trust **out, struct vk_error *err) VK_MUST_CHECK;
void trust_close(struct trust *t);

/*
 * Is the certificate with fingerprint fp trusted now (listed, and within its
 * validity)? Its name goes to name (may be NULL).
 */
bool trust_check(struct trust *t, const char *fp, char *name, size_t name_len);

/* Add a PEM certificate under name; fp gets its fingerprint. EEXIST when listed already. */
int trust_add(struct trust *t, const char *pem, size_t len, const char *name, char *fp,
              struct vk_error *err) VK_MUST_CHECK;

/*
 * Remove the certificate whose fingerprint is key or starts with key (at
 * least 8 hex characters, naming exactly one). fp gets the full fingerprint.
 */
int trust_remove(struct trust *t, const char *key, char *fp, struct vk_error *err) VK_MUST_CHECK;

/* {"certificates": [{fingerprint, name, subject, added, not_after}], "tokens": [{name, expires_at}]} */
json_object *trust_list(struct trust *t);

/*
 * A new join token named name, valid for ttl_s seconds: secret gets its
 * 2 * TRUST_SECRET_BYTES hex characters (shown once, kept as a hash).
 */
int trust_token_create(struct trust *t, const char *name, int64_t ttl_s, char *secret,
                       int64_t *expires_at, struct vk_error *err) VK_MUST_CHECK;

/*
 * Spend a token: when secret matches an unexpired one, the DER certificate
 * is trusted under the token's name (copied to name) and the token is gone,
 * both in one write. EACCES for a wrong, spent or expired secret.
 */
int trust_token_redeem(struct trust *t, const char *secret, const void *der, size_t der_len,
                       char *name, size_t name_len, char *fp, struct vk_error *err) VK_MUST_CHECK;

/* Withdraw an unspent token by name. */
int trust_token_remove(struct trust *t, const char *name, struct vk_error *err) VK_MUST_CHECK;

/* A certificate or token name: 1 to TRUST_NAME_MAX of A-Z a-z 0-9 - _ . @ */
bool trust_name_valid(const char *name);

#endif
