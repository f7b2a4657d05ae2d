/* SPDX-License-Identifier: MIT */
/*
 * The REST API, version 1.0 (docs/api.md): routes each request of the HTTP
 * transport to the registry, the lifecycle and the store, and answers in
 * JSON. main.c starts the transport with api_dispatch() as its handler.
 */
#ifndef VKD_API_H
#define VKD_API_H

#include "daemon/http.h"

struct store;
struct vkd_paths;

/* Handed down by main.c before the transport starts; read-only afterwards. */
struct api_settings {
	struct store *store;
	const struct vkd_paths *paths; /* console logs, run folders */
	const char *vm_binary;         /* for GET /1.0 and /1.0/host */
	const char *oci_runtime;
	const char *shim; /* the shim program's path */
};

void api_init(const struct api_settings *s);

/* The transport's handler: route and answer one complete request. */
enum MHD_Result api_dispatch(void *opaque, struct http_req *req);

#endif
