/* SPDX-License-Identifier: MIT */
/*
 * Net backends: where a virtual NIC's Ethernet frames go. Frames cross this
 * interface as plain Ethernet (no virtio-net header, no offloads).
 *
 *   user  libslirp user-mode networking (net-slirp.c): DHCP, optional DNS,
 *         restricted (no outbound connections), loopback host forwards
 *   tap   a Linux tap interface (net-tap.c)
 *   echo  returns every frame with source and destination MAC swapped
 *         (net-echo.c; for tests and test guests)
 *
 * The device attaches one client. Receive flow control: a backend that can
 * wait (tap) reads only while client.can_receive() says yes and resumes when
 * the device calls net_backend_resume(); one that cannot (slirp, echo) just
 * delivers, and the device queues a bounded number of frames or drops them.
 * All calls and callbacks run under the machine lock (loop.h).
 */
#ifndef VK_VM_BACKEND_NET_H
#define VK_VM_BACKEND_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/compiler.h"
#include "common/error.h"

struct vm_loop;
struct net_backend;

/* Largest frame either way, without a virtio-net header. */
#define NET_FRAME_MAX 65536

struct net_client {
	bool (*can_receive)(void *opaque);
	/* One frame for the guest; the device copies what it keeps. */
	void (*receive)(void *opaque, const void *frame, size_t len);
	void *opaque;
};

struct net_backend_ops {
	/* One frame from the guest: 0, or -errno when it was dropped. */
	int (*send)(struct net_backend *be, const struct iovec *iov, unsigned n);
	/* Optional: the client can receive again. */
	void (*resume)(struct net_backend *be);
	void (*close)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind; /* "user", "tap", "echo" */
	struct net_client client;
};

/* A host forward: tcp:127.0.0.1:HOSTPORT-:GUESTPORT (also udp:, and -GUESTIP:PORT). */
struct net_hostfwd {
	bool udp;
	struct in_addr host_addr;
	uint16_t host_port;
	struct in_addr guest_addr; /* INADDR_ANY: the DHCP address */
	uint16_t guest_port;
};

#define NET_SLIRP_MAX_HOSTFWD 16

struct net_slirp_opts {
	bool dns; /* serve DNS at 10.0.2.3 (off by default) */
	unsigned nr_hostfwd;
	struct net_hostfwd hostfwd[NET_SLIRP_MAX_HOSTFWD];
};

/*
 * Parse one hostfwd rule. Host addresses other than loopback (127.0.0.0/8)
 * are refused: a forward must not open the VM to the network.
 */
int net_parse_hostfwd(const char *s, struct net_hostfwd *fwd, struct vk_error *err) VK_MUST_CHECK;

struct net_backend *net_slirp_open(struct vm_loop *loop, const struct net_slirp_opts *opts,
                                   struct vk_error *err);
/* ifname may be NULL or "" for a kernel-chosen name. */
struct net_backend *net_tap_open(struct vm_loop *loop, const char *ifname, bool vnet_hdr,
                                 struct vk_error *err);
struct net_backend *net_echo_open(struct vk_error *err);

/*
 * Parse a backend spec ("user,hostfwd=...", "tap,ifname=x", "echo") and
 * open it. Options the caller handles itself (such as mac=) are skipped when
 * listed in skip_keys (NULL-terminated); any other unknown option is an error.
 */
struct net_backend *net_backend_open(struct vm_loop *loop, const char *spec,
                                     const char *const *skip_keys, struct vk_error *err);

static inline void net_backend_attach(struct net_backend *be, const struct net_client *client)
{
	be->client = *client;
}

static inline int net_backend_send(struct net_backend *be, const struct iovec *iov, unsigned n)
{
	return be->ops->send(be, iov, n);
}

static inline void net_backend_resume(struct net_backend *be)
{
	if (be->ops->resume)
		be->ops->resume(be);
}

/* NULL is accepted. */
static inline void net_backend_close(struct net_backend *be)
{
	if (be)
		be->ops->close(be);
}

/* For backends: hand a frame to the device (dropped when nobody is attached). */
static inline void net_backend_deliver(struct net_backend *be, const void *frame, size_t len)
{
	if (be->client.receive)
		be->client.receive(be->client.opaque, frame, len);
}

static inline bool net_backend_can_deliver(struct net_backend *be)
{
	return be->client.can_receive && be->client.can_receive(be->client.opaque);
}

/*
 * For backends: copy a frame from the guest (an iovec list) into buf.
 * Returns its length, or -EMSGSIZE when it is longer than size.
 */
ssize_t net_frame_gather(const struct iovec *iov, unsigned n, void *buf, size_t size);

#endif
