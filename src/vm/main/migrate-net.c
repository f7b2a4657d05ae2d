/* SPDX-License-Identifier: MIT */
/*
 * Where a machine's state goes to and comes from: `unix:PATH` and
 * `tcp:HOST:PORT` addresses (connecting for `migrate`, listening for one
 * connection with `run --incoming`), a state file for `run --restore`, and
 * the destination's one-line answer once it has loaded the state ("OK", or
 * "ERR <sentence>").
 *
 * A migration stream carries guest memory in the clear and has no
 * authentication: tcp: is for a network the two hosts trust (as QEMU's tcp:
 * migration), unix: sockets are mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/main/migrate-net.h"
#include "vm/main/migrate.h"

#define IO_TIMEOUT_S 60

int vm_migrate_parse_uri(const char *uri, struct vm_migrate_addr *a, struct vk_error *err)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (vk_startswith(uri, "unix:")) {
		if (strlen(uri + 5) == 0 || strlen(uri + 5) >= sizeof(a->path))
			return vk_error_set(err, EINVAL,
			                    "'%s': a unix socket path of 1 to %zu bytes", uri,
			                    sizeof(a->path) - 1);
		a->unix_socket = true;
		snprintf(a->path, sizeof(a->path), "%s", uri + 5);
		return 0;
	}
	if (vk_startswith(uri, "tcp:")) {
		colon = strrchr(uri + 4, ':');
		if (!colon || colon == uri + 4 || !colon[1] ||
		    (size_t)(colon - (uri + 4)) >= sizeof(a->host) || strlen(colon + 1) >= 8)
			return vk_error_set(err, EINVAL, "'%s': expected tcp:HOST:PORT", uri);
		memcpy(a->host, uri + 4, (size_t)(colon - (uri + 4)));
		snprintf(a->port, sizeof(a->port), "%s", colon + 1);
		return 0;
	}
	return vk_error_set(err, EINVAL,
	                    "'%s' is not a migration address (unix:PATH or tcp:HOST:PORT)", uri);
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Connect or listen (listen: bound and listening, backlog 1). */
static int open_socket(const struct vm_migrate_addr *a, bool listening, struct vk_error *err)
{
	const char *what = listening ? "listen for a migration on" : "connect to";
	int fd;

	if (a->unix_socket) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct stat st;

		/*
		 * Listening: bound under PATH~ and renamed to PATH once it listens, so
		 * that whoever waits for PATH to appear (virtkitd) can connect at once.
		 */
		bool tmp = listening && strlen(a->path) + 1 < sizeof(sa.sun_path);

		if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", a->path,
		                     tmp ? "~" : "") >= sizeof(sa.sun_path))
			return vk_error_set(err, ENAMETOOLONG,
			                    "cannot %s 'unix:%s': the path is too long", what,
			                    a->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return vk_error_errno(err, errno, "cannot %s 'unix:%s'", what, a->path);
		if (listening) {
			/* Replace a stale socket, never anything else. */
			if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
				unlink(a->path);
			if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
				unlink(sa.sun_path);
			if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			    chmod(sa.sun_path, 0600) < 0 || listen(fd, 1) < 0 ||
			    (tmp && rename(sa.sun_path, a->path) < 0)) {
				if (tmp)
					unlink(sa.sun_path);
				goto fail;
			}
		} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			goto fail;
		}
		return fd;
	fail:
		vk_error_errno(err, errno, "cannot %s 'unix:%s'", what, a->path);
		close(fd);
		return -EIO;
	} else {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
		                         .ai_flags = listening ? AI_PASSIVE : 0};
		struct addrinfo *res, *ai;
		int r = getaddrinfo(a->host, a->port, &hints, &res), e = 0;

		if (r != 0)
			return vk_error_set(err, EINVAL, "cannot %s 'tcp:%s:%s': %s", what, a->host,
			                    a->port, gai_strerror(r));
		fd = -1;
		for (ai = res; ai; ai = ai->ai_next) {
			int one = 1;

			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				e = errno;
				continue;
			}
			if (listening) {
				(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
				    listen(fd, 1) == 0)
					break;
			} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
				(void)setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one,
				                 sizeof(one));
				break;
			}
			e = errno;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			return vk_error_errno(err, e ? e : EADDRNOTAVAIL, "cannot %s 'tcp:%s:%s'",
			                      what, a->host, a->port);
		return fd;
	}
}

int vm_migrate_connect(const char *uri, struct vk_error *err)
{
	struct vm_migrate_addr a;
	int fd, r = vm_migrate_parse_uri(uri, &a, err);

	if (r < 0)
		return r;
	fd = open_socket(&a, false, err);
	if (fd >= 0)
		set_timeouts(fd);
	return fd;
}

int vm_incoming_open(const char *restore, const char *incoming, int *fdp, struct vk_error *err)
{
	struct vm_migrate_addr a;
	int lfd, fd, r;

	if (restore) {
		fd = open(restore, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return vk_error_errno(err, errno, "cannot open the saved machine '%s'",
			                      restore);
		*fdp = fd;
		return 0;
	}
	r = vm_migrate_parse_uri(incoming, &a, err);
	if (r < 0)
		return vk_error_prefix(err, "--incoming");
	lfd = open_socket(&a, true, err);
	if (lfd < 0)
		return lfd;
	fprintf(stderr, "virtkit-vm: waiting for a migration on %s\n", incoming);
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	r = fd < 0 ? -errno : 0;
	close(lfd);
	if (a.unix_socket)
		unlink(a.path);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot accept a migration on %s", incoming);
	set_timeouts(fd);
	*fdp = fd;
	return 0;
}

int vm_incoming_answer(int fd, int result, const struct vk_error *why)
{
	char line[VK_ERROR_MSG_MAX + 8];
	size_t len, off = 0;

	if (result == 0)
		snprintf(line, sizeof(line), "OK\n");
	else
		snprintf(line, sizeof(line), "ERR %s\n",
		         why && why->msg[0] ? why->msg : strerror(-result));
	len = strlen(line);
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		off += (size_t)n;
	}
	return 0;
}

int vm_migrate_read_answer(int fd, struct vk_error *err)
{
	char line[VK_ERROR_MSG_MAX + 8];
	size_t len = 0;

	while (len < sizeof(line) - 1) {
		ssize_t n = recv(fd, line + len, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vk_error_errno(err, errno,
			                      "the destination did not answer after the state was "
			                      "sent");
		if (n == 0)
			return vk_error_set(err, EPIPE,
			                    "the destination closed the connection before it "
			                    "confirmed the migration");
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	if (!strcmp(line, "OK"))
		return 0;
	if (vk_startswith(line, "ERR "))
		return vk_error_set(err, EIO, "the destination refused the machine: %s", line + 4);
	return vk_error_set(err, EPROTO, "the destination answered something unexpected");
}
