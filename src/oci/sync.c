/* SPDX-License-Identifier: MIT */
/* Typed messages with an optional descriptor over a SOCK_SEQPACKET pair. */
#include "sync.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sync_pair(int fds[2], struct vk_error *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return vk_error_errno(err, errno, "cannot create the sync socket pair");
	return 0;
}

int sync_sendmsg(int sock, const void *buf, size_t len, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (passfd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int sync_send(int fd, uint32_t type, int32_t value, const char *text, int passfd)
{
	struct sync_msg m = {.type = type, .value = value};
	size_t len = offsetof(struct sync_msg, text);

	if (text) {
		snprintf(m.text, sizeof(m.text), "%s", text);
		len += strlen(m.text) + 1;
	}
	return sync_sendmsg(fd, &m, len, passfd);
}

int sync_recv(int fd, struct sync_msg *m, int *passfd, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {m, sizeof(*m)};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	ssize_t n;

	if (passfd)
		*passfd = -1;
	memset(m, 0, sizeof(*m));
	if (timeout_ms >= 0) {
		struct pollfd p = {fd, POLLIN, 0};
		int r;

		do {
			r = poll(&p, 1, timeout_ms);
		} while (r < 0 && errno == EINTR);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	if (n == 0)
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;

			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (passfd && *passfd < 0)
				*passfd = got;
			else
				close(got);
		}
	}
	m->text[sizeof(m->text) - 1] = '\0';
	if ((size_t)n < offsetof(struct sync_msg, text))
		return -EPROTO;
	return 0;
}

void sync_die(int fd, const struct vk_error *err, int status)
{
	sync_send(fd, SYNC_ERROR, err && err->code ? err->code : EIO,
	          err && err->msg[0] ? err->msg : "container setup failed", -1);
	_exit(status);
}
