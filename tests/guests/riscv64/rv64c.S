/* SPDX-License-Identifier: MIT */
/* RV64C: every compressed instruction, and reserved encodings trapping as illegal. */
#include "rvtest.h"

/* A 16-bit encoding that must raise an illegal instruction with mtval = the encoding. */
#define ILLEGAL16(n, enc)   \
	TEST(n);            \
	EXPECT_TRAP(9f);    \
	.2byte enc;         \
	j fail;             \
9:	CHECK_TRAP(2, enc)

RVTEST_BEGIN
	.option rvc
	TEST(1)
	c.li a0, -5
	CHECK(a0, -5)
	c.addi a0, 7
	CHECK(a0, 2)
	c.lui a1, 0x1f
	CHECK(a1, 0x1f000)
	c.lui a1, 0xfffff
	CHECK(a1, -4096)
	c.addiw a0, -3
	CHECK(a0, -1)
	li a0, 0x7fffffff
	c.addiw a0, 1
	CHECK(a0, 0xffffffff80000000)
	c.mv a2, a1
	CHECK(a2, -4096)
	li a0, 10
	c.add a2, a0
	CHECK(a2, -4086)
	TEST(2)
	li s0, 0x00000000ffff0000
	li s1, 0x00000001000000ff
	mv a3, s0
	c.sub a3, s1
	CHECK(a3, 0xfffffffffffeff01)
	mv a3, s0
	c.xor a3, s1
	CHECK(a3, 0x00000001ffff00ff)
	mv a3, s0
	c.or a3, s1
	CHECK(a3, 0x00000001ffff00ff)
	mv a3, s0
	c.and a3, s1
	CHECK(a3, 0)
	mv a3, s0
	c.subw a3, s1
	CHECK(a3, 0xfffffffffffeff01)
	mv a3, s0
	c.addw a3, s1
	CHECK(a3, 0xffffffffffff00ff)
	TEST(3)
	li a4, 0x8000000000000010
	mv a5, a4
	c.srli a5, 4
	CHECK(a5, 0x0800000000000001)
	mv a5, a4
	c.srai a5, 4
	CHECK(a5, 0xf800000000000001)
	mv a5, a4
	c.srli a5, 63
	CHECK(a5, 1)
	mv a5, a4
	c.andi a5, -16
	CHECK(a5, 0x8000000000000010)
	c.andi a5, 15
	CHECK(a5, 0)
	li t0, 3
	c.slli t0, 62
	CHECK(t0, 0xc000000000000000)
	TEST(4)
	mv t1, sp
	c.addi16sp sp, -64
	sub t2, t1, sp
	CHECK(t2, 64)
	c.addi4spn a0, sp, 16
	sub t2, a0, sp
	CHECK(t2, 16)
	c.addi16sp sp, 64
	bne sp, t1, fail
	TEST(5)
	la s0, data
	li a0, 0x123456789abcdef0
	c.sd a0, 8(s0)
	c.ld a1, 8(s0)
	bne a1, a0, fail
	c.sw a0, 16(s0)
	c.lw a1, 16(s0)
	CHECK(a1, 0xffffffff9abcdef0)
	mv t1, sp
	mv sp, s0
	c.sdsp a0, 24(sp)
	c.ldsp a2, 24(sp)
	bne a2, a0, fail
	c.swsp a0, 32(sp)
	c.lwsp a2, 32(sp)
	CHECK(a2, 0xffffffff9abcdef0)
	fmv.d.x fa0, a0
	c.fsd fa0, 40(s0)
	c.fld fa1, 40(s0)
	fmv.x.d a2, fa1
	bne a2, a0, fail
	c.fsdsp fa0, 48(sp)
	c.fldsp fa2, 48(sp)
	fmv.x.d a2, fa2
	bne a2, a0, fail
	mv sp, t1
	TEST(6)
	li a0, 0
	c.j 1f
	j fail
1:	c.beqz a0, 2f
	j fail
2:	c.bnez a0, fail
	li a0, 1
	c.beqz a0, fail
	c.bnez a0, 3f
	j fail
3:	la t0, 4f
	c.jr t0
	j fail
4:	la t0, 5f
6:	c.jalr t0
	j fail
5:	la t1, 6b
	addi t1, t1, 2
	bne ra, t1, fail
	TEST(7)
	c.nop
	.2byte 0x4015 /* c.li x0, 5: a HINT, no effect */
	.2byte 0x0001 /* c.nop */
	EXPECT_TRAP(7f)
8:	c.ebreak
	j fail
7:	CHECK_MEM(trap_cause, 3)
	la t0, 8b
	CHECK_MEM_REG(trap_epc, t0)
	ILLEGAL16(10, 0x0000)
	ILLEGAL16(11, 0x4002)
	ILLEGAL16(12, 0x6002)
	ILLEGAL16(13, 0x8002)
	ILLEGAL16(14, 0x2001)
	ILLEGAL16(15, 0x6281)
	ILLEGAL16(16, 0x6101)
	ILLEGAL16(17, 0x8000)
	ILLEGAL16(18, 0x9c41)
	ILLEGAL16(19, 0x9c61)
	TEST(20)
	/* a 32-bit instruction straddling a page boundary */
	la t0, straddle
	jalr t0
	CHECK(a0, 0x5a5)
	RVTEST_PASS

	.section .text.straddle, "ax"
	.align 12
	.zero 4096 - 8
straddle:
	nop          /* 4 bytes, then 2 padding so that the li straddles */
	c.nop
	.option norvc
	li a0, 0x5a5 /* lui/addi... here a 32-bit addi at page offset 4094 */
	.option rvc
	ret

	.data
	.align 4
data:	.zero 128
RVTEST_END
