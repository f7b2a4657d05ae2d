/* SPDX-License-Identifier: MIT */
/*
 * Interpreter speed, tight loop: 20 million iterations of 8 ALU instructions
 * and a taken branch (180 million instructions). Passes when the sum is
 * right; `rv-run -v` prints the MIPS.
 */
#include "rvtest.h"

RVTEST_BEGIN
	TEST(1)
	li a0, 20000000
	li a1, 0
	li a2, 0
1:	addi a1, a1, 3
	xor a2, a2, a1
	slli a3, a1, 2
	add a2, a2, a3
	srli a4, a2, 7
	and a4, a4, a1
	sub a2, a2, a4
	addi a0, a0, -1
	bnez a0, 1b
	li t0, 60000000
	bne a1, t0, fail
	beqz a2, fail
	RVTEST_PASS
RVTEST_END
