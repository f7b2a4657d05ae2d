/* SPDX-License-Identifier: MIT */
/*
 * C functions that translated code calls: the interpreter's own slow paths
 * and instruction semantics behind a calling convention generated code can
 * use. When they run, cpu->x[] holds every guest register (the caller wrote
 * the pinned ones out) and cpu->instret counts the instruction being executed,
 * as the interpreter's do.
 */
#include "vm/emu/riscv64/jit/jit.h"

static uint64_t insn_bits(const struct rv_insn *d)
{
	return d->len == 2 ? (d->raw & 0xffff) : d->raw;
}

struct jit_load_ret jit_helper_load(struct rv_cpu *cpu, uint64_t va, uint64_t size_sign)
{
	unsigned size = size_sign & 0xff;
	uint64_t v;

	if (!rv_load_slow(cpu, va, size, &v))
		return (struct jit_load_ret){0, 0};
	if ((size_sign & 0x100) && size < 8) {
		unsigned shift = 64 - 8 * size;
		v = (uint64_t)((int64_t)(v << shift) >> shift);
	}
	return (struct jit_load_ret){v, 1};
}

uint64_t jit_helper_store(struct rv_cpu *cpu, uint64_t va, uint64_t value, uint64_t size)
{
	return rv_store_slow(cpu, va, (unsigned)size, value);
}

uint64_t jit_helper_amo(struct rv_cpu *cpu, const struct rv_insn *d)
{
	return rv_amo(cpu, d);
}

uint64_t jit_helper_fp(struct rv_cpu *cpu, const struct rv_insn *d)
{
	bool ok = rv_fp_exec(cpu, d);

	/* The host's rounding mode may be frm's now, or no longer. */
	cpu->jit_fp_ready = rv_fp_host_matches_frm(cpu);
	return ok;
}

uint64_t jit_helper_csr(struct rv_cpu *cpu, const struct rv_insn *d)
{
	uint64_t satp = cpu->satp, fs = cpu->mstatus & MSTATUS_FS;

	if (!rv_csr_exec(cpu, d))
		return rv_raise(cpu, RV_EXC_ILLEGAL, insn_bits(d));
	cpu->jit_fp_ready = rv_fp_host_matches_frm(cpu); /* frm or fcsr may have changed */
	/*
	 * Leave the block when what it was translated under changed: the address
	 * space (the next instructions may come from elsewhere), FP enable (tested
	 * once per block), or an interrupt became deliverable (enables, mip, mie).
	 * Privilege never changes here; MPRV/SUM/MXR only change cpu->dtlb, which
	 * translated code reads at every access.
	 */
	if (cpu->satp != satp || (cpu->mstatus & MSTATUS_FS) != fs || rv_pending_interrupt(cpu))
		return 2;
	return 1;
}

uint64_t jit_helper_pause(struct rv_cpu *cpu, const struct rv_insn *d)
{
	rv_pause(cpu);
	return 1;
}

uint64_t jit_helper_system(struct rv_cpu *cpu, const struct rv_insn *d)
{
	bool ok, sleep = false;

	switch (d->op) {
	case RV_OP_MRET:
		ok = rv_mret(cpu);
		break;
	case RV_OP_SRET:
		ok = rv_sret(cpu);
		break;
	case RV_OP_WFI:
		ok = rv_wfi(cpu, &sleep);
		if (ok)
			cpu->pc += d->len;
		/* A wfi that cannot wait (an interrupt pending, globally disabled) is a poll. */
		if (ok && !sleep)
			rv_pause(cpu);
		break;
	default: /* SFENCE_VMA */
		ok = rv_sfence_vma(cpu, cpu->x[d->rs1], d->rs1);
		if (ok)
			cpu->pc += d->len;
		break;
	}
	if (!ok) {
		/* An illegal instruction does not retire. */
		cpu->instret--;
		rv_raise(cpu, RV_EXC_ILLEGAL, insn_bits(d));
		return JIT_EXIT_TRAP;
	}
	return sleep ? JIT_EXIT_WFI : JIT_EXIT_LOOKUP;
}
