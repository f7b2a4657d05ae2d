/* SPDX-License-Identifier: MIT */
/*
 * The networks' durable state, in the daemon's SQLite database (its own
 * connection and tables beside store.h's):
 *   networks(name PK, definition)                 normalized network definitions
 *   network_addresses(network, instance, nic,     the address reserved for each
 *                     name, mac, ip)              interface of an instance
 * A reservation lives as long as its instance's definition names the network
 * (the manager drops the others), so an instance keeps its address across
 * restarts of itself, of the daemon and of the host. Changes are synchronous
 * transactions; the functions are thread-safe.
 */
#ifndef VKD_NETSTORE_H
#define VKD_NETSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "daemon/def.h"

struct netstore;

struct netstore_addr {
	char instance[DEF_UUID_LEN + 1];
	char name[DEF_NAME_MAX + 1]; /* the instance's name */
	unsigned nic;
	char mac[18];
	uint32_t ip;
};

int netstore_open(const char *path, struct netstore **out, struct vk_error *err) VK_MUST_CHECK;
void netstore_close(struct netstore *s);

/* cb(opaque, definition text) for each network, in name order. */
int netstore_load(struct netstore *s, int (*cb)(void *opaque, const char *definition), void *opaque,
                  struct vk_error *err) VK_MUST_CHECK;
/* -EEXIST when the name is taken. */
int netstore_insert(struct netstore *s, const char *name, const char *definition,
                    struct vk_error *err) VK_MUST_CHECK;
/* The network and its reservations. */
int netstore_delete(struct netstore *s, const char *name, struct vk_error *err) VK_MUST_CHECK;

/* The reservations of a network (malloc'd array, free()). */
int netstore_addrs(struct netstore *s, const char *network, struct netstore_addr **out, size_t *n,
                   struct vk_error *err) VK_MUST_CHECK;
/* Insert or replace the reservation of (network, a->instance, a->nic); -EEXIST: ip taken. */
int netstore_addr_put(struct netstore *s, const char *network, const struct netstore_addr *a,
                      struct vk_error *err) VK_MUST_CHECK;
int netstore_addr_del(struct netstore *s, const char *network, const char *instance, unsigned nic,
                      struct vk_error *err) VK_MUST_CHECK;

#endif
