/* SPDX-License-Identifier: MIT */
/*
 * riscv64 MMU: Sv39 and Sv48 walks over page tables built by hand in the
 * fake board's RAM, checked through rv_tlb_fill() (the walker + TLB fill):
 * A/D updates in RAM, permission faults with the exact cause, SUM/MXR, U
 * pages, superpages and misaligned ones, non-canonical addresses, access
 * faults, device pages, and flushes.
 */
#include <stdlib.h>

#include "rv-fake-board.h"

#define V 0x01
#define R 0x02
#define W 0x04
#define X 0x08
#define U 0x10
#define A 0x40
#define D 0x80

/* Page table pages and data pages in the fake RAM. */
#define ROOT   (RAM_BASE + 0x10000)
#define L2     (RAM_BASE + 0x11000)
#define L1     (RAM_BASE + 0x12000)
#define L0     (RAM_BASE + 0x13000)
#define ROOT48 (RAM_BASE + 0x14000)
#define DATA   (RAM_BASE + 0x20000)

static uint64_t pte(uint64_t pa, unsigned flags)
{
	return ((pa >> 12) << 10) | flags;
}

static int setup(void **state)
{
	struct fake_board *b = fb_new();

	/* Sv39: VA 0x4000_0000 + n pages -> L1[0] -> L0[n] */
	fb_put64(b, ROOT + 1 * 8, pte(L1, V));
	fb_put64(b, L1 + 0 * 8, pte(L0, V));
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	fb_free(*state);
	return 0;
}

static void use_satp(struct fake_board *b, unsigned mode, uint64_t root)
{
	fb_csr(b, 0x180, true, ((uint64_t)mode << 60) | (root >> 12));
	assert_int_equal(b->cpu->satp >> 60, mode);
}

/* Translate; returns the physical address, or ~0 with *cause set. */
static uint64_t xlate(struct fake_board *b, uint64_t va, enum rv_access acc, enum rv_mmu_idx idx,
                      uint64_t *cause)
{
	struct rv_tlb_entry *e = rv_tlb_fill(b->cpu, va, acc, idx);
	uint64_t tag;

	if (!e) {
		*cause = b->cpu->exc_cause;
		assert_int_equal(b->cpu->exc_tval, va);
		return ~0ull;
	}
	*cause = ~0ull;
	tag = acc == RV_ACC_READ ? e->tag_r : acc == RV_ACC_WRITE ? e->tag_w : e->tag_x;
	assert_int_equal(tag & ~RV_TLB_IO, va & RV_PAGE_MASK);
	if (tag & RV_TLB_IO)
		return va + e->addend;
	/* RAM: turn the host address back into a guest-physical one */
	const struct vm_mem_region *r = &b->mem.regions[0];
	return (uint64_t)((uint8_t *)(uintptr_t)(va + e->addend) - r->host) + r->gpa;
}

#define VA(n) (0x40000000ull + (n)*0x1000ull)

static void test_sv39_basic_and_ad(void **state)
{
	struct fake_board *b = *state;
	uint64_t cause;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	fb_put64(b, L0 + 0 * 8, pte(DATA, V | R | W));
	/* a read sets A, not D; the entry is not writable yet */
	assert_int_equal(xlate(b, VA(0) + 0x123, RV_ACC_READ, RV_MMU_S, &cause), DATA + 0x123);
	assert_int_equal(fb_get64(b, L0) & (A | D), A);
	assert_int_equal(b->cpu->tlb[RV_MMU_S][(VA(0) >> 12) % RV_TLB_SIZE].tag_w, RV_TLB_INVALID);
	/* a write sets D */
	assert_int_equal(xlate(b, VA(0) + 8, RV_ACC_WRITE, RV_MMU_S, &cause), DATA + 8);
	assert_int_equal(fb_get64(b, L0) & (A | D), A | D);
	/* read-only page: store page fault; no-X page: instruction page fault */
	fb_put64(b, L0 + 1 * 8, pte(DATA, V | R | A));
	assert_int_equal(xlate(b, VA(1), RV_ACC_WRITE, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_STORE_PAGE);
	assert_int_equal(xlate(b, VA(1), RV_ACC_EXEC, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_INSN_PAGE);
	/* a failed access does not set A */
	fb_put64(b, L0 + 2 * 8, pte(DATA, V | X));
	assert_int_equal(xlate(b, VA(2), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	assert_int_equal(fb_get64(b, L0 + 2 * 8) & A, 0);
	/* invalid, W without R, reserved bits */
	assert_int_equal(xlate(b, VA(3), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	fb_put64(b, L0 + 3 * 8, pte(DATA, V | W | A | D));
	assert_int_equal(xlate(b, VA(3), RV_ACC_WRITE, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_STORE_PAGE);
	fb_put64(b, L0 + 3 * 8, pte(DATA, V | R | A) | (1ull << 61));
	assert_int_equal(xlate(b, VA(3), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	/* a pointer PTE at level 0 is invalid */
	fb_put64(b, L0 + 3 * 8, pte(DATA, V));
	assert_int_equal(xlate(b, VA(3), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
}

static void test_user_sum_mxr(void **state)
{
	struct fake_board *b = *state;
	uint64_t cause;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	fb_put64(b, L0 + 0 * 8, pte(DATA, V | R | W | U | A | D));
	fb_put64(b, L0 + 1 * 8, pte(DATA, V | R | W | A | D));
	fb_put64(b, L0 + 2 * 8, pte(DATA, V | X | A));
	fb_put64(b, L0 + 3 * 8, pte(DATA, V | R | X | U | A));
	/* U page: U yes; S only with SUM; S never executes it */
	assert_int_equal(xlate(b, VA(0), RV_ACC_WRITE, RV_MMU_U, &cause), DATA);
	assert_int_equal(xlate(b, VA(0), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	assert_int_equal(xlate(b, VA(0), RV_ACC_WRITE, RV_MMU_S_SUM, &cause), DATA);
	assert_int_equal(xlate(b, VA(3), RV_ACC_EXEC, RV_MMU_S_SUM, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_INSN_PAGE);
	assert_int_equal(xlate(b, VA(3), RV_ACC_EXEC, RV_MMU_U, &cause), DATA);
	/* S page from U */
	assert_int_equal(xlate(b, VA(1), RV_ACC_READ, RV_MMU_U, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	/* execute-only: readable with MXR */
	assert_int_equal(xlate(b, VA(2), RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	b->cpu->mstatus |= MSTATUS_MXR;
	assert_int_equal(xlate(b, VA(2), RV_ACC_READ, RV_MMU_S, &cause), DATA);
	b->cpu->mstatus &= ~MSTATUS_MXR;
}

static void test_superpages(void **state)
{
	struct fake_board *b = *state;
	uint64_t cause;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	/* 2 MiB page at VA 0x4020_0000 -> RAM_BASE + 0 (aligned) */
	fb_put64(b, L1 + 1 * 8, pte(RAM_BASE, V | R | W | A | D));
	assert_int_equal(xlate(b, 0x40200000 + 0x12345, RV_ACC_READ, RV_MMU_S, &cause),
	                 RAM_BASE + 0x12345);
	assert_true(b->cpu->tlb_has_superpage);
	/* misaligned: PPN not a multiple of 512 pages */
	fb_put64(b, L1 + 2 * 8, pte(RAM_BASE + 0x1000, V | R | W | A | D));
	assert_int_equal(xlate(b, 0x40400000, RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	/* 1 GiB page at VA 0x8000_0000 -> 0x8000_0000, and a misaligned one */
	fb_put64(b, ROOT + 2 * 8, pte(0x80000000, V | R | X | A));
	assert_int_equal(xlate(b, 0x80012345, RV_ACC_EXEC, RV_MMU_S, &cause), 0x80012345);
	fb_put64(b, ROOT + 3 * 8, pte(0x80200000, V | R | A));
	assert_int_equal(xlate(b, 0xc0000000, RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	/* with a superpage cached, flushing one address flushes everything */
	rv_tlb_flush_va(b->cpu, 0x40300000);
	assert_int_equal(b->cpu->tlb[RV_MMU_S][(0x40212345 >> 12) % RV_TLB_SIZE].tag_r,
	                 RV_TLB_INVALID);
	assert_false(b->cpu->tlb_has_superpage);
}

static void test_sv48_and_canonical(void **state)
{
	struct fake_board *b = *state;
	uint64_t cause;

	fb_put64(b, L0, pte(DATA, V | R | A));
	/* Sv39: bits 63..39 must equal bit 38 */
	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	assert_int_equal(xlate(b, 0x0000004000000000ull, RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	assert_int_equal(xlate(b, 0xffffffc000000000ull, RV_ACC_EXEC, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_INSN_PAGE); /* canonical, but not mapped */
	/* Sv48: ROOT48[0] -> ROOT, so the Sv39 mappings appear again */
	fb_put64(b, ROOT48, pte(ROOT, V));
	use_satp(b, RV_SATP_MODE_SV48, ROOT48);
	assert_int_equal(xlate(b, VA(0), RV_ACC_READ, RV_MMU_S, &cause), DATA);
	assert_int_equal(xlate(b, 0x0000800000000000ull, RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_PAGE);
	/* a 512 GiB "terapage" is not a thing: level-3 leaves are superpages too */
	fb_put64(b, ROOT48 + 8, pte(0, V | R | A));
	assert_int_equal(xlate(b, 0x0000008000001000ull, RV_ACC_READ, RV_MMU_S, &cause), 0x1000);
	/* satp: Sv57 is not supported, the write is ignored */
	uint64_t before = b->cpu->satp;
	fb_csr(b, 0x180, true, (10ull << 60) | 5);
	assert_int_equal(b->cpu->satp, before);
	/* a hart configured Sv39-only ignores Sv48 too */
	b->cpu->max_satp_mode = RV_SATP_MODE_SV39;
	fb_csr(b, 0x180, true, (9ull << 60) | 7);
	assert_int_equal(b->cpu->satp, before);
	b->cpu->max_satp_mode = RV_SATP_MODE_SV48;
}

static void test_access_faults_and_devices(void **state)
{
	struct fake_board *b = *state;
	uint64_t cause, v;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	/* the root table's entry points outside RAM: access fault during the walk */
	fb_put64(b, ROOT + 4 * 8, pte(0x1000, V));
	assert_int_equal(xlate(b, 0x100000000ull, RV_ACC_READ, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_LOAD_ACCESS);
	assert_int_equal(xlate(b, 0x100000000ull, RV_ACC_WRITE, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_STORE_ACCESS);
	assert_int_equal(xlate(b, 0x100000000ull, RV_ACC_EXEC, RV_MMU_S, &cause), ~0ull);
	assert_int_equal(cause, RV_EXC_INSN_ACCESS);
	/* a device page is cached with the IO tag; accesses go to the bus */
	fb_put64(b, L0 + 5 * 8, pte(DEV_BASE, V | R | W | A | D));
	assert_int_equal(xlate(b, VA(5), RV_ACC_WRITE, RV_MMU_S, &cause), DEV_BASE);
	b->cpu->priv = RV_PRIV_S;
	rv_update_mmu_ctx(b->cpu);
	assert_true(rv_store_slow(b->cpu, VA(5) + DEV_SCRATCH, 8, 0x1234));
	assert_int_equal(b->scratch, 0x1234);
	assert_true(rv_load_slow(b->cpu, VA(5) + DEV_SCRATCH, 4, &v));
	assert_int_equal(v, 0x1234);
	/* misaligned device access: access fault; AMOs to devices: access fault */
	assert_false(rv_load_slow(b->cpu, VA(5) + 2, 4, &v));
	assert_int_equal(b->cpu->exc_cause, RV_EXC_LOAD_ACCESS);
	assert_null(rv_amo_ptr(b->cpu, VA(5), 8, RV_ACC_WRITE));
	assert_int_equal(b->cpu->exc_cause, RV_EXC_STORE_ACCESS);
	/* nothing behind a valid PTE: access fault on use */
	fb_put64(b, L0 + 6 * 8, pte(0x20000000, V | R | W | A | D));
	assert_false(rv_load_slow(b->cpu, VA(6), 8, &v));
	assert_int_equal(b->cpu->exc_cause, RV_EXC_LOAD_ACCESS);
	assert_int_equal(b->cpu->exc_tval, VA(6));
	b->cpu->priv = RV_PRIV_M;
	rv_update_mmu_ctx(b->cpu);
}

static void test_misaligned_across_pages(void **state)
{
	struct fake_board *b = *state;
	uint64_t v;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	/* VA(0) -> DATA + 0x1000, VA(1) -> DATA: not contiguous physically */
	fb_put64(b, L0 + 0 * 8, pte(DATA + 0x1000, V | R | W | A | D));
	fb_put64(b, L0 + 1 * 8, pte(DATA, V | R | A));
	b->cpu->priv = RV_PRIV_S;
	rv_update_mmu_ctx(b->cpu);
	fb_put64(b, DATA + 0x1ff8, 0x1122334455667788ull);
	fb_put64(b, DATA, 0x99aabbccddeeff00ull);
	assert_true(rv_load_slow(b->cpu, VA(1) - 4, 8, &v));
	assert_int_equal(v, 0xddeeff0011223344ull);
	/* a store crossing into a read-only page faults before writing anything */
	assert_false(rv_store_slow(b->cpu, VA(1) - 2, 4, 0));
	assert_int_equal(b->cpu->exc_cause, RV_EXC_STORE_PAGE);
	assert_int_equal(fb_get64(b, DATA + 0x1ff8), 0x1122334455667788ull);
	b->cpu->priv = RV_PRIV_M;
	rv_update_mmu_ctx(b->cpu);
}

static void test_mprv_context(void **state)
{
	struct fake_board *b = *state;

	/* M with MPRV and MPP = S: loads and stores use the S table; fetches stay M */
	b->cpu->mstatus |= MSTATUS_MPRV | (1ull << MSTATUS_MPP_SHIFT);
	rv_update_mmu_ctx(b->cpu);
	assert_ptr_equal(b->cpu->dtlb, b->cpu->tlb[RV_MMU_S]);
	assert_ptr_equal(b->cpu->itlb, b->cpu->tlb[RV_MMU_M]);
	b->cpu->mstatus |= MSTATUS_SUM;
	rv_update_mmu_ctx(b->cpu);
	assert_ptr_equal(b->cpu->dtlb, b->cpu->tlb[RV_MMU_S_SUM]);
	b->cpu->mstatus &= ~(MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM);
	rv_update_mmu_ctx(b->cpu);
	assert_ptr_equal(b->cpu->dtlb, b->cpu->tlb[RV_MMU_M]);
}

/* Every U and S entry is gone after a full flush, whether the fills since the last one
 * fit the fill log or overflowed it; the M (physical) table is kept. */
static void test_full_flush_forgets_every_fill(void **state)
{
	static const unsigned counts[] = {1, 10, RV_TLB_LOG, RV_TLB_LOG + 1, 300};
	struct fake_board *b = *state;
	uint64_t cause;

	use_satp(b, RV_SATP_MODE_SV39, ROOT);
	for (unsigned n = 0; n < 300; n++) /* every third page is a supervisor page */
		fb_put64(b, L0 + n * 8, pte(DATA, V | R | W | X | (n % 3 == 2 ? 0 : U) | A | D));
	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		assert_non_null(rv_tlb_fill(b->cpu, RAM_BASE, RV_ACC_READ, RV_MMU_M));
		for (unsigned n = 0; n < counts[c]; n++) {
			enum rv_mmu_idx idx = n % 3 == 0   ? RV_MMU_U
			                      : n % 3 == 1 ? RV_MMU_S_SUM
			                                   : RV_MMU_S;
			assert_int_equal(xlate(b, VA(n), RV_ACC_WRITE, idx, &cause), DATA);
		}
		rv_tlb_flush_all(b->cpu);
		for (unsigned i = 0; i < RV_MMU_COUNT; i++) {
			if (i == RV_MMU_M)
				continue;
			for (unsigned k = 0; k < RV_TLB_SIZE; k++) {
				const struct rv_tlb_entry *e = &b->cpu->tlb[i][k];
				assert_true(e->tag_r == RV_TLB_INVALID &&
				            e->tag_w == RV_TLB_INVALID &&
				            e->tag_x == RV_TLB_INVALID);
			}
		}
		assert_int_equal(b->cpu->tlb[RV_MMU_M][(RAM_BASE >> 12) % RV_TLB_SIZE].tag_r,
		                 RAM_BASE & RV_PAGE_MASK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_sv39_basic_and_ad, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_user_sum_mxr, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_superpages, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sv48_and_canonical, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_access_faults_and_devices, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_misaligned_across_pages, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mprv_context, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_full_flush_forgets_every_fill, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
