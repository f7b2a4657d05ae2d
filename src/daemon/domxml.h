/* SPDX-License-Identifier: MIT */
/*
 * libvirt domain XML: import into a virtkit VM definition and export of a
 * normalized VM definition, with libxml2. docs/api.md lists what becomes a
 * field, what is accepted and ignored (each with a warning saying why that is
 * harmless) and what is refused (each problem named by its element's path,
 * all of a document's problems at once). <metadata> elements of other
 * namespaces are kept as they are; virtkit's own fields that libvirt has no
 * place for live in DOMXML_NS, so that export -> import gives back every
 * field. Pure code (fuzzed).
 */
#ifndef VKD_DOMXML_H
#define VKD_DOMXML_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/error.h"

/* virtkit's namespace inside <metadata> (libvirt's convention for applications). */
#define DOMXML_NS "http://virtkit.org/xmlns/libvirt/domain/1.0"

/* What an import had to say besides the definition: JSON arrays of sentences. */
struct domxml_report {
	json_object *warnings; /* "PATH: ignored: WHY" for each element accepted and ignored */
	json_object *problems; /* "PATH: WHY" for each reason the document was refused */
};

void domxml_report_free(struct domxml_report *rep);

/* Call once at program start (libxml2's global initialisation). */
void domxml_init(void);

/*
 * Parse a <domain> document into a definition object (not yet normalized:
 * pass it to def_normalize()). DOCTYPEs and external entities are refused.
 * rep (may be NULL) receives the warnings, and on EINVAL every problem; the
 * caller frees it with domxml_report_free() either way.
 */
int domxml_import(const char *buf, size_t len, json_object **out, struct domxml_report *rep,
                  struct vk_error *err) VK_MUST_CHECK;

/*
 * A definition's kept "metadata" (elements of other namespaces, as XML text)
 * must parse back: 0, or -EINVAL naming the field. Definitions given as JSON
 * are checked with it, so that every stored definition exports.
 */
int domxml_check_metadata(json_object *def, struct vk_error *err) VK_MUST_CHECK;

/* Write a normalized VM definition as a <domain> document (malloc'd, NUL-terminated). */
int domxml_export(json_object *def, char **out, struct vk_error *err) VK_MUST_CHECK;

#endif
