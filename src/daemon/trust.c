/* SPDX-License-Identifier: MIT */
/*
 * The trust store (see trust.h). Every change builds the new file from the
 * in-memory lists and replaces the old one (temp + fsync + rename) before
 * the change is made visible in memory, so a failed write changes nothing.
 * The file is read once at start-up; it is ours alone (the daemon holds the
 * state folder's lock).
 */
#include "daemon/trust.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "common/util.h"

#define TRUST_FILE_MAX   (16u << 20)
#define TRUST_CERTS_MAX  4096
#define TRUST_TOKENS_MAX 256

struct trusted_cert {
	char fp[VK_FINGERPRINT_LEN + 1];
	char name[TRUST_NAME_MAX + 1];
	char *pem;
	struct vk_x509_info info;
	int64_t added;
};

struct join_token {
	char name[TRUST_NAME_MAX + 1];
	char hash[VK_FINGERPRINT_LEN + 1]; /* SHA-256 of the secret's hex text */
	int64_t created, expires;
};

struct trust {
	pthread_mutex_t lock;
	char *path;
	struct trusted_cert *certs;
	size_t ncerts;
	struct join_token *tokens;
	size_t ntokens;
};

bool trust_name_valid(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > TRUST_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.@", name[i]))
			return false;
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

static void hash_secret(const char *secret, char *out)
{
	vk_x509_fingerprint_der(secret, strlen(secret), out); /* SHA-256, hex */
}

/* Constant-time comparison of two equal-length hex strings. */
static bool same_hash(const char *a, const char *b)
{
	unsigned char d = 0;

	for (size_t i = 0; i < VK_FINGERPRINT_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static json_object *to_json(const struct trust *t, bool secrets)
{
	json_object *o = json_object_new_object(), *certs = json_object_new_array();
	json_object *tokens = json_object_new_array();

	for (size_t i = 0; i < t->ncerts; i++) {
		const struct trusted_cert *c = &t->certs[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "fingerprint", json_object_new_string(c->fp));
		json_object_object_add(e, "name", json_object_new_string(c->name));
		json_object_object_add(e, "added", json_object_new_int64(c->added));
		if (secrets) {
			json_object_object_add(e, "certificate", json_object_new_string(c->pem));
		} else {
			json_object_object_add(e, "subject",
			                       json_object_new_string(c->info.subject));
			json_object_object_add(e, "not_after",
			                       json_object_new_int64(c->info.not_after));
		}
		json_object_array_add(certs, e);
	}
	for (size_t i = 0; i < t->ntokens; i++) {
		const struct join_token *k = &t->tokens[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(k->name));
		if (secrets)
			json_object_object_add(e, "sha256", json_object_new_string(k->hash));
		json_object_object_add(e, "created", json_object_new_int64(k->created));
		json_object_object_add(e, "expires_at", json_object_new_int64(k->expires));
		json_object_array_add(tokens, e);
	}
	json_object_object_add(o, "certificates", certs);
	json_object_object_add(o, "tokens", tokens);
	return o;
}

static int save(const struct trust *t, struct vk_error *err)
{
	json_object *o = to_json(t, true);
	size_t len;
	const char *s = json_object_to_json_string_length(
	        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int r = vk_write_file_atomic(t->path, s, len, 0600, err);

	json_object_put(o);
	return r;
}

static const char *str_field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	               ? json_object_get_string(v)
	               : NULL;
}

static int64_t int_field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static int load_cert(struct trust *t, json_object *e, struct vk_error *err)
{
	const char *pem = str_field(e, "certificate"), *name = str_field(e, "name");
	struct trusted_cert *c = &t->certs[t->ncerts];
	int r;

	if (!pem || !name || !trust_name_valid(name))
		return vk_error_set(err, EINVAL, "'%s': a certificate entry lacks its name or PEM",
		                    t->path);
	/* The fingerprint is computed again: the file's copy is not believed. */
	if ((r = vk_x509_fingerprint_pem(pem, strlen(pem), c->fp, NULL, NULL, err)) < 0 ||
	    (r = vk_x509_info_pem(pem, strlen(pem), &c->info, err)) < 0)
		return vk_error_prefix(err, "'%s': certificate '%s'", t->path, name);
	c->pem = strdup(pem);
	if (!c->pem)
		return vk_error_set(err, ENOMEM, "out of memory");
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->added = int_field(e, "added");
	t->ncerts++;
	return 0;
}

static int load(struct trust *t, struct vk_error *err)
{
	json_object *o, *certs, *tokens;
	uint8_t *buf;
	size_t len, i;
	int r;

	r = vk_read_file(t->path, TRUST_FILE_MAX, &buf, &len, err);
	if (r == -ENOENT) {
		vk_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	o = json_tokener_parse((const char *)buf);
	free(buf);
	if (!o || !json_object_object_get_ex(o, "certificates", &certs) ||
	    !json_object_is_type(certs, json_type_array) ||
	    !json_object_object_get_ex(o, "tokens", &tokens) ||
	    !json_object_is_type(tokens, json_type_array) ||
	    json_object_array_length(certs) > TRUST_CERTS_MAX ||
	    json_object_array_length(tokens) > TRUST_TOKENS_MAX) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "the trust store '%s' is not valid", t->path);
	}
	t->certs = calloc(TRUST_CERTS_MAX, sizeof(*t->certs));
	t->tokens = calloc(TRUST_TOKENS_MAX, sizeof(*t->tokens));
	if (!t->certs || !t->tokens) {
		json_object_put(o);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	for (i = 0; i < json_object_array_length(certs) && r == 0; i++)
		r = load_cert(t, json_object_array_get_idx(certs, i), err);
	for (i = 0; i < json_object_array_length(tokens) && r == 0; i++) {
		json_object *e = json_object_array_get_idx(tokens, i);
		const char *name = str_field(e, "name"), *h = str_field(e, "sha256");
		struct join_token *k = &t->tokens[t->ntokens];

		if (!name || !trust_name_valid(name) || !h || strlen(h) != VK_FINGERPRINT_LEN ||
		    !is_hex(h, VK_FINGERPRINT_LEN)) {
			r = vk_error_set(err, EINVAL, "'%s': a token entry is not valid", t->path);
			break;
		}
		snprintf(k->name, sizeof(k->name), "%s", name);
		memcpy(k->hash, h, sizeof(k->hash));
		k->created = int_field(e, "created");
		k->expires = int_field(e, "expires_at");
		t->ntokens++;
	}
	json_object_put(o);
	return r;
}

int trust_open(const char *path, struct trust **out, struct vk_error *err)
{
	struct trust *t = calloc(1, sizeof(*t));
	int r;

	if (!t || !(t->path = strdup(path))) {
		free(t);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&t->lock, NULL);
	if ((r = load(t, err)) == 0 && !t->certs) {
		t->certs = calloc(TRUST_CERTS_MAX, sizeof(*t->certs));
		t->tokens = calloc(TRUST_TOKENS_MAX, sizeof(*t->tokens));
		if (!t->certs || !t->tokens)
			r = vk_error_set(err, ENOMEM, "out of memory");
	}
	if (r < 0) {
		trust_close(t);
		return r;
	}
	*out = t;
	return 0;
}

void trust_close(struct trust *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncerts; i++)
		free(t->certs[i].pem);
	free(t->certs);
	free(t->tokens);
	free(t->path);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct trusted_cert *find_cert(struct trust *t, const char *fp)
{
	for (size_t i = 0; i < t->ncerts; i++)
		if (strcmp(t->certs[i].fp, fp) == 0)
			return &t->certs[i];
	return NULL;
}

bool trust_check(struct trust *t, const char *fp, char *name, size_t name_len)
{
	struct trusted_cert *c;
	int64_t now = (int64_t)time(NULL);
	bool ok = false;

	if (!t || !fp || strlen(fp) != VK_FINGERPRINT_LEN)
		return false;
	pthread_mutex_lock(&t->lock);
	c = find_cert(t, fp);
	if (c && now >= c->info.not_before && now <= c->info.not_after) {
		ok = true;
		if (name)
			snprintf(name, name_len, "%s", c->name);
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* Under the lock: append c (its pem is taken over on success) and save. */
static int append_locked(struct trust *t, struct trusted_cert *c, struct vk_error *err)
{
	int r;

	if (find_cert(t, c->fp))
		return vk_error_set(err, EEXIST,
		                    "the certificate %.16s... is trusted already (as '%s')", c->fp,
		                    find_cert(t, c->fp)->name);
	if (t->ncerts == TRUST_CERTS_MAX)
		return vk_error_set(err, ENOSPC, "the trust store is full (%d certificates)",
		                    TRUST_CERTS_MAX);
	t->certs[t->ncerts++] = *c;
	if ((r = save(t, err)) < 0)
		t->ncerts--;
	return r;
}

static int make_entry(const char *pem, size_t len, const char *name, struct trusted_cert *c,
                      struct vk_error *err)
{
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(c, 0, sizeof(*c));
	if (!trust_name_valid(name))
		return vk_error_set(err, EINVAL,
		                    "a trusted certificate's name must be 1 to %d letters, digits, "
		                    "'-', '_', '.' or '@', starting with a letter or digit",
		                    TRUST_NAME_MAX);
	if ((r = vk_x509_fingerprint_pem(pem, len, c->fp, NULL, NULL, err)) < 0 ||
	    (r = vk_x509_info_pem(pem, len, &c->info, err)) < 0)
		return r;
	if (now > c->info.not_after)
		return vk_error_set(err, EINVAL, "the certificate expired (not after %lld)",
		                    (long long)c->info.not_after);
	c->pem = strndup(pem, len);
	if (!c->pem)
		return vk_error_set(err, ENOMEM, "out of memory");
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->added = now;
	return 0;
}

int trust_add(struct trust *t, const char *pem, size_t len, const char *name, char *fp,
              struct vk_error *err)
{
	struct trusted_cert c;
	int r;

	if ((r = make_entry(pem, len, name, &c, err)) < 0)
		return r;
	pthread_mutex_lock(&t->lock);
	r = append_locked(t, &c, err);
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		free(c.pem);
		return r;
	}
	memcpy(fp, c.fp, sizeof(c.fp));
	return 0;
}

int trust_remove(struct trust *t, const char *key, char *fp, struct vk_error *err)
{
	size_t n = strlen(key), i, hit = 0, hits = 0;
	struct trusted_cert gone;
	int r;

	if (n < 8 || n > VK_FINGERPRINT_LEN || !is_hex(key, n))
		return vk_error_set(err, EINVAL,
		                    "name a certificate by its fingerprint (at least its first 8 "
		                    "lower-case hex digits)");
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->ncerts; i++)
		if (strncmp(t->certs[i].fp, key, n) == 0) {
			hit = i;
			hits++;
		}
	if (hits != 1) {
		pthread_mutex_unlock(&t->lock);
		return hits ? vk_error_set(err, EINVAL,
		                           "'%s' starts %zu trusted fingerprints: give more digits",
		                           key, hits)
		            : vk_error_set(err, ENOENT,
		                           "no trusted certificate has fingerprint '%s'", key);
	}
	gone = t->certs[hit];
	memmove(&t->certs[hit], &t->certs[hit + 1], (t->ncerts - hit - 1) * sizeof(*t->certs));
	t->ncerts--;
	if ((r = save(t, err)) < 0) {
		memmove(&t->certs[hit + 1], &t->certs[hit], (t->ncerts - hit) * sizeof(*t->certs));
		t->certs[hit] = gone;
		t->ncerts++;
	}
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		return r;
	memcpy(fp, gone.fp, sizeof(gone.fp));
	free(gone.pem);
	return 0;
}

json_object *trust_list(struct trust *t)
{
	json_object *o;

	pthread_mutex_lock(&t->lock);
	o = to_json(t, false);
	pthread_mutex_unlock(&t->lock);
	return o;
}

/* Under the lock: forget expired tokens (saved with the next change). */
static void drop_expired_locked(struct trust *t, int64_t now)
{
	size_t i = 0;

	while (i < t->ntokens) {
		if (t->tokens[i].expires < now) {
			memmove(&t->tokens[i], &t->tokens[i + 1],
			        (t->ntokens - i - 1) * sizeof(*t->tokens));
			t->ntokens--;
		} else {
			i++;
		}
	}
}

int trust_token_create(struct trust *t, const char *name, int64_t ttl_s, char *secret,
                       int64_t *expires_at, struct vk_error *err)
{
	int64_t now = (int64_t)time(NULL);
	struct join_token *k;
	int r;

	if (!trust_name_valid(name))
		return vk_error_set(err, EINVAL,
		                    "a token's name must be 1 to %d letters, digits, '-', '_', '.' "
		                    "or '@', starting with a letter or digit",
		                    TRUST_NAME_MAX);
	if (ttl_s < 1 || ttl_s > TRUST_TOKEN_TTL_MAX)
		return vk_error_set(err, EINVAL, "a token's lifetime must be 1 s to %d days",
		                    TRUST_TOKEN_TTL_MAX / 86400);
	if ((r = vk_random_hex(secret, TRUST_SECRET_BYTES)) < 0)
		return vk_error_errno(err, -r, "cannot make a random secret");
	pthread_mutex_lock(&t->lock);
	drop_expired_locked(t, now);
	for (size_t i = 0; i < t->ntokens; i++)
		if (strcmp(t->tokens[i].name, name) == 0) {
			pthread_mutex_unlock(&t->lock);
			return vk_error_set(err, EEXIST, "a token named '%s' is waiting already",
			                    name);
		}
	if (t->ntokens == TRUST_TOKENS_MAX) {
		pthread_mutex_unlock(&t->lock);
		return vk_error_set(err, ENOSPC, "too many unspent tokens (%d)", TRUST_TOKENS_MAX);
	}
	k = &t->tokens[t->ntokens++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	hash_secret(secret, k->hash);
	k->created = now;
	k->expires = now + ttl_s;
	if ((r = save(t, err)) < 0)
		t->ntokens--;
	else
		*expires_at = k->expires;
	pthread_mutex_unlock(&t->lock);
	return r;
}

int trust_token_redeem(struct trust *t, const char *secret, const void *der, size_t der_len,
                       char *name, size_t name_len, char *fp, struct vk_error *err)
{
	int64_t now = (int64_t)time(NULL);
	char h[VK_FINGERPRINT_LEN + 1], *pem = vk_x509_der_to_pem(der, der_len);
	struct trusted_cert c;
	struct join_token k;
	size_t i, n;
	int r;

	if (!pem)
		return vk_error_set(err, EINVAL, "the client's certificate cannot be read");
	n = strlen(secret);
	if (n != 2 * TRUST_SECRET_BYTES || !is_hex(secret, n)) {
		free(pem);
		return vk_error_set(err, EACCES, "the token is not valid");
	}
	hash_secret(secret, h);
	pthread_mutex_lock(&t->lock);
	drop_expired_locked(t, now);
	for (i = 0; i < t->ntokens; i++)
		if (same_hash(t->tokens[i].hash, h))
			break;
	if (i == t->ntokens) {
		pthread_mutex_unlock(&t->lock);
		free(pem);
		return vk_error_set(err, EACCES, "the token is not valid (wrong, used or expired)");
	}
	k = t->tokens[i];
	r = make_entry(pem, strlen(pem), k.name, &c, err);
	free(pem);
	if (r == 0) {
		/* Token out and certificate in, in one write. */
		memmove(&t->tokens[i], &t->tokens[i + 1], (t->ntokens - i - 1) * sizeof(k));
		t->ntokens--;
		r = append_locked(t, &c, err);
		if (r < 0) {
			memmove(&t->tokens[i + 1], &t->tokens[i], (t->ntokens - i) * sizeof(k));
			t->tokens[i] = k;
			t->ntokens++;
			free(c.pem);
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		return r;
	snprintf(name, name_len, "%s", k.name);
	memcpy(fp, c.fp, sizeof(c.fp));
	return 0;
}

int trust_token_remove(struct trust *t, const char *name, struct vk_error *err)
{
	size_t i;
	struct join_token k;
	int r;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->ntokens; i++)
		if (strcmp(t->tokens[i].name, name) == 0)
			break;
	if (i == t->ntokens) {
		pthread_mutex_unlock(&t->lock);
		return vk_error_set(err, ENOENT, "no unspent token is named '%s'", name);
	}
	k = t->tokens[i];
	memmove(&t->tokens[i], &t->tokens[i + 1], (t->ntokens - i - 1) * sizeof(k));
	t->ntokens--;
	if ((r = save(t, err)) < 0) {
		memmove(&t->tokens[i + 1], &t->tokens[i], (t->ntokens - i) * sizeof(k));
		t->tokens[i] = k;
		t->ntokens++;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}
