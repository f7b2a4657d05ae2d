/* SPDX-License-Identifier: MIT */
/*
 * virtkit ui [REMOTE:] [--port N] [--web DIR]: the web console (see ui.h).
 * Every request passes, in this order:
 *  - its Host must be this server (127.0.0.1:PORT or localhost:PORT): a page
 *    of another site whose name resolves to 127.0.0.1 (DNS rebinding) gets
 *    nothing;
 *  - a browser request from another origin (Origin, Sec-Fetch-Site) is
 *    refused;
 *  - it must carry the session cookie, or be the first visit with the
 *    one-time token (which then stops working: a URL that leaked through a
 *    history or a log opens nothing).
 * The cookie is HttpOnly and SameSite=Strict; pages come with a
 * Content-Security-Policy that allows this origin only (common/webfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/ui.h"
#include "common/util.h"
#include "common/webfile.h"
#include "common/x509.h"

#define BODY_MAX     (1u << 20)
#define FILE_MAX     (16u << 20)
#define COOKIE       "vk_ui"
#define SECRET_BYTES 32

static struct {
	struct ui_target target;
	char web[PATH_MAX];
	char token[2 * SECRET_BYTES + 1];   /* "" once used */
	char session[2 * SECRET_BYTES + 1]; /* "" until the token is used */
	char host_ip[64], host_name[64];    /* what Host must say */
	pthread_mutex_t lock;
} ui = {.lock = PTHREAD_MUTEX_INITIALIZER};

void ui_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", VK_WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

enum MHD_Result ui_text(struct MHD_Connection *c, unsigned status, const char *type,
                        const char *body, size_t len)
{
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result mr;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ui_headers(r);
	mr = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return mr;
}

enum MHD_Result ui_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	const char *s;
	enum MHD_Result mr;

	json_object_object_add(e, "code", json_object_new_int((int)status));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	mr = ui_text(c, status, "application/json", s, strlen(s));
	json_object_put(o);
	return mr;
}

/* Constant-time comparison of a secret with what a request says (any length). */
static bool same_secret(const char *secret, const char *given)
{
	size_t n = strlen(secret), m = given ? strlen(given) : 0;
	unsigned char d = n != m || n == 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(secret[i] ^ (i < m ? given[i] : 0));
	return d == 0;
}

static bool host_ok(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

	return h && (strcmp(h, ui.host_ip) == 0 || strcmp(h, ui.host_name) == 0);
}

static bool cross_site(struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return true;
	return origin &&
	       (!host || strncmp(origin, "http://", 7) != 0 || strcmp(origin + 7, host) != 0);
}

static bool has_session(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	bool ok;

	pthread_mutex_lock(&ui.lock);
	ok = ui.session[0] && same_secret(ui.session, v);
	pthread_mutex_unlock(&ui.lock);
	return ok;
}

/* The first visit: the token for a session cookie, then the page without the token. */
static enum MHD_Result redeem(struct MHD_Connection *c, const char *token)
{
	char cookie[160];
	struct MHD_Response *r;
	enum MHD_Result mr;
	bool ok;

	pthread_mutex_lock(&ui.lock);
	ok = ui.token[0] && same_secret(ui.token, token);
	if (ok) {
		ui.token[0] = '\0'; /* once */
		if (vk_random_hex(ui.session, SECRET_BYTES) < 0)
			ok = false;
	}
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict", COOKIE,
	         ui.session);
	pthread_mutex_unlock(&ui.lock);
	if (!ok) {
		fprintf(stderr, "virtkit: ui: refused a wrong or used token\n");
		return ui_error(c, MHD_HTTP_FORBIDDEN,
		                "this link has been used: a token opens the console once (run "
		                "'virtkit ui' again for a new one)");
	}
	r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Set-Cookie", cookie);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ui_headers(r);
	mr = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
	MHD_destroy_response(r);
	return mr;
}

/* A file of the web folder (common/webfile.h says which). */
static enum MHD_Result serve_file(struct MHD_Connection *c, const char *url)
{
	char path[PATH_MAX + 256];
	const char *type = vk_web_file(ui.web, url, path, sizeof(path));
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result mr;
	int fd;

	if (!type)
		return ui_error(c, MHD_HTTP_NOT_FOUND, "no such page");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		if (fd >= 0)
			close(fd);
		return ui_error(c, MHD_HTTP_NOT_FOUND, "no such page");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ui_headers(r);
	mr = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return mr;
}

static enum MHD_Result handle(struct MHD_Connection *c, const char *url, const char *method,
                              struct ui_req *req)
{
	const char *token;

	if (!host_ok(c))
		return ui_error(c, MHD_HTTP_FORBIDDEN,
		                "wrong Host: open the address virtkit ui printed");
	if (cross_site(c))
		return ui_error(c, MHD_HTTP_FORBIDDEN, "cross-site request refused");
	token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (token && strcmp(url, "/") == 0 && strcmp(method, "GET") == 0)
		return redeem(c, token);
	if (!has_session(c))
		return ui_error(
		        c, MHD_HTTP_FORBIDDEN,
		        "not signed in: open the address 'virtkit ui' printed (its token works "
		        "once)");
	if (strncmp(url, "/1.0", 4) == 0 && (url[4] == '\0' || url[4] == '/'))
		return ui_proxy(&ui.target, c, method, url, req);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return ui_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "pages are read with GET");
	return serve_file(c, url);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *data_size, void **con_cls)
{
	struct ui_req *req = *con_cls;

	(void)cls;
	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		*con_cls = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		size_t n = *data_size;
		*data_size = 0;
		if (req->refused)
			return MHD_YES;
		if (req->len + n > BODY_MAX) {
			req->refused = true;
			return ui_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
		}
		if (req->len + n + 1 > req->cap) {
			char *b = realloc(req->body, (req->len + n + 1) * 2);
			if (!b)
				return MHD_NO;
			req->body = b;
			req->cap = (req->len + n + 1) * 2;
		}
		memcpy(req->body + req->len, data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}
	if (req->refused)
		return MHD_YES;
	return handle(c, url, method, req);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct ui_req *req = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

static void connection_cb(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct ui_conn *uc;

	(void)cls;
	(void)c;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct ui_conn));
		return;
	}
	uc = *socket_context;
	if (uc) {
		virtkit_disconnect(uc->conn);
		free(uc);
		*socket_context = NULL;
	}
}

/* The web folder: --web, $VIRTKIT_WEB, the build tree's (build/web beside build/src/cli), installed. */
static int find_web(const char *given)
{
	const char *env = getenv("VIRTKIT_WEB");
	char self[PATH_MAX], cand[PATH_MAX + 64], *slash;
	ssize_t n;

	if (given || (env && *env)) {
		snprintf(ui.web, sizeof(ui.web), "%s", given ? given : env);
		snprintf(cand, sizeof(cand), "%s/index.html", ui.web);
		return access(cand, R_OK) == 0 ? 0 : -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/../../web/index.html", self);
		if (access(cand, R_OK) == 0 && realpath(cand, ui.web)) {
			*strrchr(ui.web, '/') = '\0';
			return 0;
		}
		snprintf(cand, sizeof(cand), "%s/../share/virtkit/web/index.html", self);
		if (access(cand, R_OK) == 0 && realpath(cand, ui.web)) {
			*strrchr(ui.web, '/') = '\0';
			return 0;
		}
	}
	snprintf(ui.web, sizeof(ui.web), "%s", VIRTKIT_WEB_DIR);
	return access(VIRTKIT_WEB_DIR "/index.html", R_OK) == 0 ? 0 : -1;
}

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

int cmd_ui(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"port", required_argument, NULL, 'p'},
	        {"web", required_argument, NULL, 'w'},
	        {NULL, 0, NULL, 0},
	};
	struct sigaction sa = {.sa_handler = on_stop};
	const union MHD_DaemonInfo *di;
	const char *web = NULL;
	struct MHD_Daemon *mhd;
	virtkit_conn *probe;
	uint64_t port = 0;
	sigset_t mask, old;
	int c, st;

	while ((c = cli_getopt_any(argc, argv, "p:w:", opts)) != -1) {
		if (c == 'p' && vk_parse_uint(optarg, 0, 65535, &port) == 0)
			continue;
		if (c == 'p')
			return cli_usage("--port must be 0 to 65535");
		if (c != 'w')
			return CLI_USAGE;
		web = optarg;
	}
	if (optind != argc)
		return cli_usage("usage: virtkit ui [REMOTE:] [--port N] [--web DIR]");
	if (find_web(web) < 0) {
		fprintf(stderr,
		        "virtkit: the web console's files are not in '%s' (build them with 'make "
		        "web', which needs npm, or give --web DIR)\n",
		        ui.web);
		return CLI_FAIL;
	}
	/* The daemon must answer now: a console that cannot reach it helps nobody. */
	if (!(probe = cli_conn(cli, &st)))
		return st;
	ui.target.remote = cli->remote;
	ui.target.socket = cli->socket;
	if (vk_random_hex(ui.token, SECRET_BYTES) < 0) {
		cli_print_error("cannot make a random token");
		return CLI_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Blocked here (and so in the server's threads) until sigsuspend() below takes them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	mhd = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                MHD_ALLOW_UPGRADE | MHD_USE_POLL,
	        (uint16_t)port, NULL, NULL, access_cb, NULL, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
	                                                 .sin_port = htons((uint16_t)port),
	                                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
	        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL, MHD_OPTION_NOTIFY_CONNECTION,
	        connection_cb, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!mhd) {
		fprintf(stderr, "virtkit: cannot listen on 127.0.0.1:%u: %s\n", (unsigned)port,
		        strerror(errno));
		return CLI_FAIL;
	}
	di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = di ? di->port : port;
	snprintf(ui.host_ip, sizeof(ui.host_ip), "127.0.0.1:%u", (unsigned)port);
	snprintf(ui.host_name, sizeof(ui.host_name), "localhost:%u", (unsigned)port);
	printf("http://127.0.0.1:%u/?token=%s\n", (unsigned)port, ui.token);
	fflush(stdout);
	fprintf(stderr,
	        "virtkit: the web console of %s is at the address above (its token works once); "
	        "Ctrl-C ends it\n",
	        virtkit_conn_socket(probe));
	while (!stop_sig)
		sigsuspend(&old);
	MHD_stop_daemon(mhd);
	return CLI_OK;
}
