/* SPDX-License-Identifier: MIT */
/* The storage pool's routes (docs/api.md, "Storage"): /1.0/pools[/default[/volumes[/NAME]]]. */
#ifndef VKD_API_VOLUMES_H
#define VKD_API_VOLUMES_H

#include "daemon/http.h"

/* ROUTE_POOLS, ROUTE_POOL, ROUTE_VOLUMES and ROUTE_VOLUME (req->m says which). */
enum MHD_Result api_volumes(struct http_req *req);

#endif
