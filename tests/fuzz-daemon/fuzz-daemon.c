/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harnesses for what virtkitd parses from clients: the request route,
 * JSON definitions (strict parse + schema check + normalization), volume
 * requests and libvirt domain XML. Besides "no crash, no leak, no sanitizer report", they check
 * one property: a VM definition the daemon accepts exports as domain XML
 * that imports back to the same definition, every field (those libvirt has
 * no place for travel in virtkit's <metadata> namespace), without a warning;
 * a violation aborts.
 */
#include "fuzz-daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/def-volume.h"
#include "daemon/def.h"
#include "daemon/def-network.h"
#include "daemon/domxml.h"
#include "daemon/router.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* export(def) must import and normalize back to def. */
static void check_round_trip(json_object *def)
{
	struct vk_error err = {0};
	struct domxml_report rep;
	json_object *back = NULL, *norm = NULL, *a, *b;
	char *xml = NULL;

	if (def_type(def) != DEF_VM)
		return;
	if (domxml_export(def, &xml, &err) < 0) {
		fprintf(stderr, "accepted VM definition does not export: %s\n", err.msg);
		abort();
	}
	if (domxml_import(xml, strlen(xml), &back, &rep, &err) < 0 ||
	    def_normalize(back, &norm, NULL, &err) < 0) {
		fprintf(stderr, "exported XML does not import: %s\n%s\n", err.msg, xml);
		abort();
	}
	if (json_object_array_length(rep.warnings) > 0) {
		fprintf(stderr, "exported XML imports with warnings: %s\n%s\n",
		        json_object_to_json_string(rep.warnings), xml);
		abort();
	}
	domxml_report_free(&rep);
	a = json_tokener_parse(json_object_to_json_string_ext(def, JSON_FLAGS));
	b = json_tokener_parse(json_object_to_json_string_ext(norm, JSON_FLAGS));
	if (!json_object_equal(a, b)) {
		fprintf(stderr, "XML round trip changed the definition:\n%s\n%s\n%s\n",
		        json_object_to_json_string_ext(a, JSON_FLAGS),
		        json_object_to_json_string_ext(b, JSON_FLAGS), xml);
		abort();
	}
	json_object_put(a);
	json_object_put(b);
	json_object_put(back);
	json_object_put(norm);
	free(xml);
}

/* Parse, check and normalize a definition; returns the normalized one or NULL. */
static json_object *definition(const char *buf, size_t len, bool xml)
{
	struct vk_error err = {0};
	json_object *raw = NULL, *def = NULL;
	bool autostart;

	if ((xml ? domxml_import(buf, len, &raw, NULL, &err)
	         : def_parse_json(buf, len, &raw, &err)) < 0)
		return NULL;
	/* As the API does: a definition whose metadata is no XML element is refused. */
	if (def_normalize(raw, &def, xml ? NULL : &autostart, &err) < 0)
		def = NULL;
	else if (domxml_check_metadata(def, &err) < 0) {
		json_object_put(def);
		def = NULL;
	}
	json_object_put(raw);
	/* What the API also checks before it accepts a definition (api.c). */
	if (def && domxml_check_metadata(def, &err) < 0) {
		json_object_put(def);
		def = NULL;
	}
	if (def && (!def_name_valid(def_name(def)) || !def_uuid_valid(def_uuid(def)) ||
	            strpbrk(def_uuid(def), "ABCDEF"))) {
		/* uuids compare case-insensitively: normalized ones are lower case */
		fprintf(stderr, "normalized definition with an invalid name or uuid\n");
		abort();
	}
	return def;
}

/* A network definition: normalized twice, the second time from the first's output. */
static void network_definition(const char *buf, size_t len)
{
	struct vk_error err = {0};
	json_object *raw = NULL, *a = NULL, *b = NULL;

	if (def_parse_json(buf, len, &raw, &err) < 0)
		return;
	if (netdef_normalize(raw, &a, &err) == 0) {
		if (!netdef_name_valid(def_name(a)) || netdef_normalize(a, &b, &err) < 0 ||
		    !json_object_equal(a, b)) {
			fprintf(stderr, "a normalized network does not normalize to itself: %s\n",
			        err.msg);
			abort();
		}
	}
	json_object_put(b);
	json_object_put(a);
	json_object_put(raw);
}

/* A volume request body: what is accepted is in range, named validly, of a known format. */
static void volume_request(const char *buf, size_t len)
{
	struct vk_error err = {0};
	struct volume_spec spec;
	json_object *o;
	uint64_t size;

	if (def_parse_json(buf, len, &o, &err) < 0)
		return;
	if (def_volume_create(o, &spec, &err) == 0 &&
	    (!def_name_valid(spec.name) || spec.size % 512 || spec.size > VOLUME_SIZE_MAX ||
	     (!spec.from && spec.size < VOLUME_SIZE_MIN) ||
	     (strcmp(spec.format, "qcow2") != 0 && strcmp(spec.format, "raw") != 0) ||
	     (spec.from && (strcmp(spec.format, "qcow2") != 0 ||
	                    (!spec.from_is_path && !def_name_valid(spec.from)))))) {
		fprintf(stderr, "accepted volume request out of its rules\n");
		abort();
	}
	if (def_volume_resize(o, &size, &err) == 0 &&
	    (size % 512 || size < VOLUME_SIZE_MIN || size > VOLUME_SIZE_MAX)) {
		fprintf(stderr, "accepted resize out of range\n");
		abort();
	}
	json_object_put(o);
}

/* Every route that names something hands out a valid name. */
static bool route_names_valid(const struct route_match *m)
{
	if ((m->id >= ROUTE_INSTANCE && m->id <= ROUTE_EXEC) || m->id == ROUTE_NETWORK ||
	    m->id == ROUTE_NETWORK_LEASES)
		return def_name_valid(m->name);
	if (m->id == ROUTE_POOL || m->id == ROUTE_VOLUMES)
		return def_name_valid(m->pool);
	if (m->id == ROUTE_VOLUME)
		return def_name_valid(m->pool) && def_name_valid(m->name);
	return true;
}

int vkd_fuzz_request(const uint8_t *data, size_t len)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
	struct vk_error err = {0};
	struct route_match m;
	const char *nl;
	char path[640];
	size_t plen;
	json_object *def;

	if (len < 1)
		return 0;
	nl = memchr(data + 1, '\n', len - 1);
	plen = nl ? (size_t)(nl - (const char *)data - 1) : len - 1;
	if (plen >= sizeof(path))
		plen = sizeof(path) - 1;
	memcpy(path, data + 1, plen);
	path[plen] = '\0';
	if (router_match(methods[data[0] % 6], path, &m, &err) == 0 && !route_names_valid(&m))
		abort(); /* a route handed out an invalid name */
	if (nl && m.id == ROUTE_NETWORKS) {
		network_definition(nl + 1, len - (size_t)(nl + 1 - (const char *)data));
	} else if (nl) {
		const char *body = nl + 1;
		size_t blen = len - (size_t)(body - (const char *)data);
		if (!blen || body[0] != '<')
			volume_request(body, blen);
		def = definition(body, blen, blen && body[0] == '<');
		if (def) {
			check_round_trip(def);
			json_object_put(def);
		}
	}
	return 0;
}

int vkd_fuzz_domxml(const uint8_t *data, size_t len)
{
	json_object *def = definition((const char *)data, len, true);

	if (def) {
		check_round_trip(def);
		json_object_put(def);
	}
	return 0;
}
