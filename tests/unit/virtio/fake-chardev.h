/* SPDX-License-Identifier: MIT */
/* The test fake of struct chardev (see fake-chardev.c): spec "fake" only. */
#ifndef VK_TEST_FAKE_CHARDEV_H
#define VK_TEST_FAKE_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

#include "vm/chardev.h"

struct chardev {
	struct chardev_client client;
	uint8_t out[4096];
	size_t out_len;
	unsigned accept_calls;
};

/* Offer input as a backend would: as much as can_receive() allows; returns bytes taken. */
size_t fake_chardev_input(struct chardev *c, const void *buf, size_t len);

/* The chardev chardev_open() returned last. */
struct chardev *fake_chardev_last(void);

#endif
