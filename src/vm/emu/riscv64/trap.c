/* SPDX-License-Identifier: MIT */
/*
 * Traps (privileged spec 1.12 sections 3.1.6-3.1.9, 3.3, 4.1): entering a
 * trap with medeleg/mideleg delegation, interrupt selection and priority,
 * mret/sret, wfi and sfence.vma; and the run loop's event check
 * (rv_check_events, the hart's side of the kick protocol in rv.h).
 */
#include "vm/emu/riscv64/rv.h"

static const unsigned irq_priority[] = {RV_IRQ_MEI, RV_IRQ_MSI, RV_IRQ_MTI,
                                        RV_IRQ_SEI, RV_IRQ_SSI, RV_IRQ_STI};

static uint64_t pick(uint64_t pending)
{
	for (unsigned i = 0; i < sizeof(irq_priority) / sizeof(irq_priority[0]); i++) {
		if (pending & (1ull << irq_priority[i]))
			return (1ull << 63) | irq_priority[i];
	}
	return 0;
}

uint64_t rv_pending_interrupt(const struct rv_cpu *cpu)
{
	uint64_t pending = rv_mip(cpu) & cpu->mie;
	uint64_t m, s;

	if (!pending)
		return 0;
	/* Interrupts for M: enabled below M always, in M only with MIE. */
	m = pending & ~cpu->mideleg;
	if (m && (cpu->priv < RV_PRIV_M || (cpu->mstatus & MSTATUS_MIE)))
		return pick(m);
	/* Delegated ones, for S: enabled in U always, in S with SIE, never in M. */
	s = pending & cpu->mideleg;
	if (s &&
	    (cpu->priv < RV_PRIV_S || (cpu->priv == RV_PRIV_S && (cpu->mstatus & MSTATUS_SIE))))
		return pick(s);
	return 0;
}

bool rv_check_events(struct rv_cpu *cpu, enum rv_exit *why)
{
	for (;;) {
		uint64_t cause;

		if (__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED) &&
		    __atomic_exchange_n(&cpu->exit_request, false, __ATOMIC_SEQ_CST)) {
			*why = RV_EXIT_HALTED;
			return false;
		}
		cause = rv_pending_interrupt(cpu);
		if (cause)
			rv_trap_enter(cpu, cause, 0);
		if (cpu->instret >= cpu->stop_budget) {
			*why = RV_EXIT_BUDGET;
			return false;
		}
		/*
		 * Re-arm, then look again (both sequentially consistent). A kicker stores
		 * mip or exit_request first and stop = 0 after: either this re-check sees
		 * its store, or its stop = 0 comes after ours and the loop sees that.
		 */
		__atomic_store_n(&cpu->stop, cpu->stop_budget, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&cpu->exit_request, __ATOMIC_SEQ_CST) &&
		    !rv_pending_interrupt(cpu))
			return true;
	}
}

void rv_trap_enter(struct rv_cpu *cpu, uint64_t cause, uint64_t tval)
{
	bool irq = cause >> 63;
	uint64_t code = cause & ~(1ull << 63);
	uint64_t deleg = irq ? cpu->mideleg : cpu->medeleg;
	uint64_t s = cpu->mstatus;

	cpu->resv_valid = false;
	if (cpu->priv <= RV_PRIV_S && code < 64 && ((deleg >> code) & 1)) {
		cpu->scause = cause;
		cpu->sepc = cpu->pc;
		cpu->stval = tval;
		s &= ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
		if (cpu->mstatus & MSTATUS_SIE)
			s |= MSTATUS_SPIE;
		if (cpu->priv == RV_PRIV_S)
			s |= MSTATUS_SPP;
		cpu->priv = RV_PRIV_S;
		cpu->pc = (cpu->stvec & ~3ull) + ((irq && (cpu->stvec & 1)) ? 4 * code : 0);
	} else {
		cpu->mcause = cause;
		cpu->mepc = cpu->pc;
		cpu->mtval = tval;
		s &= ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
		if (cpu->mstatus & MSTATUS_MIE)
			s |= MSTATUS_MPIE;
		s |= (uint64_t)cpu->priv << MSTATUS_MPP_SHIFT;
		cpu->priv = RV_PRIV_M;
		cpu->pc = (cpu->mtvec & ~3ull) + ((irq && (cpu->mtvec & 1)) ? 4 * code : 0);
	}
	cpu->mstatus = s;
	rv_update_mmu_ctx(cpu);
}

bool rv_mret(struct rv_cpu *cpu)
{
	uint64_t s = cpu->mstatus;
	unsigned mpp = (unsigned)((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);

	if (cpu->priv != RV_PRIV_M)
		return false;
	s &= ~(MSTATUS_MIE | MSTATUS_MPP);
	if (cpu->mstatus & MSTATUS_MPIE)
		s |= MSTATUS_MIE;
	s |= MSTATUS_MPIE; /* MPP becomes U (0) */
	if (mpp != RV_PRIV_M)
		s &= ~MSTATUS_MPRV;
	cpu->mstatus = s;
	cpu->priv = mpp;
	cpu->pc = cpu->mepc;
	rv_update_mmu_ctx(cpu);
	return true;
}

bool rv_sret(struct rv_cpu *cpu)
{
	uint64_t s = cpu->mstatus;

	if (cpu->priv < RV_PRIV_S || (cpu->priv == RV_PRIV_S && (s & MSTATUS_TSR)))
		return false;
	cpu->priv = (s & MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;
	s &= ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
	if (cpu->mstatus & MSTATUS_SPIE)
		s |= MSTATUS_SIE;
	s |= MSTATUS_SPIE;
	cpu->mstatus = s;
	cpu->pc = cpu->sepc;
	rv_update_mmu_ctx(cpu);
	return true;
}

bool rv_wfi(struct rv_cpu *cpu, bool *sleep)
{
	/* With S-mode present, wfi in U is illegal; TW makes it illegal below M (we never
	 * complete a wait within a bounded time, so the trap is immediate). */
	if (cpu->priv == RV_PRIV_U || (cpu->priv == RV_PRIV_S && (cpu->mstatus & MSTATUS_TW)))
		return false;
	/* M-mode with MIE clear takes no interrupt: a wfi there is a poll even with one
	 * pending, and a board that naps harts (wfi_naps) gets it as a sleep. */
	*sleep = !rv_cpu_interrupt_pending(cpu) ||
	         (cpu->wfi_naps && cpu->priv == RV_PRIV_M && !(cpu->mstatus & MSTATUS_MIE));
	return true;
}

bool rv_sfence_vma(struct rv_cpu *cpu, uint64_t va, unsigned rs1)
{
	if (cpu->priv == RV_PRIV_U || (cpu->priv == RV_PRIV_S && (cpu->mstatus & MSTATUS_TVM)))
		return false;
	/* ASIDs are not implemented (satp.ASID reads 0), so rs2 does not matter. */
	if (rs1 == 0)
		rv_tlb_flush_all(cpu);
	else
		rv_tlb_flush_va(cpu, va);
	return true;
}
