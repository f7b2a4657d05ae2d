/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the WebSocket framing (src/common/ws.c) against RFC 6455:
 * the accept key of section 1.3's example, the three length forms of
 * section 5.2 both ways, masking (section 5.3, including its "Hello"
 * example), and what a server must refuse: reserved bits, unknown opcodes,
 * long or fragmented control frames, lengths not in their shortest form.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ws.h"

static void test_accept(void **state)
{
	char out[VK_WS_ACCEPT_LEN + 1];

	(void)state;
	/* RFC 6455, section 1.3. */
	assert_int_equal(vk_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(vk_ws_accept("short", out), -EINVAL);
	assert_int_equal(vk_ws_accept("dGhlIHNhbXBsZSBub25jZQ=x", out), -EINVAL);
	assert_int_equal(vk_ws_accept("dGhlIHNhbXBsZ SBub25jZQ==", out), -EINVAL);
	assert_int_equal(vk_ws_accept(NULL, out), -EINVAL);
}

static void test_masked_hello(void **state)
{
	/* RFC 6455, section 5.7: a single-frame masked text message "Hello". */
	uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct vk_ws_frame fr;

	(void)state;
	for (size_t n = 0; n < 6; n++)
		assert_int_equal(vk_ws_parse(f, n, &fr), 0); /* need more */
	assert_int_equal(vk_ws_parse(f, sizeof(f), &fr), 6);
	assert_true(fr.fin);
	assert_int_equal(fr.op, VK_WS_TEXT);
	assert_true(fr.masked);
	assert_int_equal(fr.len, 5);
	vk_ws_unmask(f + 6, 2, fr.mask, 0);
	vk_ws_unmask(f + 8, 3, fr.mask, 2); /* in two pieces: the offset keeps the mask's phase */
	assert_memory_equal(f + 6, "Hello", 5);
}

static void test_lengths(void **state)
{
	static const uint64_t lens[] = {0, 125, 126, 65535, 65536, 1u << 20};
	static const size_t hlen[] = {2, 2, 4, 4, 10, 10};
	uint8_t h[VK_WS_HEADER_MAX];
	struct vk_ws_frame fr;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = vk_ws_header(h, VK_WS_BINARY, true, lens[i]);
		assert_int_equal(n, hlen[i]);
		assert_int_equal(vk_ws_parse(h, n, &fr), (int)n);
		assert_int_equal(fr.len, lens[i]);
		assert_int_equal(fr.op, VK_WS_BINARY);
		assert_false(fr.masked);
	}
}

static void test_refused(void **state)
{
	struct vk_ws_frame fr;
	uint8_t rsv[] = {0xc2, 0x00};                                   /* RSV1 set */
	uint8_t op3[] = {0x83, 0x00};                                   /* reserved opcode */
	uint8_t longping[] = {0x89, 0x7e, 0x00, 0x80};                  /* a 128-byte ping */
	uint8_t fragclose[] = {0x08, 0x00};                             /* a close without FIN */
	uint8_t short16[] = {0x82, 0x7e, 0x00, 0x10};                   /* 16 in the 16-bit form */
	uint8_t short64[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0x01, 0x00}; /* 256 in 64 bits */
	uint8_t top64[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0};      /* the top bit set */

	(void)state;
	assert_int_equal(vk_ws_parse(rsv, sizeof(rsv), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(op3, sizeof(op3), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(longping, sizeof(longping), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(fragclose, sizeof(fragclose), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(short16, sizeof(short16), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(short64, sizeof(short64), &fr), -EPROTO);
	assert_int_equal(vk_ws_parse(top64, sizeof(top64), &fr), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_accept),
	        cmocka_unit_test(test_masked_hello),
	        cmocka_unit_test(test_lengths),
	        cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
