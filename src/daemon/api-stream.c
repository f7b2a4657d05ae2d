/* SPDX-License-Identifier: MIT */
/*
 * Console attach and the event stream (see api-stream.h; exec: api-exec.c).
 * Connections run one thread each (libmicrohttpd thread-per-connection), so
 * the exec relay and the event reader may block, always with a timeout and a
 * look at the shutdown flag and at the peer.
 */
#include "daemon/api-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/console.h"
#include "daemon/events.h"

static volatile int shutting_down;

void api_streams_shutdown(void)
{
	__atomic_store_n(&shutting_down, 1, __ATOMIC_RELEASE);
	events_shutdown();
}

bool api_streams_stopping(void)
{
	return __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE) != 0;
}

/* --- console ----------------------------------------------------------------- */

static void upgraded_close(void *opaque)
{
	api_upgraded_close(opaque);
}

static void console_upgraded(void *ctx, int sock, const char *extra, size_t extra_len,
                             struct api_upgraded *u)
{
	struct console *c = ctx;

	/* On failure console_attach calls upgraded_close itself. */
	if (u)
		(void)console_attach(c, sock, extra, extra_len, upgraded_close, u);
	console_unref(c);
}

enum MHD_Result api_console(struct http_req *req, struct instance *inst)
{
	struct console *c = NULL;
	enum MHD_Result r;

	if (!api_wants_stream(req->conn, "virtkit-console"))
		return http_error(
		        req->conn, MHD_HTTP_BAD_REQUEST,
		        "the console endpoint needs the headers 'Connection: Upgrade' and "
		        "'Upgrade: virtkit-console' (or 'Upgrade: websocket')");
	pthread_mutex_lock(&inst->lock);
	if ((inst->state == ST_RUNNING || inst->state == ST_PAUSED) && inst->rt.console)
		c = console_ref(inst->rt.console);
	pthread_mutex_unlock(&inst->lock);
	if (!c)
		return http_error(req->conn, MHD_HTTP_CONFLICT, "instance '%s' is not running",
		                  inst->name);
	r = api_queue_upgrade(req, "virtkit-console", console_upgraded, c);
	if (r != MHD_YES)
		console_unref(c);
	return r;
}

/* --- events ---------------------------------------------------------------------- */

struct ev_stream {
	int64_t after;
	bool follow; /* false: end once caught up (?follow=0) */
	char instance[DEF_NAME_MAX + 1];
	int fd; /* the client's socket, to notice it leaving */
	char buf[1024];
	size_t len, off;
};

static bool peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t ev_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *s = cls;

	(void)pos;
	while (s->off == s->len) {
		struct vk_event ev;
		json_object *o;
		int r = events_next(s->after, &ev, s->follow ? 500 : 0);

		if (r < 0 || (r == 0 && !s->follow))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r == 0) {
			if (peer_gone(s->fd))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		s->after = ev.seq;
		/* ?instance= names it or gives its uuid. */
		if (s->instance[0] && strcmp(s->instance, ev.instance) != 0 &&
		    strcasecmp(s->instance, ev.uuid) != 0)
			continue;
		o = event_to_json(&ev);
		s->len = (size_t)snprintf(
		        s->buf, sizeof(s->buf), "%s\n",
		        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
		if (s->len >= sizeof(s->buf))
			s->len = sizeof(s->buf) - 1;
		s->off = 0;
		json_object_put(o);
	}
	{
		size_t n = VK_MIN(max, s->len - s->off);
		memcpy(buf, s->buf + s->off, n);
		s->off += n;
		return (ssize_t)n;
	}
}

enum MHD_Result api_events(struct http_req *req)
{
	const char *since = http_arg(req->conn, "since"), *name = http_arg(req->conn, "instance");
	const char *follow = http_arg(req->conn, "follow");
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *resp;
	struct ev_stream *s;
	enum MHD_Result r;
	uint64_t v = 0;

	if (since && vk_parse_uint(since, 0, INT64_MAX, &v) < 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "'since' must be an event sequence number");
	if (name && !def_name_valid(name))
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST, "invalid instance name");
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->after = since ? (int64_t)v : events_last_seq();
	s->follow = !follow || strcmp(follow, "0") != 0;
	s->fd = ci ? ci->connect_fd : -1;
	if (name)
		snprintf(s->instance, sizeof(s->instance), "%s", name);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, ev_reader, s, free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	/* An event stream may stay quiet for hours: no idle timeout. */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	r = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}
