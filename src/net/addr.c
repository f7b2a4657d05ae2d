/* SPDX-License-Identifier: MIT */
/* IPv4 addresses and subnets (see addr.h). */
#include "net/addr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ip4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part && *s++ != '.')
			return -EINVAL;
		/* No leading zeros: "010" reads as octal to inet_aton, as ten to others. */
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -EINVAL;
		a = a << 8 | v;
	}
	if (*s)
		return -EINVAL;
	*out = a;
	return 0;
}

const char *ip4_format(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

uint32_t ip4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

int ip4_cidr_parse(const char *s, struct ip4_cidr *out, struct vk_error *err)
{
	char addr[IP4_STR_MAX];
	const char *slash = strchr(s, '/');
	unsigned prefix = 0, digits = 0;
	const char *p;
	uint32_t a;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	for (p = slash + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		prefix = prefix * 10 + (unsigned)(*p - '0');
	if (*p || digits == 0 || prefix > 32 || (digits > 1 && slash[1] == '0') ||
	    ip4_parse(addr, &a) < 0)
		goto bad;
	if (a & ~ip4_mask(prefix)) {
		char net[IP4_STR_MAX];
		return vk_error_set(err, EINVAL,
		                    "'%.64s' has host bits set (the subnet would be %s/%u)", s,
		                    ip4_format(a & ip4_mask(prefix), net, sizeof(net)), prefix);
	}
	out->addr = a;
	out->prefix = prefix;
	return 0;
bad:
	return vk_error_set(err, EINVAL, "'%.64s' is not an IPv4 subnet such as 10.0.0.0/24", s);
}

const char *ip4_cidr_format(const struct ip4_cidr *c, char *buf, size_t len)
{
	char a[IP4_STR_MAX];

	snprintf(buf, len, "%s/%u", ip4_format(c->addr, a, sizeof(a)), c->prefix);
	return buf;
}

bool ip4_cidr_contains(const struct ip4_cidr *c, uint32_t a)
{
	return (a & ip4_mask(c->prefix)) == c->addr;
}

bool ip4_cidr_overlap(const struct ip4_cidr *a, const struct ip4_cidr *b)
{
	/* Two prefixes overlap exactly when the shorter one contains the other's network. */
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;

	return (a->addr & ip4_mask(p)) == (b->addr & ip4_mask(p));
}

int ip4_plan(const struct ip4_cidr *net, struct ip4_plan *out)
{
	uint32_t hosts, half;

	if (net->prefix < NET_PREFIX_LO || net->prefix > NET_PREFIX_HI)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->net = *net;
	out->broadcast = net->addr | ~ip4_mask(net->prefix);
	out->gateway = net->addr + 1;
	/* Hosts besides the gateway: network+2 .. broadcast-1. */
	hosts = out->broadcast - 1 - (net->addr + 2) + 1;
	half = (hosts + 1) / 2;
	out->reserved_first = net->addr + 2;
	out->reserved_last = out->reserved_first + half - 1;
	out->dynamic_first = out->reserved_last + 1;
	out->dynamic_last = out->broadcast - 1;
	return 0;
}

const char *ip4_netmask_format(unsigned prefix, char *buf, size_t len)
{
	return ip4_format(ip4_mask(prefix), buf, len);
}
