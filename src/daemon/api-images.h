/* SPDX-License-Identifier: MIT */
/* The images endpoints, /1.0/images... (api-images.c; the work is in images.h). */
#ifndef VKD_API_IMAGES_H
#define VKD_API_IMAGES_H

#include "daemon/http.h"

struct store;

/* The store a launch defines its instance in. */
void api_images_init(struct store *store);
/* Any request whose path is /1.0/images or below. */
enum MHD_Result api_images(struct http_req *req);

#endif
