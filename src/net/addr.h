/* SPDX-License-Identifier: MIT */
/*
 * IPv4 addresses and subnets of virtkit's networks: strict parsing (dotted
 * quads without leading zeros, a prefix length, no host bits), overlap tests
 * and the plan of a subnet (RFC 950 / RFC 4632 arithmetic): the gateway is
 * the first host address, reservations (every instance the daemon knows) take
 * the lower half of the rest and dnsmasq's dynamic range the upper half, so
 * that a reservation never collides with a lease handed to a stranger.
 * Addresses are in host byte order. Pure code.
 */
#ifndef VK_NET_ADDR_H
#define VK_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IP4_STR_MAX   16 /* "255.255.255.255" */
#define CIDR_STR_MAX  19 /* "255.255.255.255/32" */
#define NET_PREFIX_LO 16 /* the largest subnet a network may have */
#define NET_PREFIX_HI 29 /* the smallest: a gateway and five hosts */

struct ip4_cidr {
	uint32_t addr; /* the network address (no host bits) */
	unsigned prefix;
};

/* A subnet laid out for a network (ip4_plan()). */
struct ip4_plan {
	struct ip4_cidr net;
	uint32_t gateway;        /* the bridge's address */
	uint32_t reserved_first; /* reservations: [reserved_first, reserved_last] */
	uint32_t reserved_last;
	uint32_t dynamic_first; /* dnsmasq's dhcp-range */
	uint32_t dynamic_last;
	uint32_t broadcast;
};

/* "10.0.0.1": 0 or -EINVAL. */
int ip4_parse(const char *s, uint32_t *out) VK_MUST_CHECK;
/* Writes at most IP4_STR_MAX bytes; returns buf. */
const char *ip4_format(uint32_t a, char *buf, size_t len);

/* "10.0.0.0/24" with no host bits set: 0 or -EINVAL with a sentence naming s. */
int ip4_cidr_parse(const char *s, struct ip4_cidr *out, struct vk_error *err) VK_MUST_CHECK;
const char *ip4_cidr_format(const struct ip4_cidr *c, char *buf, size_t len);

uint32_t ip4_mask(unsigned prefix);
bool ip4_cidr_contains(const struct ip4_cidr *c, uint32_t a);
bool ip4_cidr_overlap(const struct ip4_cidr *a, const struct ip4_cidr *b);

/* The layout of a network's subnet; -EINVAL unless NET_PREFIX_LO <= prefix <= NET_PREFIX_HI. */
int ip4_plan(const struct ip4_cidr *net, struct ip4_plan *out) VK_MUST_CHECK;

/* "a.b.c.d" as a netmask (dnsmasq's dhcp-range wants one). */
const char *ip4_netmask_format(unsigned prefix, char *buf, size_t len);

#endif
