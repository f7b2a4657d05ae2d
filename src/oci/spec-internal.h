/* SPDX-License-Identifier: MIT */
/* Section parsers shared between the spec*.c files (not used outside them). */
#ifndef VK_OCI_SPEC_INTERNAL_H
#define VK_OCI_SPEC_INTERNAL_H

#include "spec-json.h"

int spec_parse_process(struct sj *s, json_object *o, struct oci_process *p);
int spec_parse_linux(struct sj *s, json_object *o, struct oci_linux *l);
int spec_parse_resources(struct sj *s, json_object *o, struct oci_resources *r);
int spec_parse_seccomp(struct sj *s, json_object *o, struct oci_seccomp *sc);
int spec_parse_mount_options(struct sj *s, struct oci_mount *m);

void spec_free_linux(struct oci_linux *l);
void spec_free_resources(struct oci_resources *r);
void spec_free_seccomp(struct oci_seccomp *sc);

#endif
