/* SPDX-License-Identifier: MIT */
/* libvirtkit: networks (/1.0/networks, docs/networks.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* "/1.0/networks/NAME[/suffix]" with NAME escaped; NULL on a bad name. */
static char *network_path(const char *name, const char *suffix, virtkit_error **err)
{
	char *e, *p = NULL;
	size_t len;

	if (!name || !*name || strlen(name) > 255) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid network name");
		return NULL;
	}
	e = vkl_escape(name);
	len = (e ? strlen(e) : 0) + (suffix ? strlen(suffix) : 0) + 32;
	if (e && (p = malloc(len)))
		snprintf(p, len, "/1.0/networks/%s%s%s", e, suffix ? "/" : "",
		         suffix ? suffix : "");
	else
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
	free(e);
	return p;
}

char *virtkit_network_list(virtkit_conn *conn, virtkit_error **err)
{
	return vkl_call(conn, "GET", "/1.0/networks", NULL, NULL, 0, NULL, err);
}

char *virtkit_network_create(virtkit_conn *conn, const char *json, virtkit_error **err)
{
	if (!json) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "no network definition given");
		return NULL;
	}
	return vkl_call(conn, "POST", "/1.0/networks", "application/json", json, strlen(json), NULL,
	                err);
}

static char *named(virtkit_conn *conn, const char *method, const char *name, const char *suffix,
                   virtkit_error **err)
{
	char *path = network_path(name, suffix, err), *body;

	if (!path)
		return NULL;
	body = vkl_call(conn, method, path, NULL, NULL, 0, NULL, err);
	free(path);
	return body;
}

char *virtkit_network_info(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return named(conn, "GET", name, NULL, err);
}

int virtkit_network_delete(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *body = named(conn, "DELETE", name, NULL, err);

	free(body);
	return body ? 0 : -1;
}

char *virtkit_network_leases(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	return named(conn, "GET", name, "leases", err);
}
