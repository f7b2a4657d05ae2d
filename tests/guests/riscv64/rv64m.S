/* SPDX-License-Identifier: MIT */
/* RV64M: multiplication and division, including division by zero and overflow. */
#include "rvtest.h"

RVTEST_BEGIN
	TEST(1)
	li a0, -3
	li a1, 7
	mul a2, a0, a1
	CHECK(a2, -21)
	li a0, 0x123456789abcdef
	li a1, 0xfedcba987654321
	mul a2, a0, a1
	CHECK(a2, 0x22236d88fe5618cf)
	TEST(2)
	li a0, -1
	li a1, -1
	mulh a2, a0, a1
	CHECK(a2, 0)
	mulhu a2, a0, a1
	CHECK(a2, 0xfffffffffffffffe)
	mulhsu a2, a0, a1
	CHECK(a2, -1)
	li a0, 0x8000000000000000
	li a1, 2
	mulh a2, a0, a1
	CHECK(a2, -1)
	mulhu a2, a0, a1
	CHECK(a2, 1)
	mulhsu a2, a1, a0
	CHECK(a2, 1)
	TEST(3)
	li a0, -7
	li a1, 2
	div a2, a0, a1
	CHECK(a2, -3)
	rem a2, a0, a1
	CHECK(a2, -1)
	divu a2, a0, a1
	CHECK(a2, 0x7ffffffffffffffc)
	remu a2, a0, a1
	CHECK(a2, 1)
	TEST(4)
	/* by zero */
	li a0, 42
	div a2, a0, zero
	CHECK(a2, -1)
	divu a2, a0, zero
	CHECK(a2, -1)
	rem a2, a0, zero
	CHECK(a2, 42)
	remu a2, a0, zero
	CHECK(a2, 42)
	TEST(5)
	/* overflow */
	li a0, 0x8000000000000000
	li a1, -1
	div a2, a0, a1
	CHECK(a2, 0x8000000000000000)
	rem a2, a0, a1
	CHECK(a2, 0)
	TEST(6)
	li a0, 0x100000003
	li a1, 0x7fffffff
	mulw a2, a0, a1
	CHECK(a2, 0x7ffffffd)
	li a0, 0x80000000
	li a1, -1
	divw a2, a0, a1
	CHECK(a2, 0xffffffff80000000)
	remw a2, a0, a1
	CHECK(a2, 0)
	divw a2, a0, zero
	CHECK(a2, -1)
	remw a2, a0, zero
	CHECK(a2, 0xffffffff80000000)
	li a0, 0xffffffff
	li a1, 2
	divuw a2, a0, a1
	CHECK(a2, 0x7fffffff)
	remuw a2, a0, a1
	CHECK(a2, 1)
	divuw a2, a0, zero
	CHECK(a2, -1)
	remuw a2, a0, zero
	CHECK(a2, -1)
	li a0, -7
	li a1, 2
	divw a2, a0, a1
	CHECK(a2, -3)
	remw a2, a0, a1
	CHECK(a2, -1)
	RVTEST_PASS
RVTEST_END
