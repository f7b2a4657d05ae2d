/* SPDX-License-Identifier: MIT */
/*
 * The web console's files on the TLS listener (for trusted clients only: a
 * browser that holds a trusted certificate). The page talks to the same
 * origin: the API, the event stream, WebSockets for the terminal.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/webfile.h"
#include "daemon/api-remote.h"

#define FILE_MAX (16u << 20)

enum MHD_Result api_ui_file(struct http_req *req, const char *web_root)
{
	char path[PATH_MAX + 256];
	const char *type;
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result mr;
	int fd;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return http_error(req->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "pages are read with GET");
	if (!web_root)
		return http_error(
		        req->conn, MHD_HTTP_NOT_FOUND,
		        "this virtkitd has no web console files (make web; virtkitd --web "
		        "DIR)");
	type = vk_web_file(web_root, req->url, path, sizeof(path));
	fd = type ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		if (fd >= 0)
			close(fd);
		return http_error(req->conn, MHD_HTTP_NOT_FOUND, "no such page");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Content-Security-Policy", VK_WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	mr = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return mr;
}
