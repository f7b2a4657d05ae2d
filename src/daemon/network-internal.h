/* SPDX-License-Identifier: MIT */
/*
 * Inside the network manager (network.c: the registry, the API, the
 * firewall; network-host.c: a network's host side and its dnsmasq;
 * network-attach.c: instances' links and addresses). Everything here is
 * used with nm.lock held.
 */
#ifndef VKD_NETWORK_INTERNAL_H
#define VKD_NETWORK_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/def-network.h"
#include "daemon/def.h"
#include "daemon/network.h"
#include "net/addr.h"
#include "net/rtnl.h"

/* One managed network. */
struct vnet {
	char name[DEF_NAME_MAX + 1];
	json_object *def; /* normalized, with "subnet" and "bridge" filled in */
	char bridge[RTNL_IFNAME_MAX];
	struct ip4_plan plan;
	bool nat;
	bool forward;
	const char *domain;   /* in def, or NULL */
	char dir[PATH_MAX];   /* RUN_DIR/networks/NAME: config, pid, hosts files */
	char state[PATH_MAX]; /* STATE_DIR/networks/NAME: the lease file */
	pid_t dnsmasq_pid;    /* 0 when not running */
	int dnsmasq_pidfd;
	uint64_t dnsmasq_started_ns;
	unsigned quick_deaths; /* dnsmasq exits soon after a start, in a row */
};

/* One interface of a running instance. */
struct attachment {
	char uuid[DEF_UUID_LEN + 1];
	char name[DEF_NAME_MAX + 1];
	enum def_type type;
	unsigned nic;
	char network[DEF_NAME_MAX + 1]; /* "" on a bridge the user manages */
	char bridge[RTNL_IFNAME_MAX];
	char ifname[RTNL_IFNAME_MAX]; /* the host side: tap or veth */
	char mac[MAC_LEN + 1];
	uint32_t ip; /* 0: none known (a user bridge) */
	struct publish pub[PUBLISH_MAX];
	size_t npub;
};

extern struct network_manager {
	pthread_mutex_t lock;
	struct network_settings set;
	char dnsmasq[PATH_MAX];
	struct vnet **nets;
	size_t nnets;
	struct attachment *att;
	size_t natt, capatt;
	bool ready; /* network_ready() ran: write hosts files and the table at each change */
	/* dnsmasq supervision */
	pthread_t supervisor;
	bool supervising;
	int wake[2]; /* a byte wakes the supervisor (a pidfd changed or shutdown) */
	bool stop;
} nm;

struct vnet *vnet_find(const char *name);

/* network.c: the firewall table from every network and published port. */
int nm_write_firewall(struct vk_error *err) VK_MUST_CHECK;
/* network.c: does an instance's definition (or a running interface) use net? */
bool nm_in_use(const char *net, char *who, size_t len);

/* network-host.c */
int vnet_up(struct vnet *n, struct vk_error *err) VK_MUST_CHECK;
void vnet_down(struct vnet *n);
int vnet_write_hosts(struct vnet *n, struct vk_error *err) VK_MUST_CHECK;
void vnet_dnsmasq_stop(struct vnet *n);
int nm_supervisor_start(struct vk_error *err) VK_MUST_CHECK;
void nm_supervisor_wake(void);
void nm_supervisor_stop(void);

/* network-attach.c */
void nm_gc_reservations(struct vnet *n);
int nm_leases(struct vnet *n, json_object **out, struct vk_error *err) VK_MUST_CHECK;

#endif
