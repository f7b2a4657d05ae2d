/* SPDX-License-Identifier: MIT */
/* Private to main/migrate*.c: migration addresses and the source's side of the connection. */
#ifndef VK_VM_MIGRATE_NET_H
#define VK_VM_MIGRATE_NET_H

#include <stdbool.h>

#include "common/error.h"

struct vm_migrate_addr {
	bool unix_socket;
	char path[108];
	char host[256];
	char port[8];
};

/* unix:PATH or tcp:HOST:PORT. */
int vm_migrate_parse_uri(const char *uri, struct vm_migrate_addr *a,
                         struct vk_error *err) VK_MUST_CHECK;
/* A connected socket (with send and receive timeouts), or -errno. */
int vm_migrate_connect(const char *uri, struct vk_error *err) VK_MUST_CHECK;
/* The destination's answer once it has loaded the state: 0 for OK, else -errno with its
 * sentence in err. */
int vm_migrate_read_answer(int fd, struct vk_error *err) VK_MUST_CHECK;

#endif
