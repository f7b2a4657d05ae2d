/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces pinned by a file (as `ip netns add` does: a bind mount
 * of the namespace on an empty file), so that a container's namespace, its
 * veth and addresses exist before its runtime starts and outlive a restart
 * of virtkitd; and code run inside one on a thread of its own (setns(2)
 * changes the namespace of the calling thread only). sysctl_set() writes
 * /proc/sys in the calling thread's network namespace.
 */
#ifndef VK_NET_NETNS_H
#define VK_NET_NETNS_H

#include "common/error.h"

/* A new network namespace with loopback only, pinned at path (which must not exist). */
int netns_create(const char *path, struct vk_error *err) VK_MUST_CHECK;
/* Unpin (lazy unmount) and remove path; a namespace nothing else holds goes away. */
int netns_remove(const char *path);

/*
 * Run fn(arg, err) on a new thread inside the namespace pinned at path and
 * return its result.
 */
int netns_run(const char *path, int (*fn)(void *arg, struct vk_error *err), void *arg,
              struct vk_error *err) VK_MUST_CHECK;

/* Write value to /proc/sys/KEY, KEY a path such as "net/ipv4/ip_forward". */
int sysctl_set(const char *key, const char *value, struct vk_error *err) VK_MUST_CHECK;

#endif
