/* SPDX-License-Identifier: MIT */
/*
 * Harness of the riscv64 ISA tests (assembly, preprocessed by gcc).
 *
 * A test file includes this, writes `RVTEST_BEGIN`, its cases, `RVTEST_PASS`
 * and `RVTEST_END`. gp holds the number of the current case (TEST n); any
 * failed check jumps to `fail`, which reports (gp << 1) | 1 through HTIF
 * `tohost`; passing reports 1.
 *
 * PMP entry 0 grants everything (for CPUs that enforce PMP; ours does not).
 *
 * Traps: every trap goes to the M-mode handler, which records mcause, mtval
 * and mepc in trap_cause/trap_tval/trap_epc, and resumes in M-mode at the
 * address the test stored with EXPECT_TRAP (an unexpected trap fails the
 * test); after an interrupt it returns with MIE clear (it clears MPIE), so
 * that a level interrupt the test has not yet lowered does not come back at
 * once. It also saves mstatus as it was on entry (trap_mstatus). The S-mode
 * handler (stvec) does the same with s_trap_* and
 * S_EXPECT_TRAP, resuming in S-mode. Both handlers clobber t0 and t1 only.
 */
/* Assembler macros, not C: */
/* clang-format off */
#define TESTNUM gp

#define MSTATUS_SIE  (1 << 1)
#define MSTATUS_MIE  (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP  (1 << 8)
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_FS   (3 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM  (1 << 18)
#define MSTATUS_MXR  (1 << 19)
#define MSTATUS_TVM  (1 << 20)
#define MSTATUS_TW   (1 << 21)
#define MSTATUS_TSR  (1 << 22)

#define CLINT_MSIP     0x02000000
#define CLINT_MTIMECMP 0x02004000
#define CLINT_MTIME    0x0200bff8

#define TEST(n) li TESTNUM, n

/* Fail unless reg == value. Clobbers t6. */
#define CHECK(reg, value) \
	li t6, value;     \
	bne reg, t6, fail

/* Fail unless the 64-bit word at symbol == value. Clobbers t5, t6. */
#define CHECK_MEM(sym, value) \
	la t5, sym;           \
	ld t5, 0(t5);         \
	CHECK(t5, value)

/* Fail unless the 64-bit word at symbol == reg. Clobbers t5. */
#define CHECK_MEM_REG(sym, reg) \
	la t5, sym;             \
	ld t5, 0(t5);           \
	bne t5, reg, fail

/* Fail unless (word at symbol & mask) == value. Clobbers t5, t6. */
#define CHECK_MEM_MASK(sym, mask, value) \
	la t5, sym;                      \
	ld t5, 0(t5);                    \
	li t6, mask;                     \
	and t5, t5, t6;                  \
	CHECK(t5, value)

/* The next trap resumes at label (in M-mode). Clobbers t0, t1. */
#define EXPECT_TRAP(label)  \
	la t0, label;       \
	la t1, trap_resume; \
	sd t0, 0(t1)

/* The next S-mode trap resumes at label (in S-mode). Clobbers t0, t1. */
#define S_EXPECT_TRAP(label)  \
	la t0, label;         \
	la t1, s_trap_resume; \
	sd t0, 0(t1)

/* Check the last M-mode trap's cause and tval. */
#define CHECK_TRAP(cause, tval)         \
	CHECK_MEM(trap_cause, cause);   \
	CHECK_MEM(trap_tval, tval)

/* Run the code at entry in privilege mode (0 U, 1 S); the trap that ends it resumes at label. */
#define RUN_IN_MODE(mode, entry, label) \
	EXPECT_TRAP(label);             \
	li t0, MSTATUS_MPP;             \
	csrc mstatus, t0;               \
	li t0, ((mode) << 11);          \
	csrs mstatus, t0;               \
	la t0, entry;                   \
	csrw mepc, t0;                  \
	mret

#define RVTEST_BEGIN                 \
	.section .text.init;         \
	.globl _start;               \
_start:                              \
	la t0, trap_entry;           \
	csrw mtvec, t0;              \
	la t0, s_trap_entry;         \
	csrw stvec, t0;              \
	la sp, stack_top;            \
	li TESTNUM, 0;               \
	li t0, MSTATUS_FS;           \
	csrs mstatus, t0;            \
	csrwi fcsr, 0;               \
	li t0, -1;                   \
	csrw pmpaddr0, t0;           \
	li t0, 0x1f;                 \
	csrw pmpcfg0, t0;            \
	j test_main;                 \
	.align 2;                    \
trap_entry:                          \
	csrr t0, mcause;             \
	la t1, trap_cause;           \
	sd t0, 0(t1);                \
	csrr t0, mtval;              \
	la t1, trap_tval;            \
	sd t0, 0(t1);                \
	csrr t0, mepc;               \
	la t1, trap_epc;             \
	sd t0, 0(t1);                \
	csrr t0, mstatus;            \
	la t1, trap_mstatus;         \
	sd t0, 0(t1);                \
	la t1, trap_count;           \
	ld t0, 0(t1);                \
	addi t0, t0, 1;              \
	sd t0, 0(t1);                \
	csrr t0, mcause;             \
	bgez t0, 3f;                 \
	li t0, MSTATUS_MPIE;         \
	csrc mstatus, t0;            \
3:	                             \
	la t1, trap_resume;          \
	ld t0, 0(t1);                \
	beqz t0, fail;               \
	sd zero, 0(t1);              \
	csrw mepc, t0;               \
	li t0, MSTATUS_MPP;          \
	csrs mstatus, t0;            \
	mret;                        \
	.align 2;                    \
s_trap_entry:                        \
	csrr t0, scause;             \
	la t1, s_trap_cause;         \
	sd t0, 0(t1);                \
	csrr t0, stval;              \
	la t1, s_trap_tval;          \
	sd t0, 0(t1);                \
	csrr t0, sepc;               \
	la t1, s_trap_epc;           \
	sd t0, 0(t1);                \
	csrr t0, scause;             \
	bgez t0, 4f;                 \
	li t0, MSTATUS_SPIE;         \
	csrc sstatus, t0;            \
4:	                             \
	la t1, s_trap_resume;        \
	ld t0, 0(t1);                \
	beqz t0, fail;               \
	sd zero, 0(t1);              \
	csrw sepc, t0;               \
	li t0, MSTATUS_SPP;          \
	csrs sstatus, t0;            \
	sret;                        \
	.align 2;                    \
fail:                                \
	slli t0, TESTNUM, 1;         \
	ori t0, t0, 1;               \
	la t1, tohost;               \
	sd t0, 0(t1);                \
1:	j 1b;                        \
	.align 2;                    \
pass_:                               \
	li t0, 1;                    \
	la t1, tohost;               \
	sd t0, 0(t1);                \
2:	j 2b;                        \
	.text;                       \
	.globl test_main;            \
test_main:

#define RVTEST_PASS j pass_

#define RVTEST_END                 \
	.section .tohost, "aw";    \
	.align 6;                  \
	.globl tohost;             \
	.type tohost, @object;     \
	.size tohost, 8;           \
tohost:	.dword 0;                  \
	.align 6;                  \
	.globl fromhost;           \
	.type fromhost, @object;   \
	.size fromhost, 8;         \
fromhost: .dword 0;                \
	.data;                     \
	.align 3;                  \
trap_cause: .dword 0;              \
trap_tval: .dword 0;               \
trap_epc: .dword 0;                \
trap_resume: .dword 0;             \
trap_count: .dword 0;              \
trap_mstatus: .dword 0;            \
s_trap_cause: .dword 0;            \
s_trap_tval: .dword 0;             \
s_trap_epc: .dword 0;              \
s_trap_resume: .dword 0
