/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit internals: the connection (one libcurl easy handle reused for
 * keep-alive, behind a mutex), the error object and response helpers shared
 * by conn.c, instance.c and stream.c.
 */
#ifndef VIRTKIT_LIB_PRIVATE_H
#define VIRTKIT_LIB_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "virtkit/virtkit.h"

#define VK_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct virtkit_error {
	enum virtkit_error_kind kind;
	int status;
	char msg[512];
};

/*
 * A connection: to the unix socket (url NULL), or to a TLS listener at url
 * ("https://HOST:PORT") trusting exactly the certificate in server_cert
 * (pinned: pin is its public key for libcurl) and presenting
 * client_cert/client_key.
 */
struct virtkit_conn {
	char *socket; /* the unix socket, or the url (for messages) */
	char *url;
	char *server_cert, *client_cert, *client_key;
	char pin[80];
	CURL *curl;
	pthread_mutex_t lock;
};

struct virtkit_instance {
	json_object *obj;
	char *json;
	bool updated; /* a define with VIRTKIT_DEFINE_UPDATE replaced a definition */
};

void vkl_error(virtkit_error **err, enum virtkit_error_kind kind, int status, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* The daemon's error message from a JSON error body, or a generic sentence. */
void vkl_api_error(virtkit_error **err, int status, const char *body);

/* A request that must answer 2xx; the body on success (caller frees). */
char *vkl_call(virtkit_conn *conn, const char *method, const char *path, const char *ctype,
               const char *body, size_t len, size_t *resp_len, virtkit_error **err);

/* Percent-encode a path segment or query value (malloc'd). */
char *vkl_escape(const char *s);

/* Connect a fresh libcurl handle in CONNECT_ONLY mode to the daemon's socket. */
CURL *vkl_raw_connect(virtkit_conn *conn, virtkit_error **err);

/* Point a libcurl handle at the daemon (unix socket or TLS) for path ("/1.0/..."); -1 when too long. */
int vkl_target(virtkit_conn *conn, CURL *c, const char *path);

/* The error for a transfer that failed with rc (connection refused, TLS, ...). */
void vkl_transfer_error(virtkit_conn *conn, CURL *c, CURLcode rc, virtkit_error **err);

/* libcurl's global set-up, once per process. */
void vkl_curl_init(void);

/* The remote name's connection (remote.c); check: ask GET /1.0 first, as virtkit_connect(). */
virtkit_conn *vkl_conn_remote(const char *name, bool check, virtkit_error **err);

/* A new TLS connection object (not yet checked); see virtkit_connect_tls(). */
virtkit_conn *vkl_conn_tls(const char *url, const char *server_cert, const char *client_cert,
                           const char *client_key, virtkit_error **err);

virtkit_instance *vkl_instance_from_json(json_object *o);

#endif
