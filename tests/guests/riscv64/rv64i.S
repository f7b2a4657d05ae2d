/* SPDX-License-Identifier: MIT */
/* RV64I: arithmetic, logic, shifts, 32-bit forms, lui/auipc, branches, jumps, loads/stores. */
#include "rvtest.h"

RVTEST_BEGIN
	TEST(1)
	li a0, 0x7fffffffffffffff
	addi a1, a0, 1
	CHECK(a1, 0x8000000000000000)
	TEST(2)
	li a0, -5
	li a1, 3
	add a2, a0, a1
	CHECK(a2, -2)
	sub a2, a1, a0
	CHECK(a2, 8)
	TEST(3)
	slti a2, a0, -4
	CHECK(a2, 1)
	sltiu a2, a0, -4
	CHECK(a2, 1)
	sltiu a2, a0, 5
	CHECK(a2, 0)
	slt a2, a0, a1
	CHECK(a2, 1)
	sltu a2, a0, a1
	CHECK(a2, 0)
	TEST(4)
	li a0, 0xff00ff00ff00ff00
	xori a1, a0, -1
	CHECK(a1, 0x00ff00ff00ff00ff)
	ori a1, a0, 0x0ff
	CHECK(a1, 0xff00ff00ff00ffff)
	andi a1, a0, 0x7f0
	CHECK(a1, 0x700)
	li a2, 0x0ff00ff00ff00ff0
	and a1, a0, a2
	CHECK(a1, 0x0f000f000f000f00)
	or a1, a0, a2
	CHECK(a1, 0xfff0fff0fff0fff0)
	xor a1, a0, a2
	CHECK(a1, 0xf0f0f0f0f0f0f0f0)
	TEST(5)
	li a0, 0x8000000000000001
	slli a1, a0, 63
	CHECK(a1, 0x8000000000000000)
	srli a1, a0, 63
	CHECK(a1, 1)
	srai a1, a0, 62
	CHECK(a1, -2)
	li a2, 65 /* shift amounts use the low 6 bits */
	sll a1, a0, a2
	CHECK(a1, 2)
	srl a1, a0, a2
	CHECK(a1, 0x4000000000000000)
	sra a1, a0, a2
	CHECK(a1, 0xc000000000000000)
	TEST(6)
	li a0, 0x7fffffff
	addiw a1, a0, 1
	CHECK(a1, 0xffffffff80000000)
	li a0, 0x123456789
	addiw a1, a0, 0
	CHECK(a1, 0x23456789)
	li a0, 1
	slliw a1, a0, 31
	CHECK(a1, 0xffffffff80000000)
	li a0, 0xffffffff80000000
	srliw a1, a0, 31
	CHECK(a1, 1)
	sraiw a1, a0, 31
	CHECK(a1, -1)
	li a0, 0x80000000
	li a2, 33
	sllw a1, a0, a2
	CHECK(a1, 0)
	srlw a1, a0, a2
	CHECK(a1, 0x40000000)
	sraw a1, a0, a2
	CHECK(a1, 0xffffffffc0000000)
	li a0, 0x7fffffff
	li a2, 1
	addw a1, a0, a2
	CHECK(a1, 0xffffffff80000000)
	subw a1, zero, a0
	CHECK(a1, 0xffffffff80000001)
	TEST(7)
	lui a0, 0x80000
	CHECK(a0, 0xffffffff80000000)
1:	auipc a0, 0
	la a1, 1b
	bne a0, a1, fail
2:	auipc a0, 0xfffff
	la a1, 2b
	sub a0, a0, a1
	CHECK(a0, -0x1000)
	TEST(8)
	/* x0 stays zero */
	li zero, 5
	addi zero, zero, 1
	bnez zero, fail
	mv a0, zero
	CHECK(a0, 0)
	TEST(9)
	li a0, -1
	li a1, 1
	beq a0, a1, fail
	bne a0, a0, fail
	blt a1, a0, fail
	bge a0, a1, fail
	bltu a0, a1, fail
	bgeu a1, a0, fail
	beq a0, a0, 2f
	j fail
2:	bne a0, a1, 3f
	j fail
3:	blt a0, a1, 4f
	j fail
4:	bge a1, a0, 5f
	j fail
5:	bltu a1, a0, 6f
	j fail
6:	bgeu a0, a1, 7f
	j fail
7:	bge a0, a0, 8f
	j fail
8:	TEST(10)
	jal ra, 9f
10:	j fail
9:	la a0, 10b
	bne ra, a0, fail
	la a1, 11f
	jalr t2, 1(a1) /* the low bit of the target is cleared */
	j fail
11:	la a0, 11b
	addi a0, a0, -4
	bne t2, a0, fail
	/* jalr with rd == rs1 */
	la a1, 12f
	jalr a1, 0(a1)
12:	la a0, 12b
	bne a1, a0, fail
	TEST(11)
	la s0, data
	li a0, 0x8182838485868788
	sd a0, 0(s0)
	lb a1, 0(s0)
	CHECK(a1, 0xffffffffffffff88)
	lbu a1, 0(s0)
	CHECK(a1, 0x88)
	lh a1, 2(s0)
	CHECK(a1, 0xffffffffffff8586)
	lhu a1, 2(s0)
	CHECK(a1, 0x8586)
	lw a1, 4(s0)
	CHECK(a1, 0xffffffff81828384)
	lwu a1, 4(s0)
	CHECK(a1, 0x81828384)
	ld a1, 0(s0)
	CHECK(a1, 0x8182838485868788)
	TEST(12)
	sd zero, 8(s0)
	li a0, 0x11223344
	sb a0, 8(s0)
	sh a0, 10(s0)
	sw a0, 12(s0)
	ld a1, 8(s0)
	CHECK(a1, 0x1122334433440044)
	addi s1, s0, 16
	sd a0, -8(s1)
	ld a1, 8(s0)
	CHECK(a1, 0x11223344)
	TEST(13)
	/* misaligned accesses are done in hardware */
	li a0, 0x0102030405060708
	sd a0, 17(s0)
	ld a1, 17(s0)
	CHECK(a1, 0x0102030405060708)
	lw a1, 19(s0)
	CHECK(a1, 0x03040506)
	lh a1, 23(s0)
	CHECK(a1, 0x0102)
	lbu a1, 16(s0)
	CHECK(a1, 0)
	/* across a page boundary */
	la s1, page_end
	sd a0, -3(s1)
	ld a1, -3(s1)
	CHECK(a1, 0x0102030405060708)
	lhu a1, -1(s1)
	CHECK(a1, 0x0506)
	TEST(14)
	/* a loop */
	li a0, 0
	li a1, 1000
15:	addi a0, a0, 3
	addi a1, a1, -1
	bnez a1, 15b
	CHECK(a0, 3000)
	RVTEST_PASS

	.data
	.align 3
data:	.zero 64
	.align 12
	.zero 4096 - 64
page_end:
	.zero 64
RVTEST_END
