/* SPDX-License-Identifier: MIT */
/* RISC-V Linux Image header validation. */
#include "vm/boot/riscv-image.h"

#include <errno.h>
#include <string.h>

#define IMAGE_HEADER_SIZE 64
#define IMAGE_MAGIC2_OFF  0x38
#define IMAGE_MAGIC_OFF   0x30

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int riscv_image_parse(const char *name, const uint8_t *buf, size_t len,
                      struct riscv_image_info *info, struct vk_error *err)
{
	if (len < IMAGE_HEADER_SIZE)
		return vk_error_set(err, ENOEXEC,
		                    "kernel '%s' is too small to be a kernel (%zu bytes)", name,
		                    len);
	if (memcmp(buf + IMAGE_MAGIC2_OFF, "RSC\x05", 4) != 0 &&
	    memcmp(buf + IMAGE_MAGIC_OFF, "RISCV\0\0\0", 8) != 0)
		return vk_error_set(err, ENOEXEC,
		                    "kernel '%s' is not a RISC-V Linux Image (no 'RSC\\x05' magic "
		                    "at offset 0x38)",
		                    name);
	info->text_offset = le64(buf + 8);
	info->image_size = le64(buf + 16);
	/* Old headers leave image_size 0: the file size is the best we know. */
	if (info->image_size == 0)
		info->image_size = len;
	if (info->image_size < len)
		return vk_error_set(
		        err, ENOEXEC,
		        "kernel '%s' is corrupt: its header says %llu bytes but the file has %zu",
		        name, (unsigned long long)info->image_size, len);
	if (info->image_size > (1ull << 34))
		return vk_error_set(err, ENOEXEC,
		                    "kernel '%s' claims an impossible size (%llu bytes)", name,
		                    (unsigned long long)info->image_size);
	return 0;
}
