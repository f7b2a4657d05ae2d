/* SPDX-License-Identifier: MIT */
/*
 * Networks shared by VMs and containers (docs/networks.md): each managed
 * network is a Linux bridge with the gateway address, a dnsmasq serving DHCP
 * and DNS on it, and its part of virtkit's nftables table (NAT or isolation,
 * published ports). Instances join through a tap (VMs) or a veth pair moved
 * into a network namespace the daemon pins for the container.
 *
 * Everything the host holds is made again from the store by
 * network_init(), idempotently: after a daemon restart (kill -9 included)
 * nothing is duplicated and running guests keep their links; after a host
 * reboot the bridges, addresses, dnsmasq processes and the table come back,
 * and reattached instances are put back on their bridges.
 *
 * The API calls the network functions; the drivers call the attach, reattach
 * and detach functions with the instance's job held. One lock serializes all
 * of it (networks are few and their operations short).
 */
#ifndef VKD_NETWORK_H
#define VKD_NETWORK_H

#include <limits.h>
#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"
#include "daemon/instance.h"

struct vkd_paths;
struct netstore;

struct network_settings {
	const struct vkd_paths *paths;
	struct netstore *store;
	const char *dnsmasq; /* the dnsmasq binary (NULL: found in $PATH or /usr/sbin) */
};

/*
 * Load the networks of the store and bring each up (bridge, address,
 * sysctls, dnsmasq, firewall table), before instances are reattached.
 * Failures of one network are logged, not fatal.
 */
int network_init(const struct network_settings *s, struct vk_error *err) VK_MUST_CHECK;
/*
 * After the instances were reattached: drop reservations of undefined
 * instances and write the hosts files and the firewall table once.
 */
void network_ready(void);
/* At daemon shutdown: stop supervising dnsmasq (the networks stay up). */
void network_shutdown(void);

/* --- the API (each returns a new JSON object in *out) ----------------------------- */

int network_create(json_object *raw, json_object **out, struct vk_error *err) VK_MUST_CHECK;
/* Refused (-EBUSY) while an instance's definition names it. */
int network_delete(const char *name, json_object **out, struct vk_error *err) VK_MUST_CHECK;
json_object *network_list(void);
int network_info(const char *name, json_object **out, struct vk_error *err) VK_MUST_CHECK;
/* [{instance, type, mac, ip, hostname, expires, source}] */
int network_leases(const char *name, json_object **out, struct vk_error *err) VK_MUST_CHECK;

/* --- the drivers (instance job held; inst->rt.def is what it runs with) ---------- */

/* The host side name of an instance's interface: "vk" + 10 hex digits of the uuid + kind + nic. */
void network_ifname(const char *uuid, char kind, unsigned nic, char out[16]);

/* Taps on their bridges for the "network" and "bridge" interfaces of a VM. */
int network_vm_attach(struct instance *inst, struct vk_error *err) VK_MUST_CHECK;
/* What a container on a network is given (paths; "" when not on one). */
struct network_ct {
	char netns[PATH_MAX];  /* its network namespace, for the runtime to join */
	char resolv[PATH_MAX]; /* a resolv.conf naming the network's dnsmasq (managed ones) */
};

/* A container's network namespace with its interface, address and routes. */
int network_ct_attach(struct instance *inst, struct network_ct *out,
                      struct vk_error *err) VK_MUST_CHECK;
/* After a daemon restart: take a running instance's links back (onto re-made bridges). */
void network_reattach(struct instance *inst);
/* The workload ended: remove its taps, veth and namespace (reservations stay). */
void network_detach(struct instance *inst);

#endif
