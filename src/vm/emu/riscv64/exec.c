/* SPDX-License-Identifier: MIT */
/*
 * The interpreter: rv_cpu_run()'s dispatch loop.
 *
 * Fetch: the loop keeps the current instruction page (virtual fvbase) as a
 * host offset (the host address of pc is pc + fdelta); an instruction inside
 * it is read with one unaligned 32-bit load, no translation. Leaving the page
 * (or a 4-byte instruction that straddles it) goes through fetch_slow, which
 * translates through the instruction TLB.
 *
 * Decode: icache[] memoizes rv_decode() by pc. An entry is used only if its
 * raw bits equal the 32 bits just fetched, so it is always right (see
 * decode.h); a mismatch re-decodes in place.
 *
 * Dispatch: computed goto, replicated at the end of every handler so each
 * handler has its own indirect branch to predict. pc, the retired count and
 * the TLB pointer live in locals; cpu->pc/instret are written back ("sync")
 * before anything that can trap, call out or leave.
 *
 * Events (interrupts, exit requests, the budget) are checked when a branch or
 * jump is taken and when the fetch leaves a page: cheap, and bounded (no
 * straight line runs past a page). Anyone, on any thread, can force a check
 * soon by setting cpu->stop to 0 (rv_kick); the check itself is
 * rv_check_events() (trap.c), which the translator's dispatcher shares.
 * Instructions that change privilege, translation or interrupt enables
 * (CSR writes, xRET, sfence.vma, traps) leave through `check`, which reloads
 * every local.
 */
#include <stdio.h>

#include "vm/emu/riscv64/rv.h"

/* Instruction fetches read guest RAM (guest-ram.h). */
static inline uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)rv_ram_load(p, 4);
}

static inline uint16_t load_u16(const uint8_t *p)
{
	return (uint16_t)rv_ram_load(p, 2);
}

/* Raw bits of an instruction as mtval reports them for an illegal instruction. */
static inline uint64_t insn_bits(const struct rv_insn *d)
{
	return d->len == 2 ? (d->raw & 0xffff) : d->raw;
}

static enum rv_exit rv_fatal(struct rv_cpu *cpu, const char *what, uint64_t addr)
{
	snprintf(cpu->fatal_reason, sizeof(cpu->fatal_reason),
	         "hart %u: %s at 0x%llx (mcause %llu, mepc 0x%llx)", cpu->hartid, what,
	         (unsigned long long)addr, (unsigned long long)cpu->mcause,
	         (unsigned long long)cpu->mepc);
	cpu->fatal = true;
	return RV_EXIT_FATAL;
}

enum rv_exit rv_interp_run(struct rv_cpu *cpu, uint64_t budget)
{
#define RV_LABEL_MAIN_(name) [RV_OP_##name] = &&op_##name,
#define RV_LABEL_AMO_(name)  [RV_OP_##name] = &&op_AMO,
#define RV_LABEL_FP_(name)   [RV_OP_##name] = &&op_FP,
	static const void *const labels[RV_OP_COUNT] = {
	        RV_OPS_MAIN(RV_LABEL_MAIN_) RV_OPS_AMO(RV_LABEL_AMO_) RV_OPS_FP(RV_LABEL_FP_)};
#undef RV_LABEL_MAIN_
#undef RV_LABEL_AMO_
#undef RV_LABEL_FP_
	uint64_t *const x = cpu->x;
	const struct rv_insn *d;
	struct rv_tlb_entry *dtlb;
	uint64_t pc, icount, fvbase, fdelta = 0, off;
	uint32_t raw;
	enum rv_exit ret;

	if (cpu->fatal)
		return RV_EXIT_FATAL;
	cpu->stop_budget = budget > UINT64_MAX - cpu->instret ? UINT64_MAX : cpu->instret + budget;
	pc = cpu->pc;
	icount = cpu->instret;
	dtlb = cpu->dtlb;
	fvbase = pc + RV_PAGE_SIZE; /* no fetch page yet */
	goto check;

/* Write the locals back before anything that can trap, call out or leave. */
#define SYNC()                               \
	do {                                 \
		cpu->pc = pc;                \
		rv_set_instret(cpu, icount); \
	} while (0)

#define DISPATCH()                                                         \
	do {                                                               \
		off = pc - fvbase;                                         \
		if (unlikely(off > RV_PAGE_SIZE - 4))                      \
			goto fetch_slow;                                   \
		raw = load_u32((const uint8_t *)(uintptr_t)(pc + fdelta)); \
		d = &cpu->icache[(pc >> 1) & (RV_ICACHE_SIZE - 1)];        \
		if (unlikely(d->raw != raw))                               \
			goto decode_miss;                                  \
		icount++;                                                  \
		goto *labels[d->op];                                       \
	} while (0)

/*
 * Fall through to the next instruction. Its memo entry is the neighbour of
 * this one (the memo is indexed by pc / 2, so a page's entries are
 * contiguous). Coming from a valid offset (<= 4092), the new offset is in
 * 2..4096: fetch_slow takes the last halfword (4094), the next page (0), and,
 * for simplicity, offsets 2 and 4 (which is also where the instruction after
 * one that straddled two pages lands).
 */
#define NEXT()                                                             \
	do {                                                               \
		unsigned len_ = d->len;                                    \
		pc += len_;                                                \
		d += len_ >> 1;                                            \
		if (unlikely(((pc + 2) & (RV_PAGE_SIZE - 8)) == 0))        \
			goto fetch_slow;                                   \
		raw = load_u32((const uint8_t *)(uintptr_t)(pc + fdelta)); \
		if (unlikely(d->raw != raw))                               \
			goto decode_miss;                                  \
		icount++;                                                  \
		goto *labels[d->op];                                       \
	} while (0)

/* A taken branch or jump to pc: the place to look at events. */
#define JUMP()                                        \
	do {                                          \
		if (unlikely(icount >= rv_stop(cpu))) \
			goto check;                   \
		DISPATCH();                           \
	} while (0)

#define RS1     x[d->rs1]
#define RS2     x[d->rs2]
#define IMM     ((uint64_t)(int64_t)d->imm)
#define SX32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))

/* v = the T at RS1 + IMM, sign- or zero-extended as T says (a fault traps). */
#define LOAD_VALUE(T, v)                                                                     \
	do {                                                                                 \
		uint64_t va_ = RS1 + IMM;                                                    \
		struct rv_tlb_entry *e_ = &dtlb[(va_ >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)]; \
		if (likely(e_->tag_r == (va_ & (RV_PAGE_MASK | (sizeof(T) - 1))))) {         \
			T t_ = (T)rv_ram_load((const void *)(uintptr_t)(va_ + e_->addend),   \
			                      sizeof(T));                                    \
			v = (uint64_t)(int64_t)t_;                                           \
		} else {                                                                     \
			SYNC();                                                              \
			if (!rv_load_slow(cpu, va_, sizeof(T), &v))                          \
				goto trap;                                                   \
			v = (uint64_t)(int64_t)(T)v;                                         \
		}                                                                            \
	} while (0)

#define LOAD(T)                    \
	do {                       \
		uint64_t v_;       \
		LOAD_VALUE(T, v_); \
		x[d->rd] = v_;     \
		NEXT();            \
	} while (0)

#define STORE_VAL(T, val)                                                                    \
	do {                                                                                 \
		uint64_t va_ = RS1 + IMM;                                                    \
		struct rv_tlb_entry *e_ = &dtlb[(va_ >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)]; \
		if (likely(rv_tlb_tag_w(e_) == (va_ & (RV_PAGE_MASK | (sizeof(T) - 1))))) {  \
			T t_ = (T)(val);                                                     \
			rv_ram_store((void *)(uintptr_t)(va_ + e_->addend), sizeof(T), t_);  \
		} else {                                                                     \
			SYNC();                                                              \
			if (!rv_store_slow(cpu, va_, sizeof(T), (val)))                      \
				goto trap;                                                   \
		}                                                                            \
		NEXT();                                                                      \
	} while (0)

#define BRANCH(cond)               \
	do {                       \
		if (cond) {        \
			pc += IMM; \
			JUMP();    \
		}                  \
		NEXT();            \
	} while (0)

#define ALU(expr)                  \
	do {                       \
		x[d->rd] = (expr); \
		NEXT();            \
	} while (0)

#define FP_ENABLED() ((cpu->mstatus & MSTATUS_FS) != 0)

op_LUI:
	ALU(IMM);
op_AUIPC:
	ALU(pc + IMM);
op_JAL:
	x[d->rd] = pc + d->len;
	pc += IMM;
	JUMP();
op_JALR : {
	uint64_t t = (RS1 + IMM) & ~1ull;
	x[d->rd] = pc + d->len;
	pc = t;
	JUMP();
}
op_BEQ:
	BRANCH(RS1 == RS2);
op_BNE:
	BRANCH(RS1 != RS2);
op_BLT:
	BRANCH((int64_t)RS1 < (int64_t)RS2);
op_BGE:
	BRANCH((int64_t)RS1 >= (int64_t)RS2);
op_BLTU:
	BRANCH(RS1 < RS2);
op_BGEU:
	BRANCH(RS1 >= RS2);
op_LB:
	LOAD(int8_t);
op_LH:
	LOAD(int16_t);
op_LW:
	LOAD(int32_t);
op_LD:
	LOAD(int64_t);
op_LBU:
	LOAD(uint8_t);
op_LHU:
	LOAD(uint16_t);
op_LWU:
	LOAD(uint32_t);
op_SB:
	STORE_VAL(uint8_t, RS2);
op_SH:
	STORE_VAL(uint16_t, RS2);
op_SW:
	STORE_VAL(uint32_t, RS2);
op_SD:
	STORE_VAL(uint64_t, RS2);
op_ADDI:
	ALU(RS1 + IMM);
op_SLTI:
	ALU((int64_t)RS1 < (int64_t)IMM);
op_SLTIU:
	ALU(RS1 < IMM);
op_XORI:
	ALU(RS1 ^ IMM);
op_ORI:
	ALU(RS1 | IMM);
op_ANDI:
	ALU(RS1 & IMM);
op_SLLI:
	ALU(RS1 << (d->imm & 63));
op_SRLI:
	ALU(RS1 >> (d->imm & 63));
op_SRAI:
	ALU((uint64_t)((int64_t)RS1 >> (d->imm & 63)));
op_ADD:
	ALU(RS1 + RS2);
op_SUB:
	ALU(RS1 - RS2);
op_SLL:
	ALU(RS1 << (RS2 & 63));
op_SLT:
	ALU((int64_t)RS1 < (int64_t)RS2);
op_SLTU:
	ALU(RS1 < RS2);
op_XOR:
	ALU(RS1 ^ RS2);
op_SRL:
	ALU(RS1 >> (RS2 & 63));
op_SRA:
	ALU((uint64_t)((int64_t)RS1 >> (RS2 & 63)));
op_OR:
	ALU(RS1 | RS2);
op_AND:
	ALU(RS1 & RS2);
op_ADDIW:
	ALU(SX32(RS1 + IMM));
op_SLLIW:
	ALU(SX32((uint32_t)RS1 << (d->imm & 31)));
op_SRLIW:
	ALU(SX32((uint32_t)RS1 >> (d->imm & 31)));
op_SRAIW:
	ALU((uint64_t)(int64_t)((int32_t)(uint32_t)RS1 >> (d->imm & 31)));
op_ADDW:
	ALU(SX32(RS1 + RS2));
op_SUBW:
	ALU(SX32(RS1 - RS2));
op_SLLW:
	ALU(SX32((uint32_t)RS1 << (RS2 & 31)));
op_SRLW:
	ALU(SX32((uint32_t)RS1 >> (RS2 & 31)));
op_SRAW:
	ALU((uint64_t)(int64_t)((int32_t)(uint32_t)RS1 >> (RS2 & 31)));
op_MUL:
	ALU(RS1 * RS2);
op_MULH:
	ALU((uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64));
op_MULHSU:
	ALU((uint64_t)(((__int128)(int64_t)RS1 * (__int128)RS2) >> 64));
op_MULHU:
	ALU((uint64_t)(((unsigned __int128)RS1 * RS2) >> 64));
op_DIV : {
	int64_t a = (int64_t)RS1, b = (int64_t)RS2;
	ALU(b == 0 ? ~0ull : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b));
}
op_DIVU:
	ALU(RS2 == 0 ? ~0ull : RS1 / RS2);
op_REM : {
	int64_t a = (int64_t)RS1, b = (int64_t)RS2;
	ALU(b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b));
}
op_REMU:
	ALU(RS2 == 0 ? RS1 : RS1 % RS2);
op_MULW:
	ALU(SX32(RS1 * RS2));
op_DIVW : {
	int32_t a = (int32_t)(uint32_t)RS1, b = (int32_t)(uint32_t)RS2;
	ALU(b == 0 ? ~0ull : (a == INT32_MIN && b == -1) ? SX32(a) : SX32(a / b));
}
op_DIVUW : {
	uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
	ALU(b == 0 ? ~0ull : SX32(a / b));
}
op_REMW : {
	int32_t a = (int32_t)(uint32_t)RS1, b = (int32_t)(uint32_t)RS2;
	ALU(b == 0 ? SX32(a) : (a == INT32_MIN && b == -1) ? 0 : SX32(a % b));
}
op_REMUW : {
	uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
	ALU(b == 0 ? SX32(a) : SX32(a % b));
}
op_FENCE:
	if (unlikely(d->imm == RV_FENCE_PAUSE)) {
		SYNC();
		rv_pause(cpu);
		NEXT();
	}
	/* RVWMO on TSO: only W before R needs a host fence (guest-ram.h). */
	rv_fence((uint32_t)d->imm);
	NEXT();
op_FENCE_I:
	/* Fetches always read memory: nothing to flush. */
	NEXT();
op_ECALL:
	rv_raise(cpu, RV_EXC_ECALL_U + cpu->priv, 0);
	goto trap;
op_EBREAK:
	rv_raise(cpu, RV_EXC_BREAKPOINT, pc);
	goto trap;
op_MRET:
	SYNC();
	if (!rv_mret(cpu))
		goto illegal;
	goto reload;
op_SRET:
	SYNC();
	if (!rv_sret(cpu))
		goto illegal;
	goto reload;
op_WFI : {
	bool sleep;
	SYNC();
	if (!rv_wfi(cpu, &sleep))
		goto illegal;
	pc += d->len;
	if (sleep) {
		SYNC();
		ret = RV_EXIT_WFI;
		goto out;
	}
	/* An interrupt is pending but not taken (globally disabled): wfi does not wait, and
	 * the guest is polling, like a spin-wait (firmware's idle harts). */
	SYNC();
	rv_pause(cpu);
	goto reload;
}
op_SFENCE_VMA:
	SYNC();
	if (!rv_sfence_vma(cpu, RS1, d->rs1))
		goto illegal;
	pc += d->len;
	SYNC();
	goto reload;
op_CSRRW:
op_CSRRS:
op_CSRRC:
op_CSRRWI:
op_CSRRSI:
op_CSRRCI:
	SYNC();
	if (!rv_csr_exec(cpu, d))
		goto illegal;
	pc += d->len;
	SYNC();
	goto reload;
op_FLW:
	if (unlikely(!FP_ENABLED()))
		goto illegal;
	{
		uint64_t v_;
		LOAD_VALUE(uint32_t, v_);
		cpu->f[d->rd] = 0xffffffff00000000ull | v_; /* NaN-boxed */
		cpu->mstatus |= MSTATUS_FS;
		NEXT();
	}
op_FLD:
	if (unlikely(!FP_ENABLED()))
		goto illegal;
	{
		uint64_t v_;
		LOAD_VALUE(uint64_t, v_);
		cpu->f[d->rd] = v_;
		cpu->mstatus |= MSTATUS_FS;
		NEXT();
	}
op_FSW:
	if (unlikely(!FP_ENABLED()))
		goto illegal;
	STORE_VAL(uint32_t, cpu->f[d->rs2]);
op_FSD:
	if (unlikely(!FP_ENABLED()))
		goto illegal;
	STORE_VAL(uint64_t, cpu->f[d->rs2]);
op_AMO:
	SYNC();
	if (!rv_amo(cpu, d))
		goto trap;
	NEXT();
op_FP:
	if (unlikely(!FP_ENABLED()))
		goto illegal;
	SYNC();
	if (!rv_fp_exec(cpu, d))
		goto trap;
	NEXT();
op_ILLEGAL:
illegal:
	rv_raise(cpu, RV_EXC_ILLEGAL, insn_bits(d));
	/* fall through */
trap:
	/* The instruction at pc raised cpu->exc_*: it does not retire. */
	icount--;
	SYNC();
	/* The M-mode handler's own first instruction faulting is a loop nothing ends. */
	if (cpu->priv == RV_PRIV_M && pc == (cpu->mtvec & ~3ull)) {
		ret = rv_fatal(cpu, "the M-mode trap handler faults on its first instruction", pc);
		goto out;
	}
	rv_trap_enter(cpu, cpu->exc_cause, cpu->exc_tval);
	goto charge_trap;

decode_miss:
	rv_decode((struct rv_insn *)d, raw);
	icount++;
	goto *labels[d->op];

fetch_slow:
	/* pc left the fetch page (or its last 2 bytes hold a 4-byte instruction). */
	if (unlikely(icount >= rv_stop(cpu)))
		goto check;
	SYNC();
	if ((pc & RV_PAGE_MASK) != fvbase) {
		const struct rv_tlb_entry *e =
		        &cpu->itlb[(pc >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];

		fvbase = pc & RV_PAGE_MASK;
		if (likely(e->tag_x ==
		           fvbase)) { /* RAM page in the ITLB (device pages never match) */
			fdelta = e->addend;
		} else {
			const uint8_t *page = rv_fetch_page(cpu, pc);
			if (!page) {
				fvbase = pc + RV_PAGE_SIZE;
				goto fetch_fault;
			}
			fdelta = (uint64_t)(uintptr_t)page - fvbase;
		}
	}
	if (pc - fvbase <= RV_PAGE_SIZE - 4)
		DISPATCH();
	/* An instruction in the last halfword of the page. */
	{
		uint32_t lo = load_u16((const uint8_t *)(uintptr_t)(pc + fdelta));
		struct rv_insn *t = &cpu->tmp_insn[0];

		if ((lo & 3) == 3) {
			const uint8_t *next = rv_fetch_page(cpu, pc + 2);
			if (!next)
				goto fetch_fault;
			lo |= (uint32_t)load_u16(next) << 16;
		}
		rv_decode(t, lo);
		d = t;
		icount++;
		goto *labels[d->op];
	}

fetch_fault:
	if (cpu->priv == RV_PRIV_M && (cpu->mtvec & ~3ull) == pc) {
		ret = rv_fatal(cpu, "cannot fetch the M-mode trap vector", pc);
		goto out;
	}
	rv_trap_enter(cpu, cpu->exc_cause, cpu->exc_tval);
	/* fall through */
charge_trap:
	/*
	 * A trap retires nothing, but it costs the budget one instruction: an S-mode
	 * handler that faults at once loops without retiring anything (as on hardware),
	 * and the run must still end so that the board polls its devices and timers.
	 */
	if (cpu->stop_budget > cpu->instret)
		cpu->stop_budget--;
	/* fall through */
reload:
	/* Privilege, translation or interrupt state may have changed. */
	pc = cpu->pc;
	icount = cpu->instret;
	dtlb = cpu->dtlb;
	fvbase = pc + RV_PAGE_SIZE;
	/* fall through */
check:
	SYNC();
	if (!rv_check_events(cpu, &ret)) {
		/* An interrupt may have been taken before the budget ran out: out's SYNC()
		 * must write back the trap vector, not the interrupted pc. */
		pc = cpu->pc;
		goto out;
	}
	/* An interrupt may have been taken. */
	pc = cpu->pc;
	dtlb = cpu->dtlb;
	fvbase = pc + RV_PAGE_SIZE;
	DISPATCH();

out:
	SYNC();
	cpu->resv_valid = false;
	rv_fp_quiesce(cpu);
	return ret;
}
