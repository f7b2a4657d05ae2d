/* SPDX-License-Identifier: MIT */
/*
 * Two harts through virtkit-vm (a host thread each): a hart that polls memory
 * with wfi in M-mode while an interrupt it cannot take is pending naps until
 * its interrupt lines change, instead of spinning (rv_cpu_config.wfi_naps).
 *
 * The pattern is OpenSBI 1.1's HSM start (fixed upstream in 1.2), which
 * Debian 12's firmware has: hart 1 waits for a start flag with wfi while the
 * IPI that woke it from cold boot is still pending, so its wfi does not wait;
 * hart 0 sets the flag, then the address to start at, then sends the IPI. A
 * hart that spins sees the flag before the address whenever hart 0's thread
 * loses its host core in between (a loaded host); a hart that naps until the
 * IPI sees both. Here hart 0 stalls 10 ms between the two stores on purpose
 * (a nap lasts up to 100 ms, RV_HART_NAP_NS):
 *   1. hart 1 read the address stored after the flag (it went on at the IPI);
 *   2. hart 1's wfi returned only a few times while it waited (it napped).
 */
#include "rvtest.h"

#define PAUSE .word 0x0100000f
#define STALL 100000  /* mtime ticks (10 MHz: 10 ms) between the flag and the address */
#define ADDRESS 0x1234

RVTEST_BEGIN
	csrr s0, mhartid
	bnez s0, poller
	la s1, ready
1:	PAUSE
	ld t0, 0(s1)
	beqz t0, 1b
	/* the flag, a stall (the starting hart's thread off its core), the address, the IPI */
	la t0, flag
	li t1, 1
	sd t1, 0(t0)
	li t2, CLINT_MTIME
	ld t3, 0(t2)
	li t4, STALL
	add t3, t3, t4
2:	ld t4, 0(t2)
	bltu t4, t3, 2b
	la t0, address
	li t1, ADDRESS
	sd t1, 0(t0)
	li t0, CLINT_MSIP + 4
	li t1, 1
	sw t1, 0(t0)
	la s1, done
3:	PAUSE
	ld t0, 0(s1)
	beqz t0, 3b
	TEST(1)
	CHECK_MEM(seen, ADDRESS)
	TEST(2)
	la t5, polls
	ld t5, 0(t5)
	li t6, 100
	bgeu t5, t6, fail
	RVTEST_PASS

/* Hart 1 (any other hart parks the same way): no timer, MSIE on, MIE off, its own IPI pending. */
poller:
	li t0, CLINT_MTIMECMP
	slli t1, s0, 3
	add t0, t0, t1
	li t1, -1
	sd t1, 0(t0)
	li t0, 1 << 3
	csrs mie, t0
	li t0, CLINT_MSIP
	slli t1, s0, 2
	add t0, t0, t1
	li t1, 1
	sw t1, 0(t0)
	li t0, 1
	bne s0, t0, park
	/* this wfi sees the wake of the store above; the next ones wait for hart 0 */
	wfi
	la t0, ready
	li t1, 1
	sd t1, 0(t0)
	li s2, 0
4:	wfi
	addi s2, s2, 1
	la t0, flag
	ld t0, 0(t0)
	beqz t0, 4b
	la t0, address
	ld t1, 0(t0)
	la t0, seen
	sd t1, 0(t0)
	la t0, polls
	sd s2, 0(t0)
	fence w, w
	la t0, done
	li t1, 1
	sd t1, 0(t0)
park:
	wfi
	j park

	.data
	.align 6
ready:   .dword 0
	.align 6
flag:    .dword 0
	.align 6
address: .dword 0
seen:    .dword 0
polls:   .dword 0
	.align 6
done:    .dword 0

RVTEST_END
