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

struct virtkit_conn {
	char *socket;
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

virtkit_instance *vkl_instance_from_json(json_object *o);

#endif
