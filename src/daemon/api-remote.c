/* SPDX-License-Identifier: MIT */
/*
 * The TLS listener's rules (see api-remote.h): cross-site requests refused,
 * untrusted clients limited to the banner and the join, everything else
 * handed to api_dispatch(). The trust check runs at every request, not once
 * per connection, so a removed certificate is refused at its next request on
 * a connection kept alive (and its open streams are cut by the removal).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api-remote.h"
#include "daemon/api.h"
#include "daemon/trust.h"

static struct {
	struct trust *trust;
	char fp[VK_FINGERPRINT_LEN + 1];
	char cert_path[PATH_MAX];
	char address[128]; /* "" until the listener is bound */
	const char *web_root;
} rs;

void api_remote_init(const struct api_remote_settings *s)
{
	rs.trust = s->trust;
	snprintf(rs.fp, sizeof(rs.fp), "%s", s->fingerprint);
	snprintf(rs.cert_path, sizeof(rs.cert_path), "%s", s->cert_path);
	rs.web_root = s->web_root;
	api_trust_init(s->trust, s->fingerprint);
}

void api_remote_listening(const char *address)
{
	snprintf(rs.address, sizeof(rs.address), "%s", address);
}

json_object *api_remote_host(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fingerprint", rs.fp[0] ? json_object_new_string(rs.fp) : NULL);
	json_object_object_add(o, "certificate",
	                       rs.cert_path[0] ? json_object_new_string(rs.cert_path) : NULL);
	json_object_object_add(o, "address",
	                       rs.address[0] ? json_object_new_string(rs.address) : NULL);
	return o;
}

static const char *header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/*
 * Did a browser send this from a page of another origin? Browsers say where
 * a request comes from (Sec-Fetch-Site; Origin on every cross-origin request
 * and every POST); other clients send neither.
 */
static bool cross_site(struct http_req *req)
{
	const char *site = header(req, "Sec-Fetch-Site"), *origin = header(req, "Origin");
	const char *host = header(req, "Host");

	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return true;
	if (origin) {
		if (!host || strncasecmp(origin, "https://", 8) != 0)
			return true;
		return strcasecmp(origin + 8, host) != 0;
	}
	return false;
}

static enum MHD_Result refuse(struct http_req *req, const char *why)
{
	static int64_t last_log_s; /* an untrusted peer must not flood the log */
	int64_t now_s = (int64_t)(vk_now_ns() / 1000000000);

	if (__atomic_exchange_n(&last_log_s, now_s, __ATOMIC_RELAXED) != now_s)
		vk_info("refused %s %.128s over TLS: %s (at most one such line a second)",
		        req->method, req->url, why);
	return http_error(req->conn, MHD_HTTP_FORBIDDEN, "%s", why);
}

/* What an untrusted client may read: who we are, nothing about the host. */
static enum MHD_Result banner(struct http_req *req)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "api_version", json_object_new_string("1.0"));
	json_object_object_add(o, "server", json_object_new_string("virtkitd"));
	json_object_object_add(o, "version", json_object_new_string(VIRTKIT_VERSION));
	json_object_object_add(o, "auth", json_object_new_string("untrusted"));
	return http_json(req->conn, MHD_HTTP_OK, o);
}

enum MHD_Result api_remote_dispatch(void *opaque, struct http_req *req)
{
	bool trusted;

	if (cross_site(req))
		return refuse(req, "cross-site request refused (Origin or Sec-Fetch-Site names "
		                   "another site)");
	trusted = req->fingerprint[0] && trust_check(rs.trust, req->fingerprint, NULL, 0);
	if (trusted && strncmp(req->url, "/1.0", 4) != 0)
		return api_ui_file(req, rs.web_root);
	if (trusted)
		return api_dispatch(opaque, req);
	if (strcmp(req->url, "/1.0") == 0 && strcmp(req->method, "GET") == 0)
		return banner(req);
	if (strcmp(req->url, "/1.0/trust") == 0 && strcmp(req->method, "POST") == 0)
		return api_trust_join(req);
	if (!req->fingerprint[0])
		return refuse(req, "this request needs a trusted client certificate, and none was "
		                   "presented (virtkit remote add does it)");
	return refuse(req, "the client certificate is not trusted (add it with 'virtkit trust "
	                   "add', or join with a token: 'virtkit trust token' on the server)");
}
