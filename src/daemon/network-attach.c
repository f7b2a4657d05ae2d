/* SPDX-License-Identifier: MIT */
/*
 * Instances on networks (network.h): a VM's "network" and "bridge"
 * interfaces become persistent taps on the bridge, which virtkit-vm opens by
 * name; a container on a network gets a network namespace pinned at
 * RUN_DIR/netns/UUID with a veth pair, whose outer end is on the bridge and
 * whose inner end is its eth0 with the reserved address, the default route
 * (NAT networks) and net.ipv4.ping_group_range opened to every group, as
 * Podman does, so that ping works without CAP_NET_RAW; and a resolv.conf
 * naming the network's dnsmasq (RUN_DIR/netns/UUID.resolv), which the
 * container driver binds on /etc/resolv.conf.
 *
 * Each interface of an instance on a managed network has an address
 * reserved in the store (the lower half of the subnet, addr.h) and in
 * dnsmasq's hosts file: VMs get it by DHCP, containers have it configured
 * directly, and `leases` shows both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/netstore.h"
#include "daemon/network-internal.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "net/dnsmasq.h"
#include "net/firewall.h"
#include "net/netns.h"
#include "net/tap.h"

#define CT_IFNAME "eth0"

void network_ifname(const char *uuid, char kind, unsigned nic, char out[16])
{
	char hex[11];
	size_t k = 0;

	for (const char *p = uuid; *p && k < 10; p++)
		if (*p != '-')
			hex[k++] = *p;
	hex[k] = '\0';
	snprintf(out, 16, "vk%s%c%u", hex, kind, nic % 10);
}

static int netns_path(const char *uuid, char *buf, size_t len)
{
	return fmt_buf(buf, len, "%s/netns/%s", nm.set.paths->run_dir, uuid);
}

/* --- reservations ---------------------------------------------------------------------- */

/* Does def give interface nic to the network net? */
static bool def_nic_uses(json_object *def, unsigned nic, const char *net)
{
	json_object *nets, *d;
	const char *name;

	if (!def)
		return false;
	if (def_type(def) == DEF_CONTAINER)
		return nic == 0 &&
		       ct_net_kind(def_get_str(def, "network"), &name) == CT_NET_MANAGED &&
		       strcmp(name, net) == 0;
	nets = json_object_object_get(def, "networks");
	if (!nets || nic >= json_object_array_length(nets))
		return false;
	d = json_object_array_get_idx(nets, nic);
	return strcmp(def_get_str(d, "type"), "network") == 0 &&
	       strcmp(def_get_str(d, "name"), net) == 0;
}

/* Drop the reservations no instance's definition (or running interface) holds any more. */
void nm_gc_reservations(struct vnet *n)
{
	struct netstore_addr *a = NULL;
	size_t k = 0;

	if (netstore_addrs(nm.set.store, n->name, &a, &k, NULL) < 0)
		return;
	for (size_t i = 0; i < k; i++) {
		struct instance *inst = instance_find(a[i].instance, NULL);
		bool keep = false;

		if (inst) {
			pthread_mutex_lock(&inst->lock);
			keep = !inst->removed && def_nic_uses(inst->def, a[i].nic, n->name);
			pthread_mutex_unlock(&inst->lock);
			instance_unref(inst);
		}
		for (size_t j = 0; j < nm.natt && !keep; j++)
			keep = strcmp(nm.att[j].uuid, a[i].instance) == 0 &&
			       nm.att[j].nic == a[i].nic && strcmp(nm.att[j].network, n->name) == 0;
		if (!keep &&
		    netstore_addr_del(nm.set.store, n->name, a[i].instance, a[i].nic, NULL) == 0)
			vk_debug("network '%s': released %s's address", n->name, a[i].name);
	}
	free(a);
}

/* Addresses dnsmasq handed out, so that a reservation never takes one in use. */
static bool leased(const struct dnsmasq_lease *l, size_t n, uint32_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].ip == ip)
			return true;
	return false;
}

static int read_leases(struct vnet *n, struct dnsmasq_lease **l, size_t *k)
{
	char path[PATH_MAX];
	uint8_t *text = NULL;
	size_t len;

	*l = NULL;
	*k = 0;
	if (fmt_buf(path, sizeof(path), "%s/leases", n->state) < 0 ||
	    vk_read_file(path, 1u << 22, &text, &len, NULL) < 0)
		return 0; /* none yet */
	if (dnsmasq_leases_parse((const char *)text, l, k) < 0) {
		free(text);
		return -ENOMEM;
	}
	free(text);
	return 0;
}

/* The address reserved for (inst, nic) on n: the one it had, else the lowest free one. */
static int reserve(struct vnet *n, struct instance *inst, unsigned nic, const char *mac,
                   uint32_t *ip, struct vk_error *err)
{
	struct netstore_addr *a = NULL, row = {0};
	struct dnsmasq_lease *l = NULL;
	size_t k = 0, nl = 0;
	uint32_t pick = 0;
	int r;

	nm_gc_reservations(n);
	if ((r = netstore_addrs(nm.set.store, n->name, &a, &k, err)) < 0)
		return r;
	for (size_t i = 0; i < k; i++) {
		if (strcmp(a[i].instance, inst->uuid) == 0 && a[i].nic == nic) {
			pick = a[i].ip;
			break;
		}
	}
	if (!pick && read_leases(n, &l, &nl) < 0) {
		free(a);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	for (uint32_t c = n->plan.reserved_first; !pick && c <= n->plan.reserved_last; c++) {
		bool taken = leased(l, nl, c);
		for (size_t i = 0; i < k && !taken; i++)
			taken = a[i].ip == c;
		if (!taken)
			pick = c;
	}
	free(a);
	free(l);
	if (!pick)
		return vk_error_set(err, ENOSPC, "network '%s' has no free address left", n->name);
	snprintf(row.instance, sizeof(row.instance), "%s", inst->uuid);
	snprintf(row.name, sizeof(row.name), "%s", inst->name);
	snprintf(row.mac, sizeof(row.mac), "%s", mac);
	row.nic = nic;
	row.ip = pick;
	if ((r = netstore_addr_put(nm.set.store, n->name, &row, err)) < 0)
		return r;
	*ip = pick;
	return 0;
}

/* --- attachments ------------------------------------------------------------------------- */

static struct attachment *att_add(void)
{
	if (nm.natt == nm.capatt) {
		size_t cap = nm.capatt ? nm.capatt * 2 : 16;
		struct attachment *v = realloc(nm.att, cap * sizeof(*v));
		if (!v)
			return NULL;
		nm.att = v;
		nm.capatt = cap;
	}
	memset(&nm.att[nm.natt], 0, sizeof(*nm.att));
	return &nm.att[nm.natt++];
}

/* Forget inst's attachments; with remove, delete their host links too. */
static void att_drop(struct instance *inst, bool remove)
{
	struct rtnl *nl = NULL;
	size_t i = 0;

	if (remove && rtnl_open(&nl, NULL) < 0)
		nl = NULL;
	while (i < nm.natt) {
		struct attachment *a = &nm.att[i];
		if (strcmp(a->uuid, inst->uuid) != 0) {
			i++;
			continue;
		}
		if (nl)
			rtnl_link_del(nl, a->ifname, NULL);
		memmove(a, a + 1, (nm.natt - i - 1) * sizeof(*a));
		nm.natt--;
	}
	rtnl_close(nl);
}

/* A published port of a that another running instance holds already: its name, else NULL. */
static const char *port_clash(const struct attachment *a, char *port, size_t len)
{
	for (size_t i = 0; i < nm.natt; i++) {
		const struct attachment *o = &nm.att[i];
		if (strcmp(o->uuid, a->uuid) == 0)
			continue;
		for (size_t j = 0; j < a->npub; j++)
			for (size_t k = 0; k < o->npub; k++)
				if (publish_same_host_port(&a->pub[j], &o->pub[k])) {
					snprintf(port, len, "%u/%s", a->pub[j].host_port,
					         a->pub[j].udp ? "udp" : "tcp");
					return o->name;
				}
	}
	return NULL;
}

static void parse_publish(json_object *def, struct attachment *a)
{
	json_object *p = json_object_object_get(def, "publish");

	for (size_t i = 0; p && i < json_object_array_length(p) && a->npub < PUBLISH_MAX; i++)
		if (publish_parse(json_object_get_string(json_object_array_get_idx(p, i)),
		                  &a->pub[a->npub]) == 0)
			a->npub++;
}

/*
 * The attachment of interface nic (VM "network"/"bridge" d, or the container's
 * network) without touching the host: names, bridge, address, ports.
 */
static int att_plan(struct instance *inst, unsigned nic, const char *network, const char *bridge,
                    const char *mac, bool publish, struct attachment *a, struct vk_error *err)
{
	struct vnet *n = NULL;
	int r;

	memset(a, 0, sizeof(*a));
	snprintf(a->uuid, sizeof(a->uuid), "%s", inst->uuid);
	snprintf(a->name, sizeof(a->name), "%s", inst->name);
	a->type = inst->type;
	a->nic = nic;
	snprintf(a->mac, sizeof(a->mac), "%s", mac);
	network_ifname(inst->uuid, inst->type == DEF_VM ? 't' : 'c', nic, a->ifname);
	if (network) {
		if (!(n = vnet_find(network)))
			return vk_error_set(err, ENOENT, "network '%s' does not exist", network);
		snprintf(a->network, sizeof(a->network), "%s", network);
		snprintf(a->bridge, sizeof(a->bridge), "%s", n->bridge);
		if ((r = reserve(n, inst, nic, mac, &a->ip, err)) < 0)
			return r;
	} else {
		snprintf(a->bridge, sizeof(a->bridge), "%s", bridge);
	}
	if (publish)
		parse_publish(inst->rt.def, a);
	return 0;
}

/* The host side of a on its bridge, up (in hairpin mode on a managed network's). */
static int att_plug(struct rtnl *nl, const struct attachment *a, struct vk_error *err)
{
	struct rtnl_link l;
	int r;

	if ((r = rtnl_link_get(nl, a->bridge, &l, err)) < 0 || strcmp(l.kind, "bridge") != 0)
		return r < 0 && r != -ENODEV
		               ? r
		               : vk_error_set(err, ENODEV, "there is no bridge '%s'", a->bridge);
	if ((r = rtnl_link_set_master(nl, a->ifname, a->bridge, err)) < 0 ||
	    (r = rtnl_link_set_up(nl, a->ifname, err)) < 0)
		return r;
	/* A guest reaching a port it publishes itself, through the gateway (rtnl.h). */
	if (a->network[0] && (r = rtnl_brport_set_hairpin(nl, a->ifname, err)) < 0)
		return r;
	return 0;
}

/* After a change of attachments: dnsmasq's hosts and the firewall (once the daemon is ready). */
static int publish_changes(struct instance *inst, struct vk_error *err)
{
	int r;

	if (!nm.ready)
		return 0;
	for (size_t i = 0; i < nm.natt; i++) {
		struct vnet *n;
		if (strcmp(nm.att[i].uuid, inst->uuid) != 0 || !nm.att[i].network[0] ||
		    !(n = vnet_find(nm.att[i].network)))
			continue;
		if ((r = vnet_write_hosts(n, err)) < 0)
			return r;
	}
	return nm_write_firewall(err);
}

/* Check a's ports and record it (nm.att may move: a must not point into it). */
static int att_commit(const struct attachment *a, struct vk_error *err)
{
	char port[24];
	const char *who = port_clash(a, port, sizeof(port));
	struct attachment *slot;

	if (who)
		return vk_error_set(err, EADDRINUSE, "host port %s is already published by '%s'",
		                    port, who);
	if (!(slot = att_add()))
		return vk_error_set(err, ENOMEM, "out of memory");
	*slot = *a;
	return 0;
}

/* --- VMs --------------------------------------------------------------------------------------- */

/* For each "network"/"bridge" interface of def: fn(inst, nic, network, bridge, mac, publish). */
static int vm_each(struct instance *inst,
                   int (*fn)(struct instance *inst, unsigned nic, const char *network,
                             const char *bridge, const char *mac, bool publish, void *ctx),
                   void *ctx)
{
	json_object *nets = json_object_object_get(inst->rt.def, "networks");
	bool first = true;
	int r;

	for (size_t i = 0; nets && i < json_object_array_length(nets); i++) {
		json_object *d = json_object_array_get_idx(nets, i);
		const char *t = def_get_str(d, "type");
		bool managed = strcmp(t, "network") == 0;

		if (!managed && strcmp(t, "bridge") != 0)
			continue;
		r = fn(inst, (unsigned)i, managed ? def_get_str(d, "name") : NULL,
		       def_get_str(d, "bridge"), def_get_str(d, "mac"), managed && first, ctx);
		if (r < 0)
			return r;
		first &= !managed;
	}
	return 0;
}

struct vm_ctx {
	struct rtnl *nl;
	struct vk_error *err;
	bool create; /* false: reattach (the taps exist and a VM holds them) */
};

static int vm_attach_one(struct instance *inst, unsigned nic, const char *network,
                         const char *bridge, const char *mac, bool publish, void *opaque)
{
	struct vm_ctx *c = opaque;
	struct attachment a;
	int r;

	if ((r = att_plan(inst, nic, network, bridge, mac, publish, &a, c->err)) < 0)
		return r;
	if (c->create) {
		/* A tap left by a VM that died with the daemon down: start from a fresh one. */
		rtnl_link_del(c->nl, a.ifname, NULL);
		if ((r = tap_create_persistent(a.ifname, c->err)) < 0)
			return r;
	}
	if ((r = att_commit(&a, c->err)) < 0)
		return r;
	return att_plug(c->nl, &a, c->err);
}

int network_vm_attach(struct instance *inst, struct vk_error *err)
{
	struct vm_ctx c = {.err = err, .create = true};
	int r;

	pthread_mutex_lock(&nm.lock);
	att_drop(inst, false);
	if ((r = rtnl_open(&c.nl, err)) == 0) {
		r = vm_each(inst, vm_attach_one, &c);
		if (r == 0)
			r = publish_changes(inst, err);
		rtnl_close(c.nl);
	}
	if (r < 0)
		att_drop(inst, true);
	pthread_mutex_unlock(&nm.lock);
	return r;
}

/* --- containers -------------------------------------------------------------------------------- */

struct ct_inner {
	uint32_t ip;
	unsigned prefix;
	uint32_t gw; /* 0: no default route */
};

/* Inside the container's namespace: loopback, eth0 and its address, the route, ping. */
static int ct_configure(void *arg, struct vk_error *err)
{
	struct ct_inner *in = arg;
	struct rtnl *nl;
	int r;

	if ((r = rtnl_open(&nl, err)) < 0)
		return r;
	if ((r = rtnl_link_set_up(nl, "lo", err)) == 0 &&
	    (r = rtnl_link_set_up(nl, CT_IFNAME, err)) == 0 && in->ip)
		r = rtnl_addr_add(nl, CT_IFNAME, in->ip, in->prefix, err);
	if (r == 0 && in->gw)
		r = rtnl_route_add_default(nl, in->gw, err);
	rtnl_close(nl);
	if (r == 0)
		r = sysctl_set("net/ipv4/ping_group_range", "0 2147483647", err);
	return r;
}

/* RUN_DIR/netns/UUID.resolv: the network's dnsmasq as the container's resolver. */
static int write_resolv(struct vnet *n, const char *netns, char *path, size_t len,
                        struct vk_error *err)
{
	char gw[IP4_STR_MAX], text[512];
	int r;

	if (fmt_buf(path, len, "%s.resolv", netns) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the run folder is too long");
	snprintf(text, sizeof(text), "# the DNS of virtkit network '%s'\nnameserver %s\n%s%s%s",
	         n->name, ip4_format(n->plan.gateway, gw, sizeof(gw)), n->domain ? "search " : "",
	         n->domain ? n->domain : "", n->domain ? "\n" : "");
	if ((r = write_file_replace(path, text, 0644)) < 0 || chmod(path, 0644) < 0)
		return vk_error_errno(err, r < 0 ? -r : errno, "cannot write '%s'", path);
	return 0;
}

int network_ct_attach(struct instance *inst, struct network_ct *out, struct vk_error *err)
{
	char *netns = out->netns;
	size_t len = sizeof(out->netns);
	const char *value = def_get_str(inst->rt.def, "network"), *name;
	enum ct_net_kind kind = ct_net_kind(value, &name);
	struct ct_inner in = {0};
	struct attachment a;
	struct rtnl *nl = NULL;
	uint8_t mac[6];
	char macs[MAC_LEN + 1];
	struct vnet *n;
	int fd = -1, r;

	netns[0] = out->resolv[0] = '\0';
	if (kind == CT_NET_NONE || kind == CT_NET_HOST)
		return 0;
	if (netns_path(inst->uuid, netns, len) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the run folder is too long");
	def_assign_mac(inst->uuid, 0, macs);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)strtoul(macs + 3 * i, NULL, 16);
	pthread_mutex_lock(&nm.lock);
	att_drop(inst, true);
	(void)netns_remove(netns); /* left by a container that died with the daemon down */
	r = att_plan(inst, 0, kind == CT_NET_MANAGED ? name : NULL, name, macs, true, &a, err);
	if (r == 0 && (r = rtnl_open(&nl, err)) == 0 && (r = netns_create(netns, err)) == 0) {
		fd = open(netns, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? vk_error_errno(err, errno, "cannot open '%s'", netns)
		           : rtnl_veth_add(nl, a.ifname, CT_IFNAME, fd, mac, err);
	}
	if (r == 0 && (r = att_commit(&a, err)) == 0 && (r = att_plug(nl, &a, err)) == 0) {
		if (kind == CT_NET_MANAGED && (n = vnet_find(name))) {
			in.ip = a.ip;
			in.prefix = n->plan.net.prefix;
			in.gw = n->nat ? n->plan.gateway : 0;
		}
		r = netns_run(netns, ct_configure, &in, err);
		if (r == 0 && kind == CT_NET_MANAGED && (n = vnet_find(name)))
			r = write_resolv(n, netns, out->resolv, sizeof(out->resolv), err);
	}
	if (r == 0)
		r = publish_changes(inst, err);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		att_drop(inst, true);
		if (nl)
			rtnl_link_del(nl, a.ifname, NULL);
		(void)netns_remove(netns);
		if (out->resolv[0])
			unlink(out->resolv);
		netns[0] = out->resolv[0] = '\0';
	}
	rtnl_close(nl);
	pthread_mutex_unlock(&nm.lock);
	if (r < 0)
		vk_error_prefix(err, "cannot attach '%s' to %s", inst->name, value);
	return r;
}

/* --- reattach and detach ----------------------------------------------------------------------- */

void network_reattach(struct instance *inst)
{
	struct vk_error err = {0};
	struct vm_ctx c = {.err = &err, .create = false};
	const char *name;
	int r = 0;

	pthread_mutex_lock(&nm.lock);
	att_drop(inst, false);
	if (rtnl_open(&c.nl, &err) < 0) {
		vk_warn("instance '%s': %s", inst->name, err.msg);
		pthread_mutex_unlock(&nm.lock);
		return;
	}
	if (inst->type == DEF_VM) {
		r = vm_each(inst, vm_attach_one, &c);
	} else {
		enum ct_net_kind kind = ct_net_kind(def_get_str(inst->rt.def, "network"), &name);
		struct attachment a;
		char macs[MAC_LEN + 1];

		def_assign_mac(inst->uuid, 0, macs);
		if (kind == CT_NET_MANAGED || kind == CT_NET_BRIDGE) {
			r = att_plan(inst, 0, kind == CT_NET_MANAGED ? name : NULL, name, macs,
			             true, &a, &err);
			if (r == 0 && (r = att_commit(&a, &err)) == 0)
				r = att_plug(c.nl, &a, &err);
		}
	}
	/* Its guest runs on: a link that cannot be put back is said, not fatal. */
	if (r < 0)
		vk_warn("instance '%s' runs on without its network link: %s", inst->name, err.msg);
	else if (publish_changes(inst, &err) < 0)
		vk_warn("instance '%s': %s", inst->name, err.msg);
	rtnl_close(c.nl);
	pthread_mutex_unlock(&nm.lock);
}

void network_detach(struct instance *inst)
{
	struct vk_error err = {0};
	char path[PATH_MAX];
	bool had = false;

	pthread_mutex_lock(&nm.lock);
	for (size_t i = 0; i < nm.natt && !had; i++)
		had = strcmp(nm.att[i].uuid, inst->uuid) == 0;
	att_drop(inst, true);
	if (inst->type == DEF_CONTAINER && netns_path(inst->uuid, path, sizeof(path)) == 0) {
		(void)netns_remove(path);
		if (strlen(path) + 8 < sizeof(path)) {
			strcat(path, ".resolv");
			unlink(path);
		}
	}
	if (had && nm.ready && nm_write_firewall(&err) < 0)
		vk_warn("instance '%s': %s", inst->name, err.msg);
	pthread_mutex_unlock(&nm.lock);
}

/* --- leases ------------------------------------------------------------------------------------- */

static json_object *lease_json(const char *instance, const char *type, const char *mac, uint32_t ip,
                               const char *hostname, int64_t expiry, const char *source)
{
	json_object *o = json_object_new_object();
	char a[IP4_STR_MAX];

	json_object_object_add(o, "instance", instance ? json_object_new_string(instance) : NULL);
	json_object_object_add(o, "type", type ? json_object_new_string(type) : NULL);
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "ip", json_object_new_string(ip4_format(ip, a, sizeof(a))));
	json_object_object_add(o, "hostname",
	                       hostname && *hostname ? json_object_new_string(hostname) : NULL);
	json_object_object_add(o, "expires", expiry > 0 ? json_object_new_int64(expiry) : NULL);
	json_object_object_add(o, "source", json_object_new_string(source));
	return o;
}

int nm_leases(struct vnet *n, json_object **out, struct vk_error *err)
{
	struct netstore_addr *rows = NULL;
	struct dnsmasq_lease *l = NULL;
	json_object *arr = json_object_new_array();
	size_t k = 0, nl = 0;
	int r;

	if ((r = netstore_addrs(nm.set.store, n->name, &rows, &k, err)) < 0 ||
	    (r = read_leases(n, &l, &nl)) < 0) {
		json_object_put(arr);
		free(rows);
		return r < 0 && !vk_error_is_set(err) ? vk_error_set(err, ENOMEM, "out of memory")
		                                      : r;
	}
	/* What dnsmasq handed out, named after the instance whose reservation it is. */
	for (size_t i = 0; i < nl; i++) {
		const char *who = NULL, *type = NULL;
		for (size_t j = 0; j < k; j++)
			if (strcmp(rows[j].mac, l[i].mac) == 0 && rows[j].ip == l[i].ip) {
				struct instance *inst = instance_find(rows[j].instance, NULL);
				who = rows[j].name;
				type = inst ? def_type_name(inst->type) : NULL;
				instance_unref(inst);
			}
		json_object_array_add(arr, lease_json(who, type, l[i].mac, l[i].ip, l[i].hostname,
		                                      l[i].expiry, "dhcp"));
	}
	/* Containers' addresses are configured, not leased: their reservation is the lease. */
	for (size_t i = 0; i < nm.natt; i++) {
		const struct attachment *a = &nm.att[i];
		if (a->type != DEF_CONTAINER || strcmp(a->network, n->name) != 0 || !a->ip)
			continue;
		json_object_array_add(
		        arr, lease_json(a->name, "container", a->mac, a->ip, a->name, 0, "static"));
	}
	free(rows);
	free(l);
	*out = json_object_new_object();
	json_object_object_add(*out, "leases", arr);
	return 0;
}
