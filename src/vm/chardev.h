/* SPDX-License-Identifier: MIT */
/*
 * Character devices: the host end of a guest serial line or console.
 *
 * Backends (spec strings, as on the virtkit-vm command line):
 *   stdio        the terminal, in raw mode while the VM runs (restored on every
 *                exit path); Ctrl-A x quits, Ctrl-A Ctrl-A sends a Ctrl-A
 *   pty          a new pseudo-terminal; its path is printed on stderr
 *   socket:PATH  a listening unix socket; one client at a time (a new client
 *                replaces the current one); the file is removed on close
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
 * Output flow: while somebody is connected, each backend queues up to 64 KiB
 * that the host side has not read yet; past that chardev_write() returns less
 * than asked and the client's write_ready() (if set) is called once there is
 * room again. With nobody connected (pty slave closed, no socket client,
 * stdout gone) output is discarded and chardev_write() returns len.
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
	/* Optional: output space freed after a short chardev_write(). */
	void (*write_ready)(void *opaque);
	/* Optional: the user sent a break (stdio: Ctrl-A b), e.g. for SysRq. */
	void (*receive_break)(void *opaque);
};

struct chardev *chardev_open(struct vm_loop *loop, const char *spec, struct vk_error *err);
void chardev_close(struct chardev *c);

/* The client is copied; NULL detaches (do that before the device goes away). */
void chardev_attach(struct chardev *c, const struct chardev_client *client);
void chardev_accept_input(struct chardev *c);
size_t chardev_write(struct chardev *c, const void *buf, size_t len);

/*
 * Called when the user asks to quit (stdio escape). The handler runs inside a
 * loop callback: it must not close the chardev itself, only ask the main loop
 * to stop. Without a handler the process exits with status 0 (the terminal is
 * restored by the atexit handler).
 */
void chardev_set_quit_handler(struct chardev *c, void (*quit)(void *opaque), void *opaque);

/* The loop the backend was opened on (for a device's own timers). */
struct vm_loop *chardev_get_loop(const struct chardev *c);

/* The pty slave, socket or file path, or NULL for stdio and null. */
const char *chardev_path(const struct chardev *c);

#endif
