/* SPDX-License-Identifier: MIT */
/*
 * Character devices: the host end of a guest serial line or console.
 *
 * Backends (spec strings, as on the virtkit-vm command line):
 *   stdio        the terminal, in raw mode while the VM runs (restored on every
 *                exit path); Ctrl-A x quits, Ctrl-A Ctrl-A sends a Ctrl-A
 *   pty          a new pseudo-terminal; its path is printed on stderr
 *   socket:PATH  a listening unix socket; one client at a time
 *   file:PATH    output appended to a file, no input
 *   null         output discarded, no input
 *
 * A device (UART, virtio-console) attaches one client. Input flows only as
 * fast as the device takes it: the backend asks can_receive() before reading
 * and stops watching its fd when the answer is 0; the device calls
 * chardev_accept_input() once it has room again. Output never blocks the VM:
 * chardev_write() takes what the host side can accept now and drops the rest
 * when nobody is connected.
 *
 * All calls and callbacks happen under the machine lock (see loop.h).
 */
#ifndef VK_VM_CHARDEV_H
#define VK_VM_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct vm_loop;
struct chardev;

struct chardev_client {
	size_t (*can_receive)(void *opaque);
	void (*receive)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

struct chardev *chardev_open(struct vm_loop *loop, const char *spec, struct vk_error *err);
void chardev_close(struct chardev *c);

void chardev_attach(struct chardev *c, const struct chardev_client *client);
void chardev_accept_input(struct chardev *c);
size_t chardev_write(struct chardev *c, const void *buf, size_t len);

/* Called when the user asks to quit (stdio escape). */
void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *opaque), void *opaque);

#endif
