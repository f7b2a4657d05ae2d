/* SPDX-License-Identifier: MIT */
/*
 * Two harts (rv-run -c 2): shared counters incremented with AMOs and with
 * LR/SC loops (a reservation is dropped when a hart's slice ends, so SC must
 * fail then and the loop retry), and an IPI from hart 0 waking hart 1 from
 * wfi through the CLINT.
 */
#include "rvtest.h"

#define N 20000

RVTEST_BEGIN
	csrr s0, mhartid
	slli t0, s0, 12
	sub sp, sp, t0
	bnez s0, hart1

	TEST(1)
	jal ra, work
	la s3, done1
1:	ld t3, 0(s3)
	beqz t3, 1b
	CHECK_MEM(counter, 2 * N)
	CHECK_MEM(counter2, 2 * N)
	TEST(2)
	/* wake hart 1 with an IPI */
	li t0, CLINT_MSIP + 4
	li t1, 1
	sw t1, 0(t0)
	la s3, ipi_seen
	li t2, 1000000
2:	ld t3, 0(s3)
	bnez t3, 3f
	addi t2, t2, -1
	bnez t2, 2b
	j fail
3:	RVTEST_PASS

hart1:
	li TESTNUM, 100 /* hart 1's failures must not read as a pass */
	jal ra, work
	la t0, done1
	li t1, 1
	sd t1, 0(t0)
	/* sleep until hart 0's IPI */
	li t0, 1 << 3
	csrs mie, t0
	EXPECT_TRAP(5f)
	csrsi mstatus, MSTATUS_MIE
4:	wfi
	j 4b
5:	CHECK_MEM(trap_cause, 0x8000000000000003)
	li t0, CLINT_MSIP + 4
	sw zero, 0(t0)
	la t0, ipi_seen
	li t1, 1
	sd t1, 0(t0)
6:	wfi
	j 6b

/* N AMO increments of counter, N LR/SC increments of counter2 */
work:
	la s1, counter
	li t2, N
1:	li t3, 1
	amoadd.d zero, t3, (s1)
	addi t2, t2, -1
	bnez t2, 1b
	la s2, counter2
	li t2, N
2:	lr.d t3, (s2)
	addi t3, t3, 1
	sc.d t4, t3, (s2)
	bnez t4, 2b
	addi t2, t2, -1
	bnez t2, 2b
	ret

	.data
	.align 3
counter: .dword 0
counter2: .dword 0
done1:	.dword 0
ipi_seen: .dword 0
RVTEST_END
