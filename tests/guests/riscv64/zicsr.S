/* SPDX-License-Identifier: MIT */
/* Zicsr: the six CSR instructions, read-only and unknown CSRs, counters, misa, mhartid. */
#include "rvtest.h"

RVTEST_BEGIN
	TEST(1)
	li a0, 0x1234
	csrw mscratch, a0
	csrrw a1, mscratch, zero
	CHECK(a1, 0x1234)
	csrr a1, mscratch
	CHECK(a1, 0)
	li a0, 0xf0
	csrrs a1, mscratch, a0
	CHECK(a1, 0)
	li a0, 0x30
	csrrc a1, mscratch, a0
	CHECK(a1, 0xf0)
	csrr a1, mscratch
	CHECK(a1, 0xc0)
	TEST(2)
	csrrwi a1, mscratch, 0x1f
	CHECK(a1, 0xc0)
	csrrsi a1, mscratch, 0x0
	CHECK(a1, 0x1f)
	csrrci a1, mscratch, 0x3
	CHECK(a1, 0x1f)
	csrr a1, mscratch
	CHECK(a1, 0x1c)
	TEST(3)
	/* misa: RV64 with IMAFDC, S and U */
	csrr a0, misa
	CHECK(a0, 0x800000000014112d)
	csrr a0, mhartid
	CHECK(a0, 0)
	csrr a0, mvendorid
	CHECK(a0, 0)
	TEST(4)
	/* reading a read-only CSR with csrrs x0 is fine, writing it traps */
	csrrs a0, mhartid, zero
	EXPECT_TRAP(1f)
2:	csrw mhartid, a0
	j fail
1:	la t0, 2b
	lwu t1, 0(t0)
	CHECK_MEM(trap_cause, 2)
	CHECK_MEM_REG(trap_tval, t1)
	CHECK_MEM_REG(trap_epc, t0)
	TEST(5)
	/* csrrsi with uimm 0 does not write, so it may target a read-only CSR */
	csrrsi a0, mvendorid, 0
	/* ...but csrrci with a non-zero uimm does */
	EXPECT_TRAP(1f)
	csrrci a0, mimpid, 1
	j fail
1:	CHECK_MEM(trap_cause, 2)
	TEST(6)
	/* unknown CSRs trap exactly (firmware probes this way) */
	EXPECT_TRAP(1f)
2:	csrr a0, 0x7c0
	j fail
1:	la t0, 2b
	lwu t1, 0(t0)
	CHECK_MEM(trap_cause, 2)
	CHECK_MEM_REG(trap_tval, t1)
	EXPECT_TRAP(1f)
	csrr a0, 0x14d /* stimecmp: no Sstc */
	j fail
1:	EXPECT_TRAP(1f)
	csrr a0, 0x3a1 /* pmpcfg1 does not exist on RV64 */
	j fail
1:	EXPECT_TRAP(1f)
	csrr a0, 0xc80 /* cycleh: RV32 only */
	j fail
1:	TEST(7)
	/* counters move; minstret and mcycle are writable */
	csrr a0, instret
	nop
	nop
	csrr a1, instret
	sub a2, a1, a0
	CHECK(a2, 3)
	li a0, 1000
	csrw minstret, a0
	csrr a1, minstret
	CHECK(a1, 1000)
	csrr a0, cycle
	csrr a1, cycle
	bleu a1, a0, fail
	csrr a0, time
	TEST(8)
	/* PMP registers are stored */
	li a0, 0x1fffffff
	csrw pmpaddr0, a0
	csrr a1, pmpaddr0
	CHECK(a1, 0x1fffffff)
	li a0, 0x1f
	csrw pmpcfg0, a0
	csrr a1, pmpcfg0
	CHECK(a1, 0x1f)
	csrw pmpaddr63, a0
	csrr a1, pmpaddr63
	CHECK(a1, 0x1f)
	csrr a1, pmpcfg14
	TEST(9)
	/* mhpmcounters read zero and ignore writes */
	csrw mhpmcounter3, a0
	csrr a1, mhpmcounter3
	CHECK(a1, 0)
	csrw mhpmevent31, a0
	csrr a1, mhpmevent31
	CHECK(a1, 0)
	TEST(10)
	/* menvcfg / senvcfg / mcountinhibit exist (privileged spec 1.12) */
	csrr a0, menvcfg
	csrr a0, senvcfg
	csrr a0, mcountinhibit
	csrr a0, mconfigptr
	TEST(11)
	/* fcsr = frm << 5 | fflags */
	li a0, 0xff
	csrw fcsr, a0
	csrr a1, fflags
	CHECK(a1, 0x1f)
	csrr a1, frm
	CHECK(a1, 7)
	csrwi frm, 1
	csrr a1, fcsr
	CHECK(a1, 0x3f)
	csrwi fflags, 0
	csrr a1, fcsr
	CHECK(a1, 0x20)
	TEST(12)
	/* mepc ignores bit 0; mtvec keeps modes 0 and 1 */
	li a0, 0x80000003
	csrw mepc, a0
	csrr a1, mepc
	CHECK(a1, 0x80000002)
	csrr s0, mtvec
	li a0, 0x80001001
	csrw mtvec, a0
	csrr a1, mtvec
	CHECK(a1, 0x80001001)
	csrw mtvec, s0
	TEST(13)
	/* mip: only SSIP, STIP, SEIP are writable; mideleg: only S interrupts */
	li a0, -1
	csrw mideleg, a0
	csrr a1, mideleg
	CHECK(a1, 0x222)
	csrw mideleg, zero
	csrw medeleg, a0
	csrr a1, medeleg
	CHECK(a1, 0xb3ff)
	csrw medeleg, zero
	csrw mip, a0
	csrr a1, mip
	CHECK(a1, 0x222)
	csrw mip, zero
	RVTEST_PASS
RVTEST_END
