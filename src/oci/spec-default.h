/* SPDX-License-Identifier: MIT */
/*
 * The default config.json (runtime-spec 1.0): the one source of the defaults
 * that `virtkit-oci spec` writes and that virtkitd starts every container
 * from. Needs json-c only, so the daemon links it without the runtime.
 */
#ifndef VK_OCI_SPEC_DEFAULT_H
#define VK_OCI_SPEC_DEFAULT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#define OCI_VERSION "1.0.2"

/* The default spec (rootless variant when asked: a user namespace mapping uid/gid). Caller puts. */
json_object *oci_spec_default(bool rootless, uid_t uid, gid_t gid);

#endif
