/* SPDX-License-Identifier: MIT */
/*
 * virtkit ui: the web console for the local user. A small HTTP server on
 * 127.0.0.1 (libmicrohttpd) serves the console's files and passes /1.0/...
 * to the daemon through libvirtkit (the unix socket, or a remote), so the
 * only port it opens asks for a secret: a one-time token in the URL it
 * prints, exchanged at the first visit for a session cookie (as Jupyter
 * does). cmd-ui.c: the command, the checks every request passes, the files;
 * ui-proxy.c: the API, the event stream and WebSockets passed through.
 */
#ifndef VIRTKIT_CLI_UI_H
#define VIRTKIT_CLI_UI_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "virtkit/virtkit.h"

/* One request being received. */
struct ui_req {
	char *body;
	size_t len, cap;
	bool refused; /* answered while the body was arriving */
};

/* Per TCP connection: the daemon connection its requests use (made at the first). */
struct ui_conn {
	virtkit_conn *conn;
};

/* What the proxy needs to reach the daemon. */
struct ui_target {
	const char *remote; /* a remote's name, or NULL */
	const char *socket; /* --socket, or NULL */
};

/* The daemon connection of this TCP connection; NULL after answering 502 with why. */
virtkit_conn *ui_daemon(const struct ui_target *t, struct MHD_Connection *c, enum MHD_Result *mr);

/* Pass an API request (url starts with /1.0) to the daemon and answer with its answer. */
enum MHD_Result ui_proxy(const struct ui_target *t, struct MHD_Connection *c, const char *method,
                         const char *url, const struct ui_req *req);

/* Security headers every answer carries (and the page's Content-Security-Policy). */
void ui_headers(struct MHD_Response *r);
enum MHD_Result ui_text(struct MHD_Connection *c, unsigned status, const char *type,
                        const char *body, size_t len);
enum MHD_Result ui_error(struct MHD_Connection *c, unsigned status, const char *msg);

#endif
