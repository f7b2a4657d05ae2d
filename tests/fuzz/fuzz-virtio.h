/* SPDX-License-Identifier: MIT */
/*
 * The virtio fuzz harness (fuzz-virtio.c): its input format. It provides
 * vk_fuzz_one() (fuzz.h) to the libFuzzer entry point and the replay driver.
 *
 * Input format:
 *   byte 0      device: 0 blk (in-memory disk), 1 net (echo), 2 console, 3 rng
 *   byte 1      driver features and queue size choices
 *   bytes 2-3   L, little-endian: length of the RAM image
 *   L bytes     copied to guest RAM at 0 (descriptor tables, rings, buffers)
 *   the rest    a script of register accesses, kicks, memory pokes, ring
 *               pushes, config accesses, console input and output room
 *               (see fuzz-virtio.c)
 * The device is brought up (features, queues at fixed addresses, DRIVER_OK)
 * before the script runs; the script may reset or reconfigure it.
 */
#ifndef VK_FUZZ_VIRTIO_H
#define VK_FUZZ_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_RAM_SIZE  0x10000
#define FUZZ_MMIO_BASE 0x10000000ull

#endif
