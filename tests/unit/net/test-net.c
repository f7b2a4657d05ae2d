/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pure parts of virtkit's networks: IPv4 parsing, overlap and
 * the subnet plan (src/net/addr.c), dnsmasq's files and lease file
 * (src/net/dnsmasq.c), the nftables script (src/net/firewall.c), and the
 * network fields of definitions (src/daemon/def-network.c): network
 * definitions, published ports, container network names, assigned MACs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/def-network.h"
#include "daemon/def.h"
#include "net/addr.h"
#include "net/dnsmasq.h"
#include "net/firewall.h"

static uint32_t ip(const char *s)
{
	uint32_t a = 0;
	assert_int_equal(ip4_parse(s, &a), 0);
	return a;
}

static void test_ip4_parse(void **state)
{
	static const char *const bad[] = {"",         "1.2.3",    "1.2.3.4.5",  "256.1.1.1",
	                                  "1.2.3.04", "01.2.3.4", "1.2.3.4 ",   " 1.2.3.4",
	                                  "1..3.4",   "1.2.3.-1", "1.2.3.1000", "a.b.c.d"};
	char buf[IP4_STR_MAX];
	uint32_t a;

	(void)state;
	assert_int_equal(ip("10.77.0.1"), 0x0a4d0001);
	assert_int_equal(ip("0.0.0.0"), 0);
	assert_int_equal(ip("255.255.255.255"), 0xffffffff);
	assert_string_equal(ip4_format(0xc0a80a01, buf, sizeof(buf)), "192.168.10.1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip4_parse(bad[i], &a), -22);
}

static void test_cidr(void **state)
{
	struct vk_error err = {0};
	struct ip4_cidr a, b;
	char buf[CIDR_STR_MAX];

	(void)state;
	assert_int_equal(ip4_cidr_parse("10.77.0.0/24", &a, &err), 0);
	assert_int_equal(a.addr, 0x0a4d0000);
	assert_int_equal(a.prefix, 24);
	assert_string_equal(ip4_cidr_format(&a, buf, sizeof(buf)), "10.77.0.0/24");
	/* Host bits: refused, naming the subnet it would be. */
	assert_int_equal(ip4_cidr_parse("10.77.0.1/24", &b, &err), -22);
	assert_non_null(strstr(err.msg, "10.77.0.0/24"));
	assert_int_equal(ip4_cidr_parse("10.77.0.0", &b, &err), -22);
	assert_int_equal(ip4_cidr_parse("10.77.0.0/33", &b, &err), -22);
	assert_int_equal(ip4_cidr_parse("10.77.0.0/024", &b, &err), -22);
	assert_int_equal(ip4_cidr_parse("10.77.0.0/", &b, &err), -22);
	assert_int_equal(ip4_cidr_parse("0.0.0.0/0", &b, &err), 0);

	assert_int_equal(ip4_cidr_parse("10.77.0.128/25", &b, &err), 0);
	assert_true(ip4_cidr_overlap(&a, &b));
	assert_true(ip4_cidr_overlap(&b, &a));
	assert_int_equal(ip4_cidr_parse("10.77.1.0/24", &b, &err), 0);
	assert_false(ip4_cidr_overlap(&a, &b));
	assert_int_equal(ip4_cidr_parse("10.0.0.0/8", &b, &err), 0);
	assert_true(ip4_cidr_overlap(&a, &b));
	assert_true(ip4_cidr_contains(&a, ip("10.77.0.255")));
	assert_false(ip4_cidr_contains(&a, ip("10.77.1.0")));
}

static void test_plan(void **state)
{
	struct ip4_cidr c = {.addr = 0x0a4d0000, .prefix = 24};
	struct ip4_plan p;

	(void)state;
	assert_int_equal(ip4_plan(&c, &p), 0);
	assert_int_equal(p.gateway, ip("10.77.0.1"));
	assert_int_equal(p.reserved_first, ip("10.77.0.2"));
	/* Reservations and the dynamic range split the 253 other hosts, never overlapping. */
	assert_int_equal(p.reserved_last + 1, p.dynamic_first);
	assert_int_equal(p.dynamic_last, ip("10.77.0.254"));
	assert_int_equal(p.broadcast, ip("10.77.0.255"));
	assert_true(p.dynamic_first > p.reserved_first);

	c = (struct ip4_cidr){.addr = ip("192.168.5.8"), .prefix = 29};
	assert_int_equal(ip4_plan(&c, &p), 0);
	assert_int_equal(p.gateway, ip("192.168.5.9"));
	assert_true(p.reserved_first <= p.reserved_last);
	assert_true(p.dynamic_first <= p.dynamic_last);
	assert_int_equal(p.dynamic_last, ip("192.168.5.14"));

	c.prefix = 30;
	assert_int_equal(ip4_plan(&c, &p), -22);
	c = (struct ip4_cidr){.addr = ip("10.0.0.0"), .prefix = 15};
	assert_int_equal(ip4_plan(&c, &p), -22);
}

static void test_dnsmasq_files(void **state)
{
	struct ip4_cidr c = {.addr = 0x0a4d0000, .prefix = 24};
	struct ip4_plan p;
	struct dnsmasq_config cfg = {.network = "net0",
	                             .bridge = "vkbr0",
	                             .plan = &p,
	                             .router = false,
	                             .forward = false,
	                             .domain = "vk.test",
	                             .pid_file = "/r/pid",
	                             .lease_file = "/s/leases",
	                             .hosts_file = "/r/hosts",
	                             .addn_hosts_file = "/r/addn",
	                             .log_file = "/r/log"};
	struct dnsmasq_host h[3] = {
	        {.mac = "52:54:00:00:00:01", .ip = 0x0a4d0002, .name = "vm1"},
	        {.mac = "52:54:00:00:00:02", .ip = 0x0a4d0003, .name = "under_score"},
	        {.mac = "52:54:00:00:00:03", .ip = 0x0a4d0004, .name = NULL},
	};
	char *t;

	(void)state;
	assert_int_equal(ip4_plan(&c, &p), 0);
	t = dnsmasq_config_text(&cfg);
	assert_non_null(strstr(t, "\ninterface=vkbr0\n"));
	assert_non_null(strstr(t, "\nbind-dynamic\n"));
	assert_non_null(strstr(t, "\nno-resolv\n"));
	assert_non_null(strstr(t, "\nlocal=/vk.test/\n"));
	assert_non_null(strstr(t, "\ndhcp-range=10.77.0.129,10.77.0.254,255.255.255.0,1h\n"));
	assert_non_null(strstr(t, "\ndhcp-option=3\n")); /* isolated: no router offered */
	assert_non_null(strstr(t, "\ndhcp-hostsfile=/r/hosts\n"));
	free(t);
	cfg.router = cfg.forward = true;
	cfg.domain = NULL;
	t = dnsmasq_config_text(&cfg);
	assert_null(strstr(t, "no-resolv"));
	assert_null(strstr(t, "dhcp-option=3"));
	assert_null(strstr(t, "domain="));
	free(t);

	/* A name dnsmasq would refuse is left out rather than breaking the whole file. */
	t = dnsmasq_hosts_text(h, 3);
	assert_string_equal(t, "52:54:00:00:00:01,10.77.0.2,vm1\n"
	                       "52:54:00:00:00:02,10.77.0.3\n"
	                       "52:54:00:00:00:03,10.77.0.4\n");
	free(t);
	t = dnsmasq_addn_hosts_text(h, 3, "vk.test");
	assert_string_equal(t, "10.77.0.2 vm1 vm1.vk.test\n");
	free(t);
	assert_true(dnsmasq_name_ok("a-1"));
	assert_false(dnsmasq_name_ok("-a"));
	assert_false(dnsmasq_name_ok("a.b"));
}

static void test_leases(void **state)
{
	const char *text = "1765108800 52:54:00:AA:bb:01 10.77.0.2 vm1 01:52:54:00:aa:bb:01\n"
	                   "0 52:54:00:aa:bb:02 10.77.0.3 * *\n"
	                   "duid 00:01:00:01:2c:3d:4e:5f:52:54:00:12:34:56\n"
	                   "1765108800 1234 fd00::5 host6 00:01\n"
	                   "garbage line\n"
	                   "-5 52:54:00:aa:bb:03 10.77.0.4 x *\n";
	struct dnsmasq_lease *l;
	size_t n;

	(void)state;
	assert_int_equal(dnsmasq_leases_parse(text, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].expiry, 1765108800);
	assert_string_equal(l[0].mac, "52:54:00:aa:bb:01"); /* lower case */
	assert_int_equal(l[0].ip, 0x0a4d0002);
	assert_string_equal(l[0].hostname, "vm1");
	assert_int_equal(l[1].expiry, 0);
	assert_string_equal(l[1].hostname, "");
	free(l);
	assert_int_equal(dnsmasq_leases_parse("", &l, &n), 0);
	assert_int_equal(n, 0);
	free(l);
}

static void test_firewall(void **state)
{
	struct fw_network nets[2] = {
	        {.bridge = "vkbr0", .subnet = {.addr = 0x0a4d0000, .prefix = 24}, .nat = true},
	        {.bridge = "vkbr1", .subnet = {.addr = 0x0a4d0100, .prefix = 24}, .nat = false},
	};
	struct fw_port ports[2] = {
	        {.host_port = 8080, .guest_port = 80, .guest_ip = 0x0a4d0002, .bridge = "vkbr0"},
	        {.host_ip = 0x7f000001,
	         .host_port = 5353,
	         .guest_port = 53,
	         .udp = true,
	         .guest_ip = 0x0a4d0103,
	         .bridge = "vkbr1"},
	};
	char *t;
	const char *drop, *accept;

	(void)state;
	t = fw_ruleset_text(nets, 2, ports, 2);
	/* One transaction that replaces the table, whatever was there. */
	assert_true(strncmp(t, "add table ip virtkit\ndelete table ip virtkit\ntable ip virtkit {",
	                    61) == 0);
	assert_non_null(strstr(t, "fib daddr type local tcp dport 8080 dnat to 10.77.0.2:80\n"));
	assert_non_null(strstr(t, "ip daddr 127.0.0.1 udp dport 5353 dnat to 10.77.1.3:53\n"));
	assert_non_null(strstr(t, "ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade\n"));
	/* The isolated network is not masqueraded, and its guests may not leave it. */
	assert_null(strstr(t, "ip saddr 10.77.1.0/24 ip daddr != 10.77.1.0/24 masquerade"));
	assert_null(strstr(t, "iifname \"vkbr1\" ip saddr 10.77.1.0/24 accept"));
	assert_non_null(strstr(t, "iifname \"vkbr1\" drop\n"));
	/* route_localnet's guard for each bridge. */
	assert_non_null(strstr(t, "iifname \"vkbr0\" ip daddr 127.0.0.0/8 drop\n"));
	assert_non_null(strstr(t, "iifname \"vkbr1\" ip daddr 127.0.0.0/8 drop\n"));
	/* New connections into a network from elsewhere are dropped after published ports pass. */
	accept = strstr(t, "oifname \"vkbr0\" ct status dnat accept");
	drop = strstr(t, "oifname \"vkbr0\" drop");
	assert_non_null(accept);
	assert_non_null(drop);
	assert_true(accept < drop);
	/* Each DNAT twice: prerouting and output (the host's own connections). */
	assert_non_null(strstr(strstr(t, "dnat to 10.77.0.2:80") + 1, "dnat to 10.77.0.2:80"));
	free(t);

	t = fw_ruleset_text(NULL, 0, NULL, 0);
	assert_string_equal(t, "add table ip virtkit\ndelete table ip virtkit\n");
	free(t);
}

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);
	assert_non_null(o);
	return o;
}

static void test_netdef(void **state)
{
	struct vk_error err = {0};
	json_object *in, *out;

	(void)state;
	in = parse("{\"name\":\"lan\",\"subnet\":\"10.9.0.0/16\",\"dns_domain\":\"Lan.Test\"}");
	assert_int_equal(netdef_normalize(in, &out, &err), 0);
	assert_string_equal(def_get_str(out, "mode"), "nat");
	assert_string_equal(def_get_str(out, "dns_domain"), "lan.test");
	assert_true(def_get_bool(out, "dns_forward", false)); /* NAT forwards by default */
	json_object_put(in);
	/* Normalizing a normalized network gives it back. */
	assert_int_equal(netdef_normalize(out, &in, &err), 0);
	assert_true(json_object_equal(in, out));
	json_object_put(in);
	json_object_put(out);

	in = parse("{\"name\":\"iso\",\"mode\":\"isolated\"}");
	assert_int_equal(netdef_normalize(in, &out, &err), 0);
	assert_false(def_get_bool(out, "dns_forward", true));
	assert_null(def_get_str(out, "subnet")); /* the daemon picks one */
	json_object_put(in);
	json_object_put(out);

	static const char *const bad[][2] = {
	        {"{\"name\":\"none\"}", "'name'"},
	        {"{\"name\":\"host\"}", "'name'"},
	        {"{\"name\":\"a b\"}", "'name'"},
	        {"{\"name\":\"x\",\"subnet\":\"10.0.0.1/24\"}", "host bits"},
	        {"{\"name\":\"x\",\"subnet\":\"10.0.0.0/30\"}", "/16 to /29"},
	        {"{\"name\":\"x\",\"mode\":\"bridge\"}", "'mode'"},
	        {"{\"name\":\"x\",\"dns_domain\":\"-a.test\"}", "'dns_domain'"},
	        {"{\"name\":\"x\",\"dns_domain\":\"a..test\"}", "'dns_domain'"},
	        {"{\"name\":\"x\",\"bridge\":\"br0\"}", "unknown field 'bridge'"},
	        {"{\"name\":\"x\",\"dns_forward\":1}", "'dns_forward'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = parse(bad[i][0]);
		vk_error_clear(&err);
		assert_int_equal(netdef_normalize(in, &out, &err), -22);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("%s: '%s' does not say %s", bad[i][0], err.msg, bad[i][1]);
		json_object_put(in);
	}
}

static void test_publish(void **state)
{
	static const char *const good[][2] = {
	        {"8080:80", "8080:80/tcp"},         {"8080:80/tcp", "8080:80/tcp"},
	        {"5353:53/udp", "5353:53/udp"},     {"127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp"},
	        {"0.0.0.0:8080:80", "8080:80/tcp"}, {"65535:1", "65535:1/tcp"},
	};
	static const char *const bad[] = {
	        "",         "80",        "0:80",          "80:0",     "65536:80", "8080:80/sctp",
	        "8080:80/", "a:8080:80", "1.2.3:8080:80", ":8080:80", "8080::80", "08080:80",
	        "1:2:3:4",  "8080:80 "};
	struct publish p, q;
	char buf[PUBLISH_STR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(publish_parse(good[i][0], &p), 0);
		assert_string_equal(publish_format(&p, buf, sizeof(buf)), good[i][1]);
		assert_int_equal(publish_parse(buf, &q), 0);
		assert_memory_equal(&p, &q, sizeof(p));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (publish_parse(bad[i], &p) == 0)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(publish_parse("8080:80", &p), 0);
	assert_int_equal(publish_parse("127.0.0.1:8080:81", &q), 0);
	assert_true(publish_same_host_port(&p, &q)); /* every address includes 127.0.0.1 */
	assert_int_equal(publish_parse("8080:80/udp", &q), 0);
	assert_false(publish_same_host_port(&p, &q));
	assert_int_equal(publish_parse("10.0.0.1:8080:80", &p), 0);
	assert_int_equal(publish_parse("10.0.0.2:8080:80", &q), 0);
	assert_false(publish_same_host_port(&p, &q));
}

static json_object *normalized(const char *text, struct vk_error *err)
{
	json_object *in = parse(text), *out = NULL;
	int r = def_normalize(in, &out, NULL, err);

	json_object_put(in);
	return r == 0 ? out : NULL;
}

static void test_instance_fields(void **state)
{
	struct vk_error err = {0};
	json_object *d, *nets;
	char mac[MAC_LEN + 1], mac2[MAC_LEN + 1];

	(void)state;
	d = normalized(
	        "{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/r\",\"process\":{\"args\":"
	        "[\"sh\"]},\"network\":\"lan\",\"publish\":[\"8080:80\",\"53:53/udp\"]}",
	        &err);
	assert_non_null(d);
	assert_string_equal(def_get_str(d, "network"), "lan");
	assert_string_equal(json_object_to_json_string(json_object_object_get(d, "publish")),
	                    "[ \"8080:80\\/tcp\", \"53:53\\/udp\" ]");
	json_object_put(d);
	d = normalized(
	        "{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/r\",\"process\":{\"args\":"
	        "[\"sh\"]},\"network\":\"bridge:br0\"}",
	        &err);
	assert_non_null(d);
	json_object_put(d);

	static const char *const bad[][2] = {
	        /* publish without a network of the daemon */
	        {"{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/"
	         "r\",\"process\":{\"args\":[\"sh\"]},"
	         "\"publish\":[\"80:80\"]}",
	         "'publish' needs"},
	        {"{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/"
	         "r\",\"process\":{\"args\":[\"sh\"]},"
	         "\"network\":\"bridge:br0\",\"publish\":[\"80:80\"]}",
	         "'publish' needs"},
	        {"{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/"
	         "r\",\"process\":{\"args\":[\"sh\"]},"
	         "\"network\":\"lan\",\"publish\":[\"80:80\",\"127.0.0.1:80:81\"]}",
	         "same host port twice"},
	        {"{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/"
	         "r\",\"process\":{\"args\":[\"sh\"]},"
	         "\"network\":\"bridge:a/b\"}",
	         "'network'"},
	        {"{\"name\":\"c\",\"type\":\"container\",\"rootfs\":\"/"
	         "r\",\"process\":{\"args\":[\"sh\"]},"
	         "\"network\":\"no way\"}",
	         "'network'"},
	        {"{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\","
	         "\"networks\":[{\"type\":\"network\"}]}",
	         "'networks[0].name' is required"},
	        {"{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\","
	         "\"networks\":[{\"type\":\"bridge\",\"name\":\"x\"}]}",
	         "'networks[0].bridge' is required"},
	        {"{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\","
	         "\"networks\":[{\"type\":\"network\",\"name\":\"x\",\"hostfwd\":[]}]}",
	         "'networks[0].hostfwd'"},
	        {"{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\","
	         "\"networks\":[{\"type\":\"user\",\"name\":\"x\"}]}",
	         "'networks[0].name' is only valid"},
	        {"{\"name\":\"v\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\","
	         "\"networks\":[{\"type\":\"bridge\",\"bridge\":\"br0\"}],\"publish\":[\"1:1\"]}",
	         "'publish' needs an interface"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vk_error_clear(&err);
		d = normalized(bad[i][0], &err);
		assert_null(d);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("%s: '%s' does not say %s", bad[i][0], err.msg, bad[i][1]);
	}

	/* A VM's network interfaces get a MAC from the manager, the same at every normalization. */
	d = normalized("{\"name\":\"v\",\"uuid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"type\":"
	               "\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\",\"networks\":[{\"type\":"
	               "\"network\",\"name\":\"lan\"},{\"type\":\"bridge\",\"bridge\":\"br0\"}],"
	               "\"publish\":[\"8080:80\"]}",
	               &err);
	assert_non_null(d);
	nets = json_object_object_get(d, "networks");
	def_assign_mac("0f8fad5b-d9cb-469f-a165-70867728950e", 0, mac);
	def_assign_mac("0f8fad5b-d9cb-469f-a165-70867728950e", 1, mac2);
	assert_string_equal(def_get_str(json_object_array_get_idx(nets, 0), "mac"), mac);
	assert_string_equal(def_get_str(json_object_array_get_idx(nets, 1), "mac"), mac2);
	assert_string_not_equal(mac, mac2);
	assert_true(strncmp(mac, "52:54:00:", 9) == 0);
	json_object_put(d);
	/* Other uuids, other MACs (a 24-bit hash: these two differ). */
	def_assign_mac("0f8fad5b-d9cb-469f-a165-70867728950f", 0, mac2);
	assert_string_not_equal(mac, mac2);
}

static void test_ct_net_kind(void **state)
{
	const char *name;

	(void)state;
	assert_int_equal(ct_net_kind(NULL, &name), CT_NET_NONE);
	assert_int_equal(ct_net_kind("none", &name), CT_NET_NONE);
	assert_int_equal(ct_net_kind("host", &name), CT_NET_HOST);
	assert_int_equal(ct_net_kind("bridge:br0", &name), CT_NET_BRIDGE);
	assert_string_equal(name, "br0");
	assert_int_equal(ct_net_kind("lan", &name), CT_NET_MANAGED);
	assert_string_equal(name, "lan");
	assert_true(ifname_valid("br0"));
	assert_false(ifname_valid("0123456789abcdef"));
	assert_false(ifname_valid("a/b"));
	assert_false(ifname_valid(".."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ip4_parse),
	        cmocka_unit_test(test_cidr),
	        cmocka_unit_test(test_plan),
	        cmocka_unit_test(test_dnsmasq_files),
	        cmocka_unit_test(test_leases),
	        cmocka_unit_test(test_firewall),
	        cmocka_unit_test(test_netdef),
	        cmocka_unit_test(test_publish),
	        cmocka_unit_test(test_instance_fields),
	        cmocka_unit_test(test_ct_net_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
