/* SPDX-License-Identifier: MIT */
/*
 * The console hub of one running instance: a thread connected to the
 * workload's console socket (virtkit-vm's --console socket:PATH, or the
 * container shim's), appending its output to the console log and copying it
 * to every attached client; input from any client goes to the workload.
 * Clients are API connections upgraded to raw byte streams.
 */
#ifndef VKD_CONSOLE_H
#define VKD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct console;

int console_open(const char *sock_path, const char *log_path, bool log, struct console **out,
                 struct vk_error *err) VK_MUST_CHECK;

/*
 * Hand a client socket to the hub (pre: bytes the client already sent).
 * done(opaque) is called exactly once when the client is gone, also when
 * this call fails; it is the one to close fd.
 */
int console_attach(struct console *c, int fd, const void *pre, size_t pre_len,
                   void (*done)(void *opaque), void *opaque);

struct console *console_ref(struct console *c);
void console_unref(struct console *c);

/* Disconnect every client and stop the thread; drops the caller's reference. */
void console_close(struct console *c);

#endif
