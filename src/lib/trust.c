/* SPDX-License-Identifier: MIT */
/* libvirtkit: the daemon's trust store (client certificates and join tokens of its TLS listener). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

char *virtkit_trust_list(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0/trust", NULL, NULL, 0, NULL, err);
}

/* A JSON object of up to two string members; a NULL value is left out. */
static char *body_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
	json_object *o = json_object_new_object();
	char *s;

	if (v1)
		json_object_object_add(o, k1, json_object_new_string(v1));
	if (v2)
		json_object_object_add(o, k2, json_object_new_string(v2));
	s = strdup(json_object_to_json_string_ext(o, VK_JSON_FLAGS));
	json_object_put(o);
	return s;
}

/* A string field of a JSON reply (body consumed), copied into out. */
static int reply_field(char *body, const char *key, char *out, size_t len, virtkit_error **err)
{
	json_object *o = body ? json_tokener_parse(body) : NULL, *v;
	int r = -1;

	if (!body)
		return -1;
	if (o && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string)) {
		if (out)
			snprintf(out, len, "%s", json_object_get_string(v));
		r = 0;
	} else {
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon's answer has no '%s'", key);
	}
	json_object_put(o);
	free(body);
	return r;
}

int virtkit_trust_add(virtkit_conn *conn, const char *pem, const char *name, char *fingerprint,
                      virtkit_error **err)
{
	char *body, *resp;

	if (!pem || !name) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "a certificate and a name are needed");
		return -1;
	}
	body = body_of("certificate", pem, "name", name);
	if (!body) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	resp = vkl_call(conn, "POST", "/1.0/trust", NULL, body, strlen(body), NULL, err);
	free(body);
	return reply_field(resp, "fingerprint", fingerprint, VIRTKIT_FINGERPRINT_SIZE, err);
}

int virtkit_trust_remove(virtkit_conn *conn, const char *fingerprint, virtkit_error **err)
{
	char path[128], *resp;

	if (!fingerprint || strlen(fingerprint) < 8 || strlen(fingerprint) > 64 ||
	    strspn(fingerprint, "0123456789abcdef") != strlen(fingerprint)) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "name a certificate by its fingerprint (at least its first 8 lower-case "
		          "hex digits)");
		return -1;
	}
	snprintf(path, sizeof(path), "/1.0/trust/%s", fingerprint);
	resp = vkl_call(conn, "DELETE", path, NULL, NULL, 0, NULL, err);
	free(resp);
	return resp ? 0 : -1;
}

char *virtkit_trust_token(virtkit_conn *conn, const char *name, int64_t expires_s,
                          virtkit_error **err)
{
	json_object *o = json_object_new_object();
	char *body, *resp, token[256];

	json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
	if (expires_s > 0)
		json_object_object_add(o, "expires", json_object_new_int64(expires_s));
	body = strdup(json_object_to_json_string_ext(o, VK_JSON_FLAGS));
	json_object_put(o);
	if (!body) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	resp = vkl_call(conn, "POST", "/1.0/trust/tokens", NULL, body, strlen(body), NULL, err);
	free(body);
	if (reply_field(resp, "token", token, sizeof(token), err) < 0)
		return NULL;
	return strdup(token);
}

int virtkit_trust_token_remove(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *e = name && *name ? vkl_escape(name) : NULL, path[256], *resp;

	if (!e || strlen(e) > 200) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid token name");
		return -1;
	}
	snprintf(path, sizeof(path), "/1.0/trust/tokens/%s", e);
	free(e);
	resp = vkl_call(conn, "DELETE", path, NULL, NULL, 0, NULL, err);
	free(resp);
	return resp ? 0 : -1;
}
