/* SPDX-License-Identifier: MIT */
/* The OCI bundle configuration (config.json) generated for a container definition. */
#ifndef VKD_OCI_SPEC_H
#define VKD_OCI_SPEC_H

#include <json-c/json.h>

struct network_ct;

/*
 * A runtime-spec 1.0 config.json for a normalized container definition with a
 * rootfs. net (NULL: none) is what the daemon made for a container on a
 * network (network.h): the network namespace it joins, the resolv.conf it sees.
 */
json_object *oci_spec_build(json_object *def, const char *cgroup_path,
                            const struct network_ct *net);

#endif
