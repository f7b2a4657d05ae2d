/* SPDX-License-Identifier: MIT */
/* The network endpoints of the REST API (docs/api.md, docs/networks.md). */
#ifndef VKD_API_NETWORK_H
#define VKD_API_NETWORK_H

#include "daemon/http.h"

/* ROUTE_NETWORKS, ROUTE_NETWORK and ROUTE_NETWORK_LEASES. */
enum MHD_Result api_network(struct http_req *req);

#endif
