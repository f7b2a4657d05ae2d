/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V Linux "Image" format (Documentation/riscv/boot-image-header.rst):
 * a flat binary with a 64-byte header at offset 0.
 */
#ifndef VK_BOOT_RISCV_IMAGE_H
#define VK_BOOT_RISCV_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct riscv_image_info {
	uint64_t text_offset; /* from the header; 0x200000 for rv64 */
	uint64_t image_size;  /* bytes the kernel occupies once running (incl. bss) */
};

/*
 * Check that buf holds a RISC-V Linux Image and read its header. Errors name
 * what is wrong: "'x' is too small to be a kernel", "'x' is not a RISC-V
 * Linux Image (no 'RSC\x05' magic at offset 0x38)".
 */
int riscv_image_parse(const char *name, const uint8_t *buf, size_t len,
                      struct riscv_image_info *info, struct vk_error *err) VK_MUST_CHECK;

#endif
