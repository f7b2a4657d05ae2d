/* SPDX-License-Identifier: MIT */
/*
 * riscv64 traps and the run loop: delegation, interrupt priority and
 * enables, wfi, exit requests and interrupts raised by a device callback
 * during rv_cpu_run(), the fatal condition, budgets, LR/SC across runs and
 * against stores by others, decoded-instruction coherence when RAM changes
 * under the hart (DMA), and kicks from another thread (the Dekker re-check).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "rv-fake-board.h"

#define IRQ(n) ((1ull << 63) | (n))
#define CODE   RAM_BASE
#define MTVEC  (RAM_BASE + 0x1000)
#define STVEC  (RAM_BASE + 0x2000)

static int setup(void **state)
{
	struct fake_board *b = fb_new();
	const uint32_t spin[] = {JAL(0, 0)};

	/* Trap vectors spin, so a test sees where a trap went. */
	fb_code(b, MTVEC, spin, 1);
	fb_code(b, STVEC, spin, 1);
	fb_csr(b, 0x305, true, MTVEC);
	fb_csr(b, 0x105, true, STVEC);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	fb_free(*state);
	return 0;
}

static void test_delegation(void **state)
{
	struct fake_board *b = *state;
	struct rv_cpu *c = b->cpu;

	/* ecall from S, not delegated: to M, MPP = S */
	c->priv = RV_PRIV_S;
	c->pc = CODE;
	rv_trap_enter(c, RV_EXC_ECALL_S, 0);
	assert_int_equal(c->priv, RV_PRIV_M);
	assert_int_equal(c->pc, MTVEC);
	assert_int_equal(c->mcause, RV_EXC_ECALL_S);
	assert_int_equal(c->mepc, CODE);
	assert_int_equal((c->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);
	/* delegated: from U to S, SPP = U, SPIE = SIE, SIE cleared */
	fb_csr(b, 0x302, true, 1u << RV_EXC_ECALL_U);
	c->priv = RV_PRIV_U;
	c->mstatus |= MSTATUS_SIE;
	c->pc = CODE + 4;
	rv_trap_enter(c, RV_EXC_ECALL_U, 0);
	assert_int_equal(c->priv, RV_PRIV_S);
	assert_int_equal(c->pc, STVEC);
	assert_int_equal(c->scause, RV_EXC_ECALL_U);
	assert_int_equal(c->sepc, CODE + 4);
	assert_int_equal(c->mstatus & (MSTATUS_SPP | MSTATUS_SIE | MSTATUS_SPIE), MSTATUS_SPIE);
	/* a delegated exception raised in M stays in M */
	fb_csr(b, 0x302, true, 1u << RV_EXC_ILLEGAL);
	c->priv = RV_PRIV_M;
	rv_trap_enter(c, RV_EXC_ILLEGAL, 0x1234);
	assert_int_equal(c->priv, RV_PRIV_M);
	assert_int_equal(c->mtval, 0x1234);
	/* ecall from M can never be delegated */
	fb_csr(b, 0x302, true, ~0ull);
	assert_int_equal(c->medeleg & (1u << RV_EXC_ECALL_M), 0);
	/* vectored stvec: interrupts go to base + 4 * cause */
	fb_csr(b, 0x105, true, STVEC | 1);
	fb_csr(b, 0x303, true, RV_MIP_STIP);
	c->priv = RV_PRIV_U;
	rv_trap_enter(c, IRQ(RV_IRQ_STI), 0);
	assert_int_equal(c->pc, STVEC + 4 * RV_IRQ_STI);
	assert_int_equal(c->scause, IRQ(RV_IRQ_STI));
}

static void test_interrupt_priority(void **state)
{
	struct fake_board *b = *state;
	struct rv_cpu *c = b->cpu;

	fb_csr(b, 0x304, true, RV_MIP_ALL); /* mie */
	c->priv = RV_PRIV_M;
	c->mstatus |= MSTATUS_MIE;
	rv_cpu_set_irq(c, RV_MIP_MTIP | RV_MIP_MSIP | RV_MIP_MEIP | RV_MIP_SEIP, true);
	fb_csr(b, 0x344, true, RV_MIP_SSIP | RV_MIP_STIP);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_MEI));
	rv_cpu_set_irq(c, RV_MIP_MEIP, false);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_MSI));
	rv_cpu_set_irq(c, RV_MIP_MSIP, false);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_MTI));
	rv_cpu_set_irq(c, RV_MIP_MTIP, false);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_SEI));
	rv_cpu_set_irq(c, RV_MIP_SEIP, false);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_SSI));
	fb_csr(b, 0x344, true, RV_MIP_STIP);
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_STI));
	/* global enable in M */
	c->mstatus &= ~MSTATUS_MIE;
	assert_int_equal(rv_pending_interrupt(c), 0);
	/* below M, M interrupts are always enabled */
	c->priv = RV_PRIV_S;
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_STI));
	/* delegated: S interrupts need SIE in S, are always on in U, never taken in M */
	fb_csr(b, 0x303, true, RV_MIP_S);
	assert_int_equal(rv_pending_interrupt(c), 0);
	c->mstatus |= MSTATUS_SIE;
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_STI));
	c->mstatus &= ~MSTATUS_SIE;
	c->priv = RV_PRIV_U;
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_STI));
	c->priv = RV_PRIV_M;
	c->mstatus |= MSTATUS_MIE | MSTATUS_SIE;
	assert_int_equal(rv_pending_interrupt(c), 0);
	/* an M interrupt beats a delegated one even if the latter has higher "priority" */
	rv_cpu_set_irq(c, RV_MIP_SEIP, true); /* delegated */
	rv_cpu_set_irq(c, RV_MIP_MTIP, true);
	c->priv = RV_PRIV_U;
	assert_int_equal(rv_pending_interrupt(c), IRQ(RV_IRQ_MTI));
	/* SEIP as seen by software: the board's line OR the writable bit */
	assert_true(fb_csr(b, 0x344, false, 0) & RV_MIP_SEIP);
	rv_cpu_set_irq(c, RV_MIP_SEIP, false);
	assert_false(fb_csr(b, 0x344, false, 0) & RV_MIP_SEIP);
	c->priv = RV_PRIV_M;
}

static void test_wfi_and_wakeup(void **state)
{
	struct fake_board *b = *state;
	const uint32_t code[] = {WFI, ADDI(10, 0, 42), JAL(0, 0)};

	fb_code(b, CODE, code, 3);
	fb_csr(b, 0x304, true, RV_MIP_MTIP);
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_WFI);
	assert_int_equal(rv_cpu_get_pc(b->cpu), CODE + 4);
	assert_false(rv_cpu_interrupt_pending(b->cpu));
	/* the board raises the timer: with MIE = 0 the hart just continues */
	rv_cpu_set_irq(b->cpu, RV_MIP_MTIP, true);
	assert_true(rv_cpu_interrupt_pending(b->cpu));
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 42);
	/* wfi with an interrupt already pending does not stop */
	rv_cpu_set_pc(b->cpu, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, 100), RV_EXIT_BUDGET);
	/* enabled: taken */
	b->cpu->mstatus |= MSTATUS_MIE;
	rv_cpu_set_pc(b->cpu, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, 100), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_pc(b->cpu), MTVEC);
	assert_int_equal(b->cpu->mcause, IRQ(RV_IRQ_MTI));
}

static void doorbell_msip(struct fake_board *b, uint64_t value)
{
	rv_cpu_set_irq(b->cpu, RV_MIP_MSIP, value != 0);
}

static void doorbell_exit(struct fake_board *b, uint64_t value)
{
	rv_cpu_request_exit(b->cpu);
}

static void test_irq_from_device_during_run(void **state)
{
	struct fake_board *b = *state;
	/* a1 = device; store to the doorbell raises MSIP on this very hart; then spin */
	const uint32_t code[] = {LUI(11, DEV_BASE >> 12), ADDI(12, 0, 1), SD(12, 11, DEV_DOORBELL),
	                         ADDI(13, 13, 1), JAL(0, -4)};

	fb_code(b, CODE, code, 5);
	b->doorbell = doorbell_msip;
	fb_csr(b, 0x304, true, RV_MIP_MSIP);
	b->cpu->mstatus |= MSTATUS_MIE;
	assert_int_equal(rv_cpu_run(b->cpu, 100000), RV_EXIT_BUDGET);
	assert_int_equal(b->doorbells, 1);
	assert_int_equal(b->cpu->mcause, IRQ(RV_IRQ_MSI));
	assert_int_equal(rv_cpu_get_pc(b->cpu), MTVEC);
	/* taken within a few instructions of the store */
	assert_true(rv_cpu_get_reg(b->cpu, 13) <= 2);
	assert_true(b->cpu->mepc >= CODE + 12 && b->cpu->mepc <= CODE + 16);

	/* an exit request from a callback stops the run soon */
	rv_cpu_reset(b->cpu, CODE);
	b->doorbell = doorbell_exit;
	uint64_t before = rv_cpu_instret(b->cpu);
	assert_int_equal(rv_cpu_run(b->cpu, 1000000), RV_EXIT_HALTED);
	assert_true(rv_cpu_instret(b->cpu) - before < 20);
	/* and the request is consumed */
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_BUDGET);
}

static void test_budget_and_instret(void **state)
{
	struct fake_board *b = *state;
	const uint32_t code[] = {ADDI(10, 10, 1), JAL(0, -4)};
	uint64_t before;

	fb_code(b, CODE, code, 2);
	before = rv_cpu_instret(b->cpu);
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_BUDGET);
	/* checked at taken branches: within one loop iteration of the budget */
	assert_true(rv_cpu_instret(b->cpu) - before >= 1000);
	assert_true(rv_cpu_instret(b->cpu) - before <= 1002);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10) * 2 + (rv_cpu_get_pc(b->cpu) != CODE),
	                 rv_cpu_instret(b->cpu) - before);
	/* minstret/mcycle follow, and can be written */
	assert_int_equal(fb_csr(b, 0xb02, false, 0), rv_cpu_instret(b->cpu));
	fb_csr(b, 0xb02, true, 5);
	b->cpu->instret++; /* the next instruction reads what was written */
	assert_int_equal(fb_csr(b, 0xb02, false, 0), 5);
	/* rv_cpu_instret() does not go backwards */
	assert_true(rv_cpu_instret(b->cpu) >= 1000);
	/* time comes from the board */
	b->time = 12345;
	assert_int_equal(fb_csr(b, 0xc01, false, 0), 12345);
}

static void test_fatal_vector(void **state)
{
	struct fake_board *b = *state;
	char desc[4096];

	/* garbage everywhere, mtvec at 0 (nothing there): the hart cannot make progress */
	fb_csr(b, 0x305, true, 0);
	fb_put32(b, CODE, 0xffffffff);
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_FATAL);
	assert_non_null(strstr(rv_cpu_fatal_reason(b->cpu), "trap vector"));
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_FATAL);
	assert_true(rv_cpu_describe(b->cpu, desc, sizeof(desc)) > 0);
	assert_non_null(strstr(desc, "mcause"));
	/* reset clears it */
	rv_cpu_reset(b->cpu, CODE);
	assert_string_equal(rv_cpu_fatal_reason(b->cpu), "");
	/* a handler whose first instruction is illegal: the same endless loop */
	fb_put32(b, MTVEC, 0);
	fb_csr(b, 0x305, true, MTVEC);
	assert_int_equal(rv_cpu_run(b->cpu, 1000), RV_EXIT_FATAL);
	assert_non_null(strstr(rv_cpu_fatal_reason(b->cpu), "first instruction"));
	/* an unlimited budget runs until something stops it */
	const uint32_t code[] = {ADDI(10, 0, 100),        ADDI(10, 10, -1),
	                         enc_b(-4, 0, 10, 1),     LUI(11, DEV_BASE >> 12),
	                         SD(0, 11, DEV_DOORBELL), JAL(0, 0)};
	rv_cpu_reset(b->cpu, CODE);
	fb_code(b, CODE, code, 6);
	b->doorbell = doorbell_exit;
	rv_cpu_run(b->cpu, 50); /* instret is not 0 any more */
	rv_cpu_set_pc(b->cpu, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, UINT64_MAX), RV_EXIT_HALTED);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 0);
}

/*
 * A delegated trap whose S-mode handler faults at once (stvec on an illegal
 * instruction, or on no memory at all) loops forever without retiring
 * anything, as on hardware. The run must still end within its budget so that
 * the board polls its devices and timers; and an M-mode interrupt (always
 * enabled below M) still gets through. alarm(): a hang fails instead of
 * waiting for the harness timeout.
 */
static void test_trap_loop_ends_with_budget(void **state)
{
	struct fake_board *b = *state;
	struct rv_cpu *c = b->cpu;

	alarm(10);
	fb_put32(b, STVEC, 0); /* an illegal instruction at the S handler */
	fb_put32(b, CODE, 0);
	fb_csr(b, 0x302, true, (1u << RV_EXC_ILLEGAL) | (1u << RV_EXC_INSN_ACCESS));
	c->priv = RV_PRIV_S;
	rv_update_mmu_ctx(c);
	rv_cpu_set_pc(c, CODE);
	assert_int_equal(rv_cpu_run(c, 1000), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_run(c, 1000), RV_EXIT_BUDGET);
	assert_int_equal(c->priv, RV_PRIV_S);
	assert_int_equal(c->scause, RV_EXC_ILLEGAL);
	assert_int_equal(c->sepc, STVEC);
	/* the board's timer interrupt reaches M-mode */
	fb_csr(b, 0x304, true, RV_MIP_MTIP);
	rv_cpu_set_irq(c, RV_MIP_MTIP, true);
	assert_int_equal(rv_cpu_run(c, 1000), RV_EXIT_BUDGET);
	assert_int_equal(c->mcause, IRQ(RV_IRQ_MTI));
	rv_cpu_set_irq(c, RV_MIP_MTIP, false);

	/* the same with a handler in no memory: instruction access faults */
	fb_csr(b, 0x105, true, 0x1000);
	c->priv = RV_PRIV_S;
	rv_update_mmu_ctx(c);
	rv_cpu_set_pc(c, CODE);
	assert_int_equal(rv_cpu_run(c, 1000), RV_EXIT_BUDGET);
	assert_int_equal(c->priv, RV_PRIV_S);
	assert_int_equal(c->scause, RV_EXC_INSN_ACCESS);
	assert_int_equal(c->sepc, 0x1000);
	alarm(0);
}

static void test_garbage_is_guest_visible(void **state)
{
	struct fake_board *b = *state;
	uint64_t x = 12345;

	/* random words: the hart traps to its vector (which spins), never crashes the host */
	for (unsigned i = 0; i < 4096; i += 4) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		fb_put32(b, CODE + 0x4000 + i, (uint32_t)(x >> 32));
	}
	for (unsigned start = 0; start < 4096; start += 64) {
		rv_cpu_reset(b->cpu, CODE + 0x4000 + start);
		fb_csr(b, 0x305, true, MTVEC);
		for (unsigned r = 1; r < 32; r++)
			rv_cpu_set_reg(b->cpu, r, RAM_BASE + 0x8000);
		assert_int_not_equal(rv_cpu_run(b->cpu, 2000), RV_EXIT_FATAL);
	}
}

static void test_lr_sc_across_runs(void **state)
{
	struct fake_board *b = *state;
	/* a0 = data; nop; lr.d a1,(a0); [run ends]; sc.d a2, a3, (a0) */
	const uint32_t code[] = {
	        NOP,
	        enc_r(0x08, 0, 10, 3, 11, 0x2f),  /* lr.d a1, (a0) */
	        JAL(0, 4),                        /* a taken jump: where a run may end */
	        enc_r(0x0c, 13, 10, 3, 12, 0x2f), /* sc.d a2, a3, (a0) */
	        JAL(0, 0),
	};

	fb_code(b, CODE, code, 5);
	rv_cpu_set_reg(b->cpu, 10, RAM_BASE + 0x3000);
	rv_cpu_set_reg(b->cpu, 13, 7);
	/* in one run: the sc succeeds */
	assert_int_equal(rv_cpu_run(b->cpu, 5), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 12), 0);
	assert_int_equal(fb_get64(b, RAM_BASE + 0x3000), 7);
	/* split across two runs (another hart may have stored in between): it fails */
	rv_cpu_set_pc(b->cpu, CODE);
	rv_cpu_set_reg(b->cpu, 13, 9);
	assert_int_equal(rv_cpu_run(b->cpu, 2), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_pc(b->cpu), CODE + 12);
	assert_int_equal(rv_cpu_run(b->cpu, 2), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 12), 1);
	assert_int_equal(fb_get64(b, RAM_BASE + 0x3000), 7);
}

/* Reads of `time` stand for another hart storing to the reserved word. */
static uint64_t lrsc_store;
static uint64_t time_stores(void *opaque)
{
	struct fake_board *b = opaque;

	fb_put64(b, RAM_BASE + 0x3000, lrsc_store);
	return 0;
}

static void test_lr_sc_against_other_stores(void **state)
{
	struct fake_board *b = *state;
	/* lr.d a1,(a0); csrr t0, time (another hart stores); sc.d a2, a3, (a0) */
	const uint32_t code[] = {
	        enc_r(0x08, 0, 10, 3, 11, 0x2f),  /* lr.d a1, (a0) */
	        CSRRS(5, 0xc01, 0),               /* csrr t0, time */
	        enc_r(0x0c, 13, 10, 3, 12, 0x2f), /* sc.d a2, a3, (a0) */
	        JAL(0, 0),
	};

	fb_code(b, CODE, code, 4);
	b->cpu->rdtime = time_stores;
	b->cpu->opaque = b;
	rv_cpu_set_reg(b->cpu, 10, RAM_BASE + 0x3000);
	/* the word changed between lr and sc: sc fails and stores nothing */
	fb_put64(b, RAM_BASE + 0x3000, 5);
	lrsc_store = 6;
	rv_cpu_set_reg(b->cpu, 13, 100);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 11), 5);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 12), 1);
	assert_int_equal(fb_get64(b, RAM_BASE + 0x3000), 6);
	/* a store of the same value (ABA) is not seen: sc succeeds (docs/threading.md) */
	rv_cpu_set_pc(b->cpu, CODE);
	lrsc_store = 6;
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 12), 0);
	assert_int_equal(fb_get64(b, RAM_BASE + 0x3000), 100);
	/* sc.w compares 32 bits only: a change in the upper half does not matter */
	const uint32_t code_w[] = {
	        enc_r(0x08, 0, 10, 2, 11, 0x2f),  /* lr.w a1, (a0) */
	        CSRRS(5, 0xc01, 0),               /* csrr t0, time */
	        enc_r(0x0c, 13, 10, 2, 12, 0x2f), /* sc.w a2, a3, (a0) */
	        JAL(0, 0),
	};
	fb_code(b, CODE, code_w, 4);
	rv_cpu_set_pc(b->cpu, CODE);
	fb_put64(b, RAM_BASE + 0x3000, 0x100000007ull);
	lrsc_store = 0x200000007ull;
	rv_cpu_set_reg(b->cpu, 13, 9);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 12), 0);
	assert_int_equal(fb_get64(b, RAM_BASE + 0x3000), 0x200000009ull);
}

static void test_interrupt_at_budget_end(void **state)
{
	struct fake_board *b = *state;
	const uint32_t code[] = {ADDI(10, 10, 1), JAL(0, -4)};

	/* The event check takes a pending interrupt, then finds the budget spent: the run
	 * ends at the vector, with the trap taken, not back at the interrupted pc. */
	fb_code(b, CODE, code, 2);
	fb_csr(b, 0x304, true, RV_MIP_MSIP);
	b->cpu->mstatus |= MSTATUS_MIE;
	rv_cpu_set_irq(b->cpu, RV_MIP_MSIP, true);
	assert_int_equal(rv_cpu_run(b->cpu, 0), RV_EXIT_BUDGET);
	assert_int_equal(b->cpu->mcause, IRQ(RV_IRQ_MSI));
	assert_int_equal(b->cpu->mepc, CODE);
	assert_int_equal(rv_cpu_get_priv(b->cpu), RV_PRIV_M);
	assert_int_equal(rv_cpu_get_pc(b->cpu), MTVEC);
}

/* ---- kicks from another thread ---- */

struct kicker {
	struct rv_cpu *cpu;
	unsigned runs;    /* atomic: runs main has started */
	unsigned nr_runs; /* how many to stop */
	bool raise_msip;  /* raise MSIP instead of requesting the exit */
};

static void *kicker_thread(void *arg)
{
	struct kicker *k = arg;

	for (unsigned i = 1; i <= k->nr_runs; i++) {
		while (__atomic_load_n(&k->runs, __ATOMIC_ACQUIRE) < i)
			;
		if (k->raise_msip) {
			usleep(1000);
			rv_cpu_set_irq(k->cpu, RV_MIP_MSIP, true);
		} else {
			rv_cpu_request_exit(k->cpu);
		}
	}
	return NULL;
}

static void test_kick_from_another_thread(void **state)
{
	struct fake_board *b = *state;
	/* A loop that looks at events only when `stop` says so: each run re-arms stop
	 * once, at its start, just as the kicker (woken by runs = i) stores; a kick
	 * lost there would leave the hart spinning for good (the test hangs). */
	const uint32_t code[] = {CSRRW(0, 0x340, 10), ADDI(10, 10, 1), JAL(0, -4)};
	struct kicker k = {.cpu = b->cpu, .nr_runs = 20000};
	pthread_t t;

	fb_code(b, CODE, code, 3);
	assert_int_equal(pthread_create(&t, NULL, kicker_thread, &k), 0);
	for (unsigned i = 1; i <= k.nr_runs; i++) {
		__atomic_store_n(&k.runs, i, __ATOMIC_RELEASE);
		/* no budget to end it: only the kick can (a lost kick hangs the test) */
		assert_int_equal(rv_cpu_run(b->cpu, UINT64_MAX), RV_EXIT_HALTED);
	}
	pthread_join(t, NULL);

	/* An interrupt raised by another thread is taken while the hart runs; the
	 * handler rings the doorbell, whose callback ends the run. */
	const uint32_t handler[] = {LUI(11, DEV_BASE >> 12), SD(0, 11, DEV_DOORBELL), JAL(0, 0)};
	fb_code(b, MTVEC + 0x100, handler, 3);
	b->doorbell = doorbell_exit;
	rv_cpu_reset(b->cpu, CODE);
	fb_csr(b, 0x305, true, MTVEC + 0x100);
	fb_csr(b, 0x304, true, RV_MIP_MSIP);
	b->cpu->mstatus |= MSTATUS_MIE;
	k = (struct kicker){.cpu = b->cpu, .nr_runs = 1, .raise_msip = true};
	assert_int_equal(pthread_create(&t, NULL, kicker_thread, &k), 0);
	__atomic_store_n(&k.runs, 1, __ATOMIC_RELEASE);
	assert_int_equal(rv_cpu_run(b->cpu, UINT64_MAX), RV_EXIT_HALTED);
	pthread_join(t, NULL);
	assert_int_equal(b->cpu->mcause, IRQ(RV_IRQ_MSI));
	assert_int_equal(b->doorbells, 1);
}

static void dma_patch(struct fake_board *b, uint64_t value)
{
	/* a device writes the next instruction while the hart runs */
	uint32_t insn = ADDI(10, 0, 99);
	assert_int_equal(vm_mem_write(&b->mem, CODE + 12, &insn, 4), 0);
}

static void test_code_coherence(void **state)
{
	struct fake_board *b = *state;
	const uint32_t code[] = {ADDI(10, 0, 1), JAL(0, 0)};
	const uint32_t code2[] = {LUI(11, DEV_BASE >> 12), SD(0, 11, DEV_DOORBELL), ADDI(0, 0, 0),
	                          ADDI(10, 0, 1), JAL(0, 0)};

	/* run, then DMA new code over the same address: the next run executes it */
	fb_code(b, CODE, code, 2);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 1);
	uint32_t insn = ADDI(10, 0, 2);
	assert_int_equal(vm_mem_write(&b->mem, CODE, &insn, 4), 0);
	rv_cpu_set_pc(b->cpu, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 2);
	/* a compressed instruction replaces a 32-bit one at the same address */
	fb_put32(b, CODE, 0x00014509); /* c.li a0, 2; c.nop */
	fb_put16(b, CODE, 0x4515);     /* c.li a0, 5 */
	rv_cpu_set_pc(b->cpu, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 5);
	/* DMA from a device callback in the middle of a run, into code about to execute */
	rv_cpu_reset(b->cpu, CODE);
	fb_code(b, CODE, code2, 5);
	b->doorbell = dma_patch;
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 99);
}

static void test_page_crossing_fetch(void **state)
{
	struct fake_board *b = *state;
	uint64_t at = RAM_BASE + 0x5000 - 2;

	/* a 32-bit addi straddling two pages, then a jump to self */
	fb_put16(b, at, (uint16_t)ADDI(10, 0, 77));
	fb_put16(b, at + 2, (uint16_t)(ADDI(10, 0, 77) >> 16));
	fb_put32(b, at + 4, JAL(0, 0));
	rv_cpu_set_pc(b->cpu, at);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), 77);
	/* the second half is outside RAM: fetch fault with tval = the second half */
	uint64_t end = RAM_BASE + RAM_SIZE - 2;
	fb_put16(b, end, (uint16_t)ADDI(10, 0, 1));
	rv_cpu_set_pc(b->cpu, end);
	assert_int_equal(rv_cpu_run(b->cpu, 10), RV_EXIT_BUDGET);
	assert_int_equal(b->cpu->mcause, RV_EXC_INSN_ACCESS);
	assert_int_equal(b->cpu->mepc, end);
	assert_int_equal(b->cpu->mtval, end + 2);
}

static void test_shared_decode_cache(void **state)
{
	struct fake_board *b = *state;
	const uint32_t code[] = {ADDI(10, 10, 1), JAL(0, -4)};
	struct rv_cpu_config cfg = {
	        .hartid = 1, .mem = &b->mem, .mmio = &b->mmio, .share_decode_cache_with = b->cpu};
	struct rv_cpu *h1 = rv_cpu_new(&cfg, NULL), *h2;

	assert_non_null(h1);
	assert_ptr_equal(h1->icache, b->cpu->icache);
	fb_code(b, CODE, code, 2);
	rv_cpu_reset(h1, CODE);
	assert_int_equal(rv_cpu_run(b->cpu, 100), RV_EXIT_BUDGET);
	assert_int_equal(rv_cpu_run(h1, 100), RV_EXIT_BUDGET);
	assert_true(rv_cpu_get_reg(h1, 10) >= 50);
	assert_int_equal(rv_cpu_get_reg(b->cpu, 10), rv_cpu_get_reg(h1, 10));
	/* the cache outlives the hart that created it */
	cfg.share_decode_cache_with = h1;
	h2 = rv_cpu_new(&cfg, NULL);
	assert_non_null(h2);
	rv_cpu_free(h1);
	rv_cpu_reset(h2, CODE);
	assert_int_equal(rv_cpu_run(h2, 100), RV_EXIT_BUDGET);
	assert_true(rv_cpu_get_reg(h2, 10) >= 50);
	rv_cpu_free(h2);
	/* and bad configurations are refused */
	struct vk_error err = {0};
	cfg = (struct rv_cpu_config){.hartid = 3};
	assert_null(rv_cpu_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "hart 3"));
	cfg = (struct rv_cpu_config){.hartid = 3, .mem = &b->mem, .max_satp_mode = 10};
	assert_null(rv_cpu_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "MMU mode"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_delegation, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_interrupt_priority, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wfi_and_wakeup, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_irq_from_device_during_run, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_budget_and_instret, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fatal_vector, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_trap_loop_ends_with_budget, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_garbage_is_guest_visible, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lr_sc_across_runs, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lr_sc_against_other_stores, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_interrupt_at_budget_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_kick_from_another_thread, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_code_coherence, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_page_crossing_fetch, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_shared_decode_cache, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
