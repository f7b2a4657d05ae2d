/* SPDX-License-Identifier: MIT */
/*
 * virtkit ui: the API passed through to the daemon (see ui.h). Plain
 * requests go through virtkit_request(); the event stream through
 * virtkit_events_open(), line by line; a browser's WebSocket (console, exec)
 * is opened on the daemon with the browser's own key and then spliced byte
 * for byte: the daemon does the WebSocket framing (api-ws.c), this side only
 * answers the handshake (the accept value depends on the key alone).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/ui.h"
#include "common/ws.h"

#define PATH_MAX_LEN    4096
#define EVENT_KEEPALIVE 10 /* seconds: a blank line tells us whether the browser is still there */

virtkit_conn *ui_daemon(const struct ui_target *t, struct MHD_Connection *c, enum MHD_Result *mr)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct ui_conn *uc = ci ? ci->socket_context : NULL;
	virtkit_error *err = NULL;
	virtkit_conn *conn;

	if (uc && uc->conn)
		return uc->conn;
	conn = t->remote || !t->socket ? virtkit_connect_remote(t->remote, &err)
	                               : virtkit_connect(t->socket, &err);
	if (!conn) {
		*mr = ui_error(c, MHD_HTTP_BAD_GATEWAY, virtkit_error_message(err));
		virtkit_error_free(err);
		return NULL;
	}
	if (uc)
		uc->conn = conn;
	return conn; /* without a context (never seen): leaked per request, not per process */
}

struct query {
	char *buf;
	size_t len, cap;
	bool bad;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	struct query *q = cls;
	char *k = curl_easy_escape(NULL, key, 0),
	     *v = value ? curl_easy_escape(NULL, value, 0) : NULL;
	size_t need = (k ? strlen(k) : 0) + (v ? strlen(v) : 0) + 3;

	(void)kind;
	if (!k || (value && !v) || q->len + need >= q->cap) {
		q->bad = true;
	} else {
		q->len += (size_t)snprintf(q->buf + q->len, q->cap - q->len, "%c%s%s%s",
		                           q->len ? '&' : '?', k, v ? "=" : "", v ? v : "");
	}
	curl_free(k);
	curl_free(v);
	return q->bad ? MHD_NO : MHD_YES;
}

/* url plus its query, as the browser sent it (re-encoded); -1 when too long. */
static int full_path(struct MHD_Connection *c, const char *url, char *out, size_t len)
{
	char qs[PATH_MAX_LEN];
	struct query q = {.buf = qs, .cap = sizeof(qs)};

	qs[0] = '\0';
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	if (q.bad || strpbrk(url, " \r\n"))
		return -1;
	return snprintf(out, len, "%s%s", url, qs) < (int)len ? 0 : -1;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* --- WebSockets ------------------------------------------------------------------------ */

struct splice {
	virtkit_stream *s;
};

/* Browser ↔ daemon, both ways, until either side ends. */
static void splice_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
                            const char *extra_in, size_t extra_in_size, MHD_socket sock,
                            struct MHD_UpgradeResponseHandle *urh)
{
	struct splice *sp = cls;
	virtkit_error *err = NULL;
	char buf[16384];
	bool ok = true;

	(void)conn;
	(void)con_cls;
	if (extra_in_size && virtkit_stream_write(sp->s, extra_in, extra_in_size, &err) < 0)
		ok = false;
	while (ok) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
		                      {.fd = virtkit_stream_fd(sp->s), .events = POLLIN}};
		ssize_t n;

		if (virtkit_stream_pending(sp->s) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (virtkit_stream_pending(sp->s) || p[1].revents) {
			n = virtkit_stream_read(sp->s, buf, sizeof(buf), &err);
			if (n <= 0)
				break;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = send(sock, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
				if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
					struct pollfd o = {.fd = sock, .events = POLLOUT};
					if (poll(&o, 1, 10000) <= 0)
						ok = false;
					if (!ok)
						break;
					continue;
				}
				if (w <= 0) {
					ok = false;
					break;
				}
				off += w;
			}
		}
		if (ok && p[0].revents) {
			n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0 && virtkit_stream_write(sp->s, buf, (size_t)n, &err) < 0)
				break;
		}
	}
	virtkit_error_free(err);
	virtkit_stream_close(sp->s);
	free(sp);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static enum MHD_Result websocket(virtkit_conn *conn, struct MHD_Connection *c, const char *method,
                                 const char *path)
{
	const char *key = header(c, "Sec-WebSocket-Key"), *ver = header(c, "Sec-WebSocket-Version");
	char accept[VK_WS_ACCEPT_LEN + 1], hdrs[128];
	virtkit_error *err = NULL;
	struct MHD_Response *resp;
	struct splice *sp;
	enum MHD_Result mr;

	if (!ver || strcmp(ver, "13") != 0 || vk_ws_accept(key, accept) < 0)
		return ui_error(c, MHD_HTTP_BAD_REQUEST,
		                "a WebSocket needs Sec-WebSocket-Version: 13 and a valid key");
	snprintf(hdrs, sizeof(hdrs), "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key);
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return MHD_NO;
	/* The daemon refuses what it refuses (not running, no such instance): passed on. */
	sp->s = virtkit_upgrade_open(conn, method, path, "websocket", hdrs, NULL, &err);
	if (!sp->s) {
		int st = virtkit_error_status(err);
		mr = ui_error(c, st ? (unsigned)st : MHD_HTTP_BAD_GATEWAY,
		              virtkit_error_message(err));
		virtkit_error_free(err);
		free(sp);
		return mr;
	}
	resp = MHD_create_response_for_upgrade(splice_upgraded, sp);
	if (!resp) {
		virtkit_stream_close(sp->s);
		free(sp);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	mr = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (mr != MHD_YES) {
		virtkit_stream_close(sp->s);
		free(sp);
	}
	return mr;
}

/* --- the event stream ------------------------------------------------------------------------ */

struct events {
	virtkit_stream *s;
	char *line; /* what is left to hand out, with its newline */
	size_t len, off;
	int quiet; /* seconds without an event */
};

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events *e = cls;
	size_t n;

	(void)pos;
	while (e->off == e->len) {
		char *json = NULL;
		int r = virtkit_events_next(e->s, &json, 1000, NULL);

		free(e->line);
		e->line = NULL;
		e->off = e->len = 0;
		if (r < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r == 0) {
			if (++e->quiet < EVENT_KEEPALIVE)
				continue;
			e->quiet = 0;
			buf[0] = '\n'; /* fails once the browser is gone: the stream ends */
			return 1;
		}
		e->quiet = 0;
		e->len = strlen(json) + 1;
		e->line = malloc(e->len);
		if (!e->line) {
			free(json);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		memcpy(e->line, json, e->len - 1);
		e->line[e->len - 1] = '\n';
		free(json);
	}
	n = e->len - e->off < max ? e->len - e->off : max;
	memcpy(buf, e->line + e->off, n);
	e->off += n;
	return (ssize_t)n;
}

static void events_free(void *cls)
{
	struct events *e = cls;

	virtkit_stream_close(e->s);
	free(e->line);
	free(e);
}

static enum MHD_Result events(virtkit_conn *conn, struct MHD_Connection *c)
{
	const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *inst = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "instance");
	virtkit_error *err = NULL;
	struct MHD_Response *resp;
	struct events *e = calloc(1, sizeof(*e));
	enum MHD_Result mr;
	char *end = NULL;
	long long v = since ? strtoll(since, &end, 10) : -1;

	if (!e)
		return MHD_NO;
	if (since && (*end || v < 0)) {
		free(e);
		return ui_error(c, MHD_HTTP_BAD_REQUEST,
		                "'since' must be an event sequence number");
	}
	e->s = virtkit_events_open(conn, v, inst, &err);
	if (!e->s) {
		int st = virtkit_error_status(err);
		mr = ui_error(c, st ? (unsigned)st : MHD_HTTP_BAD_GATEWAY,
		              virtkit_error_message(err));
		virtkit_error_free(err);
		free(e);
		return mr;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, e,
	                                         events_free);
	if (!resp) {
		events_free(e);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ui_headers(resp);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	mr = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return mr;
}

/* --- everything else ------------------------------------------------------------------------ */

static const char *answer_type(const char *url)
{
	size_t n = strlen(url);

	if (n > 4 && strcmp(url + n - 4, "/xml") == 0)
		return "application/xml";
	if (n > 5 && strcmp(url + n - 5, "/logs") == 0)
		return "text/plain; charset=utf-8";
	return "application/json";
}

enum MHD_Result ui_proxy(const struct ui_target *t, struct MHD_Connection *c, const char *method,
                         const char *url, const struct ui_req *req)
{
	const char *up = header(c, "Upgrade"), *follow;
	char path[PATH_MAX_LEN], *resp = NULL;
	virtkit_error *err = NULL;
	virtkit_conn *conn;
	enum MHD_Result mr = MHD_NO;
	size_t len = 0;
	int status = 0;

	if (full_path(c, url, path, sizeof(path)) < 0)
		return ui_error(c, MHD_HTTP_BAD_REQUEST, "the request path is too long");
	if (!(conn = ui_daemon(t, c, &mr)))
		return mr;
	if (up && strcasecmp(up, "websocket") == 0)
		return websocket(conn, c, method, path);
	if (up)
		return ui_error(c, MHD_HTTP_BAD_REQUEST, "only WebSocket upgrades pass through");
	if (strcmp(url, "/1.0/events") == 0 && strcmp(method, "GET") == 0)
		return events(conn, c);
	follow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "follow");
	if (follow && strcmp(follow, "0") != 0)
		return ui_error(c, MHD_HTTP_BAD_REQUEST,
		                "followed logs do not pass through virtkit ui");
	if (virtkit_request(conn, method, path, header(c, "Content-Type"),
	                    req->len ? req->body : NULL, req->len, &resp, &len, &status,
	                    &err) < 0) {
		mr = ui_error(c, MHD_HTTP_BAD_GATEWAY, virtkit_error_message(err));
		virtkit_error_free(err);
		return mr;
	}
	mr = ui_text(c, (unsigned)status, answer_type(url), resp, len);
	free(resp);
	return mr;
}
