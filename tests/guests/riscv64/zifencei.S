/* SPDX-License-Identifier: MIT */
/* Zifencei and self-modifying code: stores into code are seen after fence.i (and before). */
#include "rvtest.h"

RVTEST_BEGIN
	TEST(1)
	jal ra, patchme
	CHECK(a0, 1)
	/* Rewrite "li a0, 1" into "li a0, 2" (addi a0, zero, 2) and run it again. */
	la t0, patchme
	li t1, 0x00200513
	sw t1, 0(t0)
	fence.i
	jal ra, patchme
	CHECK(a0, 2)
	TEST(2)
	/* In a loop: the same instruction address executes different code each time. */
	li s1, 0
	li s2, 3
	la t0, patchme
	li t1, 0x00300513 /* li a0, 3 */
1:	sw t1, 0(t0)
	fence.i
	jal ra, patchme
	add s1, s1, a0
	li t2, 1 << 20 /* next immediate: li a0, 4, ... */
	add t1, t1, t2
	addi s2, s2, -1
	bnez s2, 1b
	CHECK(s1, 12)
	TEST(3)
	/* Compressed and uncompressed encodings at the same address. */
	la t0, patchme
	li t1, 0x45150001 /* c.nop; c.li a0, 5 */
	sw t1, 0(t0)
	fence.i
	jal ra, patchme
	CHECK(a0, 5)
	TEST(4)
	/* Code written just ahead of the running instruction, in the same page. */
	la t0, 2f
	li t1, 0x02a00593 /* li a1, 42 */
	li a1, 0
	sw t1, 0(t0)
	fence.i
	.option norvc
2:	nop
	.option rvc
	CHECK(a1, 42)
	RVTEST_PASS

	.align 3
patchme:
	.option norvc
	li a0, 1
	ret
	ret
	.option rvc
RVTEST_END
