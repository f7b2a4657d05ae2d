/* SPDX-License-Identifier: MIT */
/*
 * NHARTS harts (rv-run -c NHARTS, or virtkit-vm --cpus NHARTS, where every
 * hart runs on a host thread of its own), all at once on shared memory:
 *   1. counters: each hart adds 1 N times to a 64-bit counter with amoadd.d,
 *      to another with lr.d/sc.d loops and to a 32-bit one with lr.w/sc.w
 *      (an sc fails when another hart's store came between, and the loop
 *      retries); the totals must be exact (NHARTS * N).
 *   2. message passing in a ring: hart h sends M messages (two words, then
 *      `fence w,w`, then a sequence flag) to hart h+1, which waits for the
 *      flag, `fence r,r`, checks both words, `fence r,w` and acknowledges.
 *   3. store buffering (harts 0 and 1): x = 1; fence rw,rw; read y, against
 *      y = 1; fence rw,rw; read x, R rounds: both reads 0 is forbidden (on an
 *      x86 host only the host full fence the rule in guest-ram.h emits for
 *      `fence rw,rw` keeps it from happening).
 *   4. hart 0 wakes every other hart from wfi with an IPI through the CLINT.
 * Harts with an id >= NHARTS only sleep. A failing check of hart h > 0
 * reports 100 + h; hart 0 reports the phase.
 */
#include "rvtest.h"

#ifndef NHARTS
#define NHARTS 4
#endif
#define N 20000 /* increments per hart and counter */
#define M 200   /* messages per hart */
#define R 200   /* store-buffering rounds */
/* Zihintpause `pause` in every spin loop: the hart waited for may need this host core. */
#define PAUSE .word 0x0100000f
#define MP_K 0x9e3779b97f4a7c15

/* Message channel of hart h: data0, data1, flag, ack (one 64-byte line each). */
#define CH_DATA0 0
#define CH_DATA1 8
#define CH_FLAG  16
#define CH_ACK   24

RVTEST_BEGIN
	csrr s0, mhartid
	li t0, NHARTS
	bgeu s0, t0, park
	li s11, 0 /* barriers passed */
	beqz s0, 1f
	addi TESTNUM, s0, 100
1:
	/* ---- 1. counters ---- */
	beqz s0, 2f
	j 3f
2:	TEST(1)
3:	jal ra, counters
	jal ra, barrier
	bnez s0, 4f
	CHECK_MEM(counter, NHARTS * N)
	CHECK_MEM(counter2, NHARTS * N)
	la t5, counter3
	lwu t5, 0(t5)
	CHECK(t5, NHARTS * N)
	TEST(2)
4:
	/* ---- 2. message passing ---- */
	jal ra, message_ring
	jal ra, barrier
	bnez s0, 5f
	CHECK_MEM(mp_errors, 0)
	TEST(3)
5:
	/* ---- 3. store buffering ---- */
	li t0, 2
	bgeu s0, t0, 6f
	jal ra, store_buffering
6:	jal ra, barrier
	bnez s0, ipi_wait
	li t2, 0
	la t3, sb_r0
	la t4, sb_r1
	li s1, R
7:	ld a0, 0(t3)
	ld a1, 0(t4)
	or a0, a0, a1
	bnez a0, 8f
	addi t2, t2, 1 /* both read 0 */
8:	addi t3, t3, 8
	addi t4, t4, 8
	addi s1, s1, -1
	bnez s1, 7b
	CHECK(t2, 0)

	/* ---- 4. IPIs: hart 0 wakes every other hart ---- */
	TEST(4)
	li s1, 1
9:	li t0, NHARTS
	bgeu s1, t0, 10f
	slli t0, s1, 2
	li t1, CLINT_MSIP
	add t0, t0, t1
	li t1, 1
	sw t1, 0(t0)
	addi s1, s1, 1
	j 9b
10:	la s3, ipi_seen
	li t2, 50000000
11:	ld t3, 0(s3)
	li t4, NHARTS - 1
	beq t3, t4, 12f
	addi t2, t2, -1
	bnez t2, 11b
	j fail
12:	RVTEST_PASS

/* Harts > 0: sleep until hart 0's IPI, then acknowledge it (a handler of their
 * own: the harness's records one trap at a time). */
ipi_wait:
	la t0, ipi_trap
	csrw mtvec, t0
	li t0, 1 << 3
	csrs mie, t0
	csrsi mstatus, MSTATUS_MIE
1:	wfi
	j 1b
	.align 2
ipi_trap:
	csrr t0, mcause
	CHECK(t0, 0x8000000000000003)
	slli t0, s0, 2
	li t1, CLINT_MSIP
	add t0, t0, t1
	sw zero, 0(t0)
	la t0, ipi_seen
	li t1, 1
	amoadd.d zero, t1, (t0)
park:
	wfi
	j park

/* Wait until every hart has called barrier as often as this one. Clobbers t0-t3. */
barrier:
	addi s11, s11, 1
	li t0, NHARTS
	mul t1, t0, s11
	la t2, arrived
	li t3, 1
	amoadd.d zero, t3, (t2)
1:	PAUSE
	ld t3, 0(t2)
	blt t3, t1, 1b
	ret

/* N AMO increments of counter, N LR/SC increments of counter2 and (32-bit) counter3. */
counters:
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
	la s2, counter3
	li t2, N
3:	lr.w.aq t3, (s2)
	addiw t3, t3, 1
	sc.w.rl t4, t3, (s2)
	bnez t4, 3b
	addi t2, t2, -1
	bnez t2, 3b
	ret

/* Send M messages to the next hart and receive M from the previous one. */
message_ring:
	la s1, channels
	slli t0, s0, 6
	add s2, s1, t0 /* own channel (outgoing) */
	addi s3, s0, -1
	bgez s3, 1f
	li s3, NHARTS - 1
1:	slli t0, s3, 6
	add s4, s1, t0 /* previous hart's channel (incoming) */
	li s5, 1       /* k */
	li s6, MP_K
2:	/* wait for the ack of message k - 1, then send k */
	addi t0, s5, -1
3:	PAUSE
	ld t1, CH_ACK(s2)
	bne t1, t0, 3b
	mul t2, s5, s6
	add t2, t2, s0
	sd t2, CH_DATA0(s2)
	not t3, t2
	sd t3, CH_DATA1(s2)
	fence w, w
	sd s5, CH_FLAG(s2)
	/* receive message k from the previous hart */
4:	PAUSE
	ld t1, CH_FLAG(s4)
	bne t1, s5, 4b
	fence r, r
	ld t2, CH_DATA0(s4)
	ld t3, CH_DATA1(s4)
	mul t4, s5, s6
	add t4, t4, s3
	bne t2, t4, 5f
	not t4, t4
	beq t3, t4, 6f
5:	la t0, mp_errors
	li t1, 1
	amoadd.d zero, t1, (t0)
6:	fence r, w
	sd s5, CH_ACK(s4)
	addi s5, s5, 1
	li t0, M
	bleu s5, t0, 2b
	/* the next hart must have taken message M before the channel is left */
7:	PAUSE
	ld t1, CH_ACK(s2)
	bne t1, t0, 7b
	ret

/* Harts 0 and 1: R rounds of the store-buffering pattern, in step. */
store_buffering:
	la s1, sb_x
	la s2, sb_y
	la s3, sb_r0
	beqz s0, 1f
	mv t0, s1 /* hart 1 writes y, reads x */
	mv s1, s2
	mv s2, t0
	la s3, sb_r1
1:	li s4, 0
	la s5, sb_sync
2:	/* both harts start round s4 together */
	li t0, 1
	amoadd.d zero, t0, (s5)
	addi t1, s4, 1
	slli t1, t1, 1
3:	PAUSE
	ld t0, 0(s5)
	blt t0, t1, 3b
	slli t2, s4, 3
	add t3, s1, t2
	li t0, 1
	sd t0, 0(t3)
	fence rw, rw
	add t3, s2, t2
	ld t0, 0(t3)
	add t3, s3, t2
	sd t0, 0(t3)
	addi s4, s4, 1
	li t0, R
	bltu s4, t0, 2b
	ret

	.data
	.align 6
channels: .zero 64 * NHARTS
counter: .dword 0
counter2: .dword 0
counter3: .word 0
	.align 3
arrived: .dword 0
mp_errors: .dword 0
ipi_seen: .dword 0
sb_sync: .dword 0
sb_x: .zero 8 * R
sb_y: .zero 8 * R
sb_r0: .zero 8 * R
sb_r1: .zero 8 * R
RVTEST_END
