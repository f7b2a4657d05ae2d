/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink requests over libmnl (see rtnl.h). Each request carries
 * NLM_F_ACK and its own sequence number; the answer is read until the
 * acknowledgement (or the end of a dump) for that number.
 */
#include "net/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

struct rtnl {
	struct mnl_socket *sk;
	unsigned portid;
	unsigned seq;
	char buf[32768]; /* at least MNL_SOCKET_BUFFER_SIZE (8 KiB; a run-time value) */
};

int rtnl_open(struct rtnl **out, struct vk_error *err)
{
	struct rtnl *nl = calloc(1, sizeof(*nl));

	if (!nl)
		return vk_error_set(err, ENOMEM, "out of memory");
	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		if (nl->sk)
			mnl_socket_close(nl->sk);
		free(nl);
		return vk_error_errno(err, e, "cannot open a netlink socket");
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned)time(NULL);
	*out = nl;
	return 0;
}

void rtnl_close(struct rtnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

static struct nlmsghdr *msg(struct rtnl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* Send h and run cb over the answer until its ack or dump end: 0 or -errno. */
static int transact(struct rtnl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	unsigned seq = h->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl->sk, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int ifindex(const char *name)
{
	unsigned i = if_nametoindex(name);
	return i ? (int)i : -ENODEV;
}

static bool name_ok(const char *name)
{
	return name && *name && strlen(name) < RTNL_IFNAME_MAX;
}

/* The sentence for a failed request about a link. */
static int link_error(struct vk_error *err, int r, const char *what, const char *name)
{
	return vk_error_set(err, -r, "cannot %s '%s': %s%s", what, name, strerror(-r),
	                    r == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
}

/* --- links ------------------------------------------------------------------- */

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct rtnl_link *l = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct rtnl_link *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(a, linkinfo_cb, l);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *h, void *data)
{
	struct rtnl_link *l = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(h);

	if (h->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(h) < sizeof(*ifm))
		return MNL_CB_OK;
	l->index = ifm->ifi_index;
	l->up = (ifm->ifi_flags & IFF_UP) != 0;
	mnl_attr_parse(h, sizeof(*ifm), link_attr_cb, l);
	return MNL_CB_OK;
}

int rtnl_link_get(struct rtnl *nl, const char *name, struct rtnl_link *out, struct vk_error *err)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifm;
	int r;

	memset(out, 0, sizeof(*out));
	if (!name_ok(name))
		return vk_error_set(err, EINVAL, "invalid interface name '%.32s'",
		                    name ? name : "");
	h = msg(nl, RTM_GETLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	mnl_attr_put_u32(h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = transact(nl, h, link_cb, out);
	if (r == -ENODEV)
		return vk_error_set(err, ENODEV, "no interface '%s'", name);
	if (r < 0)
		return link_error(err, r, "read the interface", name);
	return out->index > 0 ? 0 : vk_error_set(err, ENODEV, "no interface '%s'", name);
}

/*
 * RTM_NEWLINK creating name of kind. With info non-NULL, IFLA_LINKINFO and its
 * IFLA_INFO_DATA stay open for the caller, who ends *data then *info.
 */
static struct nlmsghdr *newlink(struct rtnl *nl, const char *name, const char *kind,
                                struct nlattr **info, struct nlattr **data)
{
	struct nlmsghdr *h = msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	struct nlattr *li;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, kind);
	if (info) {
		*info = li;
		*data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
		return h;
	}
	mnl_attr_nest_end(h, li);
	return h;
}

int rtnl_bridge_add(struct rtnl *nl, const char *name, const uint8_t *mac, struct vk_error *err)
{
	struct nlmsghdr *h;
	int r;

	if (!name_ok(name))
		return vk_error_set(err, EINVAL, "invalid bridge name '%.32s'", name ? name : "");
	h = newlink(nl, name, "bridge", NULL, NULL);
	if (mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	r = transact(nl, h, NULL, NULL);
	return r < 0 ? link_error(err, r, "create the bridge", name) : 0;
}

int rtnl_veth_add(struct rtnl *nl, const char *name, const char *peer, int peer_netns_fd,
                  const uint8_t *peer_mac, struct vk_error *err)
{
	struct nlattr *info, *data, *pn;
	struct nlmsghdr *h;
	struct ifinfomsg *pifm;
	int r;

	if (!name_ok(name) || !name_ok(peer))
		return vk_error_set(err, EINVAL, "invalid veth names '%.32s', '%.32s'",
		                    name ? name : "", peer ? peer : "");
	h = newlink(nl, name, "veth", &info, &data);
	pn = mnl_attr_nest_start(h, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg (as in RTM_NEWLINK). */
	pifm = mnl_nlmsg_put_extra_header(h, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, peer_mac);
	mnl_attr_nest_end(h, pn);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = transact(nl, h, NULL, NULL);
	return r < 0 ? link_error(err, r, "create the veth pair", name) : 0;
}

int rtnl_link_del(struct rtnl *nl, const char *name, struct vk_error *err)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifm;
	int r;

	if (!name_ok(name))
		return vk_error_set(err, EINVAL, "invalid interface name '%.32s'",
		                    name ? name : "");
	h = msg(nl, RTM_DELLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	r = transact(nl, h, NULL, NULL);
	if (r == -ENODEV)
		return vk_error_set(err, ENODEV, "no interface '%s'", name);
	return r < 0 ? link_error(err, r, "delete the interface", name) : 0;
}

/* RTM_NEWLINK on an existing link (by index): flags and attributes. */
static int setlink(struct rtnl *nl, int index, unsigned flags, unsigned change, int master)
{
	struct nlmsghdr *h = msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	if (master >= 0)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	return transact(nl, h, NULL, NULL);
}

int rtnl_link_set_up(struct rtnl *nl, const char *name, struct vk_error *err)
{
	int i = ifindex(name), r;

	if (i < 0)
		return vk_error_set(err, ENODEV, "no interface '%s'", name);
	r = setlink(nl, i, IFF_UP, IFF_UP, -1);
	return r < 0 ? link_error(err, r, "bring up", name) : 0;
}

int rtnl_link_set_master(struct rtnl *nl, const char *name, const char *master,
                         struct vk_error *err)
{
	struct rtnl_link l;
	int m = ifindex(master), r;

	if (m < 0)
		return vk_error_set(err, ENODEV, "no bridge '%s'", master);
	if ((r = rtnl_link_get(nl, name, &l, err)) < 0)
		return r;
	if (l.master == m)
		return 0;
	r = setlink(nl, l.index, 0, 0, m);
	if (r < 0)
		return vk_error_set(err, -r, "cannot attach '%s' to the bridge '%s': %s%s", name,
		                    master, strerror(-r),
		                    r == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return 0;
}

int rtnl_brport_set_hairpin(struct rtnl *nl, const char *name, struct vk_error *err)
{
	int i = ifindex(name), r;
	struct nlmsghdr *h;
	struct ifinfomsg *ifm;
	struct nlattr *nest;

	if (i < 0)
		return vk_error_set(err, ENODEV, "no interface '%s'", name);
	/* What `bridge link set dev NAME hairpin on` sends: the port's protocol info. */
	h = msg(nl, RTM_SETLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_BRIDGE;
	ifm->ifi_index = i;
	nest = mnl_attr_nest_start(h, IFLA_PROTINFO);
	mnl_attr_put_u8(h, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(h, nest);
	r = transact(nl, h, NULL, NULL);
	return r < 0 ? link_error(err, r, "set hairpin mode on", name) : 0;
}

/* --- addresses and routes ------------------------------------------------------ */

int rtnl_addr_add(struct rtnl *nl, const char *name, uint32_t addr, unsigned prefix,
                  struct vk_error *err)
{
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	char a[IP4_STR_MAX];
	int i = ifindex(name), r;

	if (i < 0)
		return vk_error_set(err, ENODEV, "no interface '%s'", name);
	h = msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)i;
	mnl_attr_put_u32(h, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(h, IFA_ADDRESS, htonl(addr));
	if (prefix < 31)
		mnl_attr_put_u32(h, IFA_BROADCAST, htonl(addr | ~ip4_mask(prefix)));
	r = transact(nl, h, NULL, NULL);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return vk_error_set(err, -r, "cannot add the address %s/%u to '%s': %s%s",
		                    ip4_format(addr, a, sizeof(a)), prefix, name, strerror(-r),
		                    r == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return 0;
}

int rtnl_route_add_default(struct rtnl *nl, uint32_t gw, struct vk_error *err)
{
	struct nlmsghdr *h = msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	char a[IP4_STR_MAX];
	int r;

	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gw));
	r = transact(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return vk_error_errno(err, -r, "cannot add a default route through %s",
		                      ip4_format(gw, a, sizeof(a)));
	return 0;
}

struct route_walk {
	int (*cb)(void *opaque, const struct ip4_cidr *dst, int oif);
	void *opaque;
	int stop;
	/* of the message being parsed */
	uint32_t dst, table;
	int oif;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_walk *w = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			w->dst = ntohl(mnl_attr_get_u32(a));
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			w->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			w->table = mnl_attr_get_u32(a);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *h, void *data)
{
	struct route_walk *w = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	struct ip4_cidr c;

	if (w->stop || h->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(h) < sizeof(*rtm) || rtm->rtm_family != AF_INET)
		return MNL_CB_OK;
	w->dst = 0;
	w->oif = 0;
	w->table = rtm->rtm_table;
	mnl_attr_parse(h, sizeof(*rtm), route_attr_cb, w);
	if (w->table != RT_TABLE_MAIN || rtm->rtm_dst_len == 0 || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	c.prefix = rtm->rtm_dst_len;
	c.addr = w->dst & ip4_mask(c.prefix);
	w->stop = w->cb(w->opaque, &c, w->oif);
	return MNL_CB_OK;
}

int rtnl_routes(struct rtnl *nl, int (*cb)(void *opaque, const struct ip4_cidr *dst, int oif),
                void *opaque, struct vk_error *err)
{
	struct route_walk w = {.cb = cb, .opaque = opaque};
	struct nlmsghdr *h = msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	int r;

	rtm->rtm_family = AF_INET;
	r = transact(nl, h, route_cb, &w);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot read the routing table");
	return w.stop;
}

void rtnl_ifname(int index, char out[RTNL_IFNAME_MAX])
{
	if (index <= 0 || !if_indextoname((unsigned)index, out))
		out[0] = '\0';
}
