/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of virtkitd: libmicrohttpd on a unix socket we create (no TCP
 * listener), one thread per connection (handlers may block on a job or an
 * event stream), peer-credential checks, request body limits, JSON replies
 * and JSON errors {"error":{"code":STATUS,"message":"..."}}. The transport
 * knows no route: it hands each complete request to the handler it was
 * started with.
 */
#ifndef VKD_HTTP_H
#define VKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
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
