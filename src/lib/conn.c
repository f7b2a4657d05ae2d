/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit: connections and requests over libcurl (HTTP/1.1 on the
 * daemon's unix socket, CURLOPT_UNIX_SOCKET_PATH, or on its TLS listener
 * with a client certificate and the server's certificate pinned), and the
 * error object.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/x509.h"
#include "private.h"

#define RESP_MAX    (64u << 20)
#define REQ_TIMEOUT 600L /* the daemon bounds every operation; this is a last resort */

/* --- errors ----------------------------------------------------------------- */

void vkl_error(virtkit_error **err, enum virtkit_error_kind kind, int status, const char *fmt, ...)
{
	virtkit_error *e;
	va_list ap;

	if (!err)
		return;
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = NULL;
		return;
	}
	e->kind = kind;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	*err = e;
}

void vkl_api_error(virtkit_error **err, int status, const char *body)
{
	json_object *o = body ? json_tokener_parse(body) : NULL, *e, *m;

	if (o && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
		vkl_error(err, VIRTKIT_ERR_API, status, "%s", json_object_get_string(m));
	else
		vkl_error(err, VIRTKIT_ERR_API, status, "the daemon answered HTTP status %d",
		          status);
	json_object_put(o);
}

const char *virtkit_error_message(const virtkit_error *e)
{
	return e ? e->msg : "unknown error";
}

enum virtkit_error_kind virtkit_error_kind(const virtkit_error *e)
{
	return e ? e->kind : VIRTKIT_ERR_SYSTEM;
}

int virtkit_error_status(const virtkit_error *e)
{
	return e ? e->status : 0;
}

void virtkit_error_free(virtkit_error *e)
{
	free(e);
}

/* --- connection -------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vkl_curl_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

const char *virtkit_default_socket(void)
{
	const char *e = getenv("VIRTKIT_SOCKET");
	return e && *e ? e : VIRTKIT_DEFAULT_SOCKET;
}

const char *virtkit_conn_socket(const virtkit_conn *conn)
{
	return conn->socket;
}

char *vkl_escape(const char *s)
{
	CURL *c = curl_easy_init();
	char *e = c ? curl_easy_escape(c, s, 0) : NULL, *r = e ? strdup(e) : NULL;

	curl_free(e);
	curl_easy_cleanup(c);
	return r;
}

struct buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static size_t on_write(char *data, size_t size, size_t n, void *opaque)
{
	struct buf *b = opaque;
	size_t len = size * n;

	if (b->len + len + 1 > RESP_MAX) {
		b->overflow = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

void vkl_transfer_error(virtkit_conn *conn, CURL *c, CURLcode rc, virtkit_error **err)
{
	long oserr = 0;

	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		vkl_error(err, VIRTKIT_ERR_CONNECT, 0,
		          "cannot connect to virtkitd at '%s': %s (is the daemon running, and may "
		          "this user use its socket?)",
		          conn->socket, oserr ? strerror((int)oserr) : curl_easy_strerror(rc));
	else if (conn->url &&
	         (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_PEER_FAILED_VERIFICATION))
		vkl_error(err, VIRTKIT_ERR_CONNECT, 0,
		          "the server at '%s' does not present the certificate this client trusts "
		          "for it (%s): a different server, or its certificate was made anew",
		          conn->socket, curl_easy_strerror(rc));
	else if (conn->url && (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM ||
	                       rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR))
		vkl_error(err, VIRTKIT_ERR_CONNECT, 0, "cannot connect to virtkitd at '%s': %s",
		          conn->socket, curl_easy_strerror(rc));
	else
		vkl_error(err,
		          rc == CURLE_OPERATION_TIMEDOUT ? VIRTKIT_ERR_SYSTEM
		                                         : VIRTKIT_ERR_PROTOCOL,
		          0, "request to virtkitd at '%s' failed: %s", conn->socket,
		          curl_easy_strerror(rc));
}

int vkl_target(virtkit_conn *conn, CURL *c, const char *path)
{
	char url[4096];

	if ((size_t)snprintf(url, sizeof(url), "%s%s", conn->url ? conn->url : "http://virtkit",
	                     path) >= sizeof(url))
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (!conn->url) {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, conn->socket);
		return 0;
	}
	/*
	 * Exactly the certificate given: it is the only trust anchor (no system
	 * CAs), and its public key is pinned besides. Its names do not matter
	 * (a server is often reached by an address its certificate cannot know).
	 */
	curl_easy_setopt(c, CURLOPT_CAINFO, conn->server_cert);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, conn->pin);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (conn->client_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, conn->client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, conn->client_key);
	}
	return 0;
}

int virtkit_request(virtkit_conn *conn, const char *method, const char *path,
                    const char *content_type, const char *body, size_t body_len, char **resp,
                    size_t *resp_len, int *status, virtkit_error **err)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = {0};
	char ct[128];
	CURLcode rc;
	long code = 0;
	CURL *c;

	if (!conn || !method || !path || path[0] != '/' || strlen(path) > 2048) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid request path");
		return -1;
	}
	pthread_mutex_lock(&conn->lock);
	c = conn->curl;
	curl_easy_reset(c); /* options only: the connection is kept alive */
	vkl_target(conn, c, path);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, REQ_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		         content_type ? content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (!body && strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		vkl_transfer_error(conn, c, b.overflow ? CURLE_FILESIZE_EXCEEDED : rc, err);
	pthread_mutex_unlock(&conn->lock);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		free(b.p);
		return -1;
	}
	if (!b.p)
		b.p = strdup("");
	if (!b.p) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	*resp = b.p;
	if (resp_len)
		*resp_len = b.len;
	*status = (int)code;
	return 0;
}

char *vkl_call(virtkit_conn *conn, const char *method, const char *path, const char *ctype,
               const char *body, size_t len, size_t *resp_len, virtkit_error **err)
{
	char *resp;
	int status;

	if (virtkit_request(conn, method, path, ctype, body, len, &resp, resp_len, &status, err) <
	    0)
		return NULL;
	if (status < 200 || status > 299) {
		vkl_api_error(err, status, resp);
		free(resp);
		return NULL;
	}
	return resp;
}

static virtkit_conn *conn_new(const char *where, virtkit_error **err)
{
	virtkit_conn *conn;

	pthread_once(&curl_once, curl_init_once);
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	conn->socket = strdup(where);
	conn->curl = curl_easy_init();
	pthread_mutex_init(&conn->lock, NULL);
	if (!conn->socket || !conn->curl) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		virtkit_disconnect(conn);
		return NULL;
	}
	return conn;
}

/* Ask GET /1.0 and check that a virtkitd answers (and, over TLS, that it trusts us). */
static virtkit_conn *conn_check(virtkit_conn *conn, virtkit_error **err)
{
	json_object *o, *v;
	char *info;

	info = vkl_call(conn, "GET", "/1.0", NULL, NULL, 0, NULL, err);
	if (!info) {
		virtkit_disconnect(conn);
		return NULL;
	}
	o = json_tokener_parse(info);
	free(info);
	if (!o || !json_object_object_get_ex(o, "api_version", NULL)) {
		json_object_put(o);
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "'%s' is not a virtkitd %s", conn->socket,
		          conn->url ? "listener" : "socket");
		virtkit_disconnect(conn);
		return NULL;
	}
	if (conn->url && json_object_object_get_ex(o, "auth", &v) &&
	    strcmp(json_object_get_string(v), "untrusted") == 0) {
		json_object_put(o);
		vkl_error(
		        err, VIRTKIT_ERR_API, 403,
		        "virtkitd at '%s' does not trust this client's certificate '%s' (on the "
		        "server: 'virtkit trust add' it, or make a join token with 'virtkit trust "
		        "token')",
		        conn->socket, conn->client_cert ? conn->client_cert : "(none)");
		virtkit_disconnect(conn);
		return NULL;
	}
	json_object_put(o);
	return conn;
}

virtkit_conn *virtkit_connect(const char *socket_path, virtkit_error **err)
{
	virtkit_conn *conn =
	        conn_new(socket_path && *socket_path ? socket_path : virtkit_default_socket(), err);

	return conn ? conn_check(conn, err) : NULL;
}

virtkit_conn *vkl_conn_tls(const char *url, const char *server_cert, const char *client_cert,
                           const char *client_key, virtkit_error **err)
{
	struct vk_error e = {0};
	virtkit_conn *conn;
	uint8_t *pem;
	size_t len;
	int r;

	if (!url || strncmp(url, "https://", 8) != 0 || strlen(url) > 1024 || !server_cert) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0,
		          "a remote daemon is reached at https://HOST:PORT with its certificate");
		return NULL;
	}
	if (vk_read_file(server_cert, 1 << 20, &pem, &len, &e) < 0) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "%s", e.msg);
		return NULL;
	}
	conn = conn_new(url, err);
	if (!conn) {
		free(pem);
		return NULL;
	}
	r = vk_x509_pin_pem((const char *)pem, len, conn->pin, sizeof(conn->pin), &e);
	free(pem);
	conn->url = strdup(url);
	conn->server_cert = strdup(server_cert);
	conn->client_cert = client_cert ? strdup(client_cert) : NULL;
	conn->client_key = client_key ? strdup(client_key) : NULL;
	/* "https://h:p/" and "https://h:p" are one server: paths are appended. */
	if (conn->url && conn->url[strlen(conn->url) - 1] == '/')
		conn->url[strlen(conn->url) - 1] = '\0';
	if (r < 0 || !conn->url || !conn->server_cert || (client_cert && !conn->client_cert) ||
	    (client_key && !conn->client_key)) {
		vkl_error(err, r < 0 ? VIRTKIT_ERR_INVALID : VIRTKIT_ERR_SYSTEM, 0, "%s",
		          r < 0 ? e.msg : "out of memory");
		virtkit_disconnect(conn);
		return NULL;
	}
	return conn;
}

virtkit_conn *virtkit_connect_tls(const char *url, const char *server_cert, const char *client_cert,
                                  const char *client_key, virtkit_error **err)
{
	virtkit_conn *conn = vkl_conn_tls(url, server_cert, client_cert, client_key, err);

	return conn ? conn_check(conn, err) : NULL;
}

void virtkit_disconnect(virtkit_conn *conn)
{
	if (!conn)
		return;
	if (conn->curl)
		curl_easy_cleanup(conn->curl);
	pthread_mutex_destroy(&conn->lock);
	free(conn->socket);
	free(conn->url);
	free(conn->server_cert);
	free(conn->client_cert);
	free(conn->client_key);
	free(conn);
}

char *virtkit_server_info(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0", NULL, NULL, 0, NULL, err);
}

CURL *vkl_raw_connect(virtkit_conn *conn, virtkit_error **err)
{
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	vkl_target(conn, c, "/");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		vkl_transfer_error(conn, c, rc, err);
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
}
