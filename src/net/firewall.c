/* SPDX-License-Identifier: MIT */
/*
 * The virtkit nftables table (see firewall.h). Its chains:
 *   guard (prerouting, raw): a packet from a bridge to 127.0.0.0/8 is dropped.
 *       virtkitd sets route_localnet on its bridges so that ports published on
 *       127.0.0.1 reach guests; without this rule a guest could reach the
 *       host's loopback-only services through it (CVE-2020-8558).
 *   prerouting, output (nat): one DNAT per published port; "fib daddr type
 *       local" stands for every address of the host when none is given, and
 *       output carries the connections the host itself opens (curl 127.0.0.1).
 *   postrouting (nat): masquerade what comes from the loopback and what a
 *       guest sends to a port another guest published (hairpin), so that the
 *       answers come back the same way; and, for NAT networks, what leaves the
 *       subnet.
 *   forward (filter): published ports and answers enter a network; guests of
 *       one network talk to each other; nothing else enters; what leaves a NAT
 *       network from its subnet is let through, an isolated network's is not.
 */
#include "net/firewall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

static void dnat_rules(FILE *f, const struct fw_port *p, size_t n)
{
	char h[IP4_STR_MAX], g[IP4_STR_MAX];

	for (size_t i = 0; i < n; i++) {
		if (p[i].host_ip)
			fprintf(f, "\t\tip daddr %s", ip4_format(p[i].host_ip, h, sizeof(h)));
		else
			fprintf(f, "\t\tfib daddr type local");
		fprintf(f, " %s dport %u dnat to %s:%u\n", p[i].udp ? "udp" : "tcp", p[i].host_port,
		        ip4_format(p[i].guest_ip, g, sizeof(g)), p[i].guest_port);
	}
}

char *fw_ruleset_text(const struct fw_network *nets, size_t nnets, const struct fw_port *ports,
                      size_t nports)
{
	char *text = NULL, sub[CIDR_STR_MAX];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	/* "add" makes sure there is a table to delete: the batch works from any state. */
	fprintf(f, "add table ip " FW_TABLE "\ndelete table ip " FW_TABLE "\n");
	if (nnets == 0)
		goto out;
	fprintf(f, "table ip " FW_TABLE " {\n");
	fprintf(f, "\tchain guard {\n\t\ttype filter hook prerouting priority raw; policy "
	           "accept;\n");
	for (i = 0; i < nnets; i++)
		fprintf(f, "\t\tiifname \"%s\" ip daddr 127.0.0.0/8 drop\n", nets[i].bridge);
	fprintf(f, "\t}\n");

	fprintf(f, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy "
	           "accept;\n");
	dnat_rules(f, ports, nports);
	fprintf(f, "\t}\n");
	fprintf(f, "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n");
	dnat_rules(f, ports, nports);
	fprintf(f, "\t}\n");

	fprintf(f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
	           "accept;\n");
	for (i = 0; i < nnets; i++) {
		ip4_cidr_format(&nets[i].subnet, sub, sizeof(sub));
		fprintf(f, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", nets[i].bridge);
		fprintf(f, "\t\toifname \"%s\" ip saddr %s ct status dnat masquerade\n",
		        nets[i].bridge, sub);
		if (nets[i].nat)
			fprintf(f, "\t\tip saddr %s ip daddr != %s masquerade\n", sub, sub);
	}
	fprintf(f, "\t}\n");

	fprintf(f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
	           "accept;\n");
	for (i = 0; i < nnets; i++) {
		const char *b = nets[i].bridge;
		fprintf(f,
		        "\t\toifname \"%s\" ct status dnat accept\n"
		        "\t\toifname \"%s\" ct state established,related accept\n"
		        "\t\tiifname \"%s\" oifname \"%s\" accept\n",
		        b, b, b, b);
	}
	for (i = 0; i < nnets; i++)
		fprintf(f, "\t\toifname \"%s\" drop\n", nets[i].bridge);
	for (i = 0; i < nnets; i++) {
		ip4_cidr_format(&nets[i].subnet, sub, sizeof(sub));
		if (nets[i].nat)
			fprintf(f, "\t\tiifname \"%s\" ip saddr %s accept\n", nets[i].bridge, sub);
		fprintf(f, "\t\tiifname \"%s\" drop\n", nets[i].bridge);
	}
	fprintf(f, "\t}\n}\n");
out:
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int fw_apply(const char *script, struct vk_error *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	char line[300];
	int r;

	if (!ctx)
		return vk_error_set(err, ENOMEM, "cannot use libnftables: out of memory");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	r = nft_run_cmd_from_buffer(ctx, script);
	if (r != 0) {
		msg = nft_ctx_get_error_buffer(ctx);
		/* nft's first line says what failed; the rest points into the script. */
		snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "failed");
		line[strcspn(line, "\n")] = '\0';
		r = vk_error_set(err, strstr(line, "Operation not permitted") ? EPERM : EIO,
		                 "cannot write the nftables table '" FW_TABLE "': %s%s", line,
		                 strstr(line, "Operation not permitted") ? " (needs CAP_NET_ADMIN)"
		                                                         : "");
	}
	nft_ctx_free(ctx);
	return r;
}
