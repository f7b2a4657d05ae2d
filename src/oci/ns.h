/* SPDX-License-Identifier: MIT */
/*
 * Namespaces: names, joining by path, the loopback of a new network
 * namespace, and the user namespace id maps (written directly by root or for
 * a rootless single mapping of the caller, through newuidmap/newgidmap
 * otherwise).
 */
#ifndef VK_OCI_NS_H
#define VK_OCI_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Every namespace type, user first (the order setns needs). */
extern const int oci_ns_all[8];

/* The file name under /proc/<pid>/ns/ for a CLONE_NEW* type. */
const char *oci_ns_proc_name(int type);

/* setns() into the namespace at path, checking that it is of that type. */
int oci_ns_join_path(int type, const char *path, struct vk_error *err) VK_MUST_CHECK;

/*
 * Bring the loopback interface of the calling process's network namespace
 * up (what runc and crun do for a network namespace they create; the kernel
 * then gives it 127.0.0.1 and ::1).
 */
int oci_net_loopback_up(struct vk_error *err) VK_MUST_CHECK;

/* Write /proc/<pid>/{setgroups,gid_map,uid_map} for the spec's mappings. */
int oci_idmaps_write(pid_t pid, const struct oci_spec *spec, bool rootless,
                     struct vk_error *err) VK_MUST_CHECK;

/* Whether host uid/gid is mapped by the spec (container id out). */
bool oci_idmap_to_container(const struct oci_idmap *m, size_t n, uint32_t host, uint32_t *out);

#endif
