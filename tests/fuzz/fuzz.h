/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz harness (fuzz-<name>.c, one per executable) provides to
 * the two drivers that run it: the libFuzzer entry point (fuzz-main.c, clang)
 * and the replay driver (replay.c, any compiler, part of the test suite).
 */
#ifndef VK_FUZZ_H
#define VK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input; always returns 0 (libFuzzer convention). Aborts on a broken invariant. */
int vk_fuzz_one(const uint8_t *data, size_t size);

/* A few inputs of the harness's own, replayed even without a corpus. */
struct vk_fuzz_input {
	const uint8_t *data;
	size_t len;
};
extern const struct vk_fuzz_input vk_fuzz_builtin[];
extern const unsigned vk_fuzz_nr_builtin;

/* The harness's name, for messages ("virtio", "mmio", ...). */
extern const char vk_fuzz_name[];

#endif
