/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd set-up on the API unix socket (see http.h). Trust boundary:
 * everything a client sends is hostile until checked; the peer's credentials
 * (SO_PEERCRED) are checked on every request in addition to the socket's
 * mode and group.
 */
#include "daemon/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/http-int.h"
#include "daemon/proc.h"

static struct MHD_Daemon *mhd;
static int listen_fd = -1;
static struct {
	struct http_listener l;
	struct http_config cfg;
	char socket_path[108]; /* cfg.socket_path points here */
} srv;

unsigned http_status_for(int code)
{
	switch (code) {
	case EINVAL:
	case EBADMSG:
	case EPROTO:
	case EDOM:
	case ERANGE:
	case ENAMETOOLONG:
		return MHD_HTTP_BAD_REQUEST;
	case EACCES:
	case EPERM:
		return MHD_HTTP_FORBIDDEN;
	case ENOENT:
		return MHD_HTTP_NOT_FOUND;
	case EOPNOTSUPP:
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	case EEXIST:
	case EBUSY:
	case EALREADY:
	case ENOTCONN:
		return MHD_HTTP_CONFLICT;
	case E2BIG:
	case EMSGSIZE:
	case EFBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case EMEDIUMTYPE:
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	case ETIMEDOUT:
		return MHD_HTTP_GATEWAY_TIMEOUT;
	case ESHUTDOWN:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case ECONNREFUSED: /* another daemon this one needs (a migration's destination) */
		return MHD_HTTP_BAD_GATEWAY;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *buf, size_t len, const char *hdr, const char *value)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, (void *)buf, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (hdr)
		MHD_add_response_header(resp, hdr, value);
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

enum MHD_Result http_json_hdr(struct MHD_Connection *c, unsigned status, json_object *json,
                              const char *hdr, const char *value)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
	        json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *buf = malloc(len + 2);
	enum MHD_Result r;

	if (!buf) {
		json_object_put(json);
		return MHD_NO;
	}
	memcpy(buf, s, len);
	buf[len++] = '\n';
	r = queue(c, status, "application/json", buf, len, hdr, value);
	free(buf);
	json_object_put(json);
	return r;
}

enum MHD_Result http_json(struct MHD_Connection *c, unsigned status, json_object *json)
{
	return http_json_hdr(c, status, json, NULL, NULL);
}

json_object *http_error_json(unsigned status, const char *msg)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int((int)status));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return o;
}

enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[VK_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_json(c, status, http_error_json(status, msg));
}

enum MHD_Result http_vk_error(struct MHD_Connection *c, const struct vk_error *err)
{
	return http_error(c, http_status_for(err->code), "%s", err->msg);
}

enum MHD_Result http_text(struct MHD_Connection *c, unsigned status, const char *type,
                          const char *buf, size_t len)
{
	return queue(c, status, type, buf, len, NULL, NULL);
}

const char *http_arg(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* Is token (case-insensitive) in a comma-separated header value? */
static bool has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	while (v && *v) {
		while (*v == ' ' || *v == ',')
			v++;
		if (strncasecmp(v, token, n) == 0 && (v[n] == '\0' || v[n] == ',' || v[n] == ' '))
			return true;
		v = strchr(v, ',');
	}
	return false;
}

bool http_wants_upgrade(struct MHD_Connection *c, const char *proto)
{
	const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
	const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");

	return has_token(conn, "upgrade") && up && strcasecmp(up, proto) == 0;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/*
 * Is gid among the peer's supplementary groups? SO_PEERGROUPS gives them as
 * they were at connect(), like SO_PEERCRED: reading /proc/PID/status instead
 * would ask whatever process holds that pid now.
 */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	bool found = false;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE || !(g = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			len = 0;
	}
	for (i = 0; i < len / sizeof(*g) && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
}

/* Root, the daemon's own user, or a member of the socket's group. */
static bool peer_allowed(struct MHD_Connection *c, uid_t *uid_out)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred uc;
	socklen_t len = sizeof(uc);

	*uid_out = (uid_t)-1;
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return false;
	*uid_out = uc.uid;
	if (uc.uid == 0 || uc.uid == geteuid())
		return true;
	if (srv.cfg.socket_gid == (gid_t)-1)
		return false;
	return uc.gid == srv.cfg.socket_gid || peer_in_group(ci->connect_fd, srv.cfg.socket_gid);
}

/* The unix socket's admission: root, our user or the socket's group; 403 for anyone else. */
static bool unix_admit(struct http_listener *l, struct http_req *req)
{
	static int64_t last_log_s; /* a refused peer must not flood the log */
	int64_t now_s;
	uid_t uid;

	(void)l;
	if (peer_allowed(req->conn, &uid))
		return true;
	now_s = (int64_t)(vk_now_ns() / 1000000000);
	if (__atomic_exchange_n(&last_log_s, now_s, __ATOMIC_RELAXED) != now_s)
		vk_info("refused a request from uid %d (at most one such line a second)", (int)uid);
	http_error(req->conn, MHD_HTTP_FORBIDDEN,
	           "permission denied: uid %d is not root and not in the socket's group", (int)uid);
	return false;
}

enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **con_cls)
{
	struct http_listener *l = cls;
	struct http_req *req = *con_cls;

	(void)version;
	if (!req) {
		const char *cl;

		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		req->conn = conn;
		req->method = method;
		req->url = url;
		if (!l->admit(l, req)) {
			req->responded = true;
			return MHD_YES;
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > l->max_body) {
			req->responded = true;
			return http_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
			                  "request body too large (limit %zu bytes)", l->max_body);
		}
		return MHD_YES;
	}
	if (req->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (req->len + n > l->max_body) {
			req->responded = true;
			*upload_data_size = 0;
			return http_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
			                  "request body too large (limit %zu bytes)", l->max_body);
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = (req->len + n + 1) * 2;
			char *b = realloc(req->body, cap);
			if (!b)
				return MHD_NO;
			req->body = b;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}
	req->responded = true;
	return l->handler(l->opaque, req);
}

void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	vk_debug("http: %s", line);
}

static int open_listen_socket(struct vk_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, r;

	if (strlen(srv.cfg.socket_path) >= sizeof(sa.sun_path))
		return vk_error_set(err, ENAMETOOLONG, "socket path '%s' is too long (limit %zu)",
		                    srv.cfg.socket_path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, srv.cfg.socket_path);
	strcpy(dir, srv.cfg.socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((r = mkdir_p(dir, 0755)) < 0)
			return vk_error_errno(err, -r, "cannot create '%s'", dir);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create a socket");
	/* A live daemon answers; a stale socket file refuses and can go. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return vk_error_set(err, EADDRINUSE, "another virtkitd is serving '%s'",
		                    srv.cfg.socket_path);
	}
	close(fd);
	unlink(srv.cfg.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vk_error_errno(err, errno, "cannot create a socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = vk_error_errno(err, errno, "cannot bind '%s'", srv.cfg.socket_path);
		close(fd);
		return r;
	}
	/* Mode and group before listen(): nobody can connect in between. */
	if (srv.cfg.socket_gid != (gid_t)-1 &&
	    chown(srv.cfg.socket_path, (uid_t)-1, srv.cfg.socket_gid) < 0)
		vk_warn("cannot give '%s' to group %d: %s", srv.cfg.socket_path,
		        (int)srv.cfg.socket_gid, strerror(errno));
	if (chmod(srv.cfg.socket_path, srv.cfg.socket_mode) < 0 || listen(fd, 128) < 0) {
		r = vk_error_errno(err, errno, "cannot listen on '%s'", srv.cfg.socket_path);
		close(fd);
		return r;
	}
	return fd;
}

int http_start(const struct http_config *cfg, http_handler handler, void *opaque,
               struct vk_error *err)
{
	int fd;

	if (strlen(cfg->socket_path) >= sizeof(srv.socket_path))
		return vk_error_set(err, ENAMETOOLONG, "socket path '%s' is too long (limit %zu)",
		                    cfg->socket_path, sizeof(srv.socket_path) - 1);
	srv.cfg = *cfg;
	strcpy(srv.socket_path, cfg->socket_path);
	srv.cfg.socket_path = srv.socket_path;
	srv.l = (struct http_listener){.max_body = cfg->max_body,
	                               .handler = handler,
	                               .opaque = opaque,
	                               .admit = unix_admit};
	fd = open_listen_socket(err);

	if (fd < 0)
		return fd;
	listen_fd = fd;
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                               MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG | MHD_USE_POLL,
	                       0, NULL, NULL, http_access, &srv.l, MHD_OPTION_LISTEN_SOCKET, fd,
	                       MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
	                       MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
	                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	                       MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL, MHD_OPTION_END);
	if (!mhd) {
		close(fd);
		listen_fd = -1;
		unlink(srv.cfg.socket_path);
		return vk_error_set(err, EIO, "cannot start the HTTP server on '%s'",
		                    srv.cfg.socket_path);
	}
	return 0;
}

void http_stop(void)
{
	if (!mhd)
		return;
	MHD_stop_daemon(mhd); /* closes the listening socket it was given */
	mhd = NULL;
	listen_fd = -1;
	unlink(srv.cfg.socket_path);
}
