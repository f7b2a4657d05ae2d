/* SPDX-License-Identifier: MIT */
/*
 * The network manager (network.h): the registry of managed networks, their
 * creation and deletion, the JSON the API answers with, and the firewall
 * table written from the networks and the published ports of the running
 * instances. A network's host side and its dnsmasq are network-host.c;
 * instances' interfaces and addresses network-attach.c.
 */
#include "daemon/network.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/netstore.h"
#include "daemon/network-internal.h"
#include "daemon/paths.h"
#include "daemon/proc.h"
#include "net/firewall.h"

#define AUTO_SUBNETS 256 /* 10.77.N.0/24 */

struct network_manager nm = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = {-1, -1}};

struct vnet *vnet_find(const char *name)
{
	for (size_t i = 0; i < nm.nnets; i++)
		if (strcmp(nm.nets[i]->name, name) == 0)
			return nm.nets[i];
	return NULL;
}

static void vnet_free(struct vnet *n)
{
	if (!n)
		return;
	if (n->dnsmasq_pidfd >= 0)
		close(n->dnsmasq_pidfd);
	json_object_put(n->def);
	free(n);
}

/* A vnet from a normalized definition with its subnet and bridge (consumed). */
static struct vnet *vnet_new(json_object *def, struct vk_error *err)
{
	struct vnet *n = calloc(1, sizeof(*n));
	const char *sub = def_get_str(def, "subnet"), *br = def_get_str(def, "bridge");
	struct ip4_cidr c;

	if (!n) {
		json_object_put(def);
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	n->def = def;
	n->dnsmasq_pidfd = -1;
	snprintf(n->name, sizeof(n->name), "%s", def_name(def));
	if (!sub || !br || !ifname_valid(br) || ip4_cidr_parse(sub, &c, err) < 0 ||
	    ip4_plan(&c, &n->plan) < 0) {
		vk_error_set(err, EINVAL,
		             "network '%s': stored definition lacks a valid subnet or bridge",
		             n->name);
		vnet_free(n);
		return NULL;
	}
	snprintf(n->bridge, sizeof(n->bridge), "%s", br);
	n->nat = strcmp(def_get_str(def, "mode"), "nat") == 0;
	n->forward = def_get_bool(def, "dns_forward", n->nat);
	n->domain = def_get_str(def, "dns_domain");
	if (fmt_buf(n->dir, sizeof(n->dir), "%s/networks/%s", nm.set.paths->run_dir, n->name) < 0 ||
	    fmt_buf(n->state, sizeof(n->state), "%s/networks/%s", nm.set.paths->state_dir,
	            n->name) < 0) {
		vk_error_set(err, ENAMETOOLONG, "network '%s': the daemon's folders are too long",
		             n->name);
		vnet_free(n);
		return NULL;
	}
	return n;
}

static int vnet_append(struct vnet *n)
{
	struct vnet **v = realloc(nm.nets, (nm.nnets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	nm.nets = v;
	nm.nets[nm.nnets++] = n;
	return 0;
}

static void vnet_unlink(struct vnet *n)
{
	for (size_t i = 0; i < nm.nnets; i++) {
		if (nm.nets[i] == n) {
			memmove(&nm.nets[i], &nm.nets[i + 1],
			        (nm.nnets - i - 1) * sizeof(*nm.nets));
			nm.nnets--;
			return;
		}
	}
}

/* --- who uses a network ----------------------------------------------------------- */

/* Does a definition name the network net (a container's "network", a VM's interfaces)? */
static bool def_uses(json_object *def, const char *net)
{
	json_object *nets;
	const char *name;

	if (def_type(def) == DEF_CONTAINER)
		return ct_net_kind(def_get_str(def, "network"), &name) == CT_NET_MANAGED &&
		       strcmp(name, net) == 0;
	nets = json_object_object_get(def, "networks");
	for (size_t i = 0; nets && i < json_object_array_length(nets); i++) {
		json_object *d = json_object_array_get_idx(nets, i);
		const char *t = def_get_str(d, "type");
		if (t && strcmp(t, "network") == 0 && strcmp(def_get_str(d, "name"), net) == 0)
			return true;
	}
	return false;
}

/* The names of the instances whose definition uses net (a JSON array). */
static json_object *users(const char *net)
{
	json_object *a = json_object_new_array();
	struct instance **list;
	size_t n;

	if (instance_list(&list, &n) < 0)
		return a;
	for (size_t i = 0; i < n; i++) {
		bool uses;
		pthread_mutex_lock(&list[i]->lock);
		uses = def_uses(list[i]->def, net);
		pthread_mutex_unlock(&list[i]->lock);
		if (uses)
			json_object_array_add(a, json_object_new_string(list[i]->name));
	}
	instance_list_free(list, n);
	return a;
}

bool nm_in_use(const char *net, char *who, size_t len)
{
	json_object *u = users(net);
	bool used = json_object_array_length(u) > 0;

	if (used)
		snprintf(who, len, "%s", json_object_get_string(json_object_array_get_idx(u, 0)));
	json_object_put(u);
	/* A running instance whose definition changed since it started still holds a link. */
	for (size_t i = 0; !used && i < nm.natt; i++) {
		if (strcmp(nm.att[i].network, net) == 0) {
			snprintf(who, len, "%s", nm.att[i].name);
			used = true;
		}
	}
	return used;
}

/* --- the firewall table ----------------------------------------------------------- */

/* Ports in a fixed order: the same state writes the same table, whatever happened first. */
static int port_cmp(const void *a, const void *b)
{
	const struct fw_port *x = a, *y = b;

	if (x->host_port != y->host_port)
		return x->host_port < y->host_port ? -1 : 1;
	if (x->udp != y->udp)
		return x->udp ? 1 : -1;
	return x->host_ip < y->host_ip ? -1 : x->host_ip > y->host_ip;
}

int nm_write_firewall(struct vk_error *err)
{
	struct fw_network *fn = calloc(nm.nnets ? nm.nnets : 1, sizeof(*fn));
	struct fw_port *fp = NULL;
	size_t np = 0, cap = 0;
	char *text, marker[PATH_MAX];
	int r;

	if (!fn)
		return vk_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < nm.nnets; i++) {
		fn[i].bridge = nm.nets[i]->bridge;
		fn[i].subnet = nm.nets[i]->plan.net;
		fn[i].nat = nm.nets[i]->nat;
	}
	for (size_t i = 0; i < nm.natt; i++) {
		const struct attachment *a = &nm.att[i];
		for (size_t j = 0; a->ip && j < a->npub; j++) {
			if (np == cap) {
				struct fw_port *v =
				        realloc(fp, (cap = cap ? cap * 2 : 16) * sizeof(*v));
				if (!v) {
					free(fp);
					free(fn);
					return vk_error_set(err, ENOMEM, "out of memory");
				}
				fp = v;
			}
			fp[np++] = (struct fw_port){.host_ip = a->pub[j].host_ip,
			                            .host_port = a->pub[j].host_port,
			                            .guest_port = a->pub[j].guest_port,
			                            .udp = a->pub[j].udp,
			                            .guest_ip = a->ip,
			                            .bridge = a->bridge};
		}
	}
	if (np)
		qsort(fp, np, sizeof(*fp), port_cmp);
	/*
	 * A daemon without networks leaves the firewall alone, unless a table of
	 * ours may be there (the marker says we wrote one and have not removed it).
	 */
	if (fmt_buf(marker, sizeof(marker), "%s/networks/firewall", nm.set.paths->run_dir) < 0) {
		r = vk_error_set(err, ENAMETOOLONG, "the run folder is too long");
		goto out;
	}
	if (nm.nnets == 0 && access(marker, F_OK) != 0) {
		r = 0;
		goto out;
	}
	text = fw_ruleset_text(fn, nm.nnets, fp, np);
	r = text ? fw_apply(text, err) : vk_error_set(err, ENOMEM, "out of memory");
	free(text);
	if (r == 0 && nm.nnets)
		r = write_file_replace(marker, "table ip " FW_TABLE " written by virtkitd\n", 0600);
	else if (r == 0)
		unlink(marker);
	if (r < 0 && !vk_error_is_set(err))
		vk_error_errno(err, -r, "cannot write '%s'", marker);
out:
	free(fp);
	free(fn);
	return r;
}

/* --- JSON --------------------------------------------------------------------------- */

static json_object *range(uint32_t a, uint32_t b)
{
	char x[IP4_STR_MAX], y[IP4_STR_MAX], buf[2 * IP4_STR_MAX + 2];

	snprintf(buf, sizeof(buf), "%s-%s", ip4_format(a, x, sizeof(x)),
	         ip4_format(b, y, sizeof(y)));
	return json_object_new_string(buf);
}

static json_object *vnet_json(struct vnet *n)
{
	json_object *o = NULL, *dhcp = json_object_new_object();
	struct rtnl_link l;
	struct rtnl *nl;
	char gw[IP4_STR_MAX];
	bool up = false;

	if (json_object_deep_copy(n->def, &o, NULL) < 0)
		o = json_object_new_object();
	if (rtnl_open(&nl, NULL) == 0) {
		up = rtnl_link_get(nl, n->bridge, &l, NULL) == 0 && l.up;
		rtnl_close(nl);
	}
	json_object_object_add(o, "gateway",
	                       json_object_new_string(ip4_format(n->plan.gateway, gw, sizeof(gw))));
	json_object_object_add(dhcp, "reserved",
	                       range(n->plan.reserved_first, n->plan.reserved_last));
	json_object_object_add(dhcp, "dynamic", range(n->plan.dynamic_first, n->plan.dynamic_last));
	json_object_object_add(o, "dhcp", dhcp);
	json_object_object_add(o, "bridge_up", json_object_new_boolean(up));
	json_object_object_add(o, "dnsmasq_pid",
	                       n->dnsmasq_pid > 0 ? json_object_new_int(n->dnsmasq_pid) : NULL);
	json_object_object_add(o, "used_by", users(n->name));
	return o;
}

json_object *network_list(void)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	pthread_mutex_lock(&nm.lock);
	for (size_t i = 0; i < nm.nnets; i++)
		json_object_array_add(a, vnet_json(nm.nets[i]));
	pthread_mutex_unlock(&nm.lock);
	json_object_object_add(o, "networks", a);
	return o;
}

int network_info(const char *name, json_object **out, struct vk_error *err)
{
	struct vnet *n;
	int r = 0;

	pthread_mutex_lock(&nm.lock);
	if ((n = vnet_find(name)))
		*out = vnet_json(n);
	else
		r = vk_error_set(err, ENOENT, "network '%s' not found", name);
	pthread_mutex_unlock(&nm.lock);
	return r;
}

int network_leases(const char *name, json_object **out, struct vk_error *err)
{
	struct vnet *n;
	int r;

	pthread_mutex_lock(&nm.lock);
	if ((n = vnet_find(name)))
		r = nm_leases(n, out, err);
	else
		r = vk_error_set(err, ENOENT, "network '%s' not found", name);
	pthread_mutex_unlock(&nm.lock);
	return r;
}

/* --- create and delete ---------------------------------------------------------------- */

struct overlap {
	const struct ip4_cidr *want;
	char route[CIDR_STR_MAX];
	int oif;
};

static int route_overlaps(void *opaque, const struct ip4_cidr *dst, int oif)
{
	struct overlap *o = opaque;

	if (!ip4_cidr_overlap(o->want, dst))
		return 0;
	ip4_cidr_format(dst, o->route, sizeof(o->route));
	o->oif = oif;
	return 1;
}

/* 0 when c collides with no network and no route; else why, in err. */
static int subnet_free(struct rtnl *nl, const struct ip4_cidr *c, struct vk_error *err)
{
	struct overlap o = {.want = c};
	char s[CIDR_STR_MAX], t[CIDR_STR_MAX], dev[RTNL_IFNAME_MAX];
	int r;

	for (size_t i = 0; i < nm.nnets; i++)
		if (ip4_cidr_overlap(c, &nm.nets[i]->plan.net))
			return vk_error_set(err, EEXIST, "subnet %s overlaps network '%s' (%s)",
			                    ip4_cidr_format(c, s, sizeof(s)), nm.nets[i]->name,
			                    ip4_cidr_format(&nm.nets[i]->plan.net, t, sizeof(t)));
	if ((r = rtnl_routes(nl, route_overlaps, &o, err)) < 0)
		return r;
	if (r > 0) {
		rtnl_ifname(o.oif, dev);
		return vk_error_set(err, EEXIST, "subnet %s overlaps the route to %s%s%s",
		                    ip4_cidr_format(c, s, sizeof(s)), o.route, dev[0] ? " on " : "",
		                    dev);
	}
	return 0;
}

static int choose_subnet(struct rtnl *nl, json_object *def, struct vk_error *err)
{
	char s[CIDR_STR_MAX];
	struct ip4_cidr c;
	int r;

	if (def_get_str(def, "subnet")) {
		if (ip4_cidr_parse(def_get_str(def, "subnet"), &c, err) < 0)
			return -EINVAL;
		return subnet_free(nl, &c, err);
	}
	for (unsigned i = 0; i < AUTO_SUBNETS; i++) {
		c.addr = (10u << 24) | (77u << 16) | (i << 8);
		c.prefix = 24;
		r = subnet_free(nl, &c, NULL);
		if (r == 0) {
			json_object_object_add(
			        def, "subnet",
			        json_object_new_string(ip4_cidr_format(&c, s, sizeof(s))));
			return 0;
		}
		if (r != -EEXIST)
			return subnet_free(nl, &c, err); /* say why */
	}
	return vk_error_set(err, EEXIST,
	                    "no free subnet among 10.77.0.0/24 to 10.77.255.0/24: give one "
	                    "(--subnet)");
}

/* vkbrN: the first N no network has and no interface is called. */
static int choose_bridge(struct rtnl *nl, json_object *def, struct vk_error *err)
{
	char name[RTNL_IFNAME_MAX];
	struct rtnl_link l;

	for (unsigned i = 0; i < 1000; i++) {
		bool taken = false;
		snprintf(name, sizeof(name), "vkbr%u", i);
		for (size_t k = 0; k < nm.nnets && !taken; k++)
			taken = strcmp(nm.nets[k]->bridge, name) == 0;
		if (taken || rtnl_link_get(nl, name, &l, NULL) != -ENODEV)
			continue;
		json_object_object_add(def, "bridge", json_object_new_string(name));
		return 0;
	}
	return vk_error_set(err, EEXIST, "no free bridge name vkbr0 to vkbr999");
}

int network_create(json_object *raw, json_object **out, struct vk_error *err)
{
	json_object *def;
	struct vnet *n = NULL;
	struct rtnl *nl = NULL;
	int r;

	if ((r = netdef_normalize(raw, &def, err)) < 0)
		return r;
	pthread_mutex_lock(&nm.lock);
	if (vnet_find(def_name(def))) {
		r = vk_error_set(err, EEXIST, "network '%s' exists", def_name(def));
		goto fail;
	}
	if ((r = rtnl_open(&nl, err)) < 0 || (r = choose_subnet(nl, def, err)) < 0 ||
	    (r = choose_bridge(nl, def, err)) < 0)
		goto fail;
	rtnl_close(nl);
	nl = NULL;
	n = vnet_new(def, err);
	def = NULL;
	if (!n || (r = vnet_append(n)) < 0) {
		r = n ? vk_error_set(err, ENOMEM, "out of memory") : -EINVAL;
		vnet_free(n);
		goto fail;
	}
	if ((r = vnet_up(n, err)) < 0 || (r = nm_write_firewall(err)) < 0 ||
	    (r = netstore_insert(
	             nm.set.store, n->name,
	             json_object_to_json_string_ext(n->def, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE),
	             err)) < 0) {
		vk_error_prefix(err, "cannot create network '%s'", n->name);
		vnet_unlink(n);
		vnet_down(n);
		vnet_free(n);
		if (nm_write_firewall(NULL) < 0)
			vk_warn("network: cannot rewrite the firewall table after a failed create");
		goto fail;
	}
	nm_supervisor_wake();
	vk_info("network '%s' created: bridge %s, subnet %s, %s", n->name, n->bridge,
	        def_get_str(n->def, "subnet"), n->nat ? "NAT" : "isolated");
	*out = vnet_json(n);
	pthread_mutex_unlock(&nm.lock);
	return 0;
fail:
	pthread_mutex_unlock(&nm.lock);
	rtnl_close(nl);
	json_object_put(def);
	return r;
}

int network_delete(const char *name, json_object **out, struct vk_error *err)
{
	char who[DEF_NAME_MAX + 1];
	struct vnet *n;
	int r;

	pthread_mutex_lock(&nm.lock);
	n = vnet_find(name);
	if (!n) {
		r = vk_error_set(err, ENOENT, "network '%s' not found", name);
		goto out;
	}
	if (nm_in_use(name, who, sizeof(who))) {
		r = vk_error_set(err, EBUSY, "network '%s' is in use by instance '%s'", name, who);
		goto out;
	}
	if ((r = netstore_delete(nm.set.store, name, err)) < 0)
		goto out;
	*out = json_object_new_object();
	json_object_object_add(*out, "name", json_object_new_string(name));
	vnet_unlink(n);
	vnet_down(n);
	vnet_free(n);
	if (nm_write_firewall(err) < 0) {
		vk_warn("network '%s' deleted, but: %s", name, err->msg);
		vk_error_clear(err);
	}
	nm_supervisor_wake();
	vk_info("network '%s' deleted", name);
out:
	pthread_mutex_unlock(&nm.lock);
	return r;
}

/* --- start-up and shutdown ------------------------------------------------------------ */

static int load_one(void *opaque, const char *text)
{
	struct vk_error err = {0};
	json_object *def = json_tokener_parse(text);
	struct vnet *n;

	(void)opaque;
	if (!def) {
		vk_err("network: a stored definition is not valid JSON; skipped");
		return 0;
	}
	n = vnet_new(def, &err);
	if (!n) {
		vk_err("%s; skipped", err.msg);
		return 0;
	}
	if (vnet_append(n) < 0) {
		vnet_free(n);
		return -ENOMEM;
	}
	/* A network that cannot come up stays defined: it can be deleted, or fixed and retried. */
	if (vnet_up(n, &err) < 0)
		vk_err("cannot bring up network '%s': %s", n->name, err.msg);
	return 0;
}

/* Folders dnsmasq, which drops to nobody, must be able to reach its hosts files through. */
static int prepare_dirs(struct vk_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (stat(nm.set.paths->run_dir, &st) == 0 && (st.st_mode & 0011) != 0011)
		chmod(nm.set.paths->run_dir, (st.st_mode & 07777) | 0011);
	if (fmt_buf(path, sizeof(path), "%s/networks", nm.set.paths->run_dir) < 0)
		return vk_error_set(err, ENAMETOOLONG, "the run folder is too long");
	if ((r = mkdir_p(path, 0755)) < 0 || chmod(path, 0755) < 0)
		return vk_error_errno(err, r < 0 ? -r : errno, "cannot create '%s'", path);
	if (fmt_buf(path, sizeof(path), "%s/netns", nm.set.paths->run_dir) < 0 ||
	    (r = mkdir_p(path, 0700)) < 0)
		return vk_error_set(err, EIO, "cannot create the run folder's netns");
	if (fmt_buf(path, sizeof(path), "%s/networks", nm.set.paths->state_dir) < 0 ||
	    (r = mkdir_p(path, 0700)) < 0)
		return vk_error_set(err, EIO, "cannot create the state folder's networks");
	return 0;
}

int network_init(const struct network_settings *s, struct vk_error *err)
{
	int r;

	nm.set = *s;
	if (s->dnsmasq)
		snprintf(nm.dnsmasq, sizeof(nm.dnsmasq), "%s", s->dnsmasq);
	else if (!find_executable("dnsmasq", nm.dnsmasq, sizeof(nm.dnsmasq)))
		snprintf(nm.dnsmasq, sizeof(nm.dnsmasq), "/usr/sbin/dnsmasq");
	if ((r = prepare_dirs(err)) < 0)
		return r;
	pthread_mutex_lock(&nm.lock);
	r = netstore_load(nm.set.store, load_one, NULL, err);
	pthread_mutex_unlock(&nm.lock);
	if (r < 0)
		return r;
	return nm_supervisor_start(err);
}

void network_ready(void)
{
	struct vk_error err = {0};

	pthread_mutex_lock(&nm.lock);
	nm.ready = true;
	for (size_t i = 0; i < nm.nnets; i++) {
		nm_gc_reservations(nm.nets[i]);
		if (vnet_write_hosts(nm.nets[i], &err) < 0)
			vk_warn("network '%s': %s", nm.nets[i]->name, err.msg);
	}
	/* Also when there is no network: a table left by an earlier run goes. */
	if (nm_write_firewall(&err) < 0)
		vk_err("%s", err.msg);
	pthread_mutex_unlock(&nm.lock);
}

void network_shutdown(void)
{
	nm_supervisor_stop();
	pthread_mutex_lock(&nm.lock);
	for (size_t i = 0; i < nm.nnets; i++)
		vnet_free(nm.nets[i]);
	free(nm.nets);
	nm.nets = NULL;
	nm.nnets = 0;
	free(nm.att);
	nm.att = NULL;
	nm.natt = nm.capatt = 0;
	nm.ready = false;
	pthread_mutex_unlock(&nm.lock);
}
