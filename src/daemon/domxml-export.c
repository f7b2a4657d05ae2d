/* SPDX-License-Identifier: MIT */
/*
 * libvirt domain XML export of a normalized VM definition (libxml2's tree
 * API, so that every value is escaped). What the importer (domxml.c) reads
 * back is the same definition, every field: those libvirt's schema has no
 * place for (firmware "none", console.log, hostfwd, publish) go into <metadata> in
 * virtkit's namespace, beside the other applications' elements the
 * definition kept.
 */
#include "daemon/domxml.h"

#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/compiler.h"

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *gets(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *content)
{
	/* xmlNewTextChild escapes the content (xmlNewChild would not). */
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)content);
}

static void prop(xmlNodePtr n, const char *name, const char *val)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)val);
}

/* Parse kept metadata ("<a:x xmlns:a='...'/>...") into a list of nodes for doc. */
static xmlNodePtr parse_metadata(xmlDocPtr doc, const char *text, struct vk_error *err)
{
	static const char open[] = "<metadata>", close[] = "</metadata>";
	size_t n = strlen(text);
	char *buf = malloc(sizeof(open) + n + sizeof(close));
	xmlDocPtr frag;
	xmlNodePtr list = NULL, c;

	if (!buf) {
		vk_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(buf, open, sizeof(open) - 1);
	memcpy(buf + sizeof(open) - 1, text, n);
	memcpy(buf + sizeof(open) - 1 + n, close, sizeof(close));
	frag = xmlReadMemory(buf, (int)strlen(buf), "metadata.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(buf);
	if (!frag || frag->intSubset || !xmlDocGetRootElement(frag)) {
		xmlFreeDoc(frag);
		vk_error_set(err, EINVAL, "invalid definition: 'metadata' is not well-formed XML");
		return NULL;
	}
	for (c = xmlDocGetRootElement(frag)->children; c; c = c->next) {
		xmlNodePtr copy;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!c->ns || xmlStrcmp(c->ns->href, (const xmlChar *)DOMXML_NS) == 0) {
			vk_error_set(err, EINVAL,
			             "invalid definition: 'metadata' elements need a namespace "
			             "other than virtkit's (%.64s)",
			             (const char *)c->name);
			xmlFreeNodeList(list);
			xmlFreeDoc(frag);
			return NULL;
		}
		copy = xmlDocCopyNode(c, doc, 1);
		if (copy && !list)
			list = copy;
		else if (copy)
			xmlAddSibling(list, copy);
	}
	xmlFreeDoc(frag);
	if (!list)
		vk_error_set(err, EINVAL, "invalid definition: 'metadata' holds no element");
	return list;
}

int domxml_check_metadata(json_object *def, struct vk_error *err)
{
	const char *md = gets(def, "metadata");
	xmlDocPtr doc;
	xmlNodePtr list;

	if (!md)
		return 0;
	doc = xmlNewDoc((const xmlChar *)"1.0");
	list = doc ? parse_metadata(doc, md, err) : NULL;
	if (list)
		xmlFreeNodeList(list);
	xmlFreeDoc(doc);
	return list ? 0 : -EINVAL;
}

/* <metadata> and, inside it, <virtkit:vm>: made when first needed. */
struct meta {
	xmlNodePtr dom, meta, vm;
	xmlNsPtr ns;
};

static xmlNodePtr meta_node(struct meta *m)
{
	if (!m->meta)
		m->meta = add(m->dom, "metadata", NULL);
	return m->meta;
}

static xmlNodePtr ours(struct meta *m, const char *name, const char *content)
{
	if (!m->vm) {
		m->vm = xmlNewChild(meta_node(m), NULL, (const xmlChar *)"vm", NULL);
		m->ns = xmlNewNs(m->vm, (const xmlChar *)DOMXML_NS, (const xmlChar *)"virtkit");
		xmlSetNs(m->vm, m->ns);
	}
	return xmlNewTextChild(m->vm, m->ns, (const xmlChar *)name, (const xmlChar *)content);
}

/* The kept elements, then ours for the fields libvirt has no place for. */
static int add_metadata(xmlDocPtr doc, xmlNodePtr dom, json_object *def, struct vk_error *err)
{
	const char *fw = gets(def, "firmware"), *md = gets(def, "metadata");
	json_object *con = get(def, "console"), *nets = get(def, "networks"), *log, *pub;
	struct meta m = {.dom = dom};
	char idx[24];

	if (md) {
		xmlNodePtr list = parse_metadata(doc, md, err);
		if (!list)
			return -EINVAL;
		xmlAddChildList(meta_node(&m), list);
	}
	if (fw && strcmp(fw, "none") == 0)
		ours(&m, "firmware", "none");
	if (con && json_object_object_get_ex(con, "log", &log) && !json_object_get_boolean(log))
		prop(ours(&m, "console", NULL), "log", "no");
	for (size_t i = 0; (pub = get(def, "publish")) && i < json_object_array_length(pub); i++)
		ours(&m, "publish", json_object_get_string(json_object_array_get_idx(pub, i)));
	for (size_t i = 0; nets && i < json_object_array_length(nets); i++) {
		json_object *fwd = get(json_object_array_get_idx(nets, i), "hostfwd");
		for (size_t j = 0; fwd && j < json_object_array_length(fwd); j++) {
			snprintf(idx, sizeof(idx), "%zu", i);
			prop(ours(&m, "hostfwd",
			          json_object_get_string(json_object_array_get_idx(fwd, j))),
			     "interface", idx);
		}
	}
	return 0;
}

int domxml_export(json_object *def, char **out, struct vk_error *err)
{
	const char *arch = gets(def, "arch"), *s;
	char num[32];
	xmlDocPtr doc;
	xmlNodePtr dom, os, n, devs, d;
	json_object *arr;
	xmlChar *mem = NULL;
	int64_t memory;
	size_t i;
	int size = 0;

	if (!gets(def, "type") || strcmp(gets(def, "type"), "vm") != 0 || !arch)
		return vk_error_set(err, EINVAL,
		                    "only VM definitions can be exported as domain XML");
	doc = xmlNewDoc((const xmlChar *)"1.0");
	dom = xmlNewNode(NULL, (const xmlChar *)"domain");
	xmlDocSetRootElement(doc, dom);
	s = gets(def, "accel");
	prop(dom, "type", s && strcmp(s, "kvm") == 0 ? "kvm" : "qemu");
	add(dom, "name", gets(def, "name"));
	add(dom, "uuid", gets(def, "uuid"));
	if ((s = gets(def, "description")))
		add(dom, "description", s);
	if (add_metadata(doc, dom, def, err) < 0) {
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	memory = json_object_get_int64(get(def, "memory"));
	if (memory % 1024 == 0) {
		snprintf(num, sizeof(num), "%" PRId64, memory / 1024);
		prop(add(dom, "memory", num), "unit", "KiB");
	} else {
		snprintf(num, sizeof(num), "%" PRId64, memory);
		prop(add(dom, "memory", num), "unit", "b");
	}
	snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(get(def, "cpus")));
	add(dom, "vcpu", num);
	os = add(dom, "os", NULL);
	n = add(os, "type", "hvm");
	prop(n, "arch", arch);
	prop(n, "machine", strcmp(arch, "riscv64") == 0 ? "virt" : "pc");
	if ((s = gets(def, "firmware")) && strcmp(s, "none") != 0)
		add(os, "loader", s);
	if ((s = gets(def, "kernel")))
		add(os, "kernel", s);
	/* A disk boot: the firmware's boot loader reads the first disk (libvirt's boot order). */
	if ((s = gets(def, "boot")) && strcmp(s, "disk") == 0)
		prop(add(os, "boot", NULL), "dev", "hd");
	if ((s = gets(def, "initrd")))
		add(os, "initrd", s);
	if ((s = gets(def, "cmdline")))
		add(os, "cmdline", s);
	add(dom, "on_poweroff", "destroy");
	s = gets(def, "on_reset");
	add(dom, "on_reboot", s && strcmp(s, "reboot") == 0 ? "restart" : "destroy");
	add(dom, "on_crash", "destroy");
	devs = add(dom, "devices", NULL);
	arr = get(def, "disks");
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		char dev[8];
		const char *vol = gets(o, "volume");

		d = add(devs, "disk", NULL);
		prop(d, "type", vol ? "volume" : "file");
		prop(d, "device", "disk");
		n = add(d, "driver", NULL);
		prop(n, "name", "qemu");
		/* Without a type virtkit-vm takes raw unless it sees a qcow2 header (then refuses). */
		if (gets(o, "format"))
			prop(n, "type", gets(o, "format"));
		n = add(d, "source", NULL);
		if (vol) {
			prop(n, "pool", "default");
			prop(n, "volume", vol);
		} else {
			prop(n, "file", gets(o, "path"));
		}
		n = add(d, "target", NULL);
		snprintf(dev, sizeof(dev), "vd%c", (char)('a' + i));
		prop(n, "dev", dev);
		prop(n, "bus", "virtio");
		if (json_object_get_boolean(get(o, "readonly")))
			add(d, "readonly", NULL);
	}
	arr = get(def, "networks");
	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *t = gets(o, "type") ? gets(o, "type") : "user";
		bool tap = strcmp(t, "tap") == 0;
		d = add(devs, "interface", NULL);
		prop(d, "type", tap ? "ethernet" : t);
		if (gets(o, "mac"))
			prop(add(d, "mac", NULL), "address", gets(o, "mac"));
		if (strcmp(t, "network") == 0)
			prop(add(d, "source", NULL), "network", gets(o, "name"));
		else if (strcmp(t, "bridge") == 0)
			prop(add(d, "source", NULL), "bridge", gets(o, "bridge"));
		if (tap)
			prop(add(d, "target", NULL), "dev", gets(o, "ifname"));
		prop(add(d, "model", NULL), "type", "virtio");
	}
	d = add(devs, "serial", NULL);
	prop(d, "type", "pty");
	prop(add(d, "target", NULL), "port", "0");
	d = add(devs, "console", NULL);
	prop(d, "type", "pty");
	n = add(d, "target", NULL);
	prop(n, "type", "serial");
	prop(n, "port", "0");
	if (json_object_get_boolean(get(def, "rng"))) {
		d = add(devs, "rng", NULL);
		prop(d, "model", "virtio");
		prop(add(d, "backend", "/dev/urandom"), "model", "random");
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	xmlFreeDoc(doc);
	if (!mem)
		return vk_error_set(err, ENOMEM, "out of memory");
	/* Skip the XML declaration: libvirt's dumpxml prints the bare element. */
	s = (const char *)mem;
	if (strncmp(s, "<?xml", 5) == 0)
		s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s;
	*out = strdup(s);
	xmlFree(mem);
	return *out ? 0 : vk_error_set(err, ENOMEM, "out of memory");
}
