/* SPDX-License-Identifier: MIT */
/*
 * Virtual memory: Sv39 and Sv48 walks with hand-built page tables, A/D
 * updates, permission faults with their exact causes and tval, SUM, MXR,
 * U pages, giga/megapages and misaligned superpages, access faults through
 * a PTE, non-canonical addresses, sfence.vma (also across superpages),
 * MPRV, and satp's unsupported-mode rule.
 */
#include "rvtest.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80

#define VA_A    0x40000000 /* page_a: RW, A and D clear at first */
#define VA_B    0x40001000 /* page_b: R */
#define VA_X    0x40002000 /* xpage: X only, holds code */
#define VA_U    0x40003000 /* page_u: U RW */
#define VA_INV  0x40004000 /* not valid */
#define VA_HOLE 0x40005000 /* valid, but no RAM behind it */
#define VA_UX   0x40007000 /* uxpage: U RX, holds code */
#define VA_WO   0x40008000 /* W without R: reserved */
#define VA_RSV  0x40009000 /* reserved PTE bits (PBMT) set */
#define VA_MEGA 0xc0000000 /* 2 MiB page at physical 0x80400000 */
#define VA_MIS  0xc0200000 /* misaligned megapage */

/* table[idx] = leaf or pointer to the page at symbol target. Clobbers t0, t1. */
#define SET_PTE(table, idx, target, flags) \
	la t0, target;                     \
	srli t0, t0, 12;                   \
	slli t0, t0, 10;                   \
	ori t0, t0, flags;                 \
	la t1, table;                      \
	sd t0, ((idx) * 8)(t1)
/* Same with a physical address given as a number. */
#define SET_PTE_PA(table, idx, pa, flags) \
	li t0, (((pa) >> 12) << 10) | (flags); \
	la t1, table;                      \
	sd t0, ((idx) * 8)(t1)

/* Run `code` in S with a1 = address argument; the M trap that ends it resumes below. */
#define S_RUN(code, va) \
	li a1, va;      \
	RUN_IN_MODE(1, code, 9f); \
9:

RVTEST_BEGIN
	TEST(1)
	/* Sv39: root[1] -> l1 -> l0 (the test pages), root[2] = identity gigapage for the
	 * code at 0x80000000, root[3] -> l1b (megapages) */
	SET_PTE(pt_root, 1, pt_l1, PTE_V)
	SET_PTE(pt_l1, 0, pt_l0, PTE_V)
	SET_PTE_PA(pt_root, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	SET_PTE(pt_root, 3, pt_l1b, PTE_V)
	SET_PTE(pt_l0, 0, page_a, PTE_V | PTE_R | PTE_W)
	SET_PTE(pt_l0, 1, page_b, PTE_V | PTE_R | PTE_A)
	SET_PTE(pt_l0, 2, xpage, PTE_V | PTE_X | PTE_A)
	SET_PTE(pt_l0, 3, page_u, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
	SET_PTE_PA(pt_l0, 5, 0x0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	SET_PTE(pt_l0, 7, uxpage, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
	SET_PTE(pt_l0, 8, page_a, PTE_V | PTE_W | PTE_A | PTE_D)
	SET_PTE(pt_l0, 9, page_a, PTE_V | PTE_R | PTE_A | PTE_D)
	la t1, pt_l0
	ld t0, 72(t1)
	li t2, 1 << 62 /* PBMT = NC: reserved without Svpbmt */
	or t0, t0, t2
	sd t0, 72(t1)
	SET_PTE_PA(pt_l1b, 0, 0x80400000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	SET_PTE_PA(pt_l1b, 1, 0x80401000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	la t0, pt_root
	srli t0, t0, 12
	li t1, 8 << 60
	or s1, t0, t1 /* s1 = the Sv39 satp */
	csrw satp, s1
	csrr t0, satp
	bne t0, s1, fail
	sfence.vma
	/* contents, written through physical addresses */
	la t0, page_a
	li t1, 0xaaaa
	sd t1, 0(t0)
	la t0, page_b
	li t1, 0xbbbb
	sd t1, 0(t0)
	la t0, page_u
	li t1, 0x5555
	sd t1, 0(t0)
	TEST(2)
	S_RUN(s_load, VA_B)
	CHECK_MEM(trap_cause, 9)
	CHECK(a0, 0xbbbb)
	S_RUN(s_store, VA_B)
	CHECK_TRAP(15, VA_B)
	TEST(3)
	/* A and D: a load sets A, a store sets D */
	S_RUN(s_load, VA_A)
	CHECK(a0, 0xaaaa)
	la t2, pt_l0
	ld t2, 0(t2)
	andi t2, t2, PTE_A | PTE_D
	CHECK(t2, PTE_A)
	li a2, 0x1234
	S_RUN(s_store, VA_A + 8)
	CHECK_MEM(trap_cause, 9)
	la t2, pt_l0
	ld t2, 0(t2)
	andi t2, t2, PTE_A | PTE_D
	CHECK(t2, PTE_A | PTE_D)
	CHECK_MEM(page_a + 8, 0x1234)
	TEST(4)
	/* execute-only: fetch works, loads fault unless MXR */
	S_RUN(s_jump, VA_X)
	CHECK_MEM(trap_cause, 9)
	CHECK(a0, 0x77)
	S_RUN(s_load, VA_X)
	CHECK_TRAP(13, VA_X)
	li t0, MSTATUS_MXR
	csrs mstatus, t0
	S_RUN(s_load, VA_X)
	CHECK_MEM(trap_cause, 9)
	li t0, MSTATUS_MXR
	csrc mstatus, t0
	/* no X: instruction page fault */
	S_RUN(s_jump, VA_B)
	CHECK_TRAP(12, VA_B)
	CHECK_MEM(trap_epc, VA_B)
	TEST(5)
	/* U pages from S: only with SUM, and never executable */
	S_RUN(s_load, VA_U)
	CHECK_TRAP(13, VA_U)
	li t0, MSTATUS_SUM
	csrs mstatus, t0
	S_RUN(s_load, VA_U)
	CHECK_MEM(trap_cause, 9)
	CHECK(a0, 0x5555)
	S_RUN(s_jump, VA_UX)
	CHECK_TRAP(12, VA_UX)
	li t0, MSTATUS_SUM
	csrc mstatus, t0
	/* U mode: runs U code that loads a U page, but cannot touch S pages */
	li a1, VA_U
	RUN_IN_MODE(0, VA_UX, 1f)
1:	CHECK_MEM(trap_cause, 8)
	CHECK(a0, 0x5555)
	li a1, VA_A
	RUN_IN_MODE(0, VA_UX, 1f)
1:	CHECK_TRAP(13, VA_A)
	TEST(6)
	/* invalid PTE: the three causes */
	S_RUN(s_load, VA_INV)
	CHECK_TRAP(13, VA_INV)
	S_RUN(s_store, VA_INV + 16)
	CHECK_TRAP(15, VA_INV + 16)
	S_RUN(s_jump, VA_INV)
	CHECK_TRAP(12, VA_INV)
	/* reserved encodings: W without R, reserved bits */
	S_RUN(s_load, VA_WO)
	CHECK_TRAP(13, VA_WO)
	S_RUN(s_load, VA_RSV)
	CHECK_TRAP(13, VA_RSV)
	/* a valid PTE to where nothing is: access faults */
	S_RUN(s_load, VA_HOLE)
	CHECK_TRAP(5, VA_HOLE)
	S_RUN(s_store, VA_HOLE)
	CHECK_TRAP(7, VA_HOLE)
	/* non-canonical address */
	S_RUN(s_load, 0x0000004000000000)
	CHECK_TRAP(13, 0x0000004000000000)
	TEST(7)
	/* megapage and misaligned megapage */
	li a2, 0x4242
	S_RUN(s_store, VA_MEGA + 0x1234)
	CHECK_MEM(trap_cause, 9)
	li t0, 0x80401234
	ld t0, 0(t0)
	CHECK(t0, 0x4242)
	S_RUN(s_load, VA_MIS)
	CHECK_TRAP(13, VA_MIS)
	TEST(8)
	/* sfence.vma: remap VA_B to page_a */
	S_RUN(s_load, VA_B)
	CHECK(a0, 0xbbbb)
	SET_PTE(pt_l0, 1, page_a, PTE_V | PTE_R | PTE_A)
	sfence.vma
	S_RUN(s_load, VA_B)
	CHECK(a0, 0xaaaa)
	SET_PTE(pt_l0, 1, page_b, PTE_V | PTE_R | PTE_A)
	li t0, VA_B
	sfence.vma t0, zero
	S_RUN(s_load, VA_B)
	CHECK(a0, 0xbbbb)
	/* a megapage remapped, flushed through another address inside it */
	S_RUN(s_load, VA_MEGA + 0x1234)
	CHECK(a0, 0x4242)
	SET_PTE_PA(pt_l1b, 0, 0x80600000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	li t0, 0x80601234
	li t1, 0x4343
	sd t1, 0(t0)
	li t0, VA_MEGA + 0x5000
	sfence.vma t0, zero
	S_RUN(s_load, VA_MEGA + 0x1234)
	CHECK(a0, 0x4343)
	TEST(9)
	/* MPRV: M loads and stores translate as MPP */
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, (1 << 11) | MSTATUS_MPRV
	csrs mstatus, t0
	li t2, VA_B
	ld a0, 0(t2)
	li t0, MSTATUS_MPRV
	csrc mstatus, t0
	CHECK(a0, 0xbbbb)
	/* ...and fault as MPP would */
	li t0, (1 << 11) | MSTATUS_MPRV
	csrs mstatus, t0
	EXPECT_TRAP(1f)
	li t2, VA_INV
	ld a0, 0(t2)
	j fail
1:	/* mret back to M kept MPRV and left MPP = U: clear MPRV before touching memory */
	li t0, MSTATUS_MPRV
	csrc mstatus, t0
	CHECK_TRAP(13, VA_INV)
	TEST(10)
	/* satp: Sv57 is not supported, the write is ignored; Sv48 is */
	li t0, 10 << 60
	csrw satp, t0
	csrr t0, satp
	bne t0, s1, fail
	SET_PTE(pt_root48, 0, pt_root, PTE_V)
	la t0, pt_root48
	srli t0, t0, 12
	li t1, 9 << 60
	or t0, t0, t1
	csrw satp, t0
	csrr t2, satp
	bne t2, t0, fail
	sfence.vma
	S_RUN(s_load, VA_B)
	CHECK_MEM(trap_cause, 9)
	CHECK(a0, 0xbbbb)
	/* Sv48: bit 47 must be copied above; 0x0000800000000000 is not canonical */
	S_RUN(s_load, 0x0000800000000000)
	CHECK_TRAP(13, 0x0000800000000000)
	/* bare */
	csrw satp, zero
	csrr t0, satp
	bnez t0, fail
	RVTEST_PASS

s_load:
	ld a0, 0(a1)
	ecall
	j fail
s_store:
	sd a2, 0(a1)
	ecall
	j fail
s_jump:
	jalr a1
	j fail

	.section .text.xpage, "ax"
	.align 12
xpage:
	li a0, 0x77
	ecall
	j fail
	.align 12
uxpage:
	ld a0, 0(a1)
	ecall
	j fail
	.align 12

	.data
	.align 12
pt_root: .zero 4096
pt_root48: .zero 4096
pt_l1:	.zero 4096
pt_l1b:	.zero 4096
pt_l0:	.zero 4096
page_a:	.zero 4096
page_b:	.zero 4096
page_u:	.zero 4096
RVTEST_END
