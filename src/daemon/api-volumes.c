/* SPDX-License-Identifier: MIT */
/*
 * The storage pool's REST routes (docs/api.md): list and describe the pool,
 * create (201 with Location), list, describe, grow (PATCH {"size"}) and
 * delete its volumes. The work is in volumes.c; this file checks the
 * request and answers.
 */
#include "daemon/api-volumes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/def-volume.h"
#include "daemon/def.h"
#include "daemon/volumes.h"

/* The request's JSON body (required). */
static int body_json(struct http_req *req, json_object **out, struct vk_error *err)
{
	if (req->len == 0)
		return vk_error_set(err, EINVAL, "the request needs a JSON body");
	return def_parse_json(req->body, req->len, out, err);
}

static enum MHD_Result create_volume(struct http_req *req)
{
	struct vk_error err = {0};
	struct volume_spec spec;
	json_object *in, *out;
	char loc[160];
	int r;

	if (body_json(req, &in, &err) < 0)
		return http_vk_error(req->conn, &err);
	r = def_volume_create(in, &spec, &err);
	if (r == 0)
		r = volumes_create(&spec, &out, &err);
	if (r == 0)
		snprintf(loc, sizeof(loc), "/1.0/pools/%s/volumes/%s", VOLUME_POOL, spec.name);
	json_object_put(in); /* spec points into it */
	if (r < 0)
		return http_vk_error(req->conn, &err);
	return http_json_hdr(req->conn, MHD_HTTP_CREATED, out, MHD_HTTP_HEADER_LOCATION, loc);
}

static enum MHD_Result resize_volume(struct http_req *req)
{
	struct vk_error err = {0};
	json_object *in, *out;
	uint64_t size;
	int r;

	if (body_json(req, &in, &err) < 0)
		return http_vk_error(req->conn, &err);
	r = def_volume_resize(in, &size, &err);
	json_object_put(in);
	if (r == 0)
		r = volumes_resize(req->m.name, size, &out, &err);
	return r < 0 ? http_vk_error(req->conn, &err) : http_json(req->conn, MHD_HTTP_OK, out);
}

enum MHD_Result api_volumes(struct http_req *req)
{
	struct vk_error err = {0};
	json_object *out = NULL, *o;
	int r;

	if (req->m.id != ROUTE_POOLS && strcmp(req->m.pool, VOLUME_POOL) != 0)
		return http_error(req->conn, MHD_HTTP_NOT_FOUND,
		                  "no storage pool '%s' (there is one: '%s')", req->m.pool,
		                  VOLUME_POOL);
	switch (req->m.id) {
	case ROUTE_POOLS:
		if ((r = volumes_pool(VOLUME_POOL, &o, &err)) == 0) {
			out = json_object_new_object();
			json_object_object_add(out, "pools", json_object_new_array());
			json_object_array_add(json_object_object_get(out, "pools"), o);
		}
		break;
	case ROUTE_POOL:
		r = volumes_pool(req->m.pool, &out, &err);
		break;
	case ROUTE_VOLUMES:
		if (strcmp(req->method, "POST") == 0)
			return create_volume(req);
		if ((r = volumes_list(&o, &err)) == 0) {
			out = json_object_new_object();
			json_object_object_add(out, "volumes", o);
		}
		break;
	case ROUTE_VOLUME:
		if (strcmp(req->method, "PATCH") == 0)
			return resize_volume(req);
		if (strcmp(req->method, "DELETE") == 0)
			r = volumes_delete(req->m.name, &out, &err);
		else
			r = volumes_info(req->m.name, &out, &err);
		break;
	default:
		return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such API endpoint");
	}
	return r < 0 ? http_vk_error(req->conn, &err) : http_json(req->conn, MHD_HTTP_OK, out);
}
