/* SPDX-License-Identifier: MIT */
/*
 * /1.0/networks: list (GET), create (POST, a network definition), one
 * network (GET, DELETE) and its leases (GET .../leases). The network manager
 * (network.h) does the work; this file reads the request and answers.
 */
#include "daemon/api-network.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/def.h"
#include "daemon/network.h"

static enum MHD_Result create(struct http_req *req)
{
	struct vk_error err = {0};
	json_object *raw, *o;
	char loc[128];

	if (req->len == 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "the request needs a body: a JSON network definition");
	if (def_parse_json(req->body, req->len, &raw, &err) < 0)
		return http_vk_error(req->conn, &err);
	if (network_create(raw, &o, &err) < 0) {
		json_object_put(raw);
		return http_vk_error(req->conn, &err);
	}
	json_object_put(raw);
	snprintf(loc, sizeof(loc), "/1.0/networks/%s",
	         json_object_get_string(json_object_object_get(o, "name")));
	return http_json_hdr(req->conn, MHD_HTTP_CREATED, o, MHD_HTTP_HEADER_LOCATION, loc);
}

enum MHD_Result api_network(struct http_req *req)
{
	struct vk_error err = {0};
	json_object *o = NULL;
	int r;

	switch (req->m.id) {
	case ROUTE_NETWORKS:
		if (strcmp(req->method, "POST") == 0)
			return create(req);
		return http_json(req->conn, MHD_HTTP_OK, network_list());
	case ROUTE_NETWORK:
		r = strcmp(req->method, "DELETE") == 0 ? network_delete(req->m.name, &o, &err)
		                                       : network_info(req->m.name, &o, &err);
		break;
	case ROUTE_NETWORK_LEASES:
		r = network_leases(req->m.name, &o, &err);
		break;
	default:
		r = vk_error_set(&err, ENOENT, "no such API endpoint");
		break;
	}
	if (r < 0)
		return http_vk_error(req->conn, &err);
	return http_json(req->conn, MHD_HTTP_OK, o);
}
