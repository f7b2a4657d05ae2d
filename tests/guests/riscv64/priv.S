/* SPDX-License-Identifier: MIT */
/*
 * Privileged architecture: exceptions and their mcause/mtval/mepc, U and S
 * modes, delegation to S, mret/sret, TSR/TW/TVM, interrupts (self-IPI,
 * timer, priorities, vectored mtvec, S-level interrupts), wfi wake-up.
 */
#include "rvtest.h"

#define IRQ(n) (0x8000000000000000 | (n))

/* Spin a while: an interrupt that is pending and enabled must be taken meanwhile. */
#define WAIT_FOR_TRAP   \
	li t2, 1000;    \
98:	addi t2, t2, -1; \
	bnez t2, 98b;   \
	j fail

RVTEST_BEGIN
	TEST(1)
	EXPECT_TRAP(1f)
2:	ecall
	j fail
1:	CHECK_MEM(trap_cause, 11)
	CHECK_MEM(trap_tval, 0)
	la t0, 2b
	CHECK_MEM_REG(trap_epc, t0)
	TEST(2)
	EXPECT_TRAP(1f)
	.word 0
	j fail
1:	CHECK_TRAP(2, 0)
	EXPECT_TRAP(1f)
	.word 0xffffffff
	j fail
1:	CHECK_TRAP(2, 0xffffffff)
	EXPECT_TRAP(1f)
	.word 0x10400073 /* an unknown SYSTEM encoding */
	j fail
1:	CHECK_TRAP(2, 0x10400073)
	EXPECT_TRAP(1f)
2:	ebreak
	j fail
1:	CHECK_MEM(trap_cause, 3)
	TEST(3)
	/* access faults: nothing at physical 0 */
	li a1, 0x8
	EXPECT_TRAP(1f)
	ld t2, 0(a1)
	j fail
1:	CHECK_TRAP(5, 0x8)
	EXPECT_TRAP(1f)
	sw t2, 0(a1)
	j fail
1:	CHECK_TRAP(7, 0x8)
	EXPECT_TRAP(1f)
	jalr a1
	j fail
1:	CHECK_TRAP(1, 0x8)
	CHECK_MEM(trap_epc, 0x8)
	li a1, 0x10000000 /* no execution from a device */
	EXPECT_TRAP(1f)
	jalr a1
	j fail
1:	CHECK_TRAP(1, 0x10000000)
	TEST(4)
	/* U-mode: ecall, and everything privileged is illegal */
	RUN_IN_MODE(0, u_ecall, 1f)
1:	CHECK_MEM(trap_cause, 8)
	CHECK_MEM_MASK(trap_mstatus, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE)
	RUN_IN_MODE(0, u_csr, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(0, u_sret, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(0, u_wfi, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(0, u_time, 1f)
1:	CHECK_MEM(trap_cause, 2) /* mcounteren.TM = 0 */
	TEST(5)
	/* S-mode */
	RUN_IN_MODE(1, s_ecall, 1f)
1:	CHECK_MEM(trap_cause, 9)
	RUN_IN_MODE(1, s_mstatus, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(1, s_mret, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(1, s_sstatus, 1f)
1:	CHECK_MEM(trap_cause, 9) /* sstatus is readable: it got to its ecall */
	li t0, MSTATUS_TSR
	csrs mstatus, t0
	RUN_IN_MODE(1, s_sret, 1f)
1:	CHECK_MEM(trap_cause, 2)
	li t0, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM
	csrc mstatus, t0
	li t0, MSTATUS_TW
	csrs mstatus, t0
	RUN_IN_MODE(1, s_wfi, 1f)
1:	CHECK_MEM(trap_cause, 2)
	li t0, MSTATUS_TW | MSTATUS_TVM
	csrc mstatus, t0
	li t0, MSTATUS_TVM
	csrs mstatus, t0
	RUN_IN_MODE(1, s_satp, 1f)
1:	CHECK_MEM(trap_cause, 2)
	RUN_IN_MODE(1, s_sfence, 1f)
1:	CHECK_MEM(trap_cause, 2)
	li t0, MSTATUS_TVM
	csrc mstatus, t0
	RUN_IN_MODE(1, s_sfence, 1f)
1:	CHECK_MEM(trap_cause, 9)
	/* counters from S: allowed by mcounteren */
	csrwi mcounteren, 7
	RUN_IN_MODE(1, s_time, 1f)
1:	CHECK_MEM(trap_cause, 9)
	csrwi scounteren, 0
	RUN_IN_MODE(0, u_time, 1f)
1:	CHECK_MEM(trap_cause, 2) /* scounteren.TM = 0 */
	csrwi scounteren, 2
	RUN_IN_MODE(0, u_time, 1f)
1:	CHECK_MEM(trap_cause, 8)
	TEST(6)
	/* delegation: illegal instruction and ecall from U go to S */
	li t0, (1 << 2) | (1 << 8)
	csrw medeleg, t0
	RUN_IN_MODE(1, s_deleg, 1f)
1:	CHECK_MEM(trap_cause, 9)
	CHECK_MEM(s_trap_cause, 2)
	CHECK_MEM(s_trap_tval, 0xffffffff)
	/* in M, a delegated exception still goes to M */
	EXPECT_TRAP(1f)
	.word 0xffffffff
	j fail
1:	CHECK_MEM(trap_cause, 2)
	/* from U, ecall goes to S, which then ecalls M */
	S_EXPECT_TRAP(s_after_u)
	RUN_IN_MODE(0, u_ecall, 1f)
1:	CHECK_MEM(trap_cause, 9)
	CHECK_MEM(s_trap_cause, 8)
	la t0, u_ecall
	CHECK_MEM_REG(s_trap_epc, t0)
	csrw medeleg, zero
	TEST(7)
	/* mret: MIE = MPIE, MPIE = 1, MPP = U */
	li t0, MSTATUS_MPP | MSTATUS_MPIE
	csrs mstatus, t0
	la t0, 1f
	csrw mepc, t0
	mret
1:	csrr t1, mstatus
	li t2, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_SIE
	and t1, t1, t2
	CHECK(t1, MSTATUS_MIE | MSTATUS_MPIE)
	csrci mstatus, MSTATUS_MIE
	/* sret from M to S: SIE = SPIE, SPIE = 1, SPP = U */
	li t0, MSTATUS_SPP | MSTATUS_SPIE
	csrs mstatus, t0
	la t0, s_save_sstatus
	csrw sepc, t0
	EXPECT_TRAP(1f)
	sret
1:	CHECK_MEM(trap_cause, 9)
	CHECK_MEM_MASK(saved, 0x7fffffff00000fff, 0x0000000200000022) /* UXL, SPIE, SIE */
	csrci sstatus, MSTATUS_SIE
	TEST(8)
	/* self-IPI through the CLINT */
	li t0, 1 << 3
	csrs mie, t0
	csrsi mstatus, MSTATUS_MIE
	EXPECT_TRAP(1f)
	li t1, CLINT_MSIP
	li t2, 1
	sw t2, 0(t1)
	WAIT_FOR_TRAP
1:	CHECK_MEM(trap_cause, IRQ(3))
	li t1, CLINT_MSIP
	sw zero, 0(t1)
	csrr t1, mip
	andi t1, t1, 1 << 3
	bnez t1, fail
	TEST(9)
	/* timer */
	li t0, 1 << 7
	csrs mie, t0
	EXPECT_TRAP(1f)
	li t1, CLINT_MTIME
	ld t2, 0(t1)
	addi t2, t2, 50
	li t1, CLINT_MTIMECMP
	sd t2, 0(t1)
	csrsi mstatus, MSTATUS_MIE
	li t2, 100000
2:	addi t2, t2, -1
	bnez t2, 2b
	j fail
1:	CHECK_MEM(trap_cause, IRQ(7))
	li t1, CLINT_MTIMECMP
	li t2, -1
	sd t2, 0(t1)
	TEST(10)
	/* wfi wakes up on a pending, locally enabled interrupt even with MIE = 0 */
	li t1, CLINT_MTIME
	ld t2, 0(t1)
	addi t2, t2, 1000
	li t1, CLINT_MTIMECMP
	sd t2, 0(t1)
	csrr t1, mip
	andi t1, t1, 1 << 7
	bnez t1, fail
	wfi
	csrr t1, mip
	andi t1, t1, 1 << 7
	beqz t1, fail
	TEST(11)
	/* priority: software before timer (both pending, then enabled at once) */
	li t1, CLINT_MSIP
	li t2, 1
	sw t2, 0(t1)
	EXPECT_TRAP(1f)
	csrsi mstatus, MSTATUS_MIE
	WAIT_FOR_TRAP
1:	CHECK_MEM(trap_cause, IRQ(3))
	li t1, CLINT_MSIP
	sw zero, 0(t1)
	EXPECT_TRAP(1f)
	csrsi mstatus, MSTATUS_MIE
	WAIT_FOR_TRAP
1:	CHECK_MEM(trap_cause, IRQ(7))
	TEST(12)
	/* vectored mtvec: interrupt n goes to base + 4n */
	la t0, vectors
	ori t0, t0, 1
	csrw mtvec, t0
	EXPECT_TRAP(1f)
	csrsi mstatus, MSTATUS_MIE
	WAIT_FOR_TRAP
1:	CHECK_MEM(trap_cause, IRQ(7))
	/* exceptions still go to the base */
	EXPECT_TRAP(1f)
	ecall
	j fail
1:	CHECK_MEM(trap_cause, 11)
	la t0, trap_entry
	csrw mtvec, t0
	li t1, CLINT_MTIMECMP
	li t2, -1
	sd t2, 0(t1)
	TEST(13)
	/* an M interrupt is taken in S even with MIE = 0 */
	li t1, CLINT_MSIP
	li t2, 1
	sw t2, 0(t1)
	RUN_IN_MODE(1, s_spin, 1f)
1:	CHECK_MEM(trap_cause, IRQ(3))
	CHECK_MEM_MASK(trap_mstatus, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, (1 << 11) | MSTATUS_MPIE)
	li t1, CLINT_MSIP
	sw zero, 0(t1)
	TEST(14)
	/* S timer interrupt delegated to S, raised by M through mip.STIP */
	li t0, (1 << 5) | (1 << 1)
	csrw mideleg, t0
	csrs mie, t0
	li t0, 1 << 5
	csrs mip, t0
	/* not taken in M */
	csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
	nop
	nop
	csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
	S_EXPECT_TRAP(s_after_irq)
	RUN_IN_MODE(1, s_enable, 1f)
1:	CHECK_MEM(trap_cause, 9)
	CHECK_MEM(s_trap_cause, IRQ(5))
	li t0, 1 << 5
	csrc mip, t0
	/* S software interrupt, raised by S itself */
	S_EXPECT_TRAP(s_after_irq)
	RUN_IN_MODE(1, s_ssip, 1f)
1:	CHECK_MEM(trap_cause, 9)
	CHECK_MEM(s_trap_cause, IRQ(1))
	csrr t1, sip
	andi t1, t1, 2
	beqz t1, fail /* still pending: the handler did not clear it */
	csrci sip, 2
	csrw mideleg, zero
	TEST(15)
	/* an S-level interrupt that is not delegated goes to M */
	csrci mstatus, MSTATUS_MIE
	li t0, 1 << 5
	csrs mip, t0
	RUN_IN_MODE(1, s_spin, 1f)
1:	CHECK_MEM(trap_cause, IRQ(5))
	li t0, 1 << 5
	csrc mip, t0
	csrw mie, zero
	RVTEST_PASS

u_ecall:
	ecall
	j fail
u_csr:
	csrr t0, mstatus
	j fail
u_sret:
	sret
	j fail
u_wfi:
	wfi
	j fail
u_time:
	rdtime t0
	ecall
	j fail
s_ecall:
	ecall
	j fail
s_mstatus:
	csrr t0, mstatus
	j fail
s_mret:
	mret
	j fail
s_sstatus:
	csrr t0, sstatus
	ecall
	j fail
s_sret:
	sret
	j fail
s_wfi:
	wfi
	j fail
s_satp:
	csrr t0, satp
	j fail
s_sfence:
	sfence.vma
	ecall
	j fail
s_time:
	rdtime t0
	rdcycle t0
	rdinstret t0
	ecall
	j fail
s_deleg:
	S_EXPECT_TRAP(1f)
	.word 0xffffffff
	j fail
1:	ecall
	j fail
s_after_u:
	ecall
	j fail
s_save_sstatus:
	csrr t0, sstatus
	la t1, saved
	sd t0, 0(t1)
	ecall
	j fail
s_spin:
	WAIT_FOR_TRAP
s_enable:
	csrsi sstatus, MSTATUS_SIE
	WAIT_FOR_TRAP
s_ssip:
	csrsi sie, 2
	csrsi sstatus, MSTATUS_SIE
	csrsi sip, 2
	WAIT_FOR_TRAP
s_after_irq:
	ecall
	j fail

	.align 6
vectors:
	.rept 16
	j trap_entry
	.endr

	.data
	.align 3
saved:	.dword 0
RVTEST_END
