/* SPDX-License-Identifier: MIT */
/*
 * dnsmasq (man dnsmasq(8), version 2.90 in Debian 12) as a network's DHCP
 * and DNS server: the configuration file virtkitd writes for it, the
 * dhcp-hostsfile and addn-hosts files it re-reads on SIGHUP (the instances'
 * reservations and names), and its lease file read back. Pure text
 * functions; the daemon starts and supervises the process.
 */
#ifndef VK_NET_DNSMASQ_H
#define VK_NET_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

#define MAC_STR_MAX      18 /* "52:54:00:12:34:56" */
#define DNSMASQ_NAME_MAX 63 /* one DNS label */

struct dnsmasq_config {
	const char *network; /* virtkit's name, for the comment at the top */
	const char *bridge;
	const struct ip4_plan *plan;
	bool router;        /* offer the gateway as the default route (NAT networks) */
	bool forward;       /* forward other queries upstream (else no-resolv) */
	const char *domain; /* the network's DNS domain, or NULL */
	const char *pid_file, *lease_file, *hosts_file, *addn_hosts_file, *log_file;
};

struct dnsmasq_host {
	char mac[MAC_STR_MAX];
	uint32_t ip;
	const char *name; /* NULL, or a name dnsmasq may hand out and resolve */
};

struct dnsmasq_lease {
	int64_t expiry; /* seconds since the epoch, 0 for an infinite lease */
	char mac[MAC_STR_MAX];
	uint32_t ip;
	char hostname[DNSMASQ_NAME_MAX + 1]; /* "" when the client sent none */
};

/* The configuration file's text (malloc'd), or NULL when out of memory. */
char *dnsmasq_config_text(const struct dnsmasq_config *c);
/* dhcp-hostsfile lines "MAC,IP[,NAME]" (malloc'd). */
char *dnsmasq_hosts_text(const struct dnsmasq_host *h, size_t n);
/* addn-hosts lines "IP NAME[ NAME.DOMAIN]" for the hosts with a name (malloc'd). */
char *dnsmasq_addn_hosts_text(const struct dnsmasq_host *h, size_t n, const char *domain);

/* A name dnsmasq accepts as a host name: one DNS label (letters, digits, '-'). */
bool dnsmasq_name_ok(const char *name);

/*
 * The IPv4 leases of a lease file's text ("EXPIRY MAC IP HOSTNAME CLIENTID"
 * lines; the "duid" line and IPv6 leases are skipped, as are malformed lines).
 * *out is malloc'd (free()); 0 or -ENOMEM.
 */
int dnsmasq_leases_parse(const char *text, struct dnsmasq_lease **out, size_t *n);

#endif
