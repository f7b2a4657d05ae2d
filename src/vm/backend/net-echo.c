/* SPDX-License-Identifier: MIT */
/*
 * The echo net backend: every frame the guest sends comes straight back with
 * its source and destination MAC addresses swapped. Tests and the x86 test
 * guests use it to exercise both directions of a NIC without a network.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/backend/net.h"

#define ETH_ALEN 6

struct net_echo {
	struct net_backend be;
	uint8_t buf[NET_FRAME_MAX];
};

static int echo_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct net_echo *e = container_of(be, struct net_echo, be);
	uint8_t tmp[ETH_ALEN];
	ssize_t len = net_frame_gather(iov, n, e->buf, sizeof(e->buf));

	if (len < 0)
		return (int)len;
	if (len < 2 * ETH_ALEN)
		return -EINVAL; /* not an Ethernet frame */
	memcpy(tmp, e->buf, ETH_ALEN);
	memcpy(e->buf, e->buf + ETH_ALEN, ETH_ALEN);
	memcpy(e->buf + ETH_ALEN, tmp, ETH_ALEN);
	net_backend_deliver(be, e->buf, (size_t)len);
	return 0;
}

static void echo_close(struct net_backend *be)
{
	free(container_of(be, struct net_echo, be));
}

static const struct net_backend_ops echo_ops = {
        .send = echo_send,
        .close = echo_close,
};

struct net_backend *net_echo_open(struct vk_error *err)
{
	struct net_echo *e = calloc(1, sizeof(*e));

	if (!e) {
		vk_error_errno(err, ENOMEM, "cannot create the echo net backend");
		return NULL;
	}
	e->be.ops = &echo_ops;
	e->be.kind = "echo";
	return &e->be;
}
