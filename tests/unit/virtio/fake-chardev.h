/* SPDX-License-Identifier: MIT */
/* The test fake of struct chardev (see fake-chardev.c): spec "fake" only. */
#ifndef VK_TEST_FAKE_CHARDEV_H
#define VK_TEST_FAKE_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/chardev.h"

struct chardev {
	struct chardev_client client;
	uint8_t out[4096];
	size_t out_len;
	unsigned accept_calls;
	/*
	 * Output back-pressure, as a real backend whose queue is full: while
	 * limited, writes take at most `room` more bytes; a short write sets
	 * `blocked`, and fake_chardev_give_room() calls write_ready then.
	 */
	bool limited;
	size_t room;
	bool blocked;
	/* The next short write calls write_ready from inside chardev_write()
	 * after lifting the limit (a client that disconnects mid-write). */
	bool reenter;
	unsigned writes;
};

/* Offer input as a backend would: as much as can_receive() allows; returns bytes taken. */
size_t fake_chardev_input(struct chardev *c, const void *buf, size_t len);

/* Let n more bytes of output in; if a write came up short, call write_ready. */
void fake_chardev_give_room(struct chardev *c, size_t n);

/* The chardev chardev_open() returned last. */
struct chardev *fake_chardev_last(void);

#endif
