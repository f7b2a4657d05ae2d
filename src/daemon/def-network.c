/* SPDX-License-Identifier: MIT */
/* Network definitions, published ports, network names, assigned MACs (def-network.h). */
#include "daemon/def-network.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/def-check.h"
#include "daemon/def.h"
#include "net/addr.h"

bool netdef_name_valid(const char *name)
{
	return def_name_valid(name) && strcmp(name, "none") != 0 && strcmp(name, "host") != 0;
}

bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/* Labels of letters, digits and '-' (not at either end), joined by dots. */
static bool domain_valid(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n > NETDEF_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = d[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

int netdef_normalize(json_object *in, json_object **out, struct vk_error *err)
{
	static const char *const keys[] = {"name",        "subnet",      "mode", "dns_domain",
	                                   "dns_forward", "description", NULL};
	static const char *const modes[] = {"nat", "isolated", NULL};
	struct dc_ctx c = {.err = err};
	const char *name, *subnet, *mode, *domain, *desc;
	char lower[NETDEF_DOMAIN_MAX + 1], sub[CIDR_STR_MAX];
	struct ip4_cidr cidr;
	json_object *n, *fwd;
	bool forward;
	int r;

	if (!json_object_is_type(in, json_type_object))
		return vk_error_set(err, EINVAL, "invalid network: expected a JSON object");
	if ((r = dc_check_keys(&c, in, keys)) < 0 ||
	    (r = dc_get_str(&c, in, "name", true, 256, &name)) < 0 ||
	    (r = dc_get_str(&c, in, "subnet", false, 64, &subnet)) < 0 ||
	    (r = dc_get_str(&c, in, "mode", false, 16, &mode)) < 0 ||
	    (r = dc_get_str(&c, in, "dns_domain", false, 1024, &domain)) < 0 ||
	    (r = dc_get_str(&c, in, "description", false, 1024, &desc)) < 0 ||
	    (r = dc_get_bool(&c, in, "dns_forward", false, &forward)) < 0)
		return r;
	if (!netdef_name_valid(name))
		return vk_error_set(err, EINVAL,
		                    "invalid network: 'name' must be 1 to %d letters, digits, '-', "
		                    "'_' or '.', starting with a letter or digit, and not "
		                    "\"none\" or \"host\"",
		                    DEF_NAME_MAX);
	if (!mode)
		mode = "nat";
	if ((r = dc_check_enum(&c, "mode", mode, modes, "must be \"nat\" or \"isolated\"")) < 0)
		return r;
	if (subnet) {
		struct ip4_plan plan;
		if (ip4_cidr_parse(subnet, &cidr, err) < 0)
			return vk_error_prefix(err, "invalid network: 'subnet'");
		if (ip4_plan(&cidr, &plan) < 0)
			return vk_error_set(err, EINVAL,
			                    "invalid network: 'subnet' must have a prefix length "
			                    "from /%d to /%d",
			                    NET_PREFIX_LO, NET_PREFIX_HI);
	}
	if (domain) {
		size_t i;
		for (i = 0; domain[i] && i < NETDEF_DOMAIN_MAX; i++)
			lower[i] = (char)tolower((unsigned char)domain[i]);
		lower[i] = '\0';
		if (!domain_valid(domain))
			return vk_error_set(err, EINVAL,
			                    "invalid network: 'dns_domain' must be a domain name "
			                    "such as \"vk.test\"");
	}
	if (!json_object_object_get_ex(in, "dns_forward", &fwd) ||
	    json_object_is_type(fwd, json_type_null))
		forward = strcmp(mode, "nat") == 0;

	n = json_object_new_object();
	dc_put_str(n, "name", name);
	dc_put_str(n, "description", desc);
	if (subnet)
		dc_put_str(n, "subnet", ip4_cidr_format(&cidr, sub, sizeof(sub)));
	dc_put_str(n, "mode", mode);
	dc_put_str(n, "dns_domain", domain ? lower : NULL);
	dc_put_bool(n, "dns_forward", forward);
	*out = n;
	return 0;
}

/* --- published ports ---------------------------------------------------------- */

static int port_parse(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int publish_parse(const char *s, struct publish *out)
{
	const char *colons[3], *slash = strchr(s, '/'), *end;
	size_t n = 0;
	char ip[IP4_STR_MAX];

	memset(out, 0, sizeof(*out));
	end = slash ? slash : s + strlen(s);
	if (slash) {
		if (strcmp(slash, "/udp") == 0)
			out->udp = true;
		else if (strcmp(slash, "/tcp") != 0)
			return -EINVAL;
	}
	for (const char *p = s; p < end; p++) {
		if (*p != ':')
			continue;
		if (n == 2)
			return -EINVAL;
		colons[n++] = p;
	}
	if (n == 0)
		return -EINVAL;
	if (n == 2) {
		size_t l = (size_t)(colons[0] - s);
		if (l == 0 || l >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s, l);
		ip[l] = '\0';
		if (ip4_parse(ip, &out->host_ip) < 0)
			return -EINVAL; /* 0.0.0.0: every address, as without one */
		s = colons[0] + 1;
		colons[0] = colons[1];
	}
	if (port_parse(s, (size_t)(colons[0] - s), &out->host_port) < 0 ||
	    port_parse(colons[0] + 1, (size_t)(end - colons[0] - 1), &out->guest_port) < 0)
		return -EINVAL;
	return 0;
}

const char *publish_format(const struct publish *p, char *buf, size_t len)
{
	char ip[IP4_STR_MAX];

	if (p->host_ip)
		snprintf(buf, len, "%s:%u:%u/%s", ip4_format(p->host_ip, ip, sizeof(ip)),
		         p->host_port, p->guest_port, p->udp ? "udp" : "tcp");
	else
		snprintf(buf, len, "%u:%u/%s", p->host_port, p->guest_port, p->udp ? "udp" : "tcp");
	return buf;
}

bool publish_same_host_port(const struct publish *a, const struct publish *b)
{
	/* An "every address" port takes the port on each address, so it clashes with any. */
	return a->udp == b->udp && a->host_port == b->host_port &&
	       (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
}

int dc_norm_publish(struct dc_ctx *c, json_object *in, json_object *out)
{
	struct publish seen[PUBLISH_MAX];
	json_object *arr, *n;
	size_t i, j;
	int r;

	if ((r = dc_get_array(c, in, "publish", PUBLISH_MAX, &arr)) < 0)
		return r;
	if (!arr)
		return 0;
	n = json_object_new_array();
	json_object_object_add(out, "publish", n);
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		char buf[PUBLISH_STR_MAX];

		if (!json_object_is_type(s, json_type_string) ||
		    json_object_get_string_len(s) > 64 ||
		    publish_parse(json_object_get_string(s), &seen[i]) < 0)
			return dc_bad(c, "publish",
			              "entries must look like \"8080:80\", \"127.0.0.1:8080:80\" "
			              "or \"5353:53/udp\" (ports 1 to 65535)");
		for (j = 0; j < i; j++)
			if (publish_same_host_port(&seen[i], &seen[j]))
				return dc_bad(c, "publish", "names the same host port twice");
		json_object_array_add(
		        n, json_object_new_string(publish_format(&seen[i], buf, sizeof(buf))));
	}
	return 0;
}

/* --- what a container's "network" names ------------------------------------------- */

enum ct_net_kind ct_net_kind(const char *value, const char **name)
{
	*name = value;
	if (!value || strcmp(value, "none") == 0)
		return CT_NET_NONE;
	if (strcmp(value, "host") == 0)
		return CT_NET_HOST;
	if (vk_startswith(value, "bridge:")) {
		*name = value + 7;
		return CT_NET_BRIDGE;
	}
	return CT_NET_MANAGED;
}

/* --- assigned MAC addresses ------------------------------------------------------- */

void def_assign_mac(const char *uuid, unsigned nic, char out[MAC_LEN + 1])
{
	uint32_t h = 2166136261u; /* FNV-1a, 32 bits */

	for (const char *p = uuid; *p; p++)
		h = (h ^ (uint8_t)tolower((unsigned char)*p)) * 16777619u;
	h = (h ^ (uint8_t)nic) * 16777619u;
	snprintf(out, MAC_LEN + 1, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff,
	         h & 0xff);
}
