/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of virtkitd: libmicrohttpd on a unix socket we create and,
 * when asked (--listen), on a TLS socket (http-tls.c); one thread per
 * connection (handlers may block on a job or an event stream), peer-credential
 * checks on the unix socket, the client certificate's fingerprint over TLS,
 * request body limits, JSON replies and JSON errors
 * {"error":{"code":STATUS,"message":"..."}}. The transport knows no route:
 * it hands each complete request to the handler its listener was started with.
 */
#ifndef VKD_HTTP_H
#define VKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "common/error.h"
#include "daemon/router.h"

struct http_req {
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	char *body;
	size_t len, cap;
	bool responded;
	struct route_match m;
	/* Over TLS: true, and the SHA-256 fingerprint of the client's certificate ("" without one). */
	bool tls;
	char fingerprint[65];
};

/* Where and for whom to serve (main.c hands it down; copied by http_start()). */
struct http_config {
	const char *socket_path;
	gid_t socket_gid; /* (gid_t)-1: no group besides root and our own user */
	mode_t socket_mode;
	size_t max_body; /* bytes */
};

/* Answers one complete request (the API: api_dispatch()). */
typedef enum MHD_Result (*http_handler)(void *opaque, struct http_req *req);

int http_start(const struct http_config *cfg, http_handler handler, void *opaque,
               struct vk_error *err) VK_MUST_CHECK;
/* Stop accepting, close every connection, join the threads. */
void http_stop(void);

/* The TLS listener (http-tls.c). */
struct http_tls_config {
	const char *address; /* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address); port 0: any */
	const char *cert_pem, *key_pem;
	size_t max_body;
};

/*
 * Listen with TLS 1.2 or 1.3, asking every client for a certificate without
 * requiring one (the handler decides what a request without a trusted one
 * gets). bound gets "HOST:PORT" as bound (the port chosen for port 0).
 */
int http_tls_start(const struct http_tls_config *cfg, http_handler handler, void *opaque,
                   char *bound, size_t bound_len, struct vk_error *err) VK_MUST_CHECK;
void http_tls_stop(void);
/*
 * Cut every TLS connection whose client presented the certificate fp, streams
 * and all (a revoked certificate stops working at once). Returns how many.
 */
int http_tls_disconnect(const char *fp);
/* The certificate the TLS client presented, DER (malloc'd); -ENOENT without one. */
int http_tls_peer_certificate(struct MHD_Connection *c, uint8_t **der, size_t *len);

/* Replies: each queues a response and returns MHD's result. json is consumed. */
enum MHD_Result http_json(struct MHD_Connection *c, unsigned status, json_object *json);
/* The same with one more header (hdr may be NULL). */
enum MHD_Result http_json_hdr(struct MHD_Connection *c, unsigned status, json_object *json,
                              const char *hdr, const char *value);
/* The error object {"error":{"code":STATUS,"message":MSG}}. */
json_object *http_error_json(unsigned status, const char *msg);
enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
        VK_PRINTF(3, 4);
enum MHD_Result http_vk_error(struct MHD_Connection *c, const struct vk_error *err);
/* buf is copied. */
enum MHD_Result http_text(struct MHD_Connection *c, unsigned status, const char *type,
                          const char *buf, size_t len);
unsigned http_status_for(int code);

/* True when the request asks for "Connection: Upgrade" to protocol proto. */
bool http_wants_upgrade(struct MHD_Connection *c, const char *proto);
/* A query argument, or NULL. */
const char *http_arg(struct MHD_Connection *c, const char *key);

#endif
