/* SPDX-License-Identifier: MIT */
/*
 * What the unix-socket listener (http.c) and the TLS listener (http-tls.c)
 * share: request assembly (body limits) and the libmicrohttpd callbacks, run
 * for a listener given as the callbacks' closure.
 */
#ifndef VKD_HTTP_INT_H
#define VKD_HTTP_INT_H

#include <stdarg.h>

#include "daemon/http.h"

struct http_listener {
	size_t max_body;
	http_handler handler;
	void *opaque;
	/*
	 * At a request's start: fill in who sent it. false: refused, and
	 * answered already (req->responded is set by the caller).
	 */
	bool (*admit)(struct http_listener *l, struct http_req *req);
};

/* libmicrohttpd's access handler, request-completed and log callbacks (cls: the listener). */
enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **con_cls);
void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe);
void http_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
