/* SPDX-License-Identifier: MIT */
/*
 * The API over TLS (docs/api.md, "Remote access"): who may do what on the
 * TLS listener, the trust routes (/1.0/trust: certificates and join tokens,
 * on either listener) and the TLS part of the host view.
 *
 * On the TLS listener a request whose client certificate is not trusted gets
 * the version banner (GET /1.0), may join with a token (POST /1.0/trust),
 * and is refused (403) everything else. A request a browser sent from
 * another site (Origin, Sec-Fetch-Site) is refused whoever sent it: a browser
 * holding a trusted certificate must not be usable by other pages.
 */
#ifndef VKD_API_REMOTE_H
#define VKD_API_REMOTE_H

#include <json-c/json.h>

#include "daemon/http.h"

struct trust;

struct api_remote_settings {
	struct trust *trust;
	const char *fingerprint; /* of the server's certificate */
	const char *cert_path;   /* where it is */
	const char *web_root;    /* the web console's files (index.html), or NULL */
};

void api_remote_init(const struct api_remote_settings *s);
/* The TLS listener's address once it is bound ("HOST:PORT"). */
void api_remote_listening(const char *address);

/* The TLS listener's handler: the rules above, then api_dispatch(). */
enum MHD_Result api_remote_dispatch(void *opaque, struct http_req *req);

/* api-trust.c: the store and the server's fingerprint the trust routes use. */
void api_trust_init(struct trust *trust, const char *fingerprint);
/* The trust routes (ROUTE_TRUST*), for a caller allowed to manage trust. */
enum MHD_Result api_trust(struct http_req *req);
/* POST /1.0/trust {"token": T} from a TLS client: trust the certificate it presented. */
enum MHD_Result api_trust_join(struct http_req *req);

/* The web console's files (api-ui.c); web_root NULL: 404 saying how to get them. */
enum MHD_Result api_ui_file(struct http_req *req, const char *web_root);

/* GET /1.0/host's "tls": {"fingerprint", "certificate", "address" (null without --listen)}. */
json_object *api_remote_host(void);

#endif
