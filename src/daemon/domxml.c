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
#include <stdio.h>
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

struct imp {
	struct vk_error *err;
	json_object *def;
};

static bool is_elem(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE;
}

static bool name_is(xmlNodePtr n, const char *name)
{
	return xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static int unsupported(struct imp *im, const char *parent, xmlNodePtr n)
{
	return vk_error_set(im->err, EINVAL, "unsupported element <%s/%.64s> in domain XML", parent,
	                    (const char *)n->name);
}

/* Refuse any child element not named in allowed[] (text and comments pass). */
static int check_children(struct imp *im, xmlNodePtr parent, const char *where,
                          const char *const *allowed)
{
	xmlNodePtr c;

	for (c = parent->children; c; c = c->next) {
		const char *const *a;
		bool ok = false;
		if (!is_elem(c))
			continue;
		for (a = allowed; *a; a++)
			if (name_is(c, *a))
				ok = true;
		if (!ok)
			return unsupported(im, where, c);
	}
	return 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr c;

	for (c = parent->children; c; c = c->next)
		if (is_elem(c) && name_is(c, name))
			return c;
	return NULL;
}

static int count_children(xmlNodePtr parent, const char *name)
{
	xmlNodePtr c;
	int n = 0;

	for (c = parent->children; c; c = c->next)
		if (is_elem(c) && name_is(c, name))
			n++;
	return n;
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

/* Element content as written (free text: descriptions, command lines, paths). */
static int add_raw(struct imp *im, json_object *o, const char *key, xmlNodePtr n)
{
	char *t = (char *)xmlNodeGetContent(n);

	if (!t)
		return vk_error_set(im->err, ENOMEM, "out of memory");
	json_object_object_add(o, key, json_object_new_string(t));
	xmlFree(t);
	return 0;
}

static int add_text(struct imp *im, json_object *o, const char *key, xmlNodePtr n)
{
	char *t = text(n);

	if (!t)
		return vk_error_set(im->err, ENOMEM, "out of memory");
	json_object_object_add(o, key, json_object_new_string(t));
	xmlFree(t);
	return 0;
}

/* libvirt's scaled integers: <memory unit='MiB'>256</memory>, default KiB. */
static int parse_memory(struct imp *im, xmlNodePtr n, uint64_t *bytes)
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
	size_t i;
	int r = 0;

	if (u) {
		mul = 0;
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(u, units[i].unit) == 0)
				mul = units[i].mul;
		if (!mul) {
			r = vk_error_set(im->err, EINVAL,
			                 "unsupported memory unit '%.16s' in domain XML", u);
			goto out;
		}
	}
	if (!t || !*t || *t == '-' || *t == '+') {
		r = vk_error_set(im->err, EINVAL, "invalid <memory> value in domain XML");
		goto out;
	}
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno || *end || vk_mul_overflow(v, mul, bytes))
		r = vk_error_set(im->err, EINVAL, "invalid <memory> value '%.32s' in domain XML",
		                 t);
out:
	xmlFree(u);
	xmlFree(t);
	return r;
}

static int import_os(struct imp *im, xmlNodePtr os)
{
	static const char *const allowed[] = {"type",    "kernel", "initrd",
	                                      "cmdline", "loader", NULL};
	xmlNodePtr t = child(os, "type"), n;
	char *arch, *machine, *ty;
	int r;

	if ((r = check_children(im, os, "domain/os", allowed)) < 0)
		return r;
	if (!t)
		return vk_error_set(im->err, EINVAL,
		                    "domain XML needs <os><type arch='...'>hvm</type>");
	ty = text(t);
	arch = attr(t, "arch");
	machine = attr(t, "machine");
	if (!ty || strcmp(ty, "hvm") != 0)
		r = vk_error_set(im->err, EINVAL,
		                 "unsupported OS type '%.32s' in domain XML (only 'hvm')",
		                 ty ? ty : "");
	else if (!arch)
		r = vk_error_set(im->err, EINVAL,
		                 "domain XML needs an architecture: <os><type arch='riscv64'>");
	else if (strcmp(arch, "riscv64") != 0 && strcmp(arch, "x86_64") != 0)
		r = vk_error_set(im->err, EINVAL, "unsupported architecture '%.32s' in domain XML",
		                 arch);
	else if (machine && strcmp(arch, "riscv64") == 0 && strcmp(machine, "virt") != 0)
		r = vk_error_set(
		        im->err, EINVAL,
		        "unsupported machine '%.32s' for riscv64 in domain XML (only 'virt')",
		        machine);
	if (r == 0)
		json_object_object_add(im->def, "arch", json_object_new_string(arch));
	xmlFree(ty);
	xmlFree(arch);
	xmlFree(machine);
	if (r < 0)
		return r;
	if ((n = child(os, "kernel")) && (r = add_raw(im, im->def, "kernel", n)) < 0)
		return r;
	if ((n = child(os, "initrd")) && (r = add_raw(im, im->def, "initrd", n)) < 0)
		return r;
	if ((n = child(os, "cmdline")) && (r = add_raw(im, im->def, "cmdline", n)) < 0)
		return r;
	if ((n = child(os, "loader")) && (r = add_raw(im, im->def, "firmware", n)) < 0)
		return r;
	return 0;
}

static int import_disk(struct imp *im, xmlNodePtr d, json_object *disks)
{
	static const char *const allowed[] = {"driver",  "source", "target", "readonly",
	                                      "address", "alias",  NULL};
	xmlNodePtr src, drv, tgt;
	json_object *o;
	char *file;
	int r;

	if ((r = check_children(im, d, "domain/devices/disk", allowed)) < 0)
		return r;
	if (!attr_is(d, "type", "file", false))
		return vk_error_set(im->err, EINVAL,
		                    "unsupported disk in domain XML: only <disk type='file'>");
	if (!attr_is(d, "device", "disk", true))
		return vk_error_set(
		        im->err, EINVAL,
		        "unsupported disk in domain XML: only device='disk' (no cdrom/floppy)");
	if ((drv = child(d, "driver")) && !attr_is(drv, "type", "raw", true))
		return vk_error_set(
		        im->err, EINVAL,
		        "unsupported disk format in domain XML: only <driver type='raw'>");
	if ((tgt = child(d, "target")) && !attr_is(tgt, "bus", "virtio", true))
		return vk_error_set(
		        im->err, EINVAL,
		        "unsupported disk bus in domain XML: only <target bus='virtio'>");
	src = child(d, "source");
	file = src ? attr(src, "file") : NULL;
	if (!file)
		return vk_error_set(im->err, EINVAL, "domain XML disk needs <source file='...'/>");
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(file));
	xmlFree(file);
	if (child(d, "readonly"))
		json_object_object_add(o, "readonly", json_object_new_boolean(1));
	json_object_array_add(disks, o);
	return 0;
}

static int import_interface(struct imp *im, xmlNodePtr i, json_object *nets)
{
	static const char *const allowed[] = {"model", "mac", "target", "address", "alias", NULL};
	xmlNodePtr m, t;
	json_object *o;
	char *dev;
	int r;

	if ((r = check_children(im, i, "domain/devices/interface", allowed)) < 0)
		return r;
	if ((m = child(i, "model")) && !attr_is(m, "type", "virtio", true))
		return vk_error_set(im->err, EINVAL,
		                    "unsupported interface model in domain XML: only 'virtio'");
	o = json_object_new_object();
	json_object_array_add(nets, o);
	if (attr_is(i, "type", "user", false)) {
		json_object_object_add(o, "type", json_object_new_string("user"));
		return 0;
	}
	if (attr_is(i, "type", "ethernet", false) && (t = child(i, "target")) &&
	    (dev = attr(t, "dev"))) {
		json_object_object_add(o, "type", json_object_new_string("tap"));
		json_object_object_add(o, "ifname", json_object_new_string(dev));
		xmlFree(dev);
		return 0;
	}
	{
		char *ty = attr(i, "type");
		r = vk_error_set(
		        im->err, EINVAL,
		        "unsupported interface type '%.32s' in domain XML (only 'user', or "
		        "'ethernet' with <target dev='tapN'/>)",
		        ty ? ty : "");
		xmlFree(ty);
	}
	return r;
}

static int import_devices(struct imp *im, xmlNodePtr devs)
{
	static const char *const allowed[] = {"emulator", "disk", "interface",  "serial",
	                                      "console",  "rng",  "memballoon", NULL};
	json_object *disks = json_object_new_array(), *nets = json_object_new_array();
	xmlNodePtr c;
	int r;

	json_object_object_add(im->def, "disks", disks);
	json_object_object_add(im->def, "networks", nets);
	if ((r = check_children(im, devs, "domain/devices", allowed)) < 0)
		return r;
	for (c = devs->children; c; c = c->next) {
		if (!is_elem(c))
			continue;
		if (name_is(c, "disk")) {
			r = import_disk(im, c, disks);
		} else if (name_is(c, "interface")) {
			r = import_interface(im, c, nets);
		} else if (name_is(c, "serial") || name_is(c, "console")) {
			if (!attr_is(c, "type", "pty", true))
				r = vk_error_set(
				        im->err, EINVAL,
				        "unsupported <%s> type in domain XML: only 'pty' (the "
				        "console is reached through the API)",
				        (const char *)c->name);
		} else if (name_is(c, "rng")) {
			xmlNodePtr b = child(c, "backend");
			if (!attr_is(c, "model", "virtio", false) ||
			    (b && !attr_is(b, "model", "random", true)))
				r = vk_error_set(
				        im->err, EINVAL,
				        "unsupported <rng> in domain XML: only model='virtio' "
				        "with a 'random' backend");
			else
				json_object_object_add(im->def, "rng", json_object_new_boolean(1));
		} else if (name_is(c, "memballoon")) {
			if (!attr_is(c, "model", "none", false))
				r = vk_error_set(im->err, EINVAL,
				                 "unsupported <memballoon> in domain XML: only "
				                 "model='none'");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int import_lifecycle(struct imp *im, xmlNodePtr n)
{
	char *t = text(n);
	int r = 0;

	if (!t)
		return vk_error_set(im->err, ENOMEM, "out of memory");
	if (name_is(n, "on_reboot")) {
		if (strcmp(t, "restart") == 0)
			json_object_object_add(im->def, "on_reset",
			                       json_object_new_string("reboot"));
		else if (strcmp(t, "destroy") == 0)
			json_object_object_add(im->def, "on_reset", json_object_new_string("exit"));
		else
			r = -1;
	} else if (strcmp(t, "destroy") != 0) {
		r = -1;
	}
	if (r < 0)
		r = vk_error_set(im->err, EINVAL, "unsupported <%s>%.32s</%s> in domain XML",
		                 (const char *)n->name, t, (const char *)n->name);
	xmlFree(t);
	return r;
}

static int import_domain(struct imp *im, xmlNodePtr dom)
{
	static const char *const allowed[] = {
	        "name",          "uuid",    "title", "description", "memory",
	        "currentMemory", "vcpu",    "os",    "on_poweroff", "on_reboot",
	        "on_crash",      "devices", NULL};
	static const char *const once[] = {"name", "uuid", "memory", "vcpu", "os", "devices"};
	char *type;
	xmlNodePtr n;
	uint64_t mem, cur;
	size_t i;
	int r;

	if (!name_is(dom, "domain"))
		return vk_error_set(im->err, EINVAL, "expected a <domain> document, got <%.64s>",
		                    (const char *)dom->name);
	if ((r = check_children(im, dom, "domain", allowed)) < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(once); i++)
		if (count_children(dom, once[i]) > 1)
			return vk_error_set(im->err, EINVAL, "domain XML has more than one <%s>",
			                    once[i]);
	type = attr(dom, "type");
	if (!type) {
		return vk_error_set(im->err, EINVAL,
		                    "domain XML needs <domain type='qemu'> or <domain type='kvm'>");
	} else if (strcmp(type, "kvm") == 0 || strcmp(type, "qemu") == 0) {
		json_object_object_add(im->def, "accel",
		                       json_object_new_string(type[0] == 'k' ? "kvm" : "emu"));
		xmlFree(type);
	} else {
		r = vk_error_set(im->err, EINVAL,
		                 "unsupported domain type '%.32s' (only 'kvm' and 'qemu')", type);
		xmlFree(type);
		return r;
	}
	json_object_object_add(im->def, "type", json_object_new_string("vm"));
	if (!(n = child(dom, "name")))
		return vk_error_set(im->err, EINVAL, "domain XML needs a <name>");
	if ((r = add_text(im, im->def, "name", n)) < 0)
		return r;
	if ((n = child(dom, "uuid")) && (r = add_text(im, im->def, "uuid", n)) < 0)
		return r;
	if ((n = child(dom, "description")) && (r = add_raw(im, im->def, "description", n)) < 0)
		return r;
	if ((n = child(dom, "memory"))) {
		if ((r = parse_memory(im, n, &mem)) < 0)
			return r;
		json_object_object_add(im->def, "memory",
		                       json_object_new_int64((int64_t)VK_MIN(mem, INT64_MAX)));
		if ((n = child(dom, "currentMemory"))) {
			if ((r = parse_memory(im, n, &cur)) < 0)
				return r;
			if (cur != mem)
				return vk_error_set(
				        im->err, EINVAL,
				        "unsupported <currentMemory> different from <memory> "
				        "(no balloon)");
		}
	}
	if ((n = child(dom, "vcpu"))) {
		char *t = text(n), *end;
		unsigned long v;
		if (!t)
			return vk_error_set(im->err, ENOMEM, "out of memory");
		errno = 0;
		v = strtoul(t, &end, 10);
		r = (!*t || *end || errno || v > 1024 || *t == '-')
		            ? vk_error_set(im->err, EINVAL,
		                           "invalid <vcpu> value '%.32s' in domain XML", t)
		            : 0;
		xmlFree(t);
		if (r < 0)
			return r;
		json_object_object_add(im->def, "cpus", json_object_new_int64((int64_t)v));
	}
	if (!(n = child(dom, "os")))
		return vk_error_set(im->err, EINVAL, "domain XML needs an <os> element");
	if ((r = import_os(im, n)) < 0)
		return r;
	for (n = dom->children; n; n = n->next)
		if (is_elem(n) &&
		    (name_is(n, "on_poweroff") || name_is(n, "on_reboot") ||
		     name_is(n, "on_crash")) &&
		    (r = import_lifecycle(im, n)) < 0)
			return r;
	if ((n = child(dom, "devices")) && (r = import_devices(im, n)) < 0)
		return r;
	return 0;
}

int domxml_import(const char *buf, size_t len, json_object **out, struct vk_error *err)
{
	struct imp im = {.err = err};
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int r;

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
	r = xmlDocGetRootElement(doc) ? import_domain(&im, xmlDocGetRootElement(doc))
	                              : vk_error_set(err, EINVAL, "domain XML is empty");
	xmlFreeDoc(doc);
	if (r < 0) {
		json_object_put(im.def);
		return r;
	}
	*out = im.def;
	return 0;
}
