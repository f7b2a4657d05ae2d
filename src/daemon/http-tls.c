/* SPDX-License-Identifier: MIT */
/*
 * The TLS listener (see http.h): libmicrohttpd with GnuTLS on a TCP socket we
 * bind ourselves (so port 0 works and the bound port is known), TLS 1.2 and
 * 1.3 only. Giving libmicrohttpd a trust list (our own certificate) is what
 * makes it ask clients for a certificate; the request is optional
 * (GNUTLS_CERT_REQUEST) and nothing is verified against that list: the
 * handshake proves the client holds the key of the certificate it sent, and
 * the handler decides by its fingerprint whether that certificate is trusted.
 *
 * Connections are remembered with the fingerprint their client presented, so
 * that removing a certificate from the trust store can cut them at once,
 * including upgraded streams (console, exec) and event streams: shutdown(2)
 * of the TCP socket ends libmicrohttpd's TLS forwarding and every read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "common/log.h"
#include "common/x509.h"
#include "daemon/http-int.h"

/* Without SSL 3.0, TLS 1.0 and 1.1; GnuTLS's NORMAL choice of ciphers otherwise. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* One TLS connection: its socket and what its client presented. */
struct tls_conn {
	int fd;
	bool identified; /* fp was read (at the first request) */
	char fp[VK_FINGERPRINT_LEN + 1];
	struct tls_conn *next;
};

static struct {
	struct MHD_Daemon *mhd;
	struct http_listener l;
	char *cert, *key;     /* PEM, kept while libmicrohttpd runs */
	pthread_mutex_t lock; /* conns */
	struct tls_conn *conns;
} tls = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The fingerprint of the client's certificate, or "" when it sent none. */
static void peer_fingerprint(struct MHD_Connection *c, char *fp)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	unsigned n = 0;

	fp[0] = '\0';
	if (!ci || !ci->tls_session)
		return;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (certs && n > 0)
		vk_x509_fingerprint_der(certs[0].data, certs[0].size, fp);
}

int http_tls_peer_certificate(struct MHD_Connection *c, uint8_t **der, size_t *len)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	unsigned n = 0;

	if (!ci || !ci->tls_session)
		return -ENOENT;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (!certs || n == 0)
		return -ENOENT;
	*der = malloc(certs[0].size);
	if (!*der)
		return -ENOMEM;
	memcpy(*der, certs[0].data, certs[0].size);
	*len = certs[0].size;
	return 0;
}

static bool tls_admit(struct http_listener *l, struct http_req *req)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct tls_conn *tc = ci ? ci->socket_context : NULL;

	(void)l;
	req->tls = true;
	if (!tc) {
		peer_fingerprint(req->conn, req->fingerprint);
		return true;
	}
	/* The certificate cannot change within a connection (no renegotiation in 1.3). */
	pthread_mutex_lock(&tls.lock);
	if (!tc->identified) {
		peer_fingerprint(req->conn, tc->fp);
		tc->identified = true;
	}
	memcpy(req->fingerprint, tc->fp, sizeof(tc->fp));
	pthread_mutex_unlock(&tls.lock);
	return true;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
	struct tls_conn *tc, **p;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		tc = calloc(1, sizeof(*tc));
		if (!tc || !ci) {
			free(tc);
			return; /* tls_admit reads the fingerprint each time instead */
		}
		tc->fd = ci->connect_fd;
		pthread_mutex_lock(&tls.lock);
		tc->next = tls.conns;
		tls.conns = tc;
		pthread_mutex_unlock(&tls.lock);
		*socket_context = tc;
		return;
	}
	/* Closed: libmicrohttpd closes the socket after this returns. */
	tc = *socket_context;
	if (!tc)
		return;
	pthread_mutex_lock(&tls.lock);
	for (p = &tls.conns; *p; p = &(*p)->next)
		if (*p == tc) {
			*p = tc->next;
			break;
		}
	pthread_mutex_unlock(&tls.lock);
	free(tc);
	*socket_context = NULL;
}

int http_tls_disconnect(const char *fp)
{
	struct tls_conn *tc;
	int n = 0;

	pthread_mutex_lock(&tls.lock);
	for (tc = tls.conns; tc; tc = tc->next)
		if (tc->identified && strcmp(tc->fp, fp) == 0) {
			shutdown(tc->fd, SHUT_RDWR);
			n++;
		}
	pthread_mutex_unlock(&tls.lock);
	return n;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" → a bound, listening socket. */
static int open_tcp(const char *address, char *bound, size_t bound_len, struct vk_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[128], port[16], h[INET6_ADDRSTRLEN];
	const char *colon = strrchr(address, ':');
	size_t hl;
	int fd = -1, one = 1, gr;

	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port))
		return vk_error_set(err, EINVAL,
		                    "--listen '%s': give ADDRESS:PORT (127.0.0.1:8443, [::1]:8443, "
		                    ":8443)",
		                    address);
	hl = (size_t)(colon - address);
	if (hl >= 2 && address[0] == '[' && address[hl - 1] == ']') {
		address++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return vk_error_set(err, EINVAL, "--listen '%s': the address is too long", address);
	memcpy(host, address, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	gr = getaddrinfo(hl ? host : NULL, port, &hints, &ai);
	if (gr != 0)
		return vk_error_set(err, EINVAL, "--listen '%s': %s (a numeric address and port)",
		                    address, gai_strerror(gr));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return vk_error_errno(err, errno, "cannot create a TCP socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		close(fd);
		return vk_error_errno(err, e, "cannot listen on %s", address);
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(bound, bound_len, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(bound, bound_len, "%s:%u", h, ntohs(s4->sin_port));
	}
	return fd;
}

int http_tls_start(const struct http_tls_config *cfg, http_handler handler, void *opaque,
                   char *bound, size_t bound_len, struct vk_error *err)
{
	int fd;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return vk_error_set(err, ENOTSUP,
		                    "this libmicrohttpd was built without TLS: --listen is not "
		                    "available");
	if (MHD_is_feature_supported(MHD_FEATURE_UPGRADE) != MHD_YES)
		return vk_error_set(err, ENOTSUP, "this libmicrohttpd cannot upgrade connections");
	tls.cert = strdup(cfg->cert_pem);
	tls.key = strdup(cfg->key_pem);
	if (!tls.cert || !tls.key) {
		http_tls_stop();
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	fd = open_tcp(cfg->address, bound, bound_len, err);
	if (fd < 0) {
		http_tls_stop();
		return fd;
	}
	tls.l = (struct http_listener){.max_body = cfg->max_body,
	                               .handler = handler,
	                               .opaque = opaque,
	                               .admit = tls_admit};
	tls.mhd = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_TLS,
	        0, NULL, NULL, http_access, &tls.l, MHD_OPTION_LISTEN_SOCKET, fd,
	        MHD_OPTION_HTTPS_MEM_CERT, tls.cert, MHD_OPTION_HTTPS_MEM_KEY, tls.key,
	        MHD_OPTION_HTTPS_MEM_TRUST, tls.cert, MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	        MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL, MHD_OPTION_NOTIFY_COMPLETED,
	        http_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	        MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL, MHD_OPTION_END);
	if (!tls.mhd) {
		close(fd);
		http_tls_stop();
		return vk_error_set(err, EIO, "cannot start the TLS server on %s", bound);
	}
	return 0;
}

void http_tls_stop(void)
{
	if (tls.mhd)
		MHD_stop_daemon(tls.mhd); /* closes the listening socket it was given */
	tls.mhd = NULL;
	free(tls.cert);
	free(tls.key);
	tls.cert = tls.key = NULL;
}
