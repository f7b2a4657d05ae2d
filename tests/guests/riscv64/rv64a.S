/* SPDX-License-Identifier: MIT */
/* RV64A: LR/SC reservations and every AMO, word and doubleword, plus misaligned AMO traps. */
#include "rvtest.h"

RVTEST_BEGIN
	la s0, data
	TEST(1)
	li a0, 0x1111222233334444
	sd a0, 0(s0)
	lr.d a1, (s0)
	CHECK(a1, 0x1111222233334444)
	li a2, 0x55
	sc.d a3, a2, (s0)
	CHECK(a3, 0)
	ld a1, 0(s0)
	CHECK(a1, 0x55)
	TEST(2)
	/* a second sc without a new lr fails and does not write */
	li a2, 0x66
	sc.d a3, a2, (s0)
	CHECK(a3, 1)
	ld a1, 0(s0)
	CHECK(a1, 0x55)
	TEST(3)
	/* sc to another address than the reservation fails */
	lr.d a1, (s0)
	addi t0, s0, 8
	sc.d a3, a2, (t0)
	bnez a3, 1f
	j fail
1:	TEST(4)
	li a0, 0xffffffff80000001
	sw a0, 16(s0)
	lr.w a1, (s0)
	addi t0, s0, 16
	lr.w a1, (t0)
	CHECK(a1, 0xffffffff80000001)
	li a2, 7
	sc.w a3, a2, (t0)
	CHECK(a3, 0)
	lw a1, 16(s0)
	CHECK(a1, 7)
	TEST(5)
	/* AMOs on words: results are the old value, sign-extended */
	addi t0, s0, 24
	li a0, 0x80000000
	sw a0, 0(t0)
	li a1, 1
	amoadd.w a2, a1, (t0)
	CHECK(a2, 0xffffffff80000000)
	lw a2, 0(t0)
	CHECK(a2, 0xffffffff80000001)
	li a1, 0xf0
	amoxor.w a2, a1, (t0)
	lwu a2, 0(t0)
	CHECK(a2, 0x800000f1)
	li a1, 0xff
	amoand.w a2, a1, (t0)
	lwu a2, 0(t0)
	CHECK(a2, 0xf1)
	li a1, 0x100
	amoor.w a2, a1, (t0)
	lwu a2, 0(t0)
	CHECK(a2, 0x1f1)
	li a1, -1
	amomin.w a2, a1, (t0)
	lw a2, 0(t0)
	CHECK(a2, -1)
	li a1, 5
	amomax.w a2, a1, (t0)
	lw a2, 0(t0)
	CHECK(a2, 5)
	li a1, -1
	amominu.w a2, a1, (t0)
	lw a2, 0(t0)
	CHECK(a2, 5)
	amomaxu.w a2, a1, (t0)
	lw a2, 0(t0)
	CHECK(a2, -1)
	li a1, 42
	amoswap.w a2, a1, (t0)
	CHECK(a2, -1)
	lw a2, 0(t0)
	CHECK(a2, 42)
	TEST(6)
	/* AMOs on doublewords */
	addi t0, s0, 32
	li a0, 0x8000000000000000
	sd a0, 0(t0)
	li a1, -1
	amoadd.d a2, a1, (t0)
	CHECK(a2, 0x8000000000000000)
	ld a2, 0(t0)
	CHECK(a2, 0x7fffffffffffffff)
	li a1, 0
	amomin.d a2, a1, (t0)
	ld a2, 0(t0)
	CHECK(a2, 0)
	li a1, -3
	amomax.d a2, a1, (t0)
	ld a2, 0(t0)
	CHECK(a2, 0)
	amomaxu.d a2, a1, (t0)
	ld a2, 0(t0)
	CHECK(a2, -3)
	li a1, 2
	amominu.d a2, a1, (t0)
	ld a2, 0(t0)
	CHECK(a2, 2)
	li a1, 0xff
	amoxor.d a2, a1, (t0)
	amoor.d a2, a1, (t0)
	amoand.d a2, a1, (t0)
	ld a2, 0(t0)
	CHECK(a2, 0xff)
	amoswap.d a2, zero, (t0)
	CHECK(a2, 0xff)
	ld a2, 0(t0)
	CHECK(a2, 0)
	TEST(7)
	/* rd == rs2 */
	li a1, 3
	sd a1, 0(t0)
	li a1, 4
	amoadd.d a1, a1, (t0)
	CHECK(a1, 3)
	ld a1, 0(t0)
	CHECK(a1, 7)
	TEST(8)
	/* misaligned AMO: store/AMO address misaligned, mtval = address */
	addi t2, s0, 4
	EXPECT_TRAP(2f)
	amoadd.d a1, a1, (t2)
	j fail
2:	CHECK_MEM_REG(trap_tval, t2)
	/* misaligned (6) or access fault (7): the spec allows either */
	la t5, trap_cause
	ld t5, 0(t5)
	addi t5, t5, -6
	srli t5, t5, 1
	bnez t5, fail
	TEST(9)
	addi t2, s0, 2
	EXPECT_TRAP(3f)
	lr.w a1, (t2)
	j fail
3:	la t5, trap_cause /* 4 or 5 */
	ld t5, 0(t5)
	addi t5, t5, -4
	srli t5, t5, 1
	bnez t5, fail
	TEST(10)
	/* an AMO to a device is an access fault */
	li t2, 0x10000000
	EXPECT_TRAP(4f)
	amoor.w a1, a1, (t2)
	j fail
4:	CHECK_MEM(trap_cause, 7)
	RVTEST_PASS

	.data
	.align 4
data:	.zero 64
RVTEST_END
