/* SPDX-License-Identifier: MIT */
/*
 * virtkit's nftables table, `table ip virtkit`: NAT for the networks that
 * have it, the isolation of every network, and the published ports of the
 * instances that run. The whole table is written from the daemon's state at
 * each change and replaced in one nftables transaction (add, delete and
 * define again in one batch), so it never holds a stale or a duplicate rule,
 * whatever was there before (a crashed daemon's table, or none after a
 * reboot). Nothing outside that table is touched.
 */
#ifndef VK_NET_FIREWALL_H
#define VK_NET_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "net/addr.h"

#define FW_TABLE "virtkit"

struct fw_network {
	const char *bridge;
	struct ip4_cidr subnet;
	bool nat; /* masquerade what leaves for elsewhere; else isolated */
};

/* A published port: HOST_IP:HOST_PORT/PROTO → GUEST_IP:GUEST_PORT. */
struct fw_port {
	uint32_t host_ip; /* 0: every local address */
	uint16_t host_port, guest_port;
	bool udp;
	uint32_t guest_ip;
	const char *bridge; /* the guest's network */
};

/*
 * The nft script that makes the table say exactly this (malloc'd): with no
 * network at all, the table is deleted.
 */
char *fw_ruleset_text(const struct fw_network *nets, size_t nnets, const struct fw_port *ports,
                      size_t nports);

/* Run an nft script with libnftables; its error output becomes the message. */
int fw_apply(const char *script, struct vk_error *err) VK_MUST_CHECK;

#endif
