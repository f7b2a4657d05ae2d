/* SPDX-License-Identifier: MIT */
/* VM definitions: arch, accelerator, memory, CPUs, boot images, disks, networks (docs/api.md). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/def-check.h"
#include "daemon/def.h"
#include "daemon/def-network.h"

/*
 * A disk is an image file ("path", with its "format" when given: virtkit-vm then never
 * guesses) or a volume of the storage pool ("volume"; its format is the volume's, and a
 * "format" given must match it, which the daemon checks at define time).
 */
static int norm_disks(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"path", "volume", "format", "readonly", NULL};
	static const char *const formats[] = {"raw", "qcow2", NULL};
	json_object *arr, *n;
	size_t i;
	int r;

	if ((r = dc_get_array(c, in, "disks", DISKS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "disks", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i), *nd;
		const char *path, *volume, *format;
		bool ro;

		dc_ctx_enter(c, "", "disks", (int)i);
		if (!json_object_is_type(d, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = dc_check_keys(c, d, keys)) < 0 ||
		    (r = dc_get_path(c, d, "path", false, &path)) < 0 ||
		    (r = dc_get_str(c, d, "volume", false, 256, &volume)) < 0 ||
		    (r = dc_get_str(c, d, "format", false, 16, &format)) < 0 ||
		    (r = dc_get_bool(c, d, "readonly", false, &ro)) < 0)
			return r;
		if (!path == !volume)
			return vk_error_set(
			        c->err, EINVAL,
			        "invalid definition: '%s' needs either 'path' (an image "
			        "file) or 'volume' (a volume of the pool), not %s",
			        c->where, path ? "both" : "neither");
		if (path && strchr(path, ','))
			return dc_bad(c, "path", "must not contain a comma");
		if (volume && !def_name_valid(volume))
			return dc_bad(c, "volume",
			              "must be a volume name (1 to 63 letters, digits, '-', '_' or "
			              "'.', starting with a letter or digit)");
		if (format && (r = dc_check_enum(c, "format", format, formats,
		                                 "must be \"raw\" or \"qcow2\"")) < 0)
			return r;
		nd = json_object_new_object();
		dc_put_str(nd, path ? "path" : "volume", path ? path : volume);
		dc_put_str(nd, "format", format);
		dc_put_bool(nd, "readonly", ro);
		json_object_array_add(n, nd);
	}
	c->where[0] = '\0';
	return 0;
}

/*
 * The riscv64 board's virtio slots must hold every virtio device of the definition: the
 * disks, the network cards, the rng and, with "agent", the multiport console of the guest
 * agent (the console the daemon reaches is the UART, which takes no slot).
 */
static int check_slots(struct dc_ctx *c, const char *arch, json_object *out, bool rng, bool agent)
{
	size_t disks = json_object_array_length(json_object_object_get(out, "disks"));
	size_t nets = json_object_array_length(json_object_object_get(out, "networks"));
	size_t need = disks + nets + rng + agent, n = 0, len = 0;
	char parts[4][32], list[160];

	if (strcmp(arch, "riscv64") != 0 || need <= RISCV64_VIRTIO_SLOTS)
		return 0;
	/* "6 disks, 2 networks, the rng and the guest agent's console" */
	snprintf(parts[n++], sizeof(parts[0]), "%zu disk%s", disks, disks == 1 ? "" : "s");
	snprintf(parts[n++], sizeof(parts[0]), "%zu network%s", nets, nets == 1 ? "" : "s");
	if (rng)
		snprintf(parts[n++], sizeof(parts[0]), "the rng");
	if (agent)
		snprintf(parts[n++], sizeof(parts[0]), "the guest agent's console");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		                        i == 0       ? ""
		                        : i + 1 == n ? " and "
		                                     : ", ",
		                        parts[i]);
	return vk_error_set(c->err, EINVAL,
	                    "invalid definition: the riscv64 board has %d virtio slots, and %s "
	                    "need %zu",
	                    RISCV64_VIRTIO_SLOTS, list, need);
}

static bool hostfwd_valid(const char *s)
{
	/* proto:[addr]:hostport-[addr]:guestport, no commas (virtkit-vm splits on them). */
	if (!vk_startswith(s, "tcp:") && !vk_startswith(s, "udp:"))
		return false;
	if (strchr(s, ',') || !strchr(s, '-'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":.-[]", *s))
			return false;
	return true;
}

/* Six hexadecimal pairs with colons, the first even (unicast); written in lower case to out. */
static bool mac_valid(const char *s, char out[18])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[17] = '\0';
	return (strtoul(out, NULL, 16) & 1) == 0;
}

/* A network the daemon manages ("network") or a bridge the user manages ("bridge"). */
static int norm_attached(struct dc_ctx *c, json_object *d, const char *type, const char *mac,
                         const char *uuid, size_t idx, json_object *nd)
{
	const char *name, *bridge;
	char assigned[MAC_LEN + 1];
	int r;

	if ((r = dc_get_str(c, d, "name", false, 80, &name)) < 0 ||
	    (r = dc_get_str(c, d, "bridge", false, 80, &bridge)) < 0)
		return r;
	if (strcmp(type, "network") == 0) {
		if (!name || !netdef_name_valid(name))
			return dc_bad(c, "name",
			              "is required for a network interface (a network's name)");
		if (bridge)
			return dc_bad(c, "bridge", "is only valid for a bridge interface");
		dc_put_str(nd, "name", name);
	} else {
		if (!bridge || !ifname_valid(bridge))
			return dc_bad(
			        c, "bridge",
			        "is required for a bridge interface (an existing bridge's name)");
		if (name)
			return dc_bad(c, "name", "is only valid for a network interface");
		dc_put_str(nd, "bridge", bridge);
	}
	if (json_object_object_get_ex(d, "hostfwd", NULL))
		return dc_bad(c, "hostfwd", "is only valid for a user network (use \"publish\")");
	if (json_object_object_get_ex(d, "ifname", NULL))
		return dc_bad(c, "ifname", "is only valid for a tap network");
	/* The manager assigns the MAC, the same at every start (def-network.h). */
	if (!mac) {
		def_assign_mac(uuid, (unsigned)idx, assigned);
		dc_put_str(nd, "mac", assigned);
	}
	return 0;
}

static int norm_networks(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {"type", "hostfwd", "ifname", "mac",
	                                   "name", "bridge",  NULL};
	static const char *const types[] = {"user", "tap", "network", "bridge", NULL};
	json_object *arr, *n;
	size_t i, j;
	int r;

	if ((r = dc_get_array(c, in, "networks", NETS_MAX, &arr)) < 0)
		return r;
	n = json_object_new_array();
	json_object_object_add(out, "networks", n);
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i), *nd, *fwd, *nf;
		const char *type, *ifname, *mac;
		char mac_lc[18];

		dc_ctx_enter(c, "", "networks", (int)i);
		if (!json_object_is_type(d, json_type_object))
			return vk_error_set(c->err, EINVAL,
			                    "invalid definition: '%s' must be an object", c->where);
		if ((r = dc_check_keys(c, d, keys)) < 0 ||
		    (r = dc_get_str(c, d, "type", false, 16, &type)) < 0 ||
		    (r = dc_get_str(c, d, "ifname", false, 15, &ifname)) < 0 ||
		    (r = dc_get_str(c, d, "mac", false, 17, &mac)) < 0 ||
		    (r = dc_get_array(c, d, "hostfwd", 16, &fwd)) < 0)
			return r;
		if (!type)
			type = "user";
		if ((r = dc_check_enum(c, "type", type, types,
		                       "must be \"user\", \"tap\", \"network\" or \"bridge\"")) < 0)
			return r;
		if (mac && !mac_valid(mac, mac_lc))
			return dc_bad(c, "mac",
			              "must be a unicast address such as \"52:54:00:12:34:56\"");
		nd = json_object_new_object();
		json_object_array_add(n, nd);
		dc_put_str(nd, "type", type);
		dc_put_str(nd, "mac", mac ? mac_lc : NULL);
		if (strcmp(type, "network") == 0 || strcmp(type, "bridge") == 0) {
			if ((r = norm_attached(c, d, type, mac, def_uuid(out), i, nd)) < 0)
				return r;
			continue;
		}
		if (json_object_object_get_ex(d, "name", NULL) ||
		    json_object_object_get_ex(d, "bridge", NULL))
			return dc_bad(
			        c, json_object_object_get_ex(d, "name", NULL) ? "name" : "bridge",
			        "is only valid for a network or bridge interface");
		if (strcmp(type, "tap") == 0) {
			if (!ifname || !def_name_valid(ifname))
				return dc_bad(c, "ifname",
				              "is required for a tap network (a device name)");
			if (fwd)
				return dc_bad(c, "hostfwd", "is only valid for a user network");
			dc_put_str(nd, "ifname", ifname);
			continue;
		}
		if (ifname)
			return dc_bad(c, "ifname", "is only valid for a tap network");
		nf = json_object_new_array();
		json_object_object_add(nd, "hostfwd", nf);
		for (j = 0; fwd && j < json_object_array_length(fwd); j++) {
			json_object *f = json_object_array_get_idx(fwd, j);
			if (!json_object_is_type(f, json_type_string) ||
			    json_object_get_string_len(f) > 64 ||
			    !hostfwd_valid(json_object_get_string(f)))
				return dc_bad(c, "hostfwd",
				              "entries must look like \"tcp:127.0.0.1:2222-:22\"");
			json_object_array_add(nf,
			                      json_object_new_string(json_object_get_string(f)));
		}
	}
	c->where[0] = '\0';
	return 0;
}

/* Published ports go to the first interface on a network of the daemon. */
static int norm_vm_publish(struct dc_ctx *c, json_object *in, json_object *out)
{
	json_object *nets = json_object_object_get(out, "networks"), *v;
	bool managed = false;

	if (!json_object_object_get_ex(in, "publish", &v) || json_object_is_type(v, json_type_null))
		return 0;
	for (size_t i = 0; nets && i < json_object_array_length(nets); i++)
		managed |= strcmp(def_get_str(json_object_array_get_idx(nets, i), "type"),
		                  "network") == 0;
	if (!managed)
		return dc_bad(c, "publish",
		              "needs an interface on a network of the daemon "
		              "({\"type\": \"network\", \"name\": NAME})");
	return dc_norm_publish(c, in, out);
}

int def_norm_vm(struct dc_ctx *c, json_object *in, json_object *out)
{
	static const char *const keys[] = {
	        "name",     "uuid",   "type",     "description", "autostart", "arch",
	        "accel",    "memory", "cpus",     "kernel",      "initrd",    "cmdline",
	        "firmware", "disks",  "networks", "rng",         "console",   "on_reset",
	        "metadata", "agent",  "publish",  "boot",        NULL};
	static const char *const arches[] = {"riscv64", "x86_64", NULL};
	static const char *const accels[] = {"emu", "kvm", NULL};
	static const char *const resets[] = {"exit", "reboot", NULL};
	static const char *const boots[] = {"kernel", "disk", NULL};
	const char *arch, *accel, *kernel, *initrd, *cmdline, *fw, *on_reset, *metadata, *boot;
	uint64_t memory, cpus;
	bool rng, agent;
	int r;

	if ((r = dc_check_keys(c, in, keys)) < 0 ||
	    (r = dc_get_str(c, in, "arch", false, 16, &arch)) < 0 ||
	    (r = dc_get_str(c, in, "accel", false, 16, &accel)) < 0 ||
	    (r = dc_get_size(c, in, "memory", 16ull << 20, 64ull << 30, 256ull << 20, &memory)) <
	            0 ||
	    (r = dc_get_uint(c, in, "cpus", 1, 64, 1, &cpus)) < 0 ||
	    (r = dc_get_str(c, in, "boot", false, 8, &boot)) < 0 ||
	    (boot &&
	     (r = dc_check_enum(c, "boot", boot, boots, "must be \"kernel\" or \"disk\"")) < 0) ||
	    (r = dc_get_path(c, in, "kernel", !boot || strcmp(boot, "disk") != 0, &kernel)) < 0 ||
	    (r = dc_get_path(c, in, "initrd", false, &initrd)) < 0 ||
	    (r = dc_get_str(c, in, "cmdline", false, CMDLINE_LEN_MAX, &cmdline)) < 0 ||
	    (r = dc_get_str(c, in, "firmware", false, PATH_LEN_MAX, &fw)) < 0 ||
	    (r = dc_get_bool(c, in, "rng", false, &rng)) < 0 ||
	    (r = dc_get_bool(c, in, "agent", false, &agent)) < 0 ||
	    (r = dc_get_str(c, in, "on_reset", false, 16, &on_reset)) < 0 ||
	    (r = dc_get_str(c, in, "metadata", false, METADATA_LEN_MAX, &metadata)) < 0)
		return r;
	if (!arch)
		arch = "x86_64";
	if ((r = dc_check_enum(c, "arch", arch, arches, "must be \"riscv64\" or \"x86_64\"")) < 0)
		return r;
	if (!accel)
		accel = strcmp(arch, "riscv64") == 0 ? "emu" : "kvm";
	if ((r = dc_check_enum(c, "accel", accel, accels, "must be \"emu\" or \"kvm\"")) < 0)
		return r;
	if (strcmp(arch, "riscv64") == 0 && strcmp(accel, "kvm") == 0)
		return dc_bad(c, "accel",
		              "\"kvm\" cannot run riscv64 guests on this host (use \"emu\")");
	if (strcmp(arch, "x86_64") == 0 && strcmp(accel, "emu") == 0)
		return dc_bad(c, "accel",
		              "\"emu\" is not available for x86_64 guests (use \"kvm\")");
	if (agent && strcmp(arch, "riscv64") != 0)
		return dc_bad(c, "agent",
		              "is for riscv64 guests (x86_64 guests power off through ACPI)");
	if (fw && strcmp(fw, "none") != 0 && fw[0] != '/')
		return dc_bad(c, "firmware", "must be an absolute path or \"none\"");
	/* A disk boot: firmware and a boot loader find the kernel on the first disk (riscv64). */
	if (boot && strcmp(boot, "disk") == 0) {
		json_object *disks = json_object_object_get(in, "disks");
		if (strcmp(arch, "riscv64") != 0)
			return dc_bad(c, "boot",
			              "\"disk\" needs arch \"riscv64\" (the PC board "
			              "has no BIOS)");
		if (!json_object_is_type(disks, json_type_array) ||
		    json_object_array_length(disks) == 0)
			return dc_bad(c, "boot", "\"disk\" needs a disk to boot from");
		if (initrd)
			return dc_bad(c, "initrd",
			              "goes with \"boot\": \"kernel\" (a disk boot "
			              "loads its own)");
	}
	if (on_reset && (r = dc_check_enum(c, "on_reset", on_reset, resets,
	                                   "must be \"exit\" or \"reboot\"")) < 0)
		return r;

	dc_put_str(out, "arch", arch);
	dc_put_str(out, "accel", accel);
	dc_put_int(out, "memory", memory);
	dc_put_int(out, "cpus", cpus);
	dc_put_str(out, "boot", boot ? boot : "kernel");
	dc_put_str(out, "kernel", kernel);
	dc_put_str(out, "initrd", initrd);
	dc_put_str(out, "cmdline", cmdline);
	dc_put_str(out, "firmware", fw);
	if ((r = norm_disks(c, in, out)) < 0 || (r = norm_networks(c, in, out)) < 0 ||
	    (r = norm_vm_publish(c, in, out)) < 0 ||
	    (r = check_slots(c, arch, out, rng, agent)) < 0)
		return r;
	dc_put_bool(out, "rng", rng);
	if (agent) /* only when asked for: definitions without it read as before */
		dc_put_bool(out, "agent", true);
	dc_put_str(out, "on_reset", on_reset ? on_reset : "exit");
	/* Other applications' <metadata> elements, kept as XML text (domxml.h checks them). */
	dc_put_str(out, "metadata", metadata);
	return dc_norm_console(c, in, out);
}
