/* SPDX-License-Identifier: MIT */
/*
 * The "sifive,test1" finisher on QEMU's virt board: a guest write of 0x5555
 * powers off, 0x3333 | (code << 16) powers off with a failure code, 0x7777
 * resets. OpenSBI uses it for SBI system reset.
 */
#ifndef VK_HW_SIFIVE_TEST_H
#define VK_HW_SIFIVE_TEST_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"

#define SIFIVE_TEST_SIZE 0x1000

enum sifive_test_event {
	SIFIVE_TEST_POWEROFF,
	SIFIVE_TEST_FAIL,
	SIFIVE_TEST_RESET,
};

struct sifive_test;

struct sifive_test *sifive_test_create(struct bus *bus, uint64_t base,
                                       void (*event)(void *opaque, enum sifive_test_event ev,
                                                     uint32_t code),
                                       void *opaque, struct vk_error *err);
void sifive_test_destroy(struct sifive_test *t);

#endif
