/* SPDX-License-Identifier: MIT */
/*
 * GET /1.0/instances/NAME/logs: the console log, whole or its end (?tail=BYTES
 * or ?lines=N), and with ?follow=1 a chunked response that goes on with what
 * the instance writes next. The log is rotated by the console hub (LOG.1 and a
 * new LOG once it reaches 4 MiB): a follower notices the new file by its inode
 * and reads it from its start.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/api-stream.h"
#include "daemon/paths.h"

#define LOG_TAIL_MAX   (4 * 1024 * 1024)
#define LINES_MAX      1000000
#define FOLLOW_POLL_MS 200

static const struct vkd_paths *paths;

void api_logs_init(const struct vkd_paths *p)
{
	paths = p;
}

/* Where the last n lines of fd (size bytes) start; a final newline ends the last line. */
static off_t tail_lines_offset(int fd, off_t size, uint64_t n)
{
	char buf[4096];
	off_t end = size;
	uint64_t seen = 0;

	if (size == 0 || n == 0)
		return 0;
	/* The byte before EOF: a newline there closes the last line, it does not start one. */
	if (pread(fd, buf, 1, size - 1) == 1 && buf[0] == '\n')
		end--;
	while (end > 0) {
		size_t len = (size_t)VK_MIN((off_t)sizeof(buf), end);
		ssize_t got = pread(fd, buf, len, end - (off_t)len);

		if (got != (ssize_t)len)
			return 0;
		for (size_t i = len; i-- > 0;)
			if (buf[i] == '\n' && ++seen == n)
				return end - (off_t)len + (off_t)i + 1;
		end -= (off_t)len;
	}
	return 0;
}

/* Where to start: ?lines=N, else ?tail=BYTES, else the start (at most LOG_TAIL_MAX back). */
static off_t start_offset(int fd, off_t size, uint64_t lines, uint64_t tail)
{
	off_t off = lines ? tail_lines_offset(fd, size, lines) : 0;

	if (tail && size > (off_t)tail)
		off = VK_MAX(off, size - (off_t)tail);
	if (size - off > LOG_TAIL_MAX)
		off = size - LOG_TAIL_MAX;
	return off;
}

struct follow {
	struct instance *inst; /* a reference: the stream ends when it is undefined */
	char path[PATH_MAX];
	int fd;    /* the log file being read, -1 before it exists */
	ino_t ino; /* its inode, to notice a rotation */
	off_t pos;
	int sock; /* the client's socket, to notice it leaving */
};

static void follow_free(void *cls)
{
	struct follow *f = cls;

	if (f->fd >= 0)
		close(f->fd);
	instance_unref(f->inst);
	free(f);
}

static bool removed(struct instance *inst)
{
	bool r;

	pthread_mutex_lock(&inst->lock);
	r = inst->removed;
	pthread_mutex_unlock(&inst->lock);
	return r;
}

/* (Re)open the log when it exists; a new file (first or after a rotation) is read from 0. */
static void follow_open(struct follow *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	f->fd = fd;
	f->ino = st.st_ino;
	f->pos = 0;
}

/* At the end of the open file: true when the path now names another file (rotated). */
static bool follow_rotated(struct follow *f)
{
	struct stat st;

	if (stat(f->path, &st) < 0)
		return false; /* between the rename and the new file: keep the old one */
	return st.st_ino != f->ino || st.st_size < f->pos;
}

static ssize_t follow_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;

	(void)pos;
	for (;;) {
		struct pollfd p = {.fd = f->sock, .events = POLLRDHUP};

		if (f->fd < 0)
			follow_open(f);
		if (f->fd >= 0) {
			ssize_t n = pread(f->fd, buf, max, f->pos);
			if (n > 0) {
				f->pos += n;
				return n;
			}
			if (follow_rotated(f)) {
				close(f->fd);
				f->fd = -1;
				continue;
			}
		}
		if (api_streams_stopping() || removed(f->inst))
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Wait for more, and notice the client leaving meanwhile. */
		if (f->sock >= 0 && poll(&p, 1, FOLLOW_POLL_MS) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (f->sock < 0)
			poll(NULL, 0, FOLLOW_POLL_MS);
	}
}

static enum MHD_Result follow_logs(struct http_req *req, struct instance *inst, const char *path,
                                   uint64_t lines, uint64_t tail)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *resp;
	struct follow *f = calloc(1, sizeof(*f));
	enum MHD_Result r;

	if (!f)
		return MHD_NO;
	f->inst = instance_ref(inst);
	f->fd = -1;
	f->sock = ci ? ci->connect_fd : -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	follow_open(f);
	if (f->fd >= 0) {
		struct stat st;
		if (fstat(f->fd, &st) == 0)
			f->pos = start_offset(f->fd, st.st_size, lines, tail);
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, follow_reader, f,
	                                         follow_free);
	if (!resp) {
		follow_free(f);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	/* A quiet console is not an idle connection. */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	r = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

enum MHD_Result api_logs(struct http_req *req, struct instance *inst)
{
	const char *tail_arg = http_arg(req->conn, "tail"),
	           *lines_arg = http_arg(req->conn, "lines");
	const char *follow = http_arg(req->conn, "follow");
	uint64_t tail = 0, lines = 0;
	char path[PATH_MAX];
	struct stat st;
	enum MHD_Result mr;
	off_t off;
	char *buf;
	ssize_t n;
	int fd;

	if (tail_arg && vk_parse_uint(tail_arg, 1, LOG_TAIL_MAX, &tail) < 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "'tail' must be a number of bytes from 1 to %d", LOG_TAIL_MAX);
	if (lines_arg && vk_parse_uint(lines_arg, 0, LINES_MAX, &lines) < 0)
		return http_error(req->conn, MHD_HTTP_BAD_REQUEST,
		                  "'lines' must be a number of lines from 0 to %d", LINES_MAX);
	if (paths_log(paths, inst->uuid, path, sizeof(path)) < 0)
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "log path too long");
	if (follow && strcmp(follow, "0") != 0)
		return follow_logs(req, inst, path, lines, tail);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return http_text(req->conn, MHD_HTTP_OK, "text/plain; charset=utf-8", "", 0);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the log");
	}
	off = start_offset(fd, st.st_size, lines, tail);
	buf = malloc((size_t)(st.st_size - off) + 1);
	n = buf ? pread(fd, buf, (size_t)(st.st_size - off), off) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return http_error(req->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the log");
	}
	mr = http_text(req->conn, MHD_HTTP_OK, "text/plain; charset=utf-8", buf, (size_t)n);
	free(buf);
	return mr;
}
