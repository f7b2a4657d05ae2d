/* SPDX-License-Identifier: MIT */
/*
 * Network definitions and the network fields of instance definitions
 * (docs/networks.md): a network's JSON checked strictly and normalized like
 * an instance's (def.h), published ports ("[HOST_IP:]HOST_PORT:GUEST_PORT
 * [/tcp|udp]"), the names instances give networks, and the MAC address the
 * manager assigns an instance's interface. Pure code (fuzzed with the rest
 * of the definitions).
 */
#ifndef VKD_DEF_NETWORK_H
#define VKD_DEF_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/error.h"

#define NETDEF_DOMAIN_MAX 253
#define PUBLISH_MAX       32
#define PUBLISH_STR_MAX   40 /* "255.255.255.255:65535:65535/udp" */
#define MAC_LEN           17

/* A network name: an instance name (def.h) that is not "none" or "host". */
bool netdef_name_valid(const char *name);

/*
 * Check a network definition {"name", "subnet", "mode", "dns_domain",
 * "dns_forward", "description"} and build its normalized copy: mode "nat"
 * (default) or "isolated"; dns_forward defaults to true for NAT networks,
 * false for isolated ones. "subnet" stays absent when not given (the daemon
 * picks a free one). Errors are EINVAL naming the field.
 */
int netdef_normalize(json_object *in, json_object **out, struct vk_error *err) VK_MUST_CHECK;

struct publish {
	uint32_t host_ip; /* 0: every address of the host */
	uint16_t host_port, guest_port;
	bool udp;
};

/* "[HOST_IP:]HOST_PORT:GUEST_PORT[/tcp|udp]": 0 or -EINVAL. */
int publish_parse(const char *s, struct publish *out) VK_MUST_CHECK;
/* The normalized form: the protocol always written, "HOST_IP:" only when given. */
const char *publish_format(const struct publish *p, char *buf, size_t len);
bool publish_same_host_port(const struct publish *a, const struct publish *b);

/*
 * The "publish" field of an instance definition: a list of strings, each
 * parsed, written back normalized into out, no host port twice.
 */
struct dc_ctx;
int dc_norm_publish(struct dc_ctx *c, json_object *in, json_object *out) VK_MUST_CHECK;

/*
 * What a container's "network" names: "none", "host", a managed network
 * ("NAME"), or a bridge the user manages ("bridge:IFNAME").
 */
enum ct_net_kind { CT_NET_NONE, CT_NET_HOST, CT_NET_MANAGED, CT_NET_BRIDGE };
enum ct_net_kind ct_net_kind(const char *value, const char **name);

/* An interface name (at most 15 bytes of letters, digits, '-', '_', '.'). */
bool ifname_valid(const char *s);

/*
 * The MAC address of interface nic of the instance uuid: 52:54:00 (the
 * locally administered prefix QEMU and libvirt use) and three bytes of a hash
 * of the uuid and nic, so it is the same at every start.
 */
void def_assign_mac(const char *uuid, unsigned nic, char out[MAC_LEN + 1]);

#endif
