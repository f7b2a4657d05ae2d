/* SPDX-License-Identifier: MIT */
/*
 * The translator: one guest block (RV64GC, straight-line code in one page up
 * to a jump, a branch or a system instruction) to x86-64 code, in one pass.
 *
 * Block layout in the code cache:
 *
 *   [struct jit_block *]  8 bytes, so that an entry point leads to its block
 *   entry:  cmp r11, stop; jae <check stub>     the event check
 *           body: one short sequence per guest instruction
 *           terminal: add r11, n; jumps out (chainable rel32 fields,
 *                     4-byte aligned so that chaining is one atomic store)
 *   out of line: slow paths of loads and stores, exception stubs, exit stubs
 *   [struct rv_insn ...]  decoded instructions the helpers are handed
 *
 * Guest registers: JIT_NPINNED of them live in host registers for as long as
 * generated code runs (jit_pinned_reg()), the rest are [rbp + x] memory
 * operands. x0 reads as an immediate 0; a write to x0 is dropped (loads to x0
 * still access memory: they can fault or touch a device).
 *
 * instret lives in r11 (JIT_INSTRET) while translated code runs, so that a
 * loop's count and event check are register operations, not a store that the
 * next iteration's check has to wait for; it goes to cpu->instret whenever C
 * code runs (the shared routines and the epilogue store it, and load it back).
 * Each block adds its count at its terminal, and before any helper that can
 * see it (CSRs, traps) what has retired so far on the main path
 * ("committed"); exception stubs add exactly the instructions before the
 * faulting one. So instret is exact wherever C code looks at it.
 *
 * Loads and stores inline the soft-TLB hit of the interpreter (rv.h):
 *     e = dtlb + ((va >> 12) & (RV_TLB_SIZE - 1));
 *     if (e->tag == (va & (RV_PAGE_MASK | (size - 1)))) host = va + e->addend
 * and everything else (misses, misaligned, devices, pages with translated
 * code) calls the interpreter's slow path through a helper, which may raise
 * an exception; then the stub leaves with pc and instret of the faulting
 * instruction, the registers as the interpreter would have them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm/emu/riscv64/jit/jit.h"

/*
 * Pinned guest registers: the ones compiled RISC-V code uses most (counted in
 * CoreMark's and the kernel's hot functions: a5, a0, a4, a1, a3, sp, s0, a2,
 * a6, then s1). ra is not among them: a call writes it with one store of an
 * immediate and a return reads it once. r11 holds instret (JIT_INSTRET).
 */
/* host register + 1 of each pinned guest register; 0: in memory */
static const uint8_t host_of[RV_REG_SINK + 1] = {
        [2] = RBX + 1,  /* sp */
        [8] = R12 + 1,  /* s0 */
        [9] = R13 + 1,  /* s1 */
        [10] = R14 + 1, /* a0 */
        [11] = R15 + 1, /* a1 */
        [12] = RDI + 1, /* a2 */
        [13] = R8 + 1,  /* a3 */
        [14] = R9 + 1,  /* a4 */
        [15] = R10 + 1, /* a5 */
};
static const uint8_t pinned_guest[JIT_NPINNED] = {2, 8, 9, 10, 11, 12, 13, 14, 15};

enum x86_reg jit_pinned_reg(unsigned g)
{
	return g <= RV_REG_SINK ? (enum x86_reg)(host_of[g] - 1) : X86_NOREG;
}

unsigned jit_pinned_guest(unsigned i)
{
	return pinned_guest[i];
}

#define MAX_STUBS (3 * JIT_MAX_INSNS + 8) /* a load makes two; the loop keeps 8 spare */
#define MAX_EXITS (JIT_MAX_INSNS + 2)     /* a branch makes one, the terminal two */

enum stub_kind {
	STUB_CHECK, /* the entry check fired: leave for the dispatcher */
	STUB_EXC,   /* a helper raised an exception at pc */
	STUB_RAISE, /* raise (cause, tval) at pc */
	STUB_LOAD,  /* a load's slow path */
	STUB_STORE, /* a store's slow path */
	STUB_NEXT,  /* leave for the dispatcher at s->pc, this instruction retired */
	STUB_TLB,   /* a load's inline-cache miss: the soft TLB, then STUB_LOAD */
	STUB_EXIT,  /* a taken branch: a direct exit to s->target (chainable) */
};

struct stub {
	enum stub_kind kind;
	uint8_t *field;     /* rel32 of the jcc that leads here (writable view) */
	uint8_t *back;      /* where the slow path returns (writable view) */
	uint64_t pc;        /* of the instruction */
	unsigned retired;   /* instructions before it in the block */
	unsigned committed; /* of those, already added to instret on the main path */
	uint64_t cause, tval;
	uint8_t size;
	bool sign;
	bool fp;         /* the load's destination / store's source is an FP register */
	uint8_t reg;     /* guest destination (loads) */
	int8_t value;    /* host register holding the value to store */
	unsigned ic;     /* STUB_TLB: the load's inline-cache entry */
	uint8_t *host;   /* STUB_TLB: where the load goes on with rsi = host address */
	uint64_t target; /* STUB_EXIT */
};

struct tr {
	struct rv_jit *jit;
	struct x86_emit e;
	struct jit_block *b;
	uint64_t vpc0;      /* the block's first pc */
	uint64_t pc;        /* the instruction being translated */
	unsigned idx;       /* its index in the block */
	unsigned ninsns;    /* instructions decoded */
	unsigned committed; /* instructions added to instret on the main path so far */
	unsigned priv;
	bool fs_checked; /* mstatus.FS != Off tested earlier in this block */
	bool fs_dirty;   /* mstatus.FS set to Dirty earlier in this block */
	bool fp_mode_ok; /* host rounding mode checked, no helper call since */
	bool ended;      /* a terminal was emitted */
	struct stub stubs[MAX_STUBS];
	unsigned nstubs;
	/* Chainable exits; the code refers to them by an address known only at the end
	 * (the movabs immediates in exit_imm are patched then). */
	struct jit_exit exits[MAX_EXITS];
	uint8_t *exit_imm[MAX_EXITS];
	unsigned nexits;
	struct rv_insn insns[JIT_MAX_INSNS];
	uint8_t *insn_ref[JIT_MAX_INSNS]; /* rip-relative lea fields that point at insns[i] */
	unsigned ninsn_refs;
	unsigned insn_ref_idx[JIT_MAX_INSNS];
};

/* ---- small emission helpers ------------------------------------------------- */

static struct stub *new_stub(struct tr *t, enum stub_kind kind)
{
	struct stub *s;

	if (t->nstubs == MAX_STUBS) {
		t->e.overflow = true;
		return &t->stubs[0]; /* never emitted: the block is abandoned */
	}
	s = &t->stubs[t->nstubs++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->pc = t->pc;
	s->retired = t->idx;
	s->committed = t->committed;
	return s;
}

/* jcc to a new stub of the given kind. */
static struct stub *jcc_stub(struct tr *t, enum x86_cc cc, enum stub_kind kind)
{
	struct stub *s = new_stub(t, kind);

	s->field = x86_jcc_rel32(&t->e, cc);
	return s;
}

/* Make instret count the instructions before index `upto` of the block. */
static void commit(struct tr *t, unsigned upto)
{
	if (upto > t->committed) {
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET, (int32_t)(upto - t->committed));
		t->committed = upto;
	}
}

/* call one of the shared routines (prologue.c). */
static void call_thunk(struct tr *t, const uint8_t *thunk)
{
	uint8_t *f = x86_call_rel32(&t->e);

	if (!t->e.overflow)
		x86_patch_rel32(f, jit_rw(t->jit, thunk));
}

/* jmp (or jcc) to one of the shared routines. */
static void jump_to(struct tr *t, const uint8_t *rx, int cc)
{
	uint8_t *f = cc < 0 ? x86_jmp_rel32(&t->e) : x86_jcc_rel32(&t->e, (enum x86_cc)cc);

	if (!t->e.overflow)
		x86_patch_rel32(f, jit_rw(t->jit, rx));
}

/* rsi = address of the decoded instruction d (kept after the block's code). */
static void lea_insn(struct tr *t, enum x86_reg r, const struct rv_insn *d)
{
	unsigned i = (unsigned)(d - t->insns);

	/* lea r, [rip + disp32]: the displacement is patched once the data is placed. */
	x86_rex(&t->e, true, r, 0, 0);
	x86_byte(&t->e, 0x8d);
	x86_byte(&t->e, (uint8_t)(((r & 7) << 3) | 5));
	if (t->ninsn_refs < JIT_MAX_INSNS) {
		t->insn_ref[t->ninsn_refs] = t->e.p;
		t->insn_ref_idx[t->ninsn_refs++] = i;
	} else {
		t->e.overflow = true;
	}
	x86_u32(&t->e, 0);
}

/* ---- guest register operands ---------------------------------------------- */

static bool is_pinned(unsigned g)
{
	return jit_pinned_reg(g) != X86_NOREG;
}

/* A host register holding guest register g: its pinned register, or scratch loaded. */
static enum x86_reg src(struct tr *t, unsigned g, enum x86_reg scratch)
{
	enum x86_reg r;

	if (g == 0) {
		x86_mov_ri_keepflags(&t->e, scratch, 0);
		return scratch;
	}
	r = jit_pinned_reg(g);
	if (r != X86_NOREG)
		return r;
	x86_mov_rm(&t->e, scratch, JIT_XREG(g));
	return scratch;
}

/* The register to compute guest rd in: its pinned register, or rax. */
static enum x86_reg dst(unsigned g)
{
	enum x86_reg r = jit_pinned_reg(g);

	return r != X86_NOREG ? r : RAX;
}

/* Finish a write of guest rd computed in host register r. */
static void put(struct tr *t, unsigned g, enum x86_reg r)
{
	enum x86_reg p = jit_pinned_reg(g);

	if (p != X86_NOREG)
		x86_mov_rr(&t->e, p, r);
	else
		x86_mov_mr(&t->e, JIT_XREG(g), r);
}

/* op r, <guest g> with g as a register, memory or immediate-0 operand. */
static void alu_with(struct tr *t, enum x86_alu op, bool w, enum x86_reg r, unsigned g)
{
	enum x86_reg p = jit_pinned_reg(g);

	if (g == 0)
		x86_alu_ri(&t->e, op, w, r, 0);
	else if (p != X86_NOREG)
		x86_alu_rr(&t->e, op, w, r, p);
	else
		x86_alu_rm(&t->e, op, w, r, JIT_XREG(g));
}

/* ---- integer instructions --------------------------------------------------- */

/* rd = rs1 op rs2 (w32: on the low 32 bits, result sign-extended). */
static void op_alu(struct tr *t, const struct rv_insn *d, enum x86_alu op, bool w32)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	/* Computing in rd's register would overwrite rs2 before it is read. */
	if (r != RAX && jit_pinned_reg(d->rs2) == r && d->rs1 != d->rs2)
		r = RAX;
	if (w32)
		x86_mov_r32r32(&t->e, r, src(t, d->rs1, r));
	else
		x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	alu_with(t, op, !w32, r, d->rs2);
	if (w32)
		x86_movsxd_rr(&t->e, r, r);
	put(t, d->rd, r);
}

/* rd = rs1 op imm */
static void op_alu_imm(struct tr *t, const struct rv_insn *d, enum x86_alu op)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	x86_alu_ri(&t->e, op, true, r, d->imm);
	put(t, d->rd, r);
}

static void op_addi(struct tr *t, const struct rv_insn *d, bool w32)
{
	enum x86_reg r = dst(d->rd), a;

	if (d->rd == RV_REG_SINK)
		return;
	if (d->rs1 == 0) {
		x86_mov_ri(&t->e, r, (uint64_t)(int64_t)d->imm);
	} else {
		a = src(t, d->rs1, r);
		if (w32 && d->imm == 0) { /* sext.w */
			x86_movsxd_rr(&t->e, r, a);
		} else if (w32) {
			x86_lea(&t->e, r, x86_m(a, d->imm));
			x86_movsxd_rr(&t->e, r, r);
		} else if (d->imm == 0) {
			x86_mov_rr(&t->e, r, a);
		} else {
			x86_lea(&t->e, r, x86_m(a, d->imm));
		}
	}
	put(t, d->rd, r);
}

static void op_shift_imm(struct tr *t, const struct rv_insn *d, enum x86_shift op, bool w32)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	if (w32)
		x86_mov_r32r32(&t->e, r, src(t, d->rs1, r));
	else
		x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	x86_shift_ri(&t->e, op, !w32, r, (unsigned)d->imm & (w32 ? 31 : 63));
	if (w32)
		x86_movsxd_rr(&t->e, r, r);
	put(t, d->rd, r);
}

/* Shifts by a register: the count goes to cl; x86 masks it exactly as RISC-V does. */
static void op_shift(struct tr *t, const struct rv_insn *d, enum x86_shift op, bool w32)
{
	if (d->rd == RV_REG_SINK)
		return;
	x86_mov_rr(&t->e, RCX, src(t, d->rs2, RCX));
	if (w32)
		x86_mov_r32r32(&t->e, RAX, src(t, d->rs1, RAX));
	else
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
	x86_shift_rcl(&t->e, op, !w32, RAX);
	if (w32)
		x86_movsxd_rr(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

/* rd = (rs1 < rs2 or imm) as 0/1 */
static void op_slt(struct tr *t, const struct rv_insn *d, bool imm, bool is_unsigned)
{
	enum x86_reg a;

	if (d->rd == RV_REG_SINK)
		return;
	a = src(t, d->rs1, RCX);
	if (imm)
		x86_alu_ri(&t->e, ALU_CMP, true, a, d->imm);
	else
		alu_with(t, ALU_CMP, true, a, d->rs2);
	x86_setcc(&t->e, is_unsigned ? CC_B : CC_L, RAX);
	x86_movzx_r8(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

static void op_lui(struct tr *t, const struct rv_insn *d, uint64_t value)
{
	if (d->rd == RV_REG_SINK)
		return;
	if (is_pinned(d->rd)) {
		x86_mov_ri(&t->e, jit_pinned_reg(d->rd), value);
	} else if (x86_fits_i32((int64_t)value)) {
		x86_mov_mi(&t->e, JIT_XREG(d->rd), (int32_t)value);
	} else {
		x86_mov_ri(&t->e, RAX, value);
		x86_mov_mr(&t->e, JIT_XREG(d->rd), RAX);
	}
}

/* mul, mulw, mulh, mulhu, mulhsu */
static void op_mul(struct tr *t, const struct rv_insn *d)
{
	if (d->rd == RV_REG_SINK)
		return;
	switch (d->op) {
	case RV_OP_MUL:
	case RV_OP_MULW: {
		bool w32 = d->op == RV_OP_MULW;
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
		if (d->rs2 == 0)
			x86_mov_ri(&t->e, RAX, 0);
		else if (is_pinned(d->rs2))
			x86_imul_rr(&t->e, !w32, RAX, jit_pinned_reg(d->rs2));
		else
			x86_imul_rm(&t->e, !w32, RAX, JIT_XREG(d->rs2));
		if (w32)
			x86_movsxd_rr(&t->e, RAX, RAX);
		put(t, d->rd, RAX);
		return;
	}
	case RV_OP_MULHSU:
		/* high(signed a * unsigned b) = high_u(a, b) - (a < 0 ? b : 0) */
		x86_mov_rr(&t->e, RCX, src(t, d->rs1, RCX));
		x86_mov_rr(&t->e, RAX, RCX);
		x86_shift_ri(&t->e, SH_SAR, true, RCX, 63);
		x86_mov_rr(&t->e, RSI, src(t, d->rs2, RSI));
		x86_alu_rr(&t->e, ALU_AND, true, RCX, RSI);
		x86_grp3_r(&t->e, 4, true, RSI); /* mul rsi: rdx:rax = rax * rsi */
		x86_alu_rr(&t->e, ALU_SUB, true, RDX, RCX);
		put(t, d->rd, RDX);
		return;
	default: /* MULH, MULHU */
		x86_mov_rr(&t->e, RSI, src(t, d->rs2, RSI));
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
		x86_grp3_r(&t->e, d->op == RV_OP_MULH ? 5 : 4, true, RSI);
		put(t, d->rd, RDX);
		return;
	}
}

/* Local forward jumps inside one instruction's code (rel8). */
static uint8_t *jcc8(struct tr *t, enum x86_cc cc)
{
	uint8_t *f;

	x86_byte(&t->e, (uint8_t)(0x70 | cc));
	f = t->e.p;
	x86_byte(&t->e, 0);
	return f;
}

static uint8_t *jmp8(struct tr *t)
{
	uint8_t *f;

	x86_byte(&t->e, 0xeb);
	f = t->e.p;
	x86_byte(&t->e, 0);
	return f;
}

static void land8(struct tr *t, uint8_t *f)
{
	if (!t->e.overflow)
		*f = (uint8_t)(t->e.p - (f + 1));
}

/*
 * div/rem (signed and unsigned, 64- and 32-bit) with RISC-V's results where
 * x86 would fault: x / 0 = all ones, x % 0 = x, MIN / -1 = MIN, MIN % -1 = 0.
 */
static void op_div(struct tr *t, const struct rv_insn *d)
{
	bool is_signed = d->op == RV_OP_DIV || d->op == RV_OP_REM || d->op == RV_OP_DIVW ||
	                 d->op == RV_OP_REMW;
	bool rem = d->op == RV_OP_REM || d->op == RV_OP_REMU || d->op == RV_OP_REMW ||
	           d->op == RV_OP_REMUW;
	bool w32 = d->op >= RV_OP_DIVW;
	uint8_t *zero, *minus1 = NULL, *done1, *done2 = NULL;

	if (d->rd == RV_REG_SINK)
		return;
	if (w32) {
		x86_mov_r32r32(&t->e, RCX, src(t, d->rs2, RCX));
		x86_mov_r32r32(&t->e, RAX, src(t, d->rs1, RAX));
	} else {
		x86_mov_rr(&t->e, RCX, src(t, d->rs2, RCX));
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
	}
	x86_test_rr(&t->e, !w32, RCX, RCX);
	zero = jcc8(t, CC_E);
	if (is_signed) {
		x86_alu_ri(&t->e, ALU_CMP, !w32, RCX, -1);
		minus1 = jcc8(t, CC_E);
		if (w32)
			x86_cdq(&t->e);
		else
			x86_cqo(&t->e);
		x86_grp3_r(&t->e, 7, !w32, RCX); /* idiv */
	} else {
		x86_mov_ri(&t->e, RDX, 0);
		x86_grp3_r(&t->e, 6, !w32, RCX); /* div */
	}
	if (rem)
		x86_mov_rr(&t->e, RAX, RDX);
	done1 = jmp8(t);
	if (is_signed) {
		/* divisor -1: quotient -x (MIN stays MIN), remainder 0 */
		land8(t, minus1);
		if (rem)
			x86_mov_ri(&t->e, RAX, 0);
		else
			x86_grp3_r(&t->e, 3, !w32, RAX); /* neg */
		done2 = jmp8(t);
	}
	/* divisor 0: quotient all ones, remainder the dividend (already in rax) */
	land8(t, zero);
	if (!rem)
		x86_mov_ri(&t->e, RAX, ~0ull);
	land8(t, done1);
	if (done2)
		land8(t, done2);
	if (w32)
		x86_movsxd_rr(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

/* ---- memory ------------------------------------------------------------------ */

/* rsi = rs1 + imm (the virtual address of a load or store). */
static void address(struct tr *t, const struct rv_insn *d)
{
	if (d->rs1 == 0)
		x86_mov_ri(&t->e, RSI, (uint64_t)(int64_t)d->imm);
	else if (is_pinned(d->rs1))
		x86_lea(&t->e, RSI, x86_m(jit_pinned_reg(d->rs1), d->imm));
	else {
		x86_mov_rm(&t->e, RSI, JIT_XREG(d->rs1));
		if (d->imm)
			x86_alu_ri(&t->e, ALU_ADD, true, RSI, d->imm);
	}
}

/*
 * The soft-TLB probe for va in rsi: rax = the entry; the jcc to the slow path
 * is taken unless the tag for `tag_off` matches. On the fast path rsi becomes
 * the host address.
 */
static struct stub *tlb_probe(struct tr *t, size_t tag_off, unsigned size, enum stub_kind kind)
{
	struct stub *s;

	x86_mov_rr(&t->e, RAX, RSI);
	x86_shift_ri(&t->e, SH_SHR, true, RAX, RV_PAGE_SHIFT - 5);
	x86_alu_ri(&t->e, ALU_AND, false, RAX, (RV_TLB_SIZE - 1) << 5);
	x86_alu_rm(&t->e, ALU_ADD, true, RAX, JIT_CPU(dtlb));
	x86_mov_rr(&t->e, RDX, RSI);
	x86_alu_ri(&t->e, ALU_AND, true, RDX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	x86_alu_rm(&t->e, ALU_CMP, true, RDX, x86_m(RAX, (int32_t)tag_off));
	s = jcc_stub(t, CC_NE, kind);
	x86_alu_rm(&t->e, ALU_ADD, true, RSI,
	           x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, addend)));
	return s;
}

_Static_assert(sizeof(struct rv_tlb_entry) == 32, "the translator indexes the TLB by << 5");

/* Test mstatus.FS once per block before the first FP instruction; Off = illegal. */
static void fs_check(struct tr *t, const struct rv_insn *d)
{
	struct stub *s;

	if (t->fs_checked)
		return;
	x86_test_m32i(&t->e, JIT_CPU(mstatus), (uint32_t)MSTATUS_FS);
	s = jcc_stub(t, CC_E, STUB_RAISE);
	s->cause = RV_EXC_ILLEGAL;
	s->tval = d->len == 2 ? (d->raw & 0xffff) : d->raw;
	t->fs_checked = true;
}

/* mstatus.FS = Dirty, once per block, after the first instruction that writes FP state. */
static void fs_dirty(struct tr *t)
{
	if (t->fs_dirty)
		return;
	x86_alu_mi(&t->e, ALU_OR, false, JIT_CPU(mstatus), (int32_t)MSTATUS_FS);
	t->fs_dirty = true;
}

/* [rbp + ...] of inline-cache entry ic's tag (+0) or addend (+8). */
static struct x86_mem ic_field(unsigned ic, unsigned off)
{
	return jit_cpu_field(offsetof(struct rv_cpu, ic) + sizeof(struct rv_ic_entry) * ic + off);
}

/*
 * A load: the inline cache's hit (jit.h) on the main path; a miss goes out of
 * line to the soft TLB (STUB_TLB, which fills the cache on a hit) and from
 * there to the interpreter's slow path (STUB_LOAD).
 */
static void op_load(struct tr *t, const struct rv_insn *d, unsigned size, bool sign, bool fp)
{
	struct stub *s;
	enum x86_reg r;
	unsigned ic = t->jit->next_ic++ % RV_JIT_IC_SIZE;

	if (fp)
		fs_check(t, d);
	address(t, d);
	x86_mov_rr(&t->e, RDX, RSI);
	x86_alu_ri(&t->e, ALU_AND, true, RDX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	x86_alu_rm(&t->e, ALU_XOR, true, RDX, JIT_CPU(ic_salt));
	x86_alu_rm(&t->e, ALU_CMP, true, RDX, ic_field(ic, 0));
	s = jcc_stub(t, CC_NE, STUB_TLB);
	s->size = (uint8_t)size;
	s->sign = sign;
	s->fp = fp;
	s->reg = d->rd;
	s->ic = ic;
	x86_alu_rm(&t->e, ALU_ADD, true, RSI, ic_field(ic, 8));
	s->host = t->e.p;
	if (fp) {
		x86_load(&t->e, size, false, RAX, x86_m(RSI, 0));
		x86_store(&t->e, size, JIT_FREG(d->rd), RAX);
		if (size == 4) /* NaN-box */
			x86_mov_m32i(&t->e,
			             jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * d->rd + 4),
			             0xffffffffu);
	} else {
		r = dst(d->rd);
		x86_load(&t->e, size, sign, r, x86_m(RSI, 0));
		if (r == RAX)
			x86_mov_mr(&t->e, JIT_XREG(d->rd), RAX); /* x[32] for rd = x0 */
	}
	s->back = t->e.p;
	if (fp)
		fs_dirty(t);
}

static void op_store(struct tr *t, const struct rv_insn *d, unsigned size, bool fp)
{
	struct stub *s;
	enum x86_reg v;

	if (fp) {
		fs_check(t, d);
		x86_load(&t->e, size, false, RCX, JIT_FREG(d->rs2));
		v = RCX;
	} else {
		v = src(t, d->rs2, RCX);
	}
	address(t, d);
	s = tlb_probe(t, offsetof(struct rv_tlb_entry, tag_w), size, STUB_STORE);
	s->size = (uint8_t)size;
	s->value = (int8_t)v;
	x86_store(&t->e, size, x86_m(RSI, 0), v);
	s->back = t->e.p;
}

/* ---- control flow ------------------------------------------------------------- */

/* Leave for the dispatcher with rax = code (after cpu->pc was set as needed). */
static void leave(struct tr *t, uint64_t code)
{
	x86_mov_ri(&t->e, RAX, code);
	jump_to(t, t->jit->epilogue, -1);
}

/* cpu->pc = pc (clobbers rax). */
static void set_pc(struct tr *t, uint64_t pc)
{
	if (x86_fits_i32((int64_t)pc)) {
		x86_mov_mi(&t->e, JIT_CPU(pc), (int32_t)pc);
	} else {
		x86_mov_ri(&t->e, RAX, pc);
		x86_mov_mr(&t->e, JIT_CPU(pc), RAX);
	}
}

/*
 * The inline jump-cache lookup for the guest pc in rax: a hit jumps to the
 * block, a miss leaves with JIT_EXIT_LOOKUP. Inlined at every indirect jump
 * so that each has its own host indirect branch to predict.
 */
static void jc_jump(struct tr *t)
{
	x86_mov_rr(&t->e, RDX, RAX);
	x86_shift_ri(&t->e, SH_SHR, true, RDX, JIT_JC_BITS);
	x86_alu_rr(&t->e, ALU_XOR, false, RDX, RAX);
	x86_shift_ri(&t->e, SH_SHR, false, RDX, 1);
	x86_alu_ri(&t->e, ALU_AND, false, RDX, JIT_JC_SIZE - 1);
	x86_shift_ri(&t->e, SH_SHL, false, RDX, 4);
	x86_alu_rm(&t->e, ALU_ADD, true, RDX, JIT_CPU(jc));
	x86_mov_rr(&t->e, RCX, RAX);
	x86_alu_rm(&t->e, ALU_XOR, true, RCX, JIT_CPU(jc_salt));
	x86_alu_rm(&t->e, ALU_CMP, true, RCX, x86_m(RDX, 0));
	jump_to(t, t->jit->thunk_jc_miss, CC_NE);
	x86_jmp_m(&t->e, x86_m(RDX, 8));
}

/*
 * A direct jump to `target` whose rel32 field is `field`: chainable when the
 * target is in the block's own page (same mapping, so the chained block is the
 * one a lookup would find); otherwise through the jump cache.
 */
static void direct_exit(struct tr *t, uint8_t *field, uint64_t target, uint8_t **stub_out)
{
	uint8_t *stub = t->e.p;

	*stub_out = stub;
	if ((target & RV_PAGE_MASK) == (t->vpc0 & RV_PAGE_MASK) && t->nexits < MAX_EXITS) {
		struct jit_exit *x = &t->exits[t->nexits];

		x->target = target;
		x->rel32 = field; /* writable view for now; made executable at the end */
		x->stub = stub;
		set_pc(t, target);
		t->exit_imm[t->nexits++] = x86_movabs(&t->e, RAX, 0);
		jump_to(t, t->jit->epilogue, -1);
	} else {
		x86_mov_ri(&t->e, RAX, target);
		jc_jump(t);
	}
	if (!t->e.overflow)
		x86_patch_rel32(field, stub);
}

/* jmp rel32 with its field 4-byte aligned (atomic re-patching). */
static uint8_t *aligned_jmp(struct tr *t)
{
	x86_align(&t->e, 4, 1);
	return x86_jmp_rel32(&t->e);
}

static uint8_t *aligned_jcc(struct tr *t, enum x86_cc cc)
{
	x86_align(&t->e, 4, 2);
	return x86_jcc_rel32(&t->e, cc);
}

/* Terminal: every instruction of the block retired. */
static void commit_all(struct tr *t)
{
	commit(t, t->idx + 1);
}

/*
 * A conditional branch leaves the block when taken (a chainable exit, out of
 * line) and the block goes on with the fall-through path: fewer block
 * transitions, and the not-taken path pays no jump and no event check.
 */
static void op_branch(struct tr *t, const struct rv_insn *d, enum x86_cc cc)
{
	uint64_t taken = t->pc + (uint64_t)(int64_t)d->imm;
	struct stub *s;
	enum x86_reg a;

	commit_all(t); /* on both paths the branch retired */
	a = src(t, d->rs1, RAX);
	alu_with(t, ALU_CMP, true, a, d->rs2);
	s = new_stub(t, STUB_EXIT);
	s->field = aligned_jcc(t, cc);
	s->target = taken;
}

static void op_jal(struct tr *t, const struct rv_insn *d)
{
	uint64_t target = t->pc + (uint64_t)(int64_t)d->imm;
	uint8_t *f, *s;

	op_lui(t, d, t->pc + d->len);
	commit_all(t);
	f = aligned_jmp(t);
	direct_exit(t, f, target, &s);
	t->ended = true;
}

static void op_jalr(struct tr *t, const struct rv_insn *d)
{
	enum x86_reg a = src(t, d->rs1, RAX);

	x86_lea(&t->e, RAX, x86_m(a, d->imm));
	x86_alu_ri(&t->e, ALU_AND, true, RAX, -2);
	if (d->rd != RV_REG_SINK) {
		uint64_t link = t->pc + d->len;
		if (is_pinned(d->rd)) {
			x86_mov_ri(&t->e, jit_pinned_reg(d->rd), link);
		} else {
			x86_mov_ri(&t->e, RCX, link);
			x86_mov_mr(&t->e, JIT_XREG(d->rd), RCX);
		}
	}
	commit_all(t);
	jc_jump(t);
	t->ended = true;
}

/* The block ends before instruction idx without a jump: go on at pc. */
static void fallthrough(struct tr *t, uint64_t pc)
{
	uint8_t *f, *s;

	commit(t, t->idx);
	f = aligned_jmp(t);
	direct_exit(t, f, pc, &s);
	t->ended = true;
}

/* Raise (cause, tval) at this instruction: a terminal. */
static void op_raise(struct tr *t, uint64_t cause, uint64_t tval)
{
	struct stub *s = new_stub(t, STUB_RAISE);

	s->cause = cause;
	s->tval = tval;
	s->field = x86_jmp_rel32(&t->e);
	t->ended = true;
}

/* ---- helpers ------------------------------------------------------------------ */

/*
 * Call fn(cpu, &insn) with the whole guest state in cpu (pinned registers
 * written out and read back); a 0 return is an exception at this instruction.
 */
static void call_insn_helper(struct tr *t, const struct rv_insn *d, const void *fn)
{
	/* As in the interpreter, a helper sees instret counting this instruction. */
	commit(t, t->idx + 1);
	lea_insn(t, RSI, d);
	x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)fn);
	call_thunk(t, t->jit->thunk_call);
	x86_test_rr(&t->e, true, RAX, RAX);
	jcc_stub(t, CC_E, STUB_EXC);
	t->fp_mode_ok = false;
}

/* mret, sret, wfi, sfence.vma: the helper returns the exit code; a terminal. */
static void op_system(struct tr *t, const struct rv_insn *d)
{
	commit_all(t); /* the helper takes it back when the instruction traps */
	set_pc(t, t->pc);
	lea_insn(t, RSI, d);
	x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)jit_helper_system);
	call_thunk(t, t->jit->thunk_call);
	jump_to(t, t->jit->epilogue, -1);
	t->ended = true;
}

static void op_csr(struct tr *t, const struct rv_insn *d)
{
	struct stub *s;

	call_insn_helper(t, d, (const void *)jit_helper_csr);
	/* 2: translation, FP enable or interrupt state changed: the dispatcher looks
	 * at events and at the next pc afresh. */
	x86_alu_ri(&t->e, ALU_CMP, false, RAX, 2);
	s = jcc_stub(t, CC_E, STUB_NEXT);
	s->pc = t->pc + d->len;
}

/* fence: the host needs a full fence only to order earlier stores before later loads
 * (guest-ram.h); the translated code keeps every access in program order otherwise. */
static void op_fence(struct tr *t, const struct rv_insn *d)
{
	if (rv_fence_needs_host_fence((uint32_t)d->imm))
		x86_mfence(&t->e);
}

/* ---- FP ----------------------------------------------------------------------- */

static void op_fp(struct tr *t, const struct rv_insn *d)
{
	fs_check(t, d);
	call_insn_helper(t, d, (const void *)jit_helper_fp);
	/* rv_fp_exec sets FS to Dirty itself. */
}

/* ---- one instruction ----------------------------------------------------------- */

static void translate_insn(struct tr *t, const struct rv_insn *d)
{
	switch (d->op) {
	case RV_OP_LUI:
		op_lui(t, d, (uint64_t)(int64_t)d->imm);
		break;
	case RV_OP_AUIPC:
		op_lui(t, d, t->pc + (uint64_t)(int64_t)d->imm);
		break;
	case RV_OP_JAL:
		op_jal(t, d);
		break;
	case RV_OP_JALR:
		op_jalr(t, d);
		break;
	case RV_OP_BEQ:
		op_branch(t, d, CC_E);
		break;
	case RV_OP_BNE:
		op_branch(t, d, CC_NE);
		break;
	case RV_OP_BLT:
		op_branch(t, d, CC_L);
		break;
	case RV_OP_BGE:
		op_branch(t, d, CC_GE);
		break;
	case RV_OP_BLTU:
		op_branch(t, d, CC_B);
		break;
	case RV_OP_BGEU:
		op_branch(t, d, CC_AE);
		break;
	case RV_OP_LB:
		op_load(t, d, 1, true, false);
		break;
	case RV_OP_LH:
		op_load(t, d, 2, true, false);
		break;
	case RV_OP_LW:
		op_load(t, d, 4, true, false);
		break;
	case RV_OP_LD:
		op_load(t, d, 8, true, false);
		break;
	case RV_OP_LBU:
		op_load(t, d, 1, false, false);
		break;
	case RV_OP_LHU:
		op_load(t, d, 2, false, false);
		break;
	case RV_OP_LWU:
		op_load(t, d, 4, false, false);
		break;
	case RV_OP_SB:
		op_store(t, d, 1, false);
		break;
	case RV_OP_SH:
		op_store(t, d, 2, false);
		break;
	case RV_OP_SW:
		op_store(t, d, 4, false);
		break;
	case RV_OP_SD:
		op_store(t, d, 8, false);
		break;
	case RV_OP_ADDI:
		op_addi(t, d, false);
		break;
	case RV_OP_ADDIW:
		op_addi(t, d, true);
		break;
	case RV_OP_SLTI:
		op_slt(t, d, true, false);
		break;
	case RV_OP_SLTIU:
		op_slt(t, d, true, true);
		break;
	case RV_OP_XORI:
		op_alu_imm(t, d, ALU_XOR);
		break;
	case RV_OP_ORI:
		op_alu_imm(t, d, ALU_OR);
		break;
	case RV_OP_ANDI:
		op_alu_imm(t, d, ALU_AND);
		break;
	case RV_OP_SLLI:
		op_shift_imm(t, d, SH_SHL, false);
		break;
	case RV_OP_SRLI:
		op_shift_imm(t, d, SH_SHR, false);
		break;
	case RV_OP_SRAI:
		op_shift_imm(t, d, SH_SAR, false);
		break;
	case RV_OP_SLLIW:
		op_shift_imm(t, d, SH_SHL, true);
		break;
	case RV_OP_SRLIW:
		op_shift_imm(t, d, SH_SHR, true);
		break;
	case RV_OP_SRAIW:
		op_shift_imm(t, d, SH_SAR, true);
		break;
	case RV_OP_ADD:
		op_alu(t, d, ALU_ADD, false);
		break;
	case RV_OP_SUB:
		op_alu(t, d, ALU_SUB, false);
		break;
	case RV_OP_XOR:
		op_alu(t, d, ALU_XOR, false);
		break;
	case RV_OP_OR:
		op_alu(t, d, ALU_OR, false);
		break;
	case RV_OP_AND:
		op_alu(t, d, ALU_AND, false);
		break;
	case RV_OP_ADDW:
		op_alu(t, d, ALU_ADD, true);
		break;
	case RV_OP_SUBW:
		op_alu(t, d, ALU_SUB, true);
		break;
	case RV_OP_SLT:
		op_slt(t, d, false, false);
		break;
	case RV_OP_SLTU:
		op_slt(t, d, false, true);
		break;
	case RV_OP_SLL:
		op_shift(t, d, SH_SHL, false);
		break;
	case RV_OP_SRL:
		op_shift(t, d, SH_SHR, false);
		break;
	case RV_OP_SRA:
		op_shift(t, d, SH_SAR, false);
		break;
	case RV_OP_SLLW:
		op_shift(t, d, SH_SHL, true);
		break;
	case RV_OP_SRLW:
		op_shift(t, d, SH_SHR, true);
		break;
	case RV_OP_SRAW:
		op_shift(t, d, SH_SAR, true);
		break;
	case RV_OP_MUL:
	case RV_OP_MULH:
	case RV_OP_MULHSU:
	case RV_OP_MULHU:
	case RV_OP_MULW:
		op_mul(t, d);
		break;
	case RV_OP_DIV:
	case RV_OP_DIVU:
	case RV_OP_REM:
	case RV_OP_REMU:
	case RV_OP_DIVW:
	case RV_OP_DIVUW:
	case RV_OP_REMW:
	case RV_OP_REMUW:
		op_div(t, d);
		break;
	case RV_OP_FENCE:
		op_fence(t, d);
		break;
	case RV_OP_FENCE_I:
		/* Writes into translated code invalidated it already: look the next pc up. */
		commit_all(t);
		set_pc(t, t->pc + d->len);
		leave(t, JIT_EXIT_LOOKUP);
		t->ended = true;
		break;
	case RV_OP_ECALL:
		op_raise(t, RV_EXC_ECALL_U + t->priv, 0);
		break;
	case RV_OP_EBREAK:
		op_raise(t, RV_EXC_BREAKPOINT, t->pc);
		break;
	case RV_OP_MRET:
	case RV_OP_SRET:
	case RV_OP_WFI:
	case RV_OP_SFENCE_VMA:
		op_system(t, d);
		break;
	case RV_OP_CSRRW:
	case RV_OP_CSRRS:
	case RV_OP_CSRRC:
	case RV_OP_CSRRWI:
	case RV_OP_CSRRSI:
	case RV_OP_CSRRCI:
		op_csr(t, d);
		break;
	case RV_OP_FLW:
		op_load(t, d, 4, false, true);
		break;
	case RV_OP_FLD:
		op_load(t, d, 8, false, true);
		break;
	case RV_OP_FSW:
		op_store(t, d, 4, true);
		break;
	case RV_OP_FSD:
		op_store(t, d, 8, true);
		break;
	case RV_OP_ILLEGAL:
		op_raise(t, RV_EXC_ILLEGAL, d->len == 2 ? (d->raw & 0xffff) : d->raw);
		break;
	default:
		if (d->op >= RV_OP_LR_W && d->op <= RV_OP_AMOMAXU_D) {
			call_insn_helper(t, d, (const void *)jit_helper_amo);
		} else {
			op_fp(t, d);
		}
		break;
	}
}

/* ---- stubs ---------------------------------------------------------------------- */

/*
 * Leave with the exception raised at the stub's instruction (cpu->exc_* set);
 * `counted` instructions of the block are in cpu->instret on this path, and
 * the faulting one does not retire.
 */
static void stub_exception_exit(struct tr *t, const struct stub *s, unsigned counted)
{
	if (s->retired != counted)
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET,
		           (int32_t)s->retired - (int32_t)counted);
	set_pc(t, s->pc);
	leave(t, JIT_EXIT_TRAP);
}

/* instret += n on a slow path (n may be negative or 0). */
static void adjust_instret(struct tr *t, int n)
{
	if (n)
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET, n);
}

static void emit_stub(struct tr *t, struct stub *s)
{
	uint8_t *unused;

	if (s->kind == STUB_EXIT) {
		/* The jcc is the exit's own jump: direct_exit() points it at the stub. */
		direct_exit(t, s->field, s->target, &unused);
		return;
	}
	if (!t->e.overflow)
		x86_patch_rel32(s->field, t->e.p);
	switch (s->kind) {
	case STUB_CHECK:
		set_pc(t, t->vpc0);
		leave(t, JIT_EXIT_LOOKUP);
		break;
	case STUB_NEXT:
		set_pc(t, s->pc);
		leave(t, JIT_EXIT_LOOKUP);
		break;
	case STUB_EXIT:
		break;
	case STUB_TLB: {
		/* rsi = va, rdx = the salted tag the inline cache missed. */
		struct stub *slow;
		unsigned size = s->size;
		x86_mov_rr(&t->e, RAX, RSI);
		x86_shift_ri(&t->e, SH_SHR, true, RAX, RV_PAGE_SHIFT - 5);
		x86_alu_ri(&t->e, ALU_AND, false, RAX, (RV_TLB_SIZE - 1) << 5);
		x86_alu_rm(&t->e, ALU_ADD, true, RAX, JIT_CPU(dtlb));
		x86_mov_rr(&t->e, RCX, RSI);
		x86_alu_ri(&t->e, ALU_AND, true, RCX, (int32_t)(RV_PAGE_MASK | (size - 1)));
		x86_alu_rm(&t->e, ALU_CMP, true, RCX,
		           x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, tag_r)));
		slow = new_stub(t, STUB_LOAD);
		*slow = *s;
		slow->kind = STUB_LOAD;
		slow->field = x86_jcc_rel32(&t->e, CC_NE);
		x86_mov_rm(&t->e, RCX, x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, addend)));
		x86_mov_mr(&t->e, ic_field(s->ic, 8), RCX);
		x86_mov_mr(&t->e, ic_field(s->ic, 0), RDX);
		x86_alu_rr(&t->e, ALU_ADD, true, RSI, RCX);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->host);
		}
		break;
	}
	case STUB_RAISE:
		x86_mov_ri(&t->e, RAX, s->cause);
		x86_mov_mr(&t->e, JIT_CPU(exc_cause), RAX);
		x86_mov_ri(&t->e, RAX, s->tval);
		x86_mov_mr(&t->e, JIT_CPU(exc_tval), RAX);
		/* fall through */
	case STUB_EXC:
		stub_exception_exit(t, s, s->committed);
		break;
	case STUB_LOAD: {
		uint8_t *f;
		/* rsi = va; devices see instret counting this instruction, as in the interpreter */
		int adj = (int)(s->retired + 1) - (int)s->committed;
		adjust_instret(t, adj);
		x86_mov_ri(&t->e, RDX, s->size | (s->sign ? 0x100u : 0));
		call_thunk(t, t->jit->thunk_load);
		x86_test_rr(&t->e, true, RDX, RDX);
		f = x86_jcc_rel32(&t->e, CC_E);
		if (s->fp) {
			x86_store(&t->e, s->size, JIT_FREG(s->reg), RAX);
			if (s->size == 4)
				x86_mov_m32i(
				        &t->e,
				        jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * s->reg + 4),
				        0xffffffffu);
		} else {
			put(t, s->reg, RAX);
		}
		adjust_instret(t, -adj);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->back);
		}
		if (!t->e.overflow)
			x86_patch_rel32(f, t->e.p);
		stub_exception_exit(t, s, s->retired + 1);
		break;
	}
	case STUB_STORE: {
		uint8_t *f;
		int adj = (int)(s->retired + 1) - (int)s->committed;
		x86_mov_rr(&t->e, RDX, (enum x86_reg)s->value);
		adjust_instret(t, adj);
		x86_mov_ri(&t->e, RCX, s->size);
		call_thunk(t, t->jit->thunk_store);
		x86_test_rr(&t->e, true, RAX, RAX);
		f = x86_jcc_rel32(&t->e, CC_E);
		adjust_instret(t, -adj);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->back);
		}
		if (!t->e.overflow)
			x86_patch_rel32(f, t->e.p);
		stub_exception_exit(t, s, s->retired + 1);
		break;
	}
	}
}

/* ---- a block ----------------------------------------------------------------------- */

/*
 * VK_JIT_DUMP=DIR: DIR/<vpc>-<priv>.bin is the block's code (from its entry)
 * and .txt its guest instructions, for objdump -D -b binary -m i386:x86-64.
 */
static void dump_block(struct rv_jit *jit, const struct jit_block *b, const struct tr *t)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%016llx-%u.bin", jit->dump_dir, (unsigned long long)b->vpc,
	         b->priv);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(jit_rw(jit, b->code), 1, b->code_size, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%016llx-%u.txt", jit->dump_dir, (unsigned long long)b->vpc,
	         b->priv);
	f = fopen(path, "w");
	if (!f)
		return;
	for (unsigned i = 0; i < t->ninsns; i++)
		fprintf(f, "%s rd=%u rs1=%u rs2=%u imm=%d len=%u\n", rv_op_name(t->insns[i].op),
		        t->insns[i].rd, t->insns[i].rs1, t->insns[i].rs2, t->insns[i].imm,
		        t->insns[i].len);
	fclose(f);
}

static inline uint32_t fetch32(const uint8_t *p, size_t avail)
{
	uint32_t v = 0;

	memcpy(&v, p, avail >= 4 ? 4 : avail);
	return v;
}

struct jit_block *jit_translate(struct rv_jit *jit, struct rv_cpu *cpu, uint64_t vpc,
                                const uint8_t *host, size_t avail)
{
	struct tr *t;
	struct jit_block *b;
	uint8_t *start, *entry;
	size_t off = 0;
	struct stub *check;

	t = calloc(1, sizeof(*t));
	b = jit_meta_alloc(jit, sizeof(*b));
	start = jit_code_alloc(jit, JIT_BLOCK_MAX);
	if (!t || !b || !start) {
		free(t);
		return NULL;
	}
	t->jit = jit;
	t->b = b;
	t->vpc0 = vpc;
	t->pc = vpc;
	t->priv = cpu->priv;
	t->e = (struct x86_emit){.p = start, .start = start, .end = start + JIT_BLOCK_MAX};
	memset(b, 0, sizeof(*b));
	b->vpc = vpc;
	b->host = host;
	b->priv = (uint8_t)cpu->priv;

	/* The block pointer, then the entry point (16-byte aligned). */
	x86_align(&t->e, 16, 8);
	x86_u64(&t->e, (uint64_t)(uintptr_t)b);
	entry = t->e.p;
	x86_alu_rm(&t->e, ALU_CMP, true, JIT_INSTRET, JIT_CPU(stop));
	check = jcc_stub(t, CC_AE, STUB_CHECK);
	(void)check;

	while (!t->ended) {
		uint32_t raw;
		struct rv_insn *d;

		if (t->idx == JIT_MAX_INSNS || avail - off < 2) {
			fallthrough(t, t->pc);
			break;
		}
		raw = fetch32(host + off, avail - off);
		if ((raw & 3) == 3 && avail - off < 4) {
			/* It straddles the page: the dispatcher runs it in the interpreter. */
			fallthrough(t, t->pc);
			break;
		}
		d = &t->insns[t->idx];
		rv_decode(d, raw);
		t->ninsns++;
		translate_insn(t, d);
		off += d->len;
		if (!t->ended) {
			t->idx++;
			t->pc += d->len;
		}
		if (!t->ended && (t->e.p - t->e.start > (ptrdiff_t)(JIT_BLOCK_MAX - 2048) ||
		                  t->nstubs > MAX_STUBS - 8)) {
			fallthrough(t, t->pc);
			break;
		}
	}
	for (unsigned i = 0; i < t->nstubs; i++)
		emit_stub(t, &t->stubs[i]);
	/* The decoded instructions the helpers get, after the code. */
	x86_align(&t->e, 8, 0);
	{
		uint8_t *data = t->e.p;
		unsigned n = t->ninsns;
		for (unsigned i = 0; i < n && !t->e.overflow; i++) {
			if (t->e.end - t->e.p < (ptrdiff_t)sizeof(struct rv_insn)) {
				t->e.overflow = true;
				break;
			}
			memcpy(t->e.p, &t->insns[i], sizeof(struct rv_insn));
			t->e.p += sizeof(struct rv_insn);
		}
		for (unsigned i = 0; i < t->ninsn_refs && !t->e.overflow; i++) {
			uint8_t *f = t->insn_ref[i];
			x86_patch_rel32(f, data + sizeof(struct rv_insn) * t->insn_ref_idx[i]);
		}
	}
	if (t->e.overflow) {
		free(t);
		jit_code_commit(jit, start, 0);
		return NULL;
	}
	b->ninsns = (uint16_t)t->ninsns;
	b->size = (uint32_t)off;
	b->code = jit_rx(jit, entry);
	b->code_size = (uint32_t)(t->e.p - entry);
	b->nexits = (uint16_t)t->nexits;
	b->exits = t->nexits ? jit_meta_alloc(jit, t->nexits * sizeof(*b->exits)) : NULL;
	if (t->nexits && !b->exits) {
		free(t);
		jit_code_commit(jit, start, 0);
		return NULL;
	}
	for (unsigned i = 0; i < t->nexits; i++) {
		struct jit_exit *x = &b->exits[i];
		uint64_t addr = (uint64_t)(uintptr_t)x;

		*x = t->exits[i];
		x->from = b;
		x->rel32 = (uint8_t *)jit_rx(jit, x->rel32);
		x->stub = (uint8_t *)jit_rx(jit, x->stub);
		memcpy(t->exit_imm[i], &addr, 8);
	}
	jit_code_commit(jit, start, (size_t)(t->e.p - start));
	if (jit->dump_dir)
		dump_block(jit, b, t);
	jit->stats.blocks++;
	jit->stats.guest_insns += b->ninsns;
	free(t);
	return b;
}
