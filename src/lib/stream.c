/* SPDX-License-Identifier: MIT */
/*
 * libvirtkit streams. Console and exec: libcurl connects (CONNECT_ONLY on the
 * unix socket, or with TLS to a remote daemon), we send the HTTP/1.1 Upgrade
 * request ourselves and, after "101 Switching Protocols", exchange raw bytes
 * (console) or frames (exec, see docs/api.md). Events: a normal streaming GET
 * on the curl multi interface, cut into lines.
 *
 * What arrives is read into our own buffer, as much as is there each time:
 * over TLS, bytes decrypted but not yet handed out would be invisible to a
 * caller that polls the socket, so nothing is left inside the TLS library,
 * and virtkit_stream_pending() counts what we hold.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

#define OPEN_TIMEOUT_MS 30000
#define HDR_MAX         16384
#define FRAME_MAX       (1u << 20)
#define EVENT_LINE_MAX  (64 * 1024)

#define LOG_BUF_MAX     (16u << 20)
#define RAW_BUF         (64u << 10) /* > one TLS record (16 KiB) */

enum stream_kind {
	STREAM_RAW,
	STREAM_EXEC,
	STREAM_EVENTS,
	STREAM_LOGS,
};

struct virtkit_stream {
	enum stream_kind kind;
	CURL *curl;
	int fd;
	char *pre; /* received (after the 101 header), not yet consumed; RAW_BUF bytes */
	size_t pre_len, pre_off;
	bool eof;
	/* events and logs: a chunked HTTP response read through a curl multi handle */
	CURLM *multi;
	char *buf;
	size_t len, cap;
	bool done;
	bool overflow;
	CURLcode result; /* how the transfer ended, once done */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static int raw_send(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err)
{
	const char *p = buf;

	while (len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->curl, p, len, &n);
		if (rc == CURLE_AGAIN) {
			if (wait_fd(s->fd, POLLOUT, 10000) <= 0) {
				vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the daemon stopped reading");
				return -1;
			}
			continue;
		}
		if (rc != CURLE_OK) {
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "cannot send to the daemon: %s",
			          curl_easy_strerror(rc));
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Take in everything that is there now (up to RAW_BUF). 1 when bytes were
 * read, 0 when none were there, -1 on an error; s->eof at the end.
 */
static int raw_fill(virtkit_stream *s, virtkit_error **err)
{
	int got = 0;

	if (s->pre_off == s->pre_len)
		s->pre_off = s->pre_len = 0;
	while (s->pre_len < RAW_BUF && !s->eof) {
		size_t n = 0;
		CURLcode rc =
		        curl_easy_recv(s->curl, s->pre + s->pre_len, RAW_BUF - s->pre_len, &n);
		if (rc == CURLE_AGAIN)
			break;
		if (rc != CURLE_OK) {
			if (got)
				break; /* hand out what came; the error comes again next time */
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "cannot read from the daemon: %s",
			          curl_easy_strerror(rc));
			return -1;
		}
		if (n == 0)
			s->eof = true;
		s->pre_len += n;
		got |= n > 0;
	}
	return got;
}

/* Read up to len bytes; waits up to timeout_ms (-1: forever). 0 at EOF, -2 on timeout. */
static ssize_t raw_recv(virtkit_stream *s, void *buf, size_t len, int timeout_ms,
                        virtkit_error **err)
{
	for (;;) {
		int w, r;
		if (s->pre_off < s->pre_len) {
			size_t n = s->pre_len - s->pre_off < len ? s->pre_len - s->pre_off : len;
			memcpy(buf, s->pre + s->pre_off, n);
			s->pre_off += n;
			return (ssize_t)n;
		}
		if (s->eof)
			return 0;
		if ((r = raw_fill(s, err)) < 0)
			return -1;
		if (r > 0 || s->eof)
			continue;
		w = wait_fd(s->fd, POLLIN, timeout_ms);
		if (w == 0)
			return -2;
		if (w < 0) {
			vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "poll failed: %s", strerror(errno));
			return -1;
		}
	}
}

static void stream_free(virtkit_stream *s)
{
	if (!s)
		return;
	if (s->multi) {
		if (s->curl)
			curl_multi_remove_handle(s->multi, s->curl);
		curl_multi_cleanup(s->multi);
	}
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->pre);
	free(s->buf);
	free(s);
}

void virtkit_stream_close(virtkit_stream *s)
{
	stream_free(s);
}

static virtkit_stream *upgrade(virtkit_conn *conn, const char *method, const char *path,
                               const char *proto, enum stream_kind kind, virtkit_error **err);

/* The Host header for conn: HOST:PORT of its url, or "virtkit" on the unix socket. */
static const char *conn_host(virtkit_conn *conn)
{
	const char *u = conn->url;

	return u && strncmp(u, "https://", 8) == 0 ? u + 8 : "virtkit";
}

/*
 * Send an Upgrade request (with the extra header lines given, or NULL) and
 * read the answer; on 101 the stream is ready (and *resp_headers, when asked
 * for, holds the answer's header).
 */
static virtkit_stream *upgrade_ex(virtkit_conn *conn, const char *method, const char *path,
                                  const char *proto, const char *extra, char **resp_headers,
                                  enum stream_kind kind, virtkit_error **err)
{
	virtkit_stream *s = calloc(1, sizeof(*s));
	char req[4096], hdr[HDR_MAX + 1], *end, *cl;
	size_t used = 0;
	long deadline = now_ms() + OPEN_TIMEOUT_MS;
	curl_socket_t fd;
	int status = 0;

	/* Room for a whole fill besides the header's tail (see below). */
	if (!s || !(s->pre = malloc(RAW_BUF + HDR_MAX))) {
		free(s);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	s->kind = kind;
	s->curl = vkl_raw_connect(conn, err);
	if (!s->curl)
		goto fail;
	if (curl_easy_getinfo(s->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "no socket from libcurl");
		goto fail;
	}
	s->fd = (int)fd;
	if ((size_t)snprintf(req, sizeof(req),
	                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\n"
	                     "Upgrade: %s\r\n%sContent-Length: 0\r\n\r\n",
	                     method, path, conn_host(conn), proto,
	                     extra ? extra : "") >= sizeof(req)) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "the request is too long");
		goto fail;
	}
	if (raw_send(s, req, strlen(req), err) < 0)
		goto fail;
	/* The status line and headers. */
	for (;;) {
		long left = deadline - now_ms();
		ssize_t n;
		if (used == HDR_MAX) {
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon's answer is too long");
			goto fail;
		}
		n = raw_recv(s, hdr + used, HDR_MAX - used, left > 0 ? (int)left : 0, err);
		if (n == -2) {
			vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "the daemon did not answer");
			goto fail;
		}
		if (n < 0)
			goto fail;
		if (n == 0) {
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon closed the connection");
			goto fail;
		}
		used += (size_t)n;
		hdr[used] = '\0';
		if ((end = strstr(hdr, "\r\n\r\n")))
			break;
	}
	if (sscanf(hdr, "HTTP/1.%*d %d", &status) != 1) {
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the daemon sent no HTTP status line");
		goto fail;
	}
	end += 4;
	if (status == 101) {
		/*
		 * What came after the header is the stream's first bytes, ahead
		 * of what the last fill took in and hdr had no room for.
		 */
		size_t tail = used - (size_t)(end - hdr), rest = s->pre_len - s->pre_off;
		memmove(s->pre + tail, s->pre + s->pre_off, rest);
		memcpy(s->pre, end, tail);
		s->pre_off = 0;
		s->pre_len = tail + rest;
		if (resp_headers && !(*resp_headers = strndup(hdr, (size_t)(end - hdr)))) {
			vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
			goto fail;
		}
		return s;
	}
	/* An error: read the JSON body (Content-Length) for its message. */
	cl = strcasestr(hdr, "\r\nContent-Length:");
	if (cl) {
		size_t want = strtoul(cl + 17, NULL, 10), have = used - (size_t)(end - hdr);
		size_t off = (size_t)(end - hdr);
		while (have < want && used < HDR_MAX) {
			long left = deadline - now_ms();
			ssize_t n = raw_recv(s, hdr + used, HDR_MAX - used,
			                     left > 0 ? (int)left : 0, NULL);
			if (n <= 0)
				break;
			used += (size_t)n;
			have += (size_t)n;
		}
		hdr[used] = '\0';
		vkl_api_error(err, status, hdr + off);
	} else {
		vkl_api_error(err, status, NULL);
	}
fail:
	stream_free(s);
	return NULL;
}

static virtkit_stream *upgrade(virtkit_conn *conn, const char *method, const char *path,
                               const char *proto, enum stream_kind kind, virtkit_error **err)
{
	return upgrade_ex(conn, method, path, proto, NULL, NULL, kind, err);
}

virtkit_stream *virtkit_upgrade_open(virtkit_conn *conn, const char *method, const char *path,
                                     const char *proto, const char *headers, char **resp_headers,
                                     virtkit_error **err)
{
	if (!conn || !method || !path || path[0] != '/' || !proto || strpbrk(path, " \r\n") ||
	    strpbrk(method, " \r\n") || strpbrk(proto, "\r\n")) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid upgrade request");
		return NULL;
	}
	if (resp_headers)
		*resp_headers = NULL;
	return upgrade_ex(conn, method, path, proto, headers, resp_headers, STREAM_RAW, err);
}

virtkit_stream *virtkit_console_open(virtkit_conn *conn, const char *name, virtkit_error **err)
{
	char *e = name ? vkl_escape(name) : NULL, path[512];
	virtkit_stream *s;

	if (!e || strlen(e) > 300) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid instance name");
		return NULL;
	}
	snprintf(path, sizeof(path), "/1.0/instances/%s/console", e);
	free(e);
	s = upgrade(conn, "GET", path, "virtkit-console", STREAM_RAW, err);
	return s;
}

virtkit_stream *virtkit_exec_open(virtkit_conn *conn, const char *name, const char *const *argv,
                                  virtkit_error **err)
{
	return virtkit_exec_open_tty(conn, name, argv, 0, 0, err);
}

virtkit_stream *virtkit_exec_open_tty(virtkit_conn *conn, const char *name, const char *const *argv,
                                      unsigned rows, unsigned cols, virtkit_error **err)
{
	char *e = name ? vkl_escape(name) : NULL, *path;
	size_t len, i;
	virtkit_stream *s;

	if (!e || !argv || !argv[0]) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "exec needs an instance name and a command");
		return NULL;
	}
	len = strlen(e) + 112;
	for (i = 0; argv[i]; i++)
		len += strlen(argv[i]) * 3 + 8;
	path = malloc(len);
	if (!path) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	snprintf(path, len, "/1.0/instances/%s/exec", e);
	free(e);
	for (i = 0; argv[i]; i++) {
		char *a = vkl_escape(argv[i]);
		if (!a) {
			free(path);
			vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
			return NULL;
		}
		strcat(path, i ? "&cmd=" : "?cmd=");
		strcat(path, a);
		free(a);
	}
	if (rows && cols) {
		char tty[48];
		snprintf(tty, sizeof(tty), "&tty=1&rows=%u&cols=%u", rows, cols);
		strcat(path, tty);
	}
	if (strlen(path) > 3500) {
		free(path);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "the command line is too long");
		return NULL;
	}
	s = upgrade(conn, "POST", path, "virtkit-exec", STREAM_EXEC, err);
	free(path);
	return s;
}

int virtkit_stream_fd(const virtkit_stream *s)
{
	return s ? s->fd : -1;
}

size_t virtkit_stream_pending(const virtkit_stream *s)
{
	return s ? s->pre_len - s->pre_off : 0;
}

ssize_t virtkit_stream_read(virtkit_stream *s, void *buf, size_t len, virtkit_error **err)
{
	ssize_t n;

	if (!s || s->kind != STREAM_RAW) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not a console stream");
		return -1;
	}
	n = raw_recv(s, buf, len, -1, err);
	return n == -2 ? 0 : n;
}

ssize_t virtkit_stream_write(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err)
{
	if (!s || s->kind != STREAM_RAW) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not a console stream");
		return -1;
	}
	return raw_send(s, buf, len, err) < 0 ? -1 : (ssize_t)len;
}

/* Exactly len bytes; 0 at a clean EOF before the first byte. */
static int recv_exact(virtkit_stream *s, void *buf, size_t len, virtkit_error **err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = raw_recv(s, (char *)buf + got, len - got, -1, err);
		if (n < 0)
			return -1;
		if (n == 0) {
			if (got == 0)
				return 0;
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "the exec stream ended mid-frame");
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

int virtkit_exec_read(virtkit_stream *s, int *which, char **data, size_t *len, int *exit_code,
                      virtkit_error **err)
{
	unsigned char h[8];
	size_t n;
	char *p;
	int r;

	if (!s || s->kind != STREAM_EXEC) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not an exec stream");
		return -1;
	}
	if ((r = recv_exact(s, h, sizeof(h), err)) <= 0)
		return r;
	n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
	if (h[0] < 1 || h[0] > 3 || n > FRAME_MAX) {
		vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0, "malformed exec frame");
		return -1;
	}
	p = malloc(n + 1);
	if (!p) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return -1;
	}
	if (n && recv_exact(s, p, n, err) <= 0) {
		free(p);
		return -1;
	}
	p[n] = '\0';
	*which = h[0];
	if (h[0] == VIRTKIT_EXEC_EXIT) {
		json_object *o = json_tokener_parse(p), *v;
		*exit_code = o && json_object_object_get_ex(o, "exit_code", &v)
		                     ? json_object_get_int(v)
		                     : 255;
		json_object_put(o);
		free(p);
		*data = NULL;
		*len = 0;
		return 1;
	}
	*data = p;
	*len = n;
	return 1;
}

/* One frame to the daemon: stream 0 is standard input, 4 a window size. */
static int exec_frame_on(virtkit_stream *s, int stream, const void *buf, size_t len,
                         virtkit_error **err)
{
	unsigned char h[8] = {(unsigned char)stream,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(len >> 24),
	                      (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len};

	if (!s || s->kind != STREAM_EXEC) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not an exec stream");
		return -1;
	}
	if (raw_send(s, h, sizeof(h), err) < 0)
		return -1;
	return len ? raw_send(s, buf, len, err) : 0;
}

static int exec_frame(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err)
{
	return exec_frame_on(s, 0, buf, len, err);
}

int virtkit_exec_write_stdin(virtkit_stream *s, const void *buf, size_t len, virtkit_error **err)
{
	const char *p = buf;

	if (len == 0)
		return 0; /* an empty frame would mean end of input */
	while (len) {
		size_t n = len > 32768 ? 32768 : len;
		if (exec_frame(s, p, n, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int virtkit_exec_resize(virtkit_stream *s, unsigned rows, unsigned cols, virtkit_error **err)
{
	char msg[48];
	int n = snprintf(msg, sizeof(msg), "{\"rows\":%u,\"cols\":%u}", rows, cols);

	if (!s || s->kind != STREAM_EXEC) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not an exec stream");
		return -1;
	}
	return exec_frame_on(s, 4, msg, (size_t)n, err);
}

int virtkit_exec_close_stdin(virtkit_stream *s, virtkit_error **err)
{
	return exec_frame(s, NULL, 0, err);
}

/* --- events ------------------------------------------------------------------------ */

static size_t ev_write(char *data, size_t size, size_t n, void *opaque)
{
	virtkit_stream *s = opaque;
	size_t len = size * n;

	if (s->len + len + 1 > s->cap) {
		size_t cap = (s->len + len + 1) * 2;
		char *p;
		if (cap > (s->kind == STREAM_LOGS ? LOG_BUF_MAX : 4 * EVENT_LINE_MAX)) {
			s->overflow = true;
			return 0;
		}
		p = realloc(s->buf, cap);
		if (!p)
			return 0;
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/* Drive the transfer for up to timeout_ms; false when it has ended. */
static bool ev_pump(virtkit_stream *s, int timeout_ms)
{
	int running = 0;
	CURLMsg *m;
	int q;

	curl_multi_perform(s->multi, &running);
	if (running && timeout_ms > 0) {
		curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
		curl_multi_perform(s->multi, &running);
	}
	while ((m = curl_multi_info_read(s->multi, &q)))
		if (m->msg == CURLMSG_DONE) {
			s->done = true;
			s->result = m->data.result;
		}
	return !s->done && running;
}

/* GET a chunked response at path ("/1.0/...") and wait for its status line. */
static virtkit_stream *chunked_open(virtkit_conn *conn, enum stream_kind kind, const char *path,
                                    virtkit_error **err)
{
	virtkit_stream *s = calloc(1, sizeof(*s));
	long code = 0, deadline = now_ms() + OPEN_TIMEOUT_MS;

	if (!s) {
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	s->kind = kind;
	s->fd = -1;
	s->curl = curl_easy_init();
	s->multi = curl_multi_init();
	if (!s->curl || !s->multi) {
		stream_free(s);
		vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
		return NULL;
	}
	vkl_target(conn, s->curl, path);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, ev_write);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	curl_multi_add_handle(s->multi, s->curl);
	/* Wait for the status line: once it is here, nothing later is missed. */
	while (code == 0 && now_ms() < deadline) {
		bool alive = ev_pump(s, 100);
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		if (!alive && code == 0)
			break;
	}
	if (code != 200) {
		if (code == 0) {
			vkl_transfer_error(conn, s->curl,
			                   !s->done || s->result == CURLE_OK ? CURLE_COULDNT_CONNECT
			                                                     : s->result,
			                   err);
		} else {
			while (!s->done && now_ms() < deadline)
				ev_pump(s, 100);
			vkl_api_error(err, (int)code, s->buf);
		}
		stream_free(s);
		return NULL;
	}
	return s;
}

virtkit_stream *virtkit_events_open(virtkit_conn *conn, int64_t since, const char *instance,
                                    virtkit_error **err)
{
	char url[512];
	size_t off;

	off = (size_t)snprintf(url, sizeof(url), "/1.0/events");
	if (since >= 0)
		off += (size_t)snprintf(url + off, sizeof(url) - off, "?since=%lld",
		                        (long long)since);
	if (instance) {
		char *e = vkl_escape(instance);
		if (!e || strlen(e) > 300) {
			free(e);
			vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid instance name");
			return NULL;
		}
		snprintf(url + off, sizeof(url) - off, "%cinstance=%s", since >= 0 ? '&' : '?', e);
		free(e);
	}
	return chunked_open(conn, STREAM_EVENTS, url, err);
}

virtkit_stream *virtkit_logs_open(virtkit_conn *conn, const char *name, size_t lines,
                                  virtkit_error **err)
{
	char url[512], *e = name && *name ? vkl_escape(name) : NULL;

	if (!e || strlen(e) > 300) {
		free(e);
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "invalid instance name");
		return NULL;
	}
	snprintf(url, sizeof(url), "/1.0/instances/%s/logs?follow=1&lines=%zu", e, lines);
	free(e);
	return chunked_open(conn, STREAM_LOGS, url, err);
}

int virtkit_logs_read(virtkit_stream *s, char **data, size_t *len, int timeout_ms,
                      virtkit_error **err)
{
	long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	if (!s || s->kind != STREAM_LOGS) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not a log stream");
		return -1;
	}
	for (;;) {
		if (s->len) {
			*data = s->buf;
			*len = s->len;
			s->buf = NULL;
			s->len = s->cap = 0;
			return 1;
		}
		if (s->done) {
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0,
			          s->overflow ? "the log arrives faster than it is read"
			                      : "the log stream ended");
			return -1;
		}
		{
			long left = deadline - now_ms();
			if (timeout_ms >= 0 && left <= 0)
				return 0;
			ev_pump(s, timeout_ms < 0 ? 1000 : (int)(left > 1000 ? 1000 : left));
		}
	}
}

int virtkit_events_next(virtkit_stream *s, char **json, int timeout_ms, virtkit_error **err)
{
	long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	if (!s || s->kind != STREAM_EVENTS) {
		vkl_error(err, VIRTKIT_ERR_INVALID, 0, "not an event stream");
		return -1;
	}
	for (;;) {
		char *nl;
		while (s->buf && (nl = memchr(s->buf, '\n', s->len))) {
			size_t n = (size_t)(nl - s->buf);
			char *line = n ? strndup(s->buf, n) : NULL;
			memmove(s->buf, nl + 1, s->len - n - 1);
			s->len -= n + 1;
			s->buf[s->len] = '\0';
			if (n == 0)
				continue; /* keep-alive */
			if (!line) {
				vkl_error(err, VIRTKIT_ERR_SYSTEM, 0, "out of memory");
				return -1;
			}
			*json = line;
			return 1;
		}
		if (s->done) {
			vkl_error(err, VIRTKIT_ERR_PROTOCOL, 0,
			          s->overflow ? "an event line is too long"
			                      : "the event stream ended");
			return -1;
		}
		{
			long left = deadline - now_ms();
			if (timeout_ms >= 0 && left <= 0)
				return 0;
			ev_pump(s, timeout_ms < 0 ? 1000 : (int)(left > 1000 ? 1000 : left));
		}
	}
}
