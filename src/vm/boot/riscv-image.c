/* SPDX-License-Identifier: MIT */
/* riscv64 kernel files: what kind a file is, and the RISC-V Linux Image header. */
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

/* Magic numbers of files a firmware must unpack or interpret before anything can run them. */
struct foreign_format {
	size_t off;
	const char *magic;
	size_t len;
	const char *what; /* "kernel 'x' <what>" */
};

static const struct foreign_format foreign_formats[] = {
        {0, "\x1f\x8b", 2, "is gzip-compressed (an Image.gz?): decompress it first"},
        {0, "\x28\xb5\x2f\xfd", 4, "is zstd-compressed: decompress it first"},
        {0,
         "\xfd"
         "7zXZ\0",
         6, "is xz-compressed: decompress it first"},
        {0, "BZh", 3, "is bzip2-compressed: decompress it first"},
        {0, "\x02\x21\x4c\x18", 4, "is lz4-compressed: decompress it first"},
        {0, "\x04\x22\x4d\x18", 4, "is lz4-compressed: decompress it first"},
        {0, "\x27\x05\x19\x56", 4,
         "is a U-Boot legacy image (uImage): boot it from U-Boot with bootm, or pass the "
         "Image inside"},
        {0, "\xd0\x0d\xfe\xed", 4,
         "is a device tree blob or a U-Boot FIT image: boot a FIT from U-Boot with bootm"},
        {0x202, "HdrS", 4, "is an x86 bzImage: boot it with --arch x86_64"},
};

int riscv_kernel_identify(const char *name, const uint8_t *buf, size_t len,
                          enum riscv_kernel_kind *kind, struct vk_error *err)
{
	if (len == 0)
		return vk_error_set(err, ENOEXEC, "kernel '%s' is an empty file", name);
	if (len >= 4 && memcmp(buf,
	                       "\x7f"
	                       "ELF",
	                       4) == 0) {
		*kind = RISCV_KERNEL_ELF;
		return 0;
	}
	if (len >= IMAGE_HEADER_SIZE && (memcmp(buf + IMAGE_MAGIC2_OFF, "RSC\x05", 4) == 0 ||
	                                 memcmp(buf + IMAGE_MAGIC_OFF, "RISCV\0\0\0", 8) == 0)) {
		*kind = RISCV_KERNEL_LINUX;
		return 0;
	}
	/* An EFI-stub Image starts with "MZ" and carries the RISC-V header too (above). */
	if (len >= 2 && memcmp(buf, "MZ", 2) == 0) {
		if (len < IMAGE_HEADER_SIZE)
			return vk_error_set(err, ENOEXEC,
			                    "kernel '%s' is too small to be a kernel (%zu bytes)",
			                    name, len);
		return vk_error_set(err, ENOEXEC,
		                    "kernel '%s' is a PE/EFI executable without a RISC-V Linux "
		                    "Image header (no 'RSC\\x05' magic at offset 0x38): start it "
		                    "from firmware (U-Boot's bootefi)",
		                    name);
	}
	for (size_t i = 0; i < sizeof(foreign_formats) / sizeof(foreign_formats[0]); i++) {
		const struct foreign_format *f = &foreign_formats[i];
		if (len >= f->off + f->len && memcmp(buf + f->off, f->magic, f->len) == 0)
			return vk_error_set(err, ENOEXEC, "kernel '%s' %s", name, f->what);
	}
	*kind = RISCV_KERNEL_FLAT;
	return 0;
}

const char *riscv_kernel_kind_name(enum riscv_kernel_kind kind)
{
	switch (kind) {
	case RISCV_KERNEL_LINUX:
		return "linux-image";
	case RISCV_KERNEL_ELF:
		return "elf";
	case RISCV_KERNEL_FLAT:
		break;
	}
	return "flat-binary";
}
