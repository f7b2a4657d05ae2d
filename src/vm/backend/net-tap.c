/* SPDX-License-Identifier: MIT */
/*
 * The tap net backend: a Linux tap interface from /dev/net/tun
 * (IFF_TAP | IFF_NO_PI, with or without IFF_VNET_HDR). No offloads are
 * negotiated, so with a vnet header every header we write is zero and every
 * header we read is skipped. Reads pause while the device has no room.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/backend/net.h"
#include "vm/loop.h"

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */

struct net_tap {
	struct net_backend be;
	struct vm_loop *loop;
	int fd;
	bool vnet_hdr;
	bool reading; /* POLLIN watched */
	bool logged;
	char ifname[IFNAMSIZ];
	uint8_t rxbuf[TAP_VNET_HDR_LEN + NET_FRAME_MAX];
	uint8_t txbuf[TAP_VNET_HDR_LEN + NET_FRAME_MAX];
};

static void tap_set_reading(struct net_tap *t, bool on)
{
	if (t->reading != on && vm_loop_mod_fd(t->loop, t->fd, on ? POLLIN : 0) == 0)
		t->reading = on;
}

static void tap_readable(void *opaque, int fd, short revents)
{
	struct net_tap *t = opaque;
	size_t hdr = t->vnet_hdr ? TAP_VNET_HDR_LEN : 0;

	while (net_backend_can_deliver(&t->be)) {
		ssize_t n = read(fd, t->rxbuf, sizeof(t->rxbuf));

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				vk_log_once(&t->logged, VK_LOG_WARN, "tap %s: read: %s", t->ifname,
				            strerror(errno));
			return;
		}
		if ((size_t)n <= hdr)
			continue;
		net_backend_deliver(&t->be, t->rxbuf + hdr, (size_t)n - hdr);
	}
	tap_set_reading(t, false); /* until tap_resume() */
}

static void tap_resume(struct net_backend *be)
{
	struct net_tap *t = container_of(be, struct net_tap, be);

	tap_set_reading(t, true);
}

static int tap_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	struct net_tap *t = container_of(be, struct net_tap, be);
	size_t hdr = t->vnet_hdr ? TAP_VNET_HDR_LEN : 0;
	ssize_t len = net_frame_gather(iov, n, t->txbuf + hdr, sizeof(t->txbuf) - hdr);
	ssize_t w;

	if (len < 0)
		return (int)len;
	memset(t->txbuf, 0, hdr);
	do {
		w = write(t->fd, t->txbuf, hdr + (size_t)len);
	} while (w < 0 && errno == EINTR);
	/* A full tap queue drops the frame, as a real link would. */
	return w < 0 ? -errno : 0;
}

static void tap_close(struct net_backend *be)
{
	struct net_tap *t = container_of(be, struct net_tap, be);

	if (t->fd >= 0) {
		vm_loop_del_fd(t->loop, t->fd);
		close(t->fd);
	}
	free(t);
}

static const struct net_backend_ops tap_ops = {
        .send = tap_send,
        .resume = tap_resume,
        .close = tap_close,
};

struct net_backend *net_tap_open(struct vm_loop *loop, const char *ifname, bool vnet_hdr,
                                 struct vk_error *err)
{
	struct net_tap *t;
	struct ifreq ifr = {0};
	int r;

	if (ifname && strlen(ifname) >= IFNAMSIZ) {
		vk_error_set(err, EINVAL, "tap interface name '%s' is longer than %d characters",
		             ifname, IFNAMSIZ - 1);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		vk_error_errno(err, ENOMEM, "cannot open a tap interface");
		return NULL;
	}
	t->be.ops = &tap_ops;
	t->be.kind = "tap";
	t->loop = loop;
	t->vnet_hdr = vnet_hdr;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0) {
		vk_error_errno(err, errno, "cannot open /dev/net/tun for tap networking");
		goto fail;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	if (ifname)
		memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		vk_error_errno(err, errno, "cannot create tap interface '%s'%s",
		               ifname && *ifname ? ifname : "(any)",
		               errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
	if (vnet_hdr) {
		int sz = TAP_VNET_HDR_LEN;

		if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
			vk_error_errno(err, errno, "tap %s: cannot set the vnet header size",
			               t->ifname);
			goto fail;
		}
	}
	r = vm_loop_add_fd(loop, t->fd, POLLIN, tap_readable, t);
	if (r < 0) {
		vk_error_errno(err, -r, "tap %s: cannot watch the interface", t->ifname);
		goto fail;
	}
	t->reading = true;
	return &t->be;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return NULL;
}
