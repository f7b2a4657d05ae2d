/* SPDX-License-Identifier: MIT */
/*
 * The trust routes (docs/api.md, "Remote access"): list, add and remove
 * trusted client certificates, make and withdraw join tokens, and the join
 * itself. A removal cuts the certificate's open TLS connections at once.
 *
 * A join token as the user sees it is "SECRET.FINGERPRINT": the one-time
 * secret and the fingerprint of this server's certificate, so that a client
 * given the token can check it talks to the right server before it sends
 * the secret (virtkit remote add --token).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/api-remote.h"
#include "daemon/def.h"
#include "daemon/trust.h"

#define TOKEN_TTL_DEFAULT 86400

static struct {
	struct trust *trust;
	char fp[VK_FINGERPRINT_LEN + 1];
} at;

void api_trust_init(struct trust *trust, const char *fingerprint)
{
	at.trust = trust;
	snprintf(at.fp, sizeof(at.fp), "%s", fingerprint);
}

/* The body as a JSON object whose keys are all in allowed[]. */
static int body_object(struct http_req *req, const char *const *allowed, json_object **out,
                       struct vk_error *err)
{
	json_object *o;
	int r;

	if (req->len == 0)
		return vk_error_set(err, EINVAL, "the request needs a JSON object body");
	if ((r = def_parse_json(req->body, req->len, &o, err)) < 0)
		return r;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL, "the request body must be a JSON object");
	}
	json_object_object_foreach(o, key, val)
	{
		const char *const *a;
		bool ok = false;

		(void)val;
		for (a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			r = vk_error_set(err, EINVAL, "unknown field '%.64s' in the request", key);
			json_object_put(o);
			return r;
		}
	}
	*out = o;
	return 0;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	               ? json_object_get_string(v)
	               : NULL;
}

static json_object *cert_reply(const char *fp, const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

static enum MHD_Result add_cert(struct http_req *req, json_object *o)
{
	struct vk_error err = {0};
	const char *pem = get_str(o, "certificate"), *name = get_str(o, "name");
	char fp[VK_FINGERPRINT_LEN + 1];

	if (!pem || !name)
		return http_error(
		        req->conn, MHD_HTTP_BAD_REQUEST,
		        "adding a certificate needs {\"certificate\": PEM, \"name\": NAME}");
	if (trust_add(at.trust, pem, strlen(pem), name, fp, &err) < 0)
		return http_vk_error(req->conn, &err);
	vk_info("trusted certificate %.16s... as '%s'", fp, name);
	return http_json(req->conn, MHD_HTTP_CREATED, cert_reply(fp, name));
}

enum MHD_Result api_trust_join(struct http_req *req)
{
	static const char *const keys[] = {"token", NULL};
	struct vk_error err = {0};
	char fp[VK_FINGERPRINT_LEN + 1], name[TRUST_NAME_MAX + 1], secret[80];
	const char *token, *dot;
	json_object *o;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int r;

	if (body_object(req, keys, &o, &err) < 0)
		return http_vk_error(req->conn, &err);
	token = get_str(o, "token");
	if (!token) {
		json_object_put(o);
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "joining needs {\"token\": TOKEN}");
	}
	/* SECRET or SECRET.FINGERPRINT: a token for another server is refused as such. */
	dot = strchr(token, '.');
	if (dot && strcmp(dot + 1, at.fp) != 0) {
		json_object_put(o);
		return http_error(req->conn, MHD_HTTP_FORBIDDEN,
		                  "the token was made by another server (its fingerprint is not "
		                  "this server's)");
	}
	snprintf(secret, sizeof(secret), "%.*s", dot ? (int)(dot - token) : (int)strlen(token),
	         token);
	json_object_put(o);
	if (!req->tls || http_tls_peer_certificate(req->conn, &der, &der_len) < 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "a token trusts the client certificate presented over TLS: this "
		                  "request came without one");
	r = trust_token_redeem(at.trust, secret, der, der_len, name, sizeof(name), fp, &err);
	free(der);
	if (r < 0) {
		vk_info("refused a join token from a client with certificate %.16s...: %s",
		        req->fingerprint, err.msg);
		return http_vk_error(req->conn, &err);
	}
	vk_info("trusted certificate %.16s... as '%s' (join token)", fp, name);
	return http_json(req->conn, MHD_HTTP_CREATED, cert_reply(fp, name));
}

static enum MHD_Result post_trust(struct http_req *req)
{
	static const char *const keys[] = {"certificate", "name", "token", NULL};
	struct vk_error err = {0};
	enum MHD_Result mr;
	json_object *o;

	if (body_object(req, keys, &o, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (json_object_object_get_ex(o, "token", NULL)) {
		json_object_put(o);
		return api_trust_join(req);
	}
	mr = add_cert(req, o);
	json_object_put(o);
	return mr;
}

static enum MHD_Result remove_cert(struct http_req *req)
{
	struct vk_error err = {0};
	char fp[VK_FINGERPRINT_LEN + 1];
	json_object *o;
	int n;

	if (trust_remove(at.trust, req->m.key, fp, &err) < 0)
		return http_vk_error(req->conn, &err);
	n = http_tls_disconnect(fp);
	vk_info("no longer trusting certificate %.16s... (%d connection%s cut)", fp, n,
	        n == 1 ? "" : "s");
	o = json_object_new_object();
	json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	json_object_object_add(o, "disconnected", json_object_new_int(n));
	return http_json(req->conn, MHD_HTTP_OK, o);
}

static enum MHD_Result make_token(struct http_req *req)
{
	static const char *const keys[] = {"name", "expires", NULL};
	struct vk_error err = {0};
	char secret[2 * TRUST_SECRET_BYTES + 1], token[sizeof(secret) + VK_FINGERPRINT_LEN + 2];
	int64_t ttl = TOKEN_TTL_DEFAULT, expires;
	json_object *o, *v, *reply;
	const char *name;

	if (body_object(req, keys, &o, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (json_object_object_get_ex(o, "expires", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			json_object_put(o);
			return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
			                  "'expires' must be a number of seconds");
		}
		ttl = json_object_get_int64(v);
	}
	name = get_str(o, "name");
	if (!name) {
		json_object_put(o);
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "a token needs {\"name\": NAME}: the name its certificate gets");
	}
	if (trust_token_create(at.trust, name, ttl, secret, &expires, &err) < 0) {
		json_object_put(o);
		return http_vk_error(req->conn, &err);
	}
	snprintf(token, sizeof(token), "%s.%s", secret, at.fp);
	reply = json_object_new_object();
	json_object_object_add(reply, "name", json_object_new_string(name));
	json_object_object_add(reply, "token", json_object_new_string(token));
	json_object_object_add(reply, "expires_at", json_object_new_int64(expires));
	vk_info("made join token '%s' (expires in %lld s)", name, (long long)ttl);
	json_object_put(o);
	return http_json(req->conn, MHD_HTTP_CREATED, reply);
}

static enum MHD_Result remove_token(struct http_req *req)
{
	struct vk_error err = {0};
	json_object *o;

	if (trust_token_remove(at.trust, req->m.key, &err) < 0)
		return http_vk_error(req->conn, &err);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(req->m.key));
	return http_json(req->conn, MHD_HTTP_OK, o);
}

enum MHD_Result api_trust(struct http_req *req)
{
	if (!at.trust)
		return http_error(req->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no trust store");
	switch (req->m.id) {
	case ROUTE_TRUST:
		if (strcmp(req->method, "GET") == 0)
			return http_json(req->conn, MHD_HTTP_OK, trust_list(at.trust));
		return post_trust(req);
	case ROUTE_TRUST_CERT:
		return remove_cert(req);
	case ROUTE_TRUST_TOKENS:
		return make_token(req);
	case ROUTE_TRUST_TOKEN:
		return remove_token(req);
	default:
		return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
	}
}
