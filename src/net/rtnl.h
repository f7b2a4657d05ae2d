/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink (RFC 3549, include/uapi/linux/rtnetlink.h) over libmnl: the links,
 * addresses and routes of virtkit's networks. Every function acts on the
 * network namespace of the thread that opened the socket (netns.h runs code
 * inside another). Errors are the kernel's errno with a sentence naming the
 * interface; EPERM says that CAP_NET_ADMIN is missing.
 *
 * Requests are synchronous (send, then read the acknowledgement); a socket
 * is used by one thread at a time.
 */
#ifndef VK_NET_RTNL_H
#define VK_NET_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "net/addr.h"

#define RTNL_IFNAME_MAX 16 /* IFNAMSIZ */

struct rtnl;

/* What a link is, as RTM_GETLINK tells. */
struct rtnl_link {
	int index;
	int master;    /* the bridge it is a port of, 0 when none */
	bool up;       /* IFF_UP */
	char kind[16]; /* IFLA_INFO_KIND: "bridge", "veth", "tun", ... or "" */
};

int rtnl_open(struct rtnl **out, struct vk_error *err) VK_MUST_CHECK;
void rtnl_close(struct rtnl *nl);

/* 0 with *out filled, -ENODEV when no such link, another -errno on failure. */
int rtnl_link_get(struct rtnl *nl, const char *name, struct rtnl_link *out,
                  struct vk_error *err) VK_MUST_CHECK;

/*
 * New links; -EEXIST when the name is taken. A bridge given a MAC address (not
 * NULL) keeps it whatever ports join it, so that a bridge made again after a
 * reboot has the address its guests have in their ARP caches.
 */
int rtnl_bridge_add(struct rtnl *nl, const char *name, const uint8_t *mac,
                    struct vk_error *err) VK_MUST_CHECK;
/*
 * A veth pair: name here, peer in the network namespace peer_netns_fd (-1: here)
 * with the MAC address peer_mac (NULL: the kernel's random one).
 */
int rtnl_veth_add(struct rtnl *nl, const char *name, const char *peer, int peer_netns_fd,
                  const uint8_t *peer_mac, struct vk_error *err) VK_MUST_CHECK;
/* -ENODEV when it does not exist (callers tidying up may ignore the result). */
int rtnl_link_del(struct rtnl *nl, const char *name, struct vk_error *err);

int rtnl_link_set_up(struct rtnl *nl, const char *name, struct vk_error *err) VK_MUST_CHECK;
/* Make name a port of the bridge master (already one of it: nothing to do). */
int rtnl_link_set_master(struct rtnl *nl, const char *name, const char *master,
                         struct vk_error *err) VK_MUST_CHECK;

/*
 * Hairpin mode on the bridge port name: the bridge may send a frame back out of
 * the port it came in by. A guest's connection to a port it publishes itself
 * needs it when br_netfilter is loaded (its DNAT is then decided on the bridge).
 */
int rtnl_brport_set_hairpin(struct rtnl *nl, const char *name, struct vk_error *err) VK_MUST_CHECK;

/* addr/prefix on name with its broadcast address; present already: 0. */
int rtnl_addr_add(struct rtnl *nl, const char *name, uint32_t addr, unsigned prefix,
                  struct vk_error *err) VK_MUST_CHECK;
/* A default route through gw (main table). */
int rtnl_route_add_default(struct rtnl *nl, uint32_t gw, struct vk_error *err) VK_MUST_CHECK;

/*
 * The IPv4 routes of the main table but the default route, for overlap checks:
 * cb(opaque, destination, output interface index) for each; a non-zero cb
 * result stops the walk and is returned.
 */
int rtnl_routes(struct rtnl *nl, int (*cb)(void *opaque, const struct ip4_cidr *dst, int oif),
                void *opaque, struct vk_error *err) VK_MUST_CHECK;

/* The name of an interface index (if_indextoname), "" when unknown. */
void rtnl_ifname(int index, char out[RTNL_IFNAME_MAX]);

#endif
