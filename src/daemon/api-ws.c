/* SPDX-License-Identifier: MIT */
/*
 * Upgraded connections (see api-stream.h): the plain ones (Upgrade:
 * virtkit-console / virtkit-exec: the stream's bytes as they are) and
 * WebSocket ones (Upgrade: websocket, what a browser can open: the same
 * bytes carried in binary messages).
 *
 * Over TLS, libmicrohttpd forwards between the TLS connection and the socket
 * it gave us in the connection's own thread, once our upgrade handler has
 * returned: a stream that blocks (exec) must therefore run in a thread of
 * its own, and the end must be gentle. Closing while the client's last bytes
 * are unread makes the kernel answer with a reset, which throws away what
 * was not sent yet (the end of the output, the exit status); so the stream's
 * socket is shut for writing first and what the client still sends is read
 * and dropped until it leaves, for LINGER_MS at most, before the close.
 *
 * A stream's code (the console hub, the exec relay) always gets a socket of
 * plain bytes. For a WebSocket it is one end of a socketpair; a relay thread
 * here holds the other end and the client's socket, and translates: each
 * message the client sends (binary or text, fragmented or not) is unmasked
 * and its payload written to the pair; what the stream writes is sent as
 * binary messages of at most 16 KiB. Pings are answered, a close is echoed
 * and ends the stream; when the stream ends, a close (1000) ends the
 * connection. The relay checks the daemon's shutdown flag at least every
 * half second, like every other stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/ws.h"
#include "daemon/api-stream.h"

#define WS_IN_MAX          (1u << 20) /* the largest message part we buffer from a client */
#define WS_OUT_MAX         16384
#define WS_SEND_TIMEOUT_MS 10000
#define LINGER_MS          2000

struct api_upgraded {
	api_upgrade_fn fn;
	void *ctx;
	struct MHD_UpgradeResponseHandle *urh;
	bool ws;
	bool tls;    /* over the TLS listener: libmicrohttpd forwards in its own thread */
	int sock;    /* libmicrohttpd's socket (plain streams) */
	char *extra; /* what the client sent after its request (a copy) */
	size_t extra_len;
	/* WebSocket relay: client is libmicrohttpd's socket, pair[0] the stream's, pair[1] ours. */
	int client, pair[2];
	int refs; /* the stream's and the relay's */
	uint8_t *in;
	size_t in_len;
};

static void unref(struct api_upgraded *u)
{
	if (__atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(u->in);
		free(u->extra);
		free(u);
	}
}

/* Read and drop what the client still sends, until it leaves or LINGER_MS pass. */
static void drain(int fd)
{
	uint64_t end = vk_now_ns() / 1000000 + LINGER_MS;
	char buf[4096];

	for (;;) {
		uint64_t now = vk_now_ns() / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return;
	}
}

static void *linger_close(void *arg)
{
	struct api_upgraded *u = arg;

	shutdown(u->sock, SHUT_WR);
	drain(u->sock);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	unref(u);
	return NULL;
}

/*
 * The threads started here (relays, TLS streams, lingering closes) call
 * MHD_upgrade_action() at their end: they are counted, so that the daemon
 * can wait for them before it stops libmicrohttpd, which frees every
 * upgrade handle still open (a later call would use freed memory).
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned live;
	bool closed; /* api_upgraded_shutdown ran: no new thread */
} threads = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};

struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

static void *counted(void *arg)
{
	struct thread_start ts = *(struct thread_start *)arg;

	free(arg);
	ts.fn(ts.arg);
	pthread_mutex_lock(&threads.lock);
	threads.live--;
	pthread_cond_broadcast(&threads.cond);
	pthread_mutex_unlock(&threads.lock);
	return NULL;
}

/* Run fn detached; false when no thread could be made, or the daemon is stopping. */
static bool spawn(void *(*fn)(void *), void *arg)
{
	struct thread_start *ts = malloc(sizeof(*ts));
	pthread_attr_t attr;
	pthread_t t;
	bool ok;

	if (!ts)
		return false;
	*ts = (struct thread_start){fn, arg};
	pthread_mutex_lock(&threads.lock);
	if (threads.closed) {
		pthread_mutex_unlock(&threads.lock);
		free(ts);
		errno = ESHUTDOWN;
		return false;
	}
	threads.live++;
	pthread_mutex_unlock(&threads.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&t, &attr, counted, ts) == 0;
	pthread_attr_destroy(&attr);
	if (!ok) {
		free(ts);
		pthread_mutex_lock(&threads.lock);
		threads.live--;
		pthread_cond_broadcast(&threads.cond);
		pthread_mutex_unlock(&threads.lock);
	}
	return ok;
}

bool api_upgraded_shutdown(unsigned timeout_ms)
{
	struct timespec dl;
	bool done;

	clock_gettime(CLOCK_REALTIME, &dl); /* threads.cond runs on CLOCK_REALTIME */
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&threads.lock);
	threads.closed = true;
	while (threads.live > 0)
		if (pthread_cond_timedwait(&threads.cond, &threads.lock, &dl) == ETIMEDOUT)
			break;
	done = threads.live == 0;
	if (!done)
		vk_warn("%u upgraded connection(s) did not end in %u ms", threads.live, timeout_ms);
	pthread_mutex_unlock(&threads.lock);
	return done;
}

void api_upgraded_close(struct api_upgraded *u)
{
	if (!u->ws) {
		/* The linger may take seconds: not in the caller's thread (the console hub). */
		if (!u->tls || !spawn(linger_close, u)) {
			MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
			unref(u);
		}
		return;
	}
	/* The relay sees the end of the stream, says goodbye and closes the connection. */
	shutdown(u->pair[0], SHUT_RDWR);
	close(u->pair[0]);
	unref(u);
}

bool api_wants_websocket(struct MHD_Connection *c)
{
	return http_wants_upgrade(c, "websocket");
}

bool api_wants_stream(struct MHD_Connection *c, const char *proto)
{
	return http_wants_upgrade(c, proto) || api_wants_websocket(c);
}

/* Send all of buf on a non-blocking socket, waiting for room up to WS_SEND_TIMEOUT_MS at a time. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			if (errno == EAGAIN && poll(&pf, 1, WS_SEND_TIMEOUT_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_frame(int fd, uint8_t op, const void *payload, size_t len)
{
	uint8_t h[VK_WS_HEADER_MAX];
	size_t hl = vk_ws_header(h, op, true, len);
	int r = send_all(fd, h, hl);

	return r < 0 || len == 0 ? r : send_all(fd, payload, len);
}

static int send_close(int fd, unsigned code)
{
	uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};

	return send_frame(fd, VK_WS_CLOSE, b, 2);
}

/*
 * Take the complete frames at the start of u->in. Returns 0 to go on, 1 when
 * the client closed, a negative errno (and the close code in *code) when it
 * broke the protocol or the stream is gone.
 */
static int take_frames(struct api_upgraded *u, unsigned *code)
{
	size_t off = 0;
	int r = 0;

	while (r == 0) {
		struct vk_ws_frame f;
		int h = vk_ws_parse(u->in + off, u->in_len - off, &f);
		uint8_t *p;

		if (h == 0)
			break;
		if (h < 0 || !f.masked) { /* clients must mask (section 5.1) */
			*code = 1002;
			r = -EPROTO;
			break;
		}
		if (f.len > WS_IN_MAX) {
			*code = 1009;
			r = -EMSGSIZE;
			break;
		}
		if (u->in_len - off - (size_t)h < f.len)
			break; /* the rest of the payload is still coming */
		p = u->in + off + h;
		vk_ws_unmask(p, (size_t)f.len, f.mask, 0);
		switch (f.op) {
		case VK_WS_CONT:
		case VK_WS_TEXT:
		case VK_WS_BINARY:
			/* Blocks while the stream does not read (exec's stdin): so does the client. */
			if (f.len && send_all(u->pair[1], p, (size_t)f.len) < 0) {
				*code = 1011;
				r = -EPIPE;
			}
			break;
		case VK_WS_PING:
			if (send_frame(u->client, VK_WS_PONG, p, (size_t)f.len) < 0) {
				*code = 1011;
				r = -EPIPE;
			}
			break;
		case VK_WS_CLOSE:
			r = 1;
			break;
		default: /* a pong */
			break;
		}
		off += (size_t)h + (size_t)f.len;
	}
	memmove(u->in, u->in + off, u->in_len - off);
	u->in_len -= off;
	return r;
}

static void *relay(void *arg)
{
	struct api_upgraded *u = arg;
	bool client_open = true, sent_close = false;
	unsigned code = 1000;
	uint8_t out[WS_OUT_MAX];

	/* Bytes the client sent with its upgrade request are frames too. */
	if (u->in_len && take_frames(u, &code) != 0)
		goto end;
	for (;;) {
		struct pollfd p[2] = {{.fd = client_open ? u->client : -1, .events = POLLIN},
		                      {.fd = u->pair[1], .events = POLLIN}};
		ssize_t n;
		int r;

		if (api_streams_stopping()) {
			code = 1001; /* going away */
			break;
		}
		if (poll(p, 2, 500) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			n = recv(u->pair[1], out, sizeof(out), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break; /* the stream ended */
			if (n > 0 && !sent_close &&
			    send_frame(u->client, VK_WS_BINARY, out, (size_t)n) < 0) {
				client_open = false;
				sent_close = true; /* cannot send anything anymore */
				break;
			}
		}
		if (client_open && p[0].revents) {
			if (u->in_len == WS_IN_MAX + VK_WS_HEADER_MAX) {
				code = 1009;
				break;
			}
			n = recv(u->client, u->in + u->in_len,
			         WS_IN_MAX + VK_WS_HEADER_MAX - u->in_len, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				sent_close = true; /* the client left without a close frame */
				break;
			}
			if (n > 0) {
				u->in_len += (size_t)n;
				r = take_frames(u, &code);
				if (r != 0)
					break; /* 1: the client's close, echoed below */
			}
		}
	}
end:
	if (code == 1000 && api_streams_stopping())
		code = 1001; /* the stream ended because the daemon stops */
	/* The stream sees its end (EOF, then EPIPE on writes). */
	shutdown(u->pair[1], SHUT_RDWR);
	close(u->pair[1]);
	if (!sent_close) {
		/* The closing handshake (section 7.1.2): our close, then the client's. */
		send_close(u->client, code);
		if (client_open)
			drain(u->client);
	}
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	unref(u);
	return NULL;
}

/* The stream's own thread (over TLS). */
static void *stream_thread(void *arg)
{
	struct api_upgraded *u = arg;

	u->fn(u->ctx, u->ws ? u->pair[0] : u->sock, u->extra, u->extra_len, u);
	unref(u);
	return NULL;
}

/* Give the stream its socket: here (the unix socket allows blocking), else in a thread. */
static void start_stream(struct api_upgraded *u, int sock, const char *extra, size_t extra_len)
{
	if (!u->tls) {
		u->fn(u->ctx, sock, extra, extra_len, u);
		return;
	}
	if (extra_len && !(u->extra = malloc(extra_len))) {
		extra_len = 0;
	} else if (extra_len) {
		memcpy(u->extra, extra, extra_len);
	}
	u->extra_len = extra_len;
	__atomic_add_fetch(&u->refs, 1, __ATOMIC_ACQ_REL);
	if (!spawn(stream_thread, u)) {
		if (errno != ESHUTDOWN) /* else the daemon is stopping: close, silently */
			vk_warn("cannot start a stream's thread: %s", strerror(errno));
		u->fn(u->ctx, -1, NULL, 0, NULL);
		unref(u);
		api_upgraded_close(u);
	}
}

static void upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                     size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct api_upgraded *u = cls;

	(void)conn;
	(void)con_cls;
	u->urh = urh;
	u->sock = sock;
	if (!u->ws) {
		u->refs = 1; /* the stream's; a stream thread takes one more */
		start_stream(u, sock, extra_in, extra_in_size);
		return;
	}
	u->client = sock;
	u->in = malloc(WS_IN_MAX + VK_WS_HEADER_MAX);
	if (!u->in || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u->pair) < 0) {
		vk_warn("cannot relay a WebSocket: %s", strerror(u->in ? errno : ENOMEM));
		send_close(sock, 1011);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		u->refs = 1;
		u->fn(u->ctx, -1, NULL, 0, NULL);
		unref(u);
		return;
	}
	vk_set_nonblock(u->pair[0], true); /* as libmicrohttpd's own sockets */
	if (extra_in_size && extra_in_size <= WS_IN_MAX) {
		memcpy(u->in, extra_in, extra_in_size);
		u->in_len = extra_in_size;
	}
	u->refs = 2;
	if (!spawn(relay, u)) {
		close(u->pair[1]);
		close(u->pair[0]);
		send_close(sock, 1011);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		u->refs = 1;
		u->fn(u->ctx, -1, NULL, 0, NULL);
		unref(u);
		return;
	}
	start_stream(u, u->pair[0], NULL, 0);
}

enum MHD_Result api_queue_upgrade(struct http_req *req, const char *proto, api_upgrade_fn fn,
                                  void *ctx)
{
	struct api_upgraded *u = calloc(1, sizeof(*u));
	const char *key = NULL, *ver;
	char accept[VK_WS_ACCEPT_LEN + 1];
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!u)
		return MHD_NO;
	u->fn = fn;
	u->ctx = ctx;
	u->tls = req->tls;
	u->ws = !http_wants_upgrade(req->conn, proto) && api_wants_websocket(req->conn);
	if (u->ws) {
		key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
		ver = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
		                                  "Sec-WebSocket-Version");
		if (!ver || strcmp(ver, "13") != 0 || vk_ws_accept(key, accept) < 0) {
			free(u);
			r = http_error(req->conn, MHD_HTTP_BAD_REQUEST,
			               "a WebSocket needs Sec-WebSocket-Version: 13 and a valid "
			               "Sec-WebSocket-Key");
			/* Answered: fn will not get the connection, so it releases ctx now (on
			 * MHD_NO the caller does). */
			if (r == MHD_YES)
				fn(ctx, -1, NULL, 0, NULL);
			return r;
		}
	}
	resp = MHD_create_response_for_upgrade(upgraded, u);
	if (!resp) {
		free(u);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, u->ws ? "websocket" : proto);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	if (u->ws)
		MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	r = MHD_queue_response(req->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (r != MHD_YES)
		free(u);
	return r;
}
