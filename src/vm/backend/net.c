/* SPDX-License-Identifier: MIT */
/*
 * Net backend specs: "user,...", "tap,...", "echo" parsed into a backend, and
 * hostfwd rules; the frame copy every backend makes of what the guest sends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "vm/backend/net.h"

ssize_t net_frame_gather(const struct iovec *iov, unsigned n, void *buf, size_t size)
{
	size_t len = vk_iov_size(iov, n);

	if (len > size)
		return -EMSGSIZE;
	return (ssize_t)vk_iov_to_buf(iov, n, 0, buf, len);
}

static int parse_port(const char *s, const char *rule, uint16_t *port, struct vk_error *err)
{
	uint64_t v;

	if (vk_parse_uint(s, 1, 65535, &v) < 0)
		return vk_error_set(err, EINVAL,
		                    "hostfwd '%s': '%s' is not a port number (1-65535)", rule, s);
	*port = (uint16_t)v;
	return 0;
}

int net_parse_hostfwd(const char *s, struct net_hostfwd *fwd, struct vk_error *err)
{
	_cleanup_free_ char *copy = strdup(s);
	char *p, *host, *hport, *guest, *gport;

	if (!copy)
		return vk_error_errno(err, ENOMEM, "cannot parse hostfwd '%s'", s);
	memset(fwd, 0, sizeof(*fwd));
	p = copy;
	if (vk_startswith(p, "tcp:")) {
		p += 4;
	} else if (vk_startswith(p, "udp:")) {
		fwd->udp = true;
		p += 4;
	}
	/* HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT, either address may be empty. */
	host = p;
	hport = strchr(host, ':');
	if (!hport)
		goto syntax;
	*hport++ = '\0';
	guest = strchr(hport, '-');
	if (!guest)
		goto syntax;
	*guest++ = '\0';
	gport = strchr(guest, ':');
	if (!gport)
		goto syntax;
	*gport++ = '\0';

	/* An empty host address means loopback, never "all interfaces". */
	if (*host == '\0')
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &fwd->host_addr) != 1)
		return vk_error_set(err, EINVAL, "hostfwd '%s': '%s' is not an IPv4 address", s,
		                    host);
	if ((ntohl(fwd->host_addr.s_addr) >> 24) != 127)
		return vk_error_set(err, EPERM,
		                    "hostfwd '%s': host address %s is not a loopback address; "
		                    "forwards may only listen on 127.0.0.0/8",
		                    s, host);
	if (*guest && inet_pton(AF_INET, guest, &fwd->guest_addr) != 1)
		return vk_error_set(err, EINVAL, "hostfwd '%s': '%s' is not an IPv4 address", s,
		                    guest);
	if (parse_port(hport, s, &fwd->host_port, err) < 0 ||
	    parse_port(gport, s, &fwd->guest_port, err) < 0)
		return -EINVAL;
	return 0;
syntax:
	return vk_error_set(err, EINVAL,
	                    "hostfwd '%s' is not of the form tcp:127.0.0.1:HOSTPORT-:GUESTPORT", s);
}

static bool skipped(const char *key, const char *const *skip_keys)
{
	for (; skip_keys && *skip_keys; skip_keys++)
		if (strcmp(key, *skip_keys) == 0)
			return true;
	return false;
}

static int parse_bool(const char *kind, const char *key, const char *val, bool *out,
                      struct vk_error *err)
{
	if (!val || !strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true")) {
		*out = true;
	} else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false")) {
		*out = false;
	} else {
		return vk_error_set(err, EINVAL, "net %s: %s=%s: expected on or off", kind, key,
		                    val);
	}
	return 0;
}

struct net_backend *net_backend_open(struct vm_loop *loop, const char *spec,
                                     const char *const *skip_keys, struct vk_error *err)
{
	_cleanup_free_ char *copy = strdup(spec ? spec : "");
	struct net_slirp_opts slirp = {0};
	char ifname[64] = "";
	bool vnet_hdr = true;
	char *save = NULL, *kind, *opt;

	if (!copy) {
		vk_error_errno(err, ENOMEM, "cannot parse net spec '%s'", spec);
		return NULL;
	}
	kind = strtok_r(copy, ",", &save);
	if (!kind || (strcmp(kind, "user") && strcmp(kind, "tap") && strcmp(kind, "echo"))) {
		vk_error_set(err, EINVAL, "net '%s': the backend must be user, tap or echo",
		             spec ? spec : "");
		return NULL;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		char *val = strchr(opt, '=');

		if (val)
			*val++ = '\0';
		if (skipped(opt, skip_keys))
			continue;
		if (!strcmp(kind, "user") && !strcmp(opt, "hostfwd") && val) {
			if (slirp.nr_hostfwd == NET_SLIRP_MAX_HOSTFWD) {
				vk_error_set(err, E2BIG, "net user: more than %d hostfwd rules",
				             NET_SLIRP_MAX_HOSTFWD);
				return NULL;
			}
			if (net_parse_hostfwd(val, &slirp.hostfwd[slirp.nr_hostfwd], err) < 0)
				return NULL;
			slirp.nr_hostfwd++;
		} else if (!strcmp(kind, "user") && !strcmp(opt, "dns")) {
			if (parse_bool(kind, opt, val, &slirp.dns, err) < 0)
				return NULL;
		} else if (!strcmp(kind, "tap") && !strcmp(opt, "ifname") && val) {
			if (strlen(val) >= sizeof(ifname)) {
				vk_error_set(err, EINVAL,
				             "net tap: interface name '%s' is too long", val);
				return NULL;
			}
			strcpy(ifname, val);
		} else if (!strcmp(kind, "tap") && !strcmp(opt, "vnet_hdr")) {
			if (parse_bool(kind, opt, val, &vnet_hdr, err) < 0)
				return NULL;
		} else {
			vk_error_set(err, EINVAL, "net %s: unknown option '%s'", kind, opt);
			return NULL;
		}
	}
	if (!strcmp(kind, "user"))
		return net_slirp_open(loop, &slirp, err);
	if (!strcmp(kind, "tap"))
		return net_tap_open(loop, ifname, vnet_hdr, err);
	return net_echo_open(err);
}
