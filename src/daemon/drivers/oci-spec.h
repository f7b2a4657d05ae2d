/* SPDX-License-Identifier: MIT */
/* The OCI bundle configuration (config.json) generated for a container definition. */
#ifndef VKD_OCI_SPEC_H
#define VKD_OCI_SPEC_H

#include <json-c/json.h>

/*
 * A runtime-spec 1.0 config.json for a normalized container definition with a
 * rootfs. netns (NULL or "": a namespace of its own) is the network namespace
 * the daemon made for a container on a network (network.h).
 */
json_object *oci_spec_build(json_object *def, const char *cgroup_path, const char *netns);

#endif
