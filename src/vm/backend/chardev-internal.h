/* SPDX-License-Identifier: MIT */
/*
 * Inside the character devices: what the core (chardev.c) shares with the
 * backends (chardev-*.c) and with unit tests that build a fake backend.
 * Nothing outside src/vm/backend/ and tests/unit/hw/ includes this file.
 *
 * A backend embeds struct chardev, fills in its ops and loop, and moves
 * bytes with the helpers below:
 *   - chardev_can_receive()/chardev_deliver() hand input to the attached
 *     device (can_receive is 0 when nothing is attached);
 *   - chardev_notify_write_ready() tells the device that output space freed
 *     up after a short chardev_write();
 *   - struct chardev_stream does the fd plumbing shared by stdio, pty and
 *     the socket client: non-blocking reads paced by can_receive(), and a
 *     bounded output queue flushed on POLLOUT.
 */
#ifndef VK_VM_CHARDEV_INTERNAL_H
#define VK_VM_CHARDEV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/chardev.h"
#include "vm/loop.h"

struct chardev_ops {
	const char *name;
	/* Take up to len bytes of output; return how many were taken. */
	size_t (*write)(struct chardev *c, const uint8_t *buf, size_t len);
	/* The device has room for input again (may be NULL: no input). */
	void (*accept_input)(struct chardev *c);
	/* Release everything, including c itself. */
	void (*close)(struct chardev *c);
};

struct chardev {
	const struct chardev_ops *ops;
	struct vm_loop *loop;
	const char *path; /* pty slave, socket or file path (owned by the backend) */
	struct chardev_client client;
	bool attached;
	void (*quit)(void *opaque);
	void *quit_opaque;
};

size_t chardev_can_receive(struct chardev *c);
void chardev_deliver(struct chardev *c, const uint8_t *buf, size_t len);
void chardev_deliver_break(struct chardev *c);
void chardev_notify_write_ready(struct chardev *c);
void chardev_request_quit(struct chardev *c);
/*
 * A reader that goes away (a pipe on stdout, a FIFO) must be EPIPE, not the
 * death of the VM: ignore SIGPIPE process-wide unless someone handles it.
 */
void chardev_ignore_sigpipe(void);

/* Output queued per connection before chardev_write() starts coming up short. */
#define CHARDEV_OUTQ_SIZE 65536u

struct chardev_stream {
	struct chardev *chr;
	int in_fd;        /* -1: no input (EOF seen or write-only) */
	int out_fd;       /* -1: output is dropped */
	bool out_socket;  /* out_fd is a socket: send(MSG_NOSIGNAL) */
	bool in_paused;   /* the device had no room: wait for accept_input */
	bool out_blocked; /* a write came up short: call write_ready later */
	bool running;     /* registered with the loop */
	short in_events, out_events;
	uint8_t *outq; /* CHARDEV_OUTQ_SIZE bytes, ring */
	size_t out_head, out_len;
	/* Hooks for the backend (all optional). */
	void (*filter)(struct chardev_stream *s, const uint8_t *buf, size_t len);
	void (*in_closed)(struct chardev_stream *s, int err); /* 0: EOF */
	void (*out_closed)(struct chardev_stream *s, int err);
	void *opaque;
};

/* Set up s (allocates the queue); fds start at -1. Returns 0 or -ENOMEM. */
int chardev_stream_init(struct chardev_stream *s, struct chardev *chr, void *opaque);
void chardev_stream_destroy(struct chardev_stream *s);
/* Watch in_fd/out_fd (set them first). Returns 0 or -errno. */
int chardev_stream_start(struct chardev_stream *s) VK_MUST_CHECK;
/* Stop watching, forget the fds (the caller closes them) and queued output. */
void chardev_stream_stop(struct chardev_stream *s);
/* Stop reading (EOF) while output goes on; the caller owns the fd. */
void chardev_stream_stop_input(struct chardev_stream *s);
/* Stop writing (the reader went away): output is dropped from now on. */
void chardev_stream_stop_output(struct chardev_stream *s);
size_t chardev_stream_write(struct chardev_stream *s, const uint8_t *buf, size_t len);
void chardev_stream_accept_input(struct chardev_stream *s);

/* Backend constructors (spec is what follows "socket:" / "file:"). */
struct chardev *chardev_null_open(struct vm_loop *loop, struct vk_error *err);
struct chardev *chardev_file_open(struct vm_loop *loop, const char *path, struct vk_error *err);
struct chardev *chardev_pty_open(struct vm_loop *loop, struct vk_error *err);
struct chardev *chardev_socket_open(struct vm_loop *loop, const char *path, struct vk_error *err);
struct chardev *chardev_stdio_open(struct vm_loop *loop, struct vk_error *err);

/*
 * The stdio escape parser (QEMU's keys): Ctrl-A x quits, Ctrl-A h prints
 * help, Ctrl-A b sends a break, Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A
 * followed by anything else is dropped.
 */
#define CHARDEV_ESCAPE_CHAR 0x01

enum chardev_esc_action {
	CHARDEV_ESC_PASS,    /* deliver the byte fed */
	CHARDEV_ESC_SWALLOW, /* part of an escape: deliver nothing */
	CHARDEV_ESC_QUIT,
	CHARDEV_ESC_HELP,
	CHARDEV_ESC_BREAK,
};

struct chardev_escape {
	bool pending; /* the previous byte was the escape character */
};

enum chardev_esc_action chardev_escape_feed(struct chardev_escape *e, uint8_t ch);

#endif
