/* SPDX-License-Identifier: MIT */
/* Unit tests of riscv_kernel_identify(): what a riscv64 --kernel file is taken for. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm/boot/riscv-image.h"

static uint8_t buf[4096];

static int identify(size_t len, enum riscv_kernel_kind *kind, struct vk_error *err)
{
	vk_error_clear(err);
	return riscv_kernel_identify("k", buf, len, kind, err);
}

static void test_known_kinds(void **state)
{
	enum riscv_kernel_kind kind;
	struct vk_error err;

	/* A Linux Image: its magic at 0x38, whatever the first bytes (an EFI stub's "MZ"). */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "MZ", 2);
	memcpy(buf + 0x38, "RSC\x05", 4);
	assert_int_equal(identify(64, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_LINUX);
	assert_string_equal(riscv_kernel_kind_name(kind), "linux-image");
	/* The deprecated magic at 0x30 also counts. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 0x30, "RISCV\0\0\0", 8);
	assert_int_equal(identify(64, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_LINUX);
	/* ... but not when the file ends before the magic: then it is a flat binary. */
	assert_int_equal(identify(0x37, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_FLAT);

	memset(buf, 0, sizeof(buf));
	memcpy(buf,
	       "\x7f"
	       "ELF",
	       4);
	assert_int_equal(identify(4, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_ELF);

	/* Anything else is a flat binary, even one instruction long (j . = 0x0000006f). */
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x6f;
	assert_int_equal(identify(4, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_FLAT);
	assert_string_equal(riscv_kernel_kind_name(kind), "flat-binary");
}

static void expect_refused(const void *magic, size_t off, size_t mlen, size_t len,
                           const char *words)
{
	enum riscv_kernel_kind kind = RISCV_KERNEL_FLAT;
	struct vk_error err;

	memset(buf, 0, sizeof(buf));
	memcpy(buf + off, magic, mlen);
	assert_int_equal(identify(len, &kind, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "kernel 'k'"));
	if (!strstr(err.msg, words))
		fail_msg("'%s' does not say '%s'", err.msg, words);
}

static void test_refused(void **state)
{
	expect_refused("", 0, 0, 0, "empty file");
	expect_refused("\x1f\x8b\x08", 0, 3, 100, "gzip-compressed");
	expect_refused("\x28\xb5\x2f\xfd", 0, 4, 100, "zstd-compressed");
	expect_refused("\xfd"
	               "7zXZ\0",
	               0, 6, 100, "xz-compressed");
	expect_refused("\x02\x21\x4c\x18", 0, 4, 100, "lz4-compressed");
	expect_refused("\x27\x05\x19\x56", 0, 4, 100, "uImage");
	expect_refused("\xd0\x0d\xfe\xed", 0, 4, 100, "FIT");
	expect_refused("HdrS", 0x202, 4, 0x300, "--arch x86_64");
	expect_refused("MZ", 0, 2, 200, "PE/EFI executable");
	expect_refused("MZ", 0, 2, 20, "too small to be a kernel");
}

static void test_bzimage_cut_before_its_magic(void **state)
{
	enum riscv_kernel_kind kind;
	struct vk_error err;

	/* The magic lies past the end of the file: nothing is read beyond len. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 0x202, "HdrS", 4);
	assert_int_equal(identify(0x204, &kind, &err), 0);
	assert_int_equal(kind, RISCV_KERNEL_FLAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_kinds),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_bzimage_cut_before_its_magic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
