/* SPDX-License-Identifier: MIT */
/*
 * The runtime <-> container-process channel: a SOCK_SEQPACKET socketpair
 * carrying small typed messages, optionally with one file descriptor
 * (SCM_RIGHTS). Both ends are O_CLOEXEC, so the runtime sees EOF exactly when
 * the container process has exec'd (or died).
 */
#ifndef VK_OCI_SYNC_H
#define VK_OCI_SYNC_H

#include <stdint.h>

#include "common/error.h"

enum sync_type {
	SYNC_ERROR = 1,       /* child -> parent: text is the error, value the errno */
	SYNC_USERNS,          /* child -> parent: write my id maps (two-stage) */
	SYNC_GO,              /* parent -> child: maps written, cgroups joined */
	SYNC_PID,             /* child -> parent: value is the container process pid */
	SYNC_PTY,             /* child -> parent: the pty master rides along */
	SYNC_HOOKS,           /* child -> parent: run prestart + createRuntime hooks */
	SYNC_HOOKS_DONE,      /* parent -> child */
	SYNC_READY,           /* child -> parent: set up, waiting for start */
	SYNC_START,           /* parent -> child (run): go on and exec */
	SYNC_STARTED,         /* child -> start command: accepted, about to exec */
	SYNC_EXEC_ERROR = 11, /* the init stub: text + ": " + strerror(value) */
	SYNC_CG_DONE,         /* parent -> child: cgroups made and joined */
};

struct sync_msg {
	uint32_t type;
	int32_t value;
	char text[VK_ERROR_MSG_MAX];
};

/* Create the pair: fds[0] for the runtime, fds[1] for the container process. */
int sync_pair(int fds[2], struct vk_error *err) VK_MUST_CHECK;

/*
 * Send len bytes, with descriptor passfd (SCM_RIGHTS) when it is >= 0, on any unix
 * socket (the sync pair, --console-socket, a seccomp listener). Returns 0 or -errno.
 */
int sync_sendmsg(int sock, const void *buf, size_t len, int passfd);

/* Send a message (text may be NULL; passfd < 0 for none). Returns 0 or -errno. */
int sync_send(int fd, uint32_t type, int32_t value, const char *text, int passfd);

/*
 * Receive one message. *passfd gets a received descriptor or -1. Returns 0,
 * -EPIPE on EOF, -ETIMEDOUT after timeout_ms (< 0: wait forever), or -errno.
 */
int sync_recv(int fd, struct sync_msg *m, int *passfd, int timeout_ms);

/* Report err over the channel (child side) and exit. */
VK_NORETURN void sync_die(int fd, const struct vk_error *err, int status);

#endif
