/* SPDX-License-Identifier: MIT */
/*
 * libvirt domain XML import (libxml2; export: domxml-export.c). The importer walks the tree
 * with an explicit list of accepted elements per parent, so anything it does
 * not understand becomes an error naming the element instead of being lost
 * silently. <domain type='kvm'> selects the KVM backend, type='qemu' software
 * emulation; the architecture comes from <os><type arch=...>.
 */
#include "daemon/domxml.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/compiler.h"

/* libxml2's own reports (e.g. encoding errors) would reach stderr unbounded: drop them. */
static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void silence_this_thread(void)
{
	xmlSetGenericErrorFunc(NULL, silent);
	xmlSetStructuredErrorFunc(NULL, NULL);
}

void domxml_init(void)
{
	xmlInitParser();
	xmlThrDefSetGenericErrorFunc(NULL, silent);
	silence_this_thread();
}

/* --- import -------------------------------------------------------------- */

/*
 * The importer reads the whole document and reports every problem it finds,
 * not the first one only: each element is looked up in its parent's rules
 * (handled, accepted with a warning, or refused with the reason), and an
 * element no rule names is refused. Paths are written as in XPath:
 * "/domain/devices/interface[2]/source".
 */
struct imp {
	json_object *def;
	json_object *problems; /* sentences: why the document is refused */
	json_object *warnings; /* sentences: what was accepted and ignored */
	json_object *nets;     /* the definition's networks, for metadata hostfwd */
	unsigned nr_serial;
};

enum rule_kind {
	R_HANDLE, /* the parent's importer reads it */
	R_QUIET,  /* accepted, nothing to say (libvirt's run-time bookkeeping) */
	R_IGNORE, /* accepted and ignored, with a warning saying why it does not matter */
	R_REFUSE, /* it would change the guest if ignored: refused, with the reason */
};

struct rule {
	const char *name;
	enum rule_kind kind;
	const char *why; /* R_IGNORE, R_REFUSE */
};

#define PATH_MAX_XML 256

static bool is_elem(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE;
}

static bool name_is(xmlNodePtr n, const char *name)
{
	return xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static void say(json_object *list, const char *path, const char *fmt, va_list ap)
{
	char msg[384], line[PATH_MAX_XML + 400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s: %s", path, msg);
	json_object_array_add(list, json_object_new_string(line));
}

static void VK_PRINTF(3, 4) problem(struct imp *im, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(im->problems, path, fmt, ap);
	va_end(ap);
}

static void VK_PRINTF(3, 4) warning(struct imp *im, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(im->warnings, path, fmt, ap);
	va_end(ap);
}

static int count_children(xmlNodePtr parent, const char *name)
{
	int n = 0;

	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (is_elem(c) && name_is(c, name))
			n++;
	return n;
}

/* "PARENT/NAME", or "PARENT/NAME[k]" when the parent has several NAME children. */
static void child_path(xmlNodePtr c, const char *parent, char *buf, size_t len)
{
	int k = 1;

	if (count_children(c->parent, (const char *)c->name) < 2) {
		snprintf(buf, len, "%s/%.64s", parent, (const char *)c->name);
		return;
	}
	for (xmlNodePtr p = c->parent->children; p && p != c; p = p->next)
		if (is_elem(p) && name_is(p, (const char *)c->name))
			k++;
	snprintf(buf, len, "%s/%.64s[%d]", parent, (const char *)c->name, k);
}

/* Apply the rules to every element child of parent (handled ones are left to the caller). */
static void classify(struct imp *im, xmlNodePtr parent, const char *path, const struct rule *rules)
{
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		const struct rule *r;
		char p[PATH_MAX_XML];

		if (!is_elem(c))
			continue;
		child_path(c, path, p, sizeof(p));
		if (c->ns) {
			problem(im, p, "elements of other namespaces (%.64s) belong in <metadata>",
			        (const char *)c->ns->href);
			continue;
		}
		for (r = rules; r->name && !name_is(c, r->name); r++)
			;
		if (!r->name)
			problem(im, p, "unsupported element");
		else if (r->kind == R_IGNORE)
			warning(im, p, "ignored: %s", r->why);
		else if (r->kind == R_REFUSE)
			problem(im, p, "not supported: %s", r->why);
	}
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr c;

	for (c = parent->children; c; c = c->next)
		if (is_elem(c) && !c->ns && name_is(c, name))
			return c;
	return NULL;
}

/* Text content, trimmed; malloc'd via libxml2 (free with xmlFree). */
static char *text(xmlNodePtr n)
{
	char *s = (char *)xmlNodeGetContent(n), *b, *e;

	if (!s)
		return NULL;
	for (b = s; *b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'; b++)
		;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	memmove(s, b, (size_t)(e - b));
	s[e - b] = '\0';
	return s;
}

static char *attr(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

/* Compare an attribute with a value; an absent attribute matches dflt_ok. */
static bool attr_is(xmlNodePtr n, const char *name, const char *val, bool dflt_ok)
{
	char *a = attr(n, name);
	bool r = a ? strcmp(a, val) == 0 : dflt_ok;

	xmlFree(a);
	return r;
}

/* An attribute for a message (static buffer per call site is not needed: copied). */
static void attr_copy(xmlNodePtr n, const char *name, char *buf, size_t len)
{
	char *a = attr(n, name);

	snprintf(buf, len, "%s", a ? a : "");
	xmlFree(a);
}

/* Element content as written (free text: descriptions, command lines, paths). */
static void add_raw(json_object *o, const char *key, xmlNodePtr n)
{
	char *t = (char *)xmlNodeGetContent(n);

	json_object_object_add(o, key, json_object_new_string(t ? t : ""));
	xmlFree(t);
}

static void add_text(json_object *o, const char *key, xmlNodePtr n)
{
	char *t = text(n);

	json_object_object_add(o, key, json_object_new_string(t ? t : ""));
	xmlFree(t);
}

/* libvirt's scaled integers: <memory unit='MiB'>256</memory>, default KiB. false: a problem. */
static bool parse_memory(struct imp *im, xmlNodePtr n, const char *path, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
	        {"b", 1},           {"bytes", 1},        {"KB", 1000},     {"k", 1024},
	        {"KiB", 1024},      {"MB", 1000000},     {"M", 1 << 20},   {"MiB", 1 << 20},
	        {"GB", 1000000000}, {"G", 1 << 30},      {"GiB", 1 << 30}, {"TB", 1000000000000},
	        {"T", 1ull << 40},  {"TiB", 1ull << 40},
	};
	char *u = attr(n, "unit"), *t = text(n), *end;
	uint64_t mul = 1024, v;
	bool ok = false;

	if (u) {
		mul = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(u, units[i].unit) == 0)
				mul = units[i].mul;
		if (!mul) {
			problem(im, path, "unknown unit '%.16s'", u);
			goto out;
		}
	}
	if (!t || !*t || *t == '-' || *t == '+') {
		problem(im, path, "expected a number");
		goto out;
	}
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno || *end || vk_mul_overflow(v, mul, bytes))
		problem(im, path, "invalid value '%.32s'", t);
	else
		ok = true;
out:
	xmlFree(u);
	xmlFree(t);
	return ok;
}

/* --- <os> ------------------------------------------------------------------ */

/*
 * <boot dev='hd'/> without a <kernel>: the firmware boots the first disk (boot "disk", riscv64).
 * With a <kernel>, libvirt boots the kernel: the boot devices are ignored, as are devices
 * other than hd.
 */
static void import_boot(struct imp *im, xmlNodePtr os, bool has_kernel)
{
	bool hd = false;

	for (xmlNodePtr n = os->children; n; n = n->next) {
		char dev[16];
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "boot") != 0)
			continue;
		attr_copy(n, "dev", dev, sizeof(dev));
		if (strcmp(dev, "hd") == 0 && !has_kernel && !hd)
			hd = true;
		else
			warning(im, "/domain/os/boot", "ignored: boot device '%s' (%s)", dev,
			        has_kernel ? "the guest starts from <kernel>"
			                   : "only the first disk (dev='hd') can be booted");
	}
	if (hd)
		json_object_object_add(im->def, "boot", json_object_new_string("disk"));
}

static void import_os(struct imp *im, xmlNodePtr os)
{
	static const struct rule rules[] = {
	        {"type", R_HANDLE, NULL},
	        {"kernel", R_HANDLE, NULL},
	        {"initrd", R_HANDLE, NULL},
	        {"cmdline", R_HANDLE, NULL},
	        {"loader", R_HANDLE, NULL},
	        {"boot", R_HANDLE, NULL},
	        {"bootmenu", R_IGNORE, "there is no boot menu"},
	        {"smbios", R_IGNORE, "no SMBIOS tables are given to the guest"},
	        {"bios", R_IGNORE, "there is no BIOS"},
	        {"nvram", R_REFUSE, "a UEFI variable store"},
	        {"dtb", R_REFUSE, "the board writes its own device tree"},
	        {"acpi", R_REFUSE, "ACPI tables from files"},
	        {"init", R_REFUSE, "container OS types"},
	        {NULL, R_REFUSE, NULL},
	};
	xmlNodePtr t = child(os, "type"), n;
	char *arch = NULL, *machine = NULL, *ty = NULL, fw[32];

	classify(im, os, "/domain/os", rules);
	attr_copy(os, "firmware", fw, sizeof(fw));
	if (fw[0])
		problem(im, "/domain/os",
		        "not supported: firmware='%s' (give the firmware file in "
		        "<loader>)",
		        fw);
	if (!t) {
		problem(im, "/domain/os", "needs <type arch='...'>hvm</type>");
	} else {
		ty = text(t);
		arch = attr(t, "arch");
		machine = attr(t, "machine");
		if (!ty || strcmp(ty, "hvm") != 0)
			problem(im, "/domain/os/type",
			        "OS type '%.32s' is not supported (only hvm)", ty ? ty : "");
		if (!arch)
			problem(im, "/domain/os/type",
			        "needs an architecture: arch='riscv64' or "
			        "'x86_64'");
		else if (strcmp(arch, "riscv64") != 0 && strcmp(arch, "x86_64") != 0)
			problem(im, "/domain/os/type", "architecture '%.32s' is not supported",
			        arch);
		else
			json_object_object_add(im->def, "arch", json_object_new_string(arch));
		if (machine && arch && strcmp(arch, "riscv64") == 0 && strcmp(machine, "virt") != 0)
			problem(im, "/domain/os/type",
			        "machine '%.32s' is not supported for riscv64 "
			        "(only virt)",
			        machine);
		/* x86_64 machine types (pc, q35, ...) all become the one PC board. */
		if (machine && arch && strcmp(arch, "x86_64") == 0 && strcmp(machine, "pc") != 0)
			warning(im, "/domain/os/type",
			        "ignored: machine '%.32s' (virtkit has one PC "
			        "board)",
			        machine);
	}
	xmlFree(ty);
	xmlFree(arch);
	xmlFree(machine);
	if ((n = child(os, "kernel")))
		add_raw(im->def, "kernel", n);
	import_boot(im, os, n != NULL);
	if ((n = child(os, "initrd")))
		add_raw(im->def, "initrd", n);
	if ((n = child(os, "cmdline")))
		add_raw(im->def, "cmdline", n);
	if ((n = child(os, "loader"))) {
		if (!attr_is(n, "type", "rom", true))
			problem(im, "/domain/os/loader",
			        "only a firmware file loaded into RAM "
			        "(type='rom'), no pflash");
		add_raw(im->def, "firmware", n);
	}
}

/* --- devices --------------------------------------------------------------- */

/* The image behind a disk: <source file> (type='file') or <source pool volume> ('volume'). */
static bool import_disk_source(struct imp *im, xmlNodePtr d, const char *path, bool volume,
                               json_object *o)
{
	xmlNodePtr src = child(d, "source");
	char p[PATH_MAX_XML + 16], *v;

	if (!volume) {
		if (!src || !(v = attr(src, "file"))) {
			problem(im, path, "needs <source file='...'/>");
			return false;
		}
		json_object_object_add(o, "path", json_object_new_string(v));
		xmlFree(v);
		return true;
	}
	if (!src || !(v = attr(src, "volume"))) {
		problem(im, path, "needs <source pool='default' volume='...'/>");
		return false;
	}
	json_object_object_add(o, "volume", json_object_new_string(v));
	xmlFree(v);
	if (!attr_is(src, "pool", "default", false)) {
		char pool[64];
		attr_copy(src, "pool", pool, sizeof(pool));
		snprintf(p, sizeof(p), "%s/source", path);
		problem(im, p, "storage pool '%s' does not exist (virtkit has one: 'default')",
		        pool);
		return false;
	}
	return true;
}

static void import_disk(struct imp *im, xmlNodePtr d, const char *path, json_object *disks)
{
	static const struct rule rules[] = {
	        {"driver", R_HANDLE, NULL},
	        {"source", R_HANDLE, NULL},
	        {"target", R_HANDLE, NULL},
	        {"readonly", R_HANDLE, NULL},
	        {"backingStore", R_HANDLE, NULL},
	        {"alias", R_QUIET, NULL},
	        {"address", R_IGNORE, "the board places its devices itself"},
	        {"boot", R_IGNORE, "the guest starts from <kernel>, not a boot device"},
	        {"serial", R_IGNORE, "virtio disks have no serial number here"},
	        {"wwn", R_IGNORE, "no WWN"},
	        {"vendor", R_IGNORE, "no vendor string"},
	        {"product", R_IGNORE, "no product string"},
	        {"iotune", R_IGNORE, "I/O is not throttled"},
	        {"blockio", R_IGNORE, "block sizes are the image's"},
	        {"geometry", R_IGNORE, "no BIOS geometry"},
	        {"shareable", R_REFUSE, "disks shared between guests"},
	        {"transient", R_REFUSE, "transient disks"},
	        {"encryption", R_REFUSE, "encrypted images"},
	        {"auth", R_REFUSE, "network disks"},
	        {NULL, R_REFUSE, NULL},
	};
	xmlNodePtr drv, tgt, back;
	char p[PATH_MAX_XML + 16], v[32], fmt[16] = "";
	json_object *o;
	bool volume;

	attr_copy(d, "type", v, sizeof(v));
	volume = strcmp(v, "volume") == 0;
	if (!volume && strcmp(v, "file") != 0) {
		problem(im, path,
		        "disk type '%s' is not supported (only type='file' or type='volume')", v);
		return;
	}
	attr_copy(d, "device", v, sizeof(v));
	if (v[0] && strcmp(v, "disk") != 0) {
		problem(im, path, "device '%s' is not supported (only device='disk')", v);
		return;
	}
	classify(im, d, path, rules);
	if ((drv = child(d, "driver"))) {
		attr_copy(drv, "type", fmt, sizeof(fmt));
		if (fmt[0] && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
			snprintf(p, sizeof(p), "%s/driver", path);
			problem(im, p, "image format '%s' is not supported (raw or qcow2)", fmt);
		}
	}
	if ((tgt = child(d, "target")) && !attr_is(tgt, "bus", "virtio", true)) {
		attr_copy(tgt, "bus", v, sizeof(v));
		snprintf(p, sizeof(p), "%s/target", path);
		problem(im, p, "bus '%s' is not supported (only virtio)", v);
	}
	if ((back = child(d, "backingStore")) && back->children) {
		snprintf(p, sizeof(p), "%s/backingStore", path);
		warning(im, p,
		        "ignored: the backing chain is the one the qcow2 image names (libvirt "
		        "reports it; it does not choose it)");
	}
	o = json_object_new_object();
	if (!import_disk_source(im, d, path, volume, o)) {
		json_object_put(o);
		return;
	}
	if (fmt[0])
		json_object_object_add(o, "format", json_object_new_string(fmt));
	if (child(d, "readonly"))
		json_object_object_add(o, "readonly", json_object_new_boolean(1));
	json_object_array_add(disks, o);
}

/* <interface type='network'> and type='bridge': <source network=.../> or <source bridge=.../>. */
static void import_attached(struct imp *im, xmlNodePtr i, const char *path, const char *type,
                            json_object *o)
{
	const char *key = strcmp(type, "network") == 0 ? "network" : "bridge";
	xmlNodePtr src = child(i, "source");
	char *v = src ? attr(src, key) : NULL;

	if (!v || !*v) {
		problem(im, path, "type '%s' needs <source %s='...'/>", type, key);
		xmlFree(v);
		return;
	}
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, strcmp(type, "network") == 0 ? "name" : "bridge",
	                       json_object_new_string(v));
	xmlFree(v);
}

static void import_interface(struct imp *im, xmlNodePtr i, const char *path, json_object *nets)
{
	static const struct rule rules[] = {
	        {"mac", R_HANDLE, NULL},
	        {"model", R_HANDLE, NULL},
	        {"target", R_HANDLE, NULL},
	        {"source", R_HANDLE, NULL},
	        {"alias", R_QUIET, NULL},
	        {"address", R_IGNORE, "the board places its devices itself"},
	        {"boot", R_IGNORE, "no network boot"},
	        {"rom", R_IGNORE, "no option ROM"},
	        {"driver", R_IGNORE, "one queue pair, virtkit-vm's own back end"},
	        {"link", R_IGNORE, "the link is always up"},
	        {"tune", R_IGNORE, "no send buffer tuning"},
	        {"coalesce", R_IGNORE, "no interrupt coalescing"},
	        {"bandwidth", R_REFUSE, "traffic shaping"},
	        {"filterref", R_REFUSE, "network filters"},
	        {"mtu", R_REFUSE, "a custom MTU"},
	        {"vlan", R_REFUSE, "VLAN tags"},
	        {"ip", R_REFUSE, "guest IP configuration"},
	        {"route", R_REFUSE, "guest routes"},
	        {"portForward", R_REFUSE, "give port forwards as virtkit hostfwd metadata"},
	        {NULL, R_REFUSE, NULL},
	};
	char type[32], dev[32] = "", mac[32], model[32];
	xmlNodePtr m, t;
	json_object *o;

	/* The type first: a type not supported yet is named as such, whatever it contains. */
	attr_copy(i, "type", type, sizeof(type));
	if (strcmp(type, "user") != 0 && strcmp(type, "ethernet") != 0 &&
	    strcmp(type, "network") != 0 && strcmp(type, "bridge") != 0) {
		problem(im, path,
		        "interface type '%s' is not supported (use type='network', 'bridge', "
		        "'user', or 'ethernet' with <target dev='tapN'/>)",
		        type);
		json_object_array_add(nets, NULL); /* keeps hostfwd indices aligned */
		return;
	}
	classify(im, i, path, rules);
	if ((m = child(i, "model")) && !attr_is(m, "type", "virtio", true)) {
		char p[PATH_MAX_XML + 8];
		attr_copy(m, "type", model, sizeof(model));
		snprintf(p, sizeof(p), "%s/model", path);
		problem(im, p,
		        "model '%s' is not supported (virtkit-vm has virtio network cards "
		        "only)",
		        model);
	}
	o = json_object_new_object();
	json_object_array_add(nets, o);
	if ((m = child(i, "mac"))) {
		attr_copy(m, "address", mac, sizeof(mac));
		json_object_object_add(o, "mac", json_object_new_string(mac));
	}
	if (strcmp(type, "network") == 0 || strcmp(type, "bridge") == 0) {
		/* A <target dev> names the tap libvirt made (live XML): virtkitd names its own. */
		import_attached(im, i, path, type, o);
		return;
	}
	if (child(i, "source")) {
		char p[PATH_MAX_XML + 8];
		snprintf(p, sizeof(p), "%s/source", path);
		problem(im, p, "a type '%s' interface has no source", type);
	}
	if (strcmp(type, "user") == 0) {
		json_object_object_add(o, "type", json_object_new_string("user"));
		return;
	}
	if ((t = child(i, "target")))
		attr_copy(t, "dev", dev, sizeof(dev));
	if (!dev[0]) {
		problem(im, path, "type 'ethernet' needs <target dev='tapN'/>");
		return;
	}
	json_object_object_add(o, "type", json_object_new_string("tap"));
	json_object_object_add(o, "ifname", json_object_new_string(dev));
}

/* <serial> and <console>: the one 16550 UART, reached through the API. */
static void import_chardev(struct imp *im, xmlNodePtr c, const char *path)
{
	static const struct rule rules[] = {
	        {"target", R_HANDLE, NULL},
	        {"source", R_QUIET, NULL}, /* the pty libvirt allocated, in live XML */
	        {"alias", R_QUIET, NULL},
	        {"address", R_IGNORE, "the board places its devices itself"},
	        {"log", R_IGNORE, "virtkitd keeps the console log (console.log)"},
	        {NULL, R_REFUSE, NULL},
	};
	bool console = name_is(c, "console");
	xmlNodePtr t = child(c, "target"), m;
	char v[32], p[PATH_MAX_XML + 16];

	attr_copy(c, "type", v, sizeof(v));
	if (v[0] && strcmp(v, "pty") != 0) {
		problem(im, path,
		        "type '%s' is not supported (only pty: the console is reached "
		        "through the API)",
		        v);
		return;
	}
	classify(im, c, path, rules);
	if (!t)
		return;
	snprintf(p, sizeof(p), "%s/target", path);
	attr_copy(t, "type", v, sizeof(v));
	if (console && v[0] && strcmp(v, "serial") != 0)
		problem(im, p, "a '%s' console is not supported (the console is the serial port)",
		        v);
	else if (!console && v[0] && strcmp(v, "system-serial") != 0 &&
	         strcmp(v, "isa-serial") != 0)
		problem(im, p, "a '%s' serial port is not supported (one 16550A UART)", v);
	attr_copy(t, "port", v, sizeof(v));
	if (v[0] && strcmp(v, "0") != 0)
		problem(im, p, "port %s is not supported (one serial port, 0)", v);
	for (m = t->children; m; m = m->next) {
		char mp[PATH_MAX_XML + 64];
		if (!is_elem(m))
			continue;
		snprintf(mp, sizeof(mp), "%s/%.32s", p, (const char *)m->name);
		attr_copy(m, "name", v, sizeof(v));
		if (!name_is(m, "model"))
			problem(im, mp, "unsupported element");
		else if (strcmp(v, "16550a") != 0 && strcmp(v, "isa-serial") != 0) /* both 16550A */
			warning(im, mp, "ignored: model '%s' (the serial port is a 16550A)", v);
	}
}

static void import_rng(struct imp *im, xmlNodePtr c, const char *path)
{
	static const struct rule rules[] = {
	        {"backend", R_HANDLE, NULL},
	        {"alias", R_QUIET, NULL},
	        {"address", R_IGNORE, "the board places its devices itself"},
	        {"rate", R_IGNORE, "entropy is not rate-limited"},
	        {NULL, R_REFUSE, NULL},
	};
	xmlNodePtr b = child(c, "backend");
	char v[32];

	attr_copy(c, "model", v, sizeof(v));
	if (strcmp(v, "virtio") != 0) {
		problem(im, path, "model '%s' is not supported (only virtio)", v);
		return;
	}
	classify(im, c, path, rules);
	if (b && !attr_is(b, "model", "random", true)) {
		char p[PATH_MAX_XML + 16];
		attr_copy(b, "model", v, sizeof(v));
		snprintf(p, sizeof(p), "%s/backend", path);
		problem(im, p,
		        "back end '%s' is not supported (only model='random': the host's "
		        "getrandom)",
		        v);
	}
	json_object_object_add(im->def, "rng", json_object_new_boolean(1));
}

static void import_devices(struct imp *im, xmlNodePtr devs)
{
	static const struct rule rules[] = {
	        {"disk", R_HANDLE, NULL},
	        {"interface", R_HANDLE, NULL},
	        {"serial", R_HANDLE, NULL},
	        {"console", R_HANDLE, NULL},
	        {"rng", R_HANDLE, NULL},
	        {"memballoon", R_HANDLE, NULL},
	        {"emulator", R_IGNORE, "virtkit-vm runs the guest"},
	        {"controller", R_IGNORE, "the board's buses and controllers are fixed"},
	        {"audio", R_IGNORE, "there is no sound device"},
	        {"input", R_REFUSE, "a device virtkit does not have (keyboard, mouse, tablet)"},
	        {"graphics", R_REFUSE, "a device virtkit does not have (graphical display)"},
	        {"video", R_REFUSE, "a device virtkit does not have (video adapter)"},
	        {"sound", R_REFUSE, "a device virtkit does not have (sound card)"},
	        {"hostdev", R_REFUSE, "a device virtkit does not have (host device assignment)"},
	        {"channel", R_REFUSE, "a device virtkit does not have (virtio-serial channel)"},
	        {"filesystem", R_REFUSE, "a device virtkit does not have (shared folder)"},
	        {"redirdev", R_REFUSE, "a device virtkit does not have (USB redirection)"},
	        {"smartcard", R_REFUSE, "a device virtkit does not have (smartcard)"},
	        {"tpm", R_REFUSE, "a device virtkit does not have (TPM)"},
	        {"watchdog", R_REFUSE, "a device virtkit does not have (watchdog)"},
	        {"panic", R_REFUSE, "a device virtkit does not have (panic notifier)"},
	        {"shmem", R_REFUSE, "a device virtkit does not have (shared memory)"},
	        {"iommu", R_REFUSE, "a device virtkit does not have (IOMMU)"},
	        {"vsock", R_REFUSE, "a device virtkit does not have (vsock)"},
	        {"crypto", R_REFUSE, "a device virtkit does not have (crypto)"},
	        {"parallel", R_REFUSE, "a device virtkit does not have (parallel port)"},
	        {"hub", R_REFUSE, "a device virtkit does not have (USB hub)"},
	        {"lease", R_REFUSE, "lock manager leases"},
	        {"pstore", R_REFUSE, "a device virtkit does not have (pstore)"},
	        {NULL, R_REFUSE, NULL},
	};
	json_object *disks = json_object_new_array(), *nets = json_object_new_array();

	json_object_object_add(im->def, "disks", disks);
	json_object_object_add(im->def, "networks", nets);
	im->nets = nets;
	classify(im, devs, "/domain/devices", rules);
	for (xmlNodePtr c = devs->children; c; c = c->next) {
		char p[PATH_MAX_XML];

		if (!is_elem(c) || c->ns)
			continue;
		child_path(c, "/domain/devices", p, sizeof(p));
		if (name_is(c, "disk")) {
			import_disk(im, c, p, disks);
		} else if (name_is(c, "interface")) {
			import_interface(im, c, p, nets);
		} else if (name_is(c, "serial") || name_is(c, "console")) {
			if (name_is(c, "serial") && ++im->nr_serial == 2)
				problem(im, p, "not supported: a second serial port");
			import_chardev(im, c, p);
		} else if (name_is(c, "rng")) {
			import_rng(im, c, p);
		} else if (name_is(c, "memballoon") && !attr_is(c, "model", "none", false)) {
			warning(im, p,
			        "ignored: there is no memory balloon (the guest keeps all of "
			        "<memory>)");
		}
	}
}

/* --- <metadata> ------------------------------------------------------------ */

/*
 * Blank text between elements is layout, not content (dumpxml indents): drop it,
 * so that a kept element reads back the same however it was indented.
 */
static void drop_blanks(xmlNodePtr n)
{
	xmlNodePtr c = n->children, next;

	for (; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			drop_blanks(c);
		}
	}
}

/* One element of another namespace, as text with its namespace declarations. */
static void keep_foreign(struct imp *im, xmlNodePtr n, xmlBufferPtr out)
{
	xmlDocPtr doc = out ? xmlNewDoc((const xmlChar *)"1.0") : NULL;
	xmlNodePtr copy = doc ? xmlDocCopyNode(n, doc, 1) : NULL;

	if (!copy) {
		problem(im, "/domain/metadata", "out of memory");
		xmlFreeDoc(doc);
		return;
	}
	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy); /* declare what the copy uses on the copy itself */
	drop_blanks(copy);
	xmlNodeDump(out, doc, copy, 0, 0);
	xmlFreeDoc(doc);
}

static void import_hostfwd(struct imp *im, xmlNodePtr n, const char *path)
{
	char idx[16], *fwd = text(n), *end;
	json_object *net, *list, *type;
	unsigned long i;

	attr_copy(n, "interface", idx, sizeof(idx));
	i = strtoul(idx, &end, 10);
	/* A network can lack its type when its own element was refused. */
	if (!idx[0] || *end || !im->nets || i >= json_object_array_length(im->nets) ||
	    !(net = json_object_array_get_idx(im->nets, i)) ||
	    !json_object_object_get_ex(net, "type", &type) ||
	    strcmp(json_object_get_string(type), "user") != 0) {
		problem(im, path,
		        "interface='%s' does not name a <interface type='user'> (0 is "
		        "the first interface)",
		        idx);
	} else {
		if (!json_object_object_get_ex(net, "hostfwd", &list)) {
			list = json_object_new_array();
			json_object_object_add(net, "hostfwd", list);
		}
		json_object_array_add(list, json_object_new_string(fwd ? fwd : ""));
	}
	xmlFree(fwd);
}

/* Our own fields, those libvirt's schema has no place for (docs/api.md). */
static void import_ours(struct imp *im, xmlNodePtr vm, const char *path)
{
	for (xmlNodePtr c = vm->children; c; c = c->next) {
		char p[PATH_MAX_XML + 64], *t;

		if (!is_elem(c))
			continue;
		child_path(c, path, p, sizeof(p));
		if (!c->ns || xmlStrcmp(c->ns->href, (const xmlChar *)DOMXML_NS) != 0) {
			problem(im, p, "unsupported element in virtkit's metadata");
		} else if (name_is(c, "firmware")) {
			t = text(c);
			if (!t || strcmp(t, "none") != 0)
				problem(im, p,
				        "expected 'none' (a firmware file goes in <os><loader>)");
			else
				json_object_object_add(im->def, "firmware",
				                       json_object_new_string("none"));
			xmlFree(t);
		} else if (name_is(c, "console")) {
			json_object *con = json_object_new_object();
			if (!attr_is(c, "log", "yes", false) && !attr_is(c, "log", "no", false))
				problem(im, p, "expected log='yes' or log='no'");
			json_object_object_add(
			        con, "log",
			        json_object_new_boolean(attr_is(c, "log", "yes", false)));
			json_object_object_add(im->def, "console", con);
		} else if (name_is(c, "hostfwd")) {
			import_hostfwd(im, c, p);
		} else if (name_is(c, "publish")) {
			json_object *list;
			t = text(c);
			if (!json_object_object_get_ex(im->def, "publish", &list)) {
				list = json_object_new_array();
				json_object_object_add(im->def, "publish", list);
			}
			json_object_array_add(list, json_object_new_string(t ? t : ""));
			xmlFree(t);
		} else {
			problem(im, p, "unsupported element in virtkit's metadata");
		}
	}
}

static void import_metadata(struct imp *im, xmlNodePtr md)
{
	xmlBufferPtr foreign = xmlBufferCreate();

	for (xmlNodePtr c = md->children; c; c = c->next) {
		char p[PATH_MAX_XML];

		if (!is_elem(c))
			continue;
		child_path(c, "/domain/metadata", p, sizeof(p));
		if (!c->ns)
			problem(im, p, "metadata elements need a namespace (libvirt's rule)");
		else if (xmlStrcmp(c->ns->href, (const xmlChar *)DOMXML_NS) != 0)
			keep_foreign(im, c, foreign);
		else if (name_is(c, "vm"))
			import_ours(im, c, p);
		else
			problem(im, p, "unsupported element in virtkit's metadata");
	}
	if (foreign && xmlBufferLength(foreign) > 0)
		json_object_object_add(
		        im->def, "metadata",
		        json_object_new_string((const char *)xmlBufferContent(foreign)));
	xmlBufferFree(foreign);
}

/* --- <domain> ---------------------------------------------------------------- */

static void import_lifecycle(struct imp *im, xmlNodePtr n)
{
	char *t = text(n), p[64];

	snprintf(p, sizeof(p), "/domain/%s", (const char *)n->name);
	if (!t)
		t = (char *)xmlStrdup((const xmlChar *)"");
	if (name_is(n, "on_reboot")) {
		if (strcmp(t, "restart") == 0 || strcmp(t, "destroy") == 0)
			json_object_object_add(
			        im->def, "on_reset",
			        json_object_new_string(t[0] == 'r' ? "reboot" : "exit"));
		else
			problem(im, p, "'%.32s' is not supported (restart or destroy)", t);
	} else if (name_is(n, "on_poweroff")) {
		if (strcmp(t, "destroy") != 0)
			problem(im, p,
			        "'%.32s' is not supported (a powered-off guest stops: destroy)", t);
	} else if (strcmp(t, "destroy") != 0) {
		warning(im, p, "ignored: '%.32s' (a guest crash stops the VM, as destroy)", t);
	}
	xmlFree(t);
}

static void import_vcpu(struct imp *im, xmlNodePtr n)
{
	char *t = text(n), *end;
	unsigned long v;

	errno = 0;
	v = t ? strtoul(t, &end, 10) : 0;
	if (!t || !*t || *end || errno || v > 1024 || *t == '-')
		problem(im, "/domain/vcpu", "invalid value '%.32s'", t ? t : "");
	else
		json_object_object_add(im->def, "cpus", json_object_new_int64((int64_t)v));
	xmlFree(t);
}

static void import_domain(struct imp *im, xmlNodePtr dom)
{
	static const struct rule rules[] = {
	        {"name", R_HANDLE, NULL},
	        {"uuid", R_HANDLE, NULL},
	        {"description", R_HANDLE, NULL},
	        {"metadata", R_HANDLE, NULL},
	        {"memory", R_HANDLE, NULL},
	        {"currentMemory", R_HANDLE, NULL},
	        {"vcpu", R_HANDLE, NULL},
	        {"os", R_HANDLE, NULL},
	        {"on_poweroff", R_HANDLE, NULL},
	        {"on_reboot", R_HANDLE, NULL},
	        {"on_crash", R_HANDLE, NULL},
	        {"devices", R_HANDLE, NULL},
	        {"cpu", R_HANDLE, NULL},
	        {"seclabel", R_HANDLE, NULL},
	        {"title", R_IGNORE, "use <description>, which is kept"},
	        {"clock", R_IGNORE, "the guest's clock starts from the host's time (UTC)"},
	        {"features", R_IGNORE, "the board's features are fixed (ACPI on pc, none on virt)"},
	        {"pm", R_IGNORE, "no suspend to RAM or disk"},
	        {"vcpus", R_IGNORE, "all vCPUs are online"},
	        {"iothreads", R_IGNORE, "virtkit-vm has its own I/O thread"},
	        {"iothreadids", R_IGNORE, "virtkit-vm has its own I/O thread"},
	        {"cputune", R_IGNORE, "vCPUs are not pinned or tuned"},
	        {"numatune", R_IGNORE, "memory is not placed on host NUMA nodes"},
	        {"memtune", R_IGNORE, "no host memory limits are applied"},
	        {"blkiotune", R_IGNORE, "no block I/O weights are applied"},
	        {"resource", R_IGNORE, "no resource partition"},
	        {"sysinfo", R_IGNORE, "no SMBIOS tables are given to the guest"},
	        {"genid", R_IGNORE, "no VM generation ID"},
	        {"perf", R_IGNORE, "no perf events"},
	        {"maxMemory", R_REFUSE, "memory hotplug"},
	        {"memoryBacking", R_REFUSE,
	         "a memory backing virtkit cannot provide (hugepages, "
	         "shared or locked memory)"},
	        {"idmap", R_REFUSE, "user namespace maps (containers)"},
	        {"keywrap", R_REFUSE, "key wrapping"},
	        {"launchSecurity", R_REFUSE, "confidential computing"},
	        {"bootloader", R_REFUSE, "host boot loaders"},
	        {"bootloader_args", R_REFUSE, "host boot loaders"},
	        {NULL, R_REFUSE, NULL},
	};
	static const char *const once[] = {"name",        "uuid",      "memory",   "vcpu",
	                                   "os",          "devices",   "metadata", "currentMemory",
	                                   "on_poweroff", "on_reboot", "on_crash", "description"};
	uint64_t mem = 0, cur;
	bool have_mem = false;
	xmlNodePtr n;
	char v[32];

	if (!name_is(dom, "domain") || dom->ns) {
		problem(im, "/", "expected a <domain> document, got <%.64s>",
		        (const char *)dom->name);
		return;
	}
	attr_copy(dom, "type", v, sizeof(v));
	if (strcmp(v, "kvm") == 0 || strcmp(v, "qemu") == 0)
		json_object_object_add(im->def, "accel",
		                       json_object_new_string(v[0] == 'k' ? "kvm" : "emu"));
	else if (!v[0])
		problem(im, "/domain", "needs type='qemu' or type='kvm'");
	else
		problem(im, "/domain", "type '%s' is not supported (only kvm and qemu)", v);
	json_object_object_add(im->def, "type", json_object_new_string("vm"));
	classify(im, dom, "/domain", rules);
	for (size_t i = 0; i < ARRAY_SIZE(once); i++)
		if (count_children(dom, once[i]) > 1)
			problem(im, "/domain", "more than one <%s>", once[i]);
	if ((n = child(dom, "name")))
		add_text(im->def, "name", n);
	else
		problem(im, "/domain", "needs a <name>");
	if ((n = child(dom, "uuid")))
		add_text(im->def, "uuid", n);
	if ((n = child(dom, "description")))
		add_raw(im->def, "description", n);
	if ((n = child(dom, "memory")) && parse_memory(im, n, "/domain/memory", &mem)) {
		have_mem = true;
		json_object_object_add(im->def, "memory",
		                       json_object_new_int64((int64_t)VK_MIN(mem, INT64_MAX)));
	}
	if ((n = child(dom, "currentMemory")) &&
	    parse_memory(im, n, "/domain/currentMemory", &cur) && have_mem && cur != mem)
		problem(im, "/domain/currentMemory", "must equal <memory> (there is no balloon)");
	if ((n = child(dom, "vcpu")))
		import_vcpu(im, n);
	if ((n = child(dom, "cpu"))) {
		if (child(n, "numa"))
			problem(im, "/domain/cpu/numa", "not supported: guest NUMA cells");
		else
			warning(im, "/domain/cpu",
			        "ignored: the guest sees virtkit's own CPU model "
			        "and topology");
	}
	if ((n = child(dom, "seclabel")) && !attr_is(n, "type", "none", false))
		problem(im, "/domain/seclabel",
		        "not supported: security labels (SELinux, AppArmor) "
		        "are not applied by virtkit, so they are refused");
	if ((n = child(dom, "os")))
		import_os(im, n);
	else
		problem(im, "/domain", "needs an <os> element");
	for (n = dom->children; n; n = n->next)
		if (is_elem(n) && !n->ns &&
		    (name_is(n, "on_poweroff") || name_is(n, "on_reboot") ||
		     name_is(n, "on_crash")))
			import_lifecycle(im, n);
	if ((n = child(dom, "devices")))
		import_devices(im, n);
	/* After <devices>: a hostfwd in the metadata names its interface. */
	if ((n = child(dom, "metadata")))
		import_metadata(im, n);
}

void domxml_report_free(struct domxml_report *rep)
{
	if (!rep)
		return;
	json_object_put(rep->warnings);
	json_object_put(rep->problems);
	rep->warnings = rep->problems = NULL;
}

/* The error for a refused document: its problems, one per line. */
static int refuse(struct imp *im, struct vk_error *err)
{
	size_t n = json_object_array_length(im->problems);

	if (n == 1)
		return vk_error_set(
		        err, EINVAL, "domain XML: %s",
		        json_object_get_string(json_object_array_get_idx(im->problems, 0)));
	return vk_error_set(err, EINVAL, "domain XML has %zu problems (first: %s)", n,
	                    json_object_get_string(json_object_array_get_idx(im->problems, 0)));
}

int domxml_import(const char *buf, size_t len, json_object **out, struct domxml_report *rep,
                  struct vk_error *err)
{
	struct imp im = {0};
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int r = 0;

	if (rep)
		rep->warnings = rep->problems = NULL;
	if (len > INT32_MAX)
		return vk_error_set(err, E2BIG, "domain XML is too large");
	silence_this_thread(); /* error handlers are per thread in libxml2 */
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return vk_error_set(err, ENOMEM, "out of memory");
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "domain.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                                XML_PARSE_NOCDATA);
	if (!doc) {
		xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed";
		if (e && e->message) {
			size_t n;
			snprintf(msg, sizeof(msg), "%s", e->message);
			n = strlen(msg);
			while (n && msg[n - 1] == '\n')
				msg[--n] = '\0';
		}
		r = vk_error_set(err, EINVAL, "malformed domain XML at line %d: %s",
		                 e ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		return r;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		return vk_error_set(err, EINVAL,
		                    "domain XML must not contain a DOCTYPE declaration");
	}
	im.def = json_object_new_object();
	im.problems = json_object_new_array();
	im.warnings = json_object_new_array();
	if (xmlDocGetRootElement(doc))
		import_domain(&im, xmlDocGetRootElement(doc));
	else
		problem(&im, "/", "the document is empty");
	xmlFreeDoc(doc);
	if (json_object_array_length(im.problems) > 0) {
		r = refuse(&im, err);
		json_object_put(im.def);
	} else {
		*out = im.def;
	}
	if (rep) {
		rep->warnings = im.warnings;
		rep->problems = im.problems;
	} else {
		json_object_put(im.warnings);
		json_object_put(im.problems);
	}
	return r;
}
