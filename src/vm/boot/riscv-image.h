/* SPDX-License-Identifier: MIT */
/*
 * What a riscv64 kernel file is: the RISC-V Linux "Image" format
 * (Documentation/riscv/boot-image-header.rst: a flat binary with a 64-byte
 * header at offset 0), an ELF executable, or a flat binary without a header
 * (U-Boot's u-boot.bin, a bare-metal S-mode program), which is loaded and
 * entered at its first byte as QEMU does. Files that are recognisably
 * something else a firmware must unpack first (gzip, a U-Boot uImage or FIT,
 * an EFI application, an x86 bzImage) are refused with what to do instead.
 */
#ifndef VK_BOOT_RISCV_IMAGE_H
#define VK_BOOT_RISCV_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum riscv_kernel_kind {
	RISCV_KERNEL_LINUX, /* Linux Image header */
	RISCV_KERNEL_ELF,   /* ELF executable, loaded by its program headers */
	RISCV_KERNEL_FLAT,  /* flat binary without a header */
};

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

/*
 * Tell the kind of a kernel file (len bytes at buf, named name in messages).
 * Returns 0, or -ENOEXEC with err set for an empty file and for the formats
 * listed above that cannot be entered directly.
 */
int riscv_kernel_identify(const char *name, const uint8_t *buf, size_t len,
                          enum riscv_kernel_kind *kind, struct vk_error *err) VK_MUST_CHECK;

/* "linux-image", "elf" or "flat-binary". */
const char *riscv_kernel_kind_name(enum riscv_kernel_kind kind);

#endif
