/* SPDX-License-Identifier: MIT */
/*
 * Terminals: the pty is allocated from the container's own devpts, its
 * master handed to the caller's --console-socket with SCM_RIGHTS (what
 * conmon and containerd expect), or, for a foreground `run`/`exec` without a
 * socket, proxied to the runtime's own stdin/stdout.
 */
#ifndef VK_OCI_CONSOLE_H
#define VK_OCI_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Connect to the unix socket a caller listens on. Returns the fd. */
int oci_console_connect(const char *path, struct vk_error *err) VK_MUST_CHECK;

/*
 * Open a new pty from the devpts instance whose ptmx is ptmx_fd's target
 * (O_PATH or real fd) or ptmx_path. *slave_name gets "/dev/pts/N".
 */
int oci_console_open(int dirfd, const char *ptmx_path, unsigned rows, unsigned cols, int *master,
                     int *slave, char *slave_name, size_t cap, struct vk_error *err) VK_MUST_CHECK;

/* Make slave the controlling terminal and stdin/stdout/stderr. */
int oci_console_attach(int slave, struct vk_error *err) VK_MUST_CHECK;

/* Send the master to the console socket (the message carries the pty name). */
int oci_console_send(int sock, int master, const char *name, struct vk_error *err) VK_MUST_CHECK;

/*
 * Copy stdin -> master and master -> stdout until the process behind pidfd
 * exits and the master drains. Puts a terminal stdin in raw mode meanwhile.
 */
void oci_console_proxy(int master, int pidfd);

#endif
