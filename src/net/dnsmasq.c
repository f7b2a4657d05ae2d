/* SPDX-License-Identifier: MIT */
/*
 * dnsmasq's files (see dnsmasq.h). The configuration, option by option:
 *   except-interface=lo, interface=BRIDGE, bind-dynamic
 *       serve the bridge only, and follow its address when the bridge is
 *       deleted and made again (libvirt's choice too);
 *   strict-order, no-resolv (unless forwarding)
 *       no upstream server at all for an isolated network or when told so;
 *   domain=, local=/DOMAIN/, expand-hosts
 *       names under the network's domain are answered here, never forwarded;
 *   dhcp-range=FIRST,LAST,MASK,1h
 *       the dynamic half of the subnet (addr.h), for clients nobody reserved;
 *   dhcp-hostsfile=, addn-hosts=
 *       reservations and names, re-read on SIGHUP without a restart;
 *   log-facility=
 *       its own log file beside its configuration (no syslog needed);
 *   dhcp-option=3 (isolated)
 *       no default route offered on a network that routes nowhere.
 */
#include "net/dnsmasq.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dnsmasq_config_text(const struct dnsmasq_config *c)
{
	char a[IP4_STR_MAX], b[IP4_STR_MAX], m[IP4_STR_MAX], *text = NULL;
	const struct ip4_plan *p = c->plan;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
	        "# dnsmasq of virtkit network '%s' (written by virtkitd at each start)\n"
	        "strict-order\n"
	        "pid-file=%s\n"
	        "except-interface=lo\n"
	        "interface=%s\n"
	        "bind-dynamic\n"
	        "log-facility=%s\n",
	        c->network, c->pid_file, c->bridge, c->log_file);
	if (!c->forward)
		fprintf(f, "no-resolv\n");
	if (c->domain)
		fprintf(f, "domain=%s\nlocal=/%s/\nexpand-hosts\n", c->domain, c->domain);
	fprintf(f, "dhcp-range=%s,%s,%s,1h\n", ip4_format(p->dynamic_first, a, sizeof(a)),
	        ip4_format(p->dynamic_last, b, sizeof(b)),
	        ip4_netmask_format(p->net.prefix, m, sizeof(m)));
	if (!c->router)
		fprintf(f, "dhcp-option=3\n");
	fprintf(f,
	        "dhcp-no-override\n"
	        "dhcp-authoritative\n"
	        "dhcp-lease-max=%" PRIu32 "\n"
	        "dhcp-leasefile=%s\n"
	        "dhcp-hostsfile=%s\n"
	        "addn-hosts=%s\n",
	        p->broadcast - p->net.addr, c->lease_file, c->hosts_file, c->addn_hosts_file);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

bool dnsmasq_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > DNSMASQ_NAME_MAX || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return false;
	return true;
}

char *dnsmasq_hosts_text(const struct dnsmasq_host *h, size_t n)
{
	char a[IP4_STR_MAX], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s,%s", h[i].mac, ip4_format(h[i].ip, a, sizeof(a)));
		if (dnsmasq_name_ok(h[i].name))
			fprintf(f, ",%s", h[i].name);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *dnsmasq_addn_hosts_text(const struct dnsmasq_host *h, size_t n, const char *domain)
{
	char a[IP4_STR_MAX], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!dnsmasq_name_ok(h[i].name))
			continue;
		fprintf(f, "%s %s", ip4_format(h[i].ip, a, sizeof(a)), h[i].name);
		if (domain)
			fprintf(f, " %s.%s", h[i].name, domain);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static bool mac_ok(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_line(char *line, struct dnsmasq_lease *l)
{
	char *f[5], *save = NULL, *end;
	int n = 0;

	for (char *t = strtok_r(line, " \t", &save); t && n < 5; t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n < 4 || !mac_ok(f[1]) || ip4_parse(f[2], &l->ip) < 0)
		return -EINVAL; /* the duid line, IPv6 leases, garbage */
	errno = 0;
	l->expiry = strtoll(f[0], &end, 10);
	if (*end || errno || l->expiry < 0)
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		l->mac[i] = (char)tolower((unsigned char)f[1][i]);
	l->mac[17] = '\0';
	if (strcmp(f[3], "*") == 0 || strlen(f[3]) > DNSMASQ_NAME_MAX)
		l->hostname[0] = '\0';
	else
		snprintf(l->hostname, sizeof(l->hostname), "%s", f[3]);
	return 0;
}

int dnsmasq_leases_parse(const char *text, struct dnsmasq_lease **out, size_t *n)
{
	char *copy = strdup(text), *save = NULL;
	struct dnsmasq_lease *v = NULL;
	size_t cap = 0, k = 0;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct dnsmasq_lease l = {0};

		if (parse_line(line, &l) < 0)
			continue;
		if (k == cap) {
			struct dnsmasq_lease *nv;
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				free(copy);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k++] = l;
	}
	free(copy);
	*out = v;
	*n = k;
	return 0;
}
