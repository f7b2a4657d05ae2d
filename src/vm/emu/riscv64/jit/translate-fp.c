/* SPDX-License-Identifier: MIT */
/*
 * Translation of F and D computation (loads and stores are translate-mem.c's).
 *
 * Inline (SSE2), where the interpreter's result and flags come from the very
 * same host instruction (fpu.c): add, sub, mul, div and sqrt with the dynamic
 * rounding mode, the compares, sign injection, moves, and conversions
 * between single and double. Every inline instruction first tests
 * cpu->jit_fp_ready (the host runs in frm's rounding mode, RNE/RTZ/RDN/RUP,
 * its flags accumulating into fflags); single operands must be NaN-boxed;
 * a NaN result is replaced by the canonical NaN. When a test fails the
 * instruction runs in the interpreter's rv_fp_exec() instead, out of line,
 * which also brings the host into frm's mode for the next ones. Everything
 * else (fused multiply-add, min/max, classify, integer conversions, static
 * rounding modes, RMM) always calls rv_fp_exec().
 */
#include <fenv.h>

#include "vm/emu/riscv64/jit/tr.h"

#define CNAN64      0x7ff8000000000000ull
#define CNAN32BOXED 0xffffffff7fc00000ull

static bool is_double(unsigned op)
{
	return (op >= RV_OP_FMADD_D && op <= RV_OP_FMV_D_X) || op == RV_OP_FCVT_S_D;
}

/* The operation as its single-precision twin (the D list mirrors the S list). */
static unsigned single_op(unsigned op)
{
	if (op >= RV_OP_FMADD_D && op <= RV_OP_FMV_D_X)
		return op - (RV_OP_FMADD_D - RV_OP_FMADD_S);
	return op;
}

/* Leave for the helper when the host's FP state is not frm's. */
static void need_ready(struct tr *t, struct stub *helper)
{
	x86_op_rm(&t->e, false, (const uint8_t[]){0x80}, 1, 7, JIT_CPU(jit_fp_ready));
	x86_byte(&t->e, 0); /* cmp byte [rbp + jit_fp_ready], 0 */
	tr_stub_jcc(t, helper, CC_E);
}

/* Leave for the helper when f[r] is not a NaN-boxed single. */
static void need_boxed(struct tr *t, struct stub *helper, unsigned r)
{
	x86_alu_mi(&t->e, ALU_CMP, false, jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * r + 4),
	           -1);
	tr_stub_jcc(t, helper, CC_NE);
}

/* f[rd] = xmm0, boxed for singles; a NaN becomes the canonical NaN (out of line). */
static void store_result(struct tr *t, const struct rv_insn *d, bool dbl)
{
	struct stub *nan;

	x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, SSE_MOVSTOR, XMM0, JIT_FREG(d->rd));
	if (!dbl)
		x86_mov_m32i(&t->e, jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * d->rd + 4),
		             0xffffffffu);
	/* ucomisd/ucomiss xmm0, xmm0: unordered (PF) exactly for a NaN, raises nothing for
	 * a quiet one, and results are never signalling */
	x86_sse_rr(&t->e, dbl ? 0x66 : 0, false, SSE_UCOMI, XMM0, XMM0);
	nan = jcc_stub(t, CC_P, STUB_FPNAN);
	nan->reg = d->rd;
	nan->value = dbl;
	nan->back = t->e.p;
}

/* fadd, fsub, fmul, fdiv, fsqrt with the dynamic rounding mode */
static void op_arith(struct tr *t, const struct rv_insn *d, struct stub *helper, bool dbl,
                     uint8_t sse_op)
{
	need_ready(t, helper);
	if (!dbl) {
		need_boxed(t, helper, d->rs1);
		if (sse_op != SSE_SQRT)
			need_boxed(t, helper, d->rs2);
	}
	if (sse_op == SSE_SQRT) {
		x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, SSE_SQRT, XMM0, JIT_FREG(d->rs1));
	} else {
		x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, SSE_MOVLOAD, XMM0,
		           JIT_FREG(d->rs1));
		x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, sse_op, XMM0, JIT_FREG(d->rs2));
	}
	store_result(t, d, dbl);
}

/*
 * feq (quiet: ucomis, which raises invalid only for a signalling NaN), flt and
 * fle (signalling: comis, invalid for any NaN): the flags the interpreter sets.
 * flt a, b = comis b, a "above"; fle a, b = comis b, a "above or equal";
 * feq = equal and ordered. Unordered sets ZF, PF and CF: all three give 0.
 */
static void op_compare(struct tr *t, const struct rv_insn *d, struct stub *helper, bool dbl,
                       unsigned sop)
{
	uint8_t pfx = dbl ? 0x66 : 0;
	enum x86_reg r = dst(d->rd);

	need_ready(t, helper);
	if (!dbl) {
		need_boxed(t, helper, d->rs1);
		need_boxed(t, helper, d->rs2);
	}
	if (sop == RV_OP_FEQ_S) {
		x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, SSE_MOVLOAD, XMM0,
		           JIT_FREG(d->rs1));
		x86_sse_rm(&t->e, pfx, false, SSE_UCOMI, XMM0, JIT_FREG(d->rs2));
		x86_setcc(&t->e, CC_E, RAX);
		x86_setcc(&t->e, CC_NP, RCX);
		x86_alu_rr(&t->e, ALU_AND, false, RAX, RCX);
	} else {
		x86_sse_rm(&t->e, dbl ? SSE_SD : SSE_SS, false, SSE_MOVLOAD, XMM0,
		           JIT_FREG(d->rs2));
		x86_sse_rm(&t->e, pfx, false, SSE_COMI, XMM0, JIT_FREG(d->rs1));
		x86_setcc(&t->e, sop == RV_OP_FLT_S ? CC_A : CC_AE, RAX);
	}
	if (d->rd != RV_REG_SINK) {
		x86_movzx_r8(&t->e, r, RAX);
		if (r == RAX)
			put(t, d->rd, RAX);
	}
}

/* fsgnj, fsgnjn, fsgnjx: bit operations on the integer side. */
static void op_sgnj(struct tr *t, const struct rv_insn *d, struct stub *helper, bool dbl,
                    unsigned kind)
{
	if (!dbl) {
		need_boxed(t, helper, d->rs1);
		need_boxed(t, helper, d->rs2);
	}
	x86_load(&t->e, dbl ? 8 : 4, false, RAX, JIT_FREG(d->rs1));
	x86_load(&t->e, dbl ? 8 : 4, false, RCX, JIT_FREG(d->rs2));
	/* rcx = the sign to give: b's, ~b's, or a's ^ b's */
	if (kind == 1)
		x86_grp3_r(&t->e, 2, dbl, RCX); /* not */
	else if (kind == 2)
		x86_alu_rr(&t->e, ALU_XOR, dbl, RCX, RAX);
	if (dbl) {
		x86_shift_ri(&t->e, SH_SHR, true, RCX, 63); /* the sign bit alone */
		x86_shift_ri(&t->e, SH_SHL, true, RCX, 63);
		x86_shift_ri(&t->e, SH_SHL, true, RAX, 1); /* a without its sign */
		x86_shift_ri(&t->e, SH_SHR, true, RAX, 1);
		x86_alu_rr(&t->e, ALU_OR, true, RAX, RCX);
		x86_mov_mr(&t->e, JIT_FREG(d->rd), RAX);
	} else {
		x86_alu_ri(&t->e, ALU_AND, false, RCX, INT32_MIN);
		x86_alu_ri(&t->e, ALU_AND, false, RAX, INT32_MAX);
		x86_alu_rr(&t->e, ALU_OR, false, RAX, RCX);
		x86_store(&t->e, 4, JIT_FREG(d->rd), RAX);
		x86_mov_m32i(&t->e, jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * d->rd + 4),
		             0xffffffffu);
	}
}

/* fmv.x.w, fmv.x.d (raw bits; no unboxing), fmv.w.x (boxed), fmv.d.x */
static void op_move(struct tr *t, const struct rv_insn *d, bool dbl, bool to_x)
{
	if (to_x) {
		if (d->rd == RV_REG_SINK)
			return;
		enum x86_reg r = dst(d->rd);
		x86_load(&t->e, dbl ? 8 : 4, !dbl, r, JIT_FREG(d->rs1));
		if (r == RAX)
			put(t, d->rd, RAX);
	} else {
		enum x86_reg a = src(t, d->rs1, RAX);
		if (dbl) {
			x86_mov_mr(&t->e, JIT_FREG(d->rd), a);
		} else {
			x86_store(&t->e, 4, JIT_FREG(d->rd), a);
			x86_mov_m32i(&t->e,
			             jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * d->rd + 4),
			             0xffffffffu);
		}
	}
}

/* fcvt.s.d (rounds in the dynamic mode), fcvt.d.s (exact) */
static void op_cvt_fp(struct tr *t, const struct rv_insn *d, struct stub *helper, bool to_single)
{
	need_ready(t, helper);
	if (!to_single)
		need_boxed(t, helper, d->rs1);
	/* cvtsd2ss (F2 0F 5A) / cvtss2sd (F3 0F 5A) */
	x86_sse_rm(&t->e, to_single ? SSE_SD : SSE_SS, false, 0x5a, XMM0, JIT_FREG(d->rs1));
	store_result(t, d, !to_single);
}

/* Whether d has an inline translation (it may still fall back at run time). */
static bool has_inline(const struct rv_insn *d)
{
	unsigned sop = single_op(d->op);

	switch (sop) {
	case RV_OP_FADD_S:
	case RV_OP_FSUB_S:
	case RV_OP_FMUL_S:
	case RV_OP_FDIV_S:
	case RV_OP_FSQRT_S:
	case RV_OP_FCVT_S_D:
	case RV_OP_FCVT_D_S:
		return d->rm == 7; /* the dynamic rounding mode */
	case RV_OP_FEQ_S:
	case RV_OP_FLT_S:
	case RV_OP_FLE_S:
	case RV_OP_FSGNJ_S:
	case RV_OP_FSGNJN_S:
	case RV_OP_FSGNJX_S:
	case RV_OP_FMV_X_W:
	case RV_OP_FMV_W_X:
		return true;
	default:
		return false;
	}
}

void tr_fp(struct tr *t, const struct rv_insn *d)
{
	unsigned sop = single_op(d->op);
	bool dbl = is_double(d->op);
	struct stub *helper;

	fs_check(t, d);
	if (!has_inline(d)) {
		call_insn_helper(t, d, (const void *)jit_helper_fp);
		return;
	}
	/* The interpreter's own code, out of line, for whatever the inline code declines. */
	helper = new_stub(t, STUB_FPHELPER);
	helper->insn = d;
	switch (sop) {
	case RV_OP_FADD_S:
		op_arith(t, d, helper, dbl, SSE_ADD);
		break;
	case RV_OP_FSUB_S:
		op_arith(t, d, helper, dbl, SSE_SUB);
		break;
	case RV_OP_FMUL_S:
		op_arith(t, d, helper, dbl, SSE_MUL);
		break;
	case RV_OP_FDIV_S:
		op_arith(t, d, helper, dbl, SSE_DIV);
		break;
	case RV_OP_FSQRT_S:
		op_arith(t, d, helper, dbl, SSE_SQRT);
		break;
	case RV_OP_FEQ_S:
	case RV_OP_FLT_S:
	case RV_OP_FLE_S:
		op_compare(t, d, helper, dbl, sop);
		break;
	case RV_OP_FSGNJ_S:
	case RV_OP_FSGNJN_S:
	case RV_OP_FSGNJX_S:
		op_sgnj(t, d, helper, dbl, sop - RV_OP_FSGNJ_S);
		break;
	case RV_OP_FMV_X_W:
		op_move(t, d, dbl, true);
		break;
	case RV_OP_FMV_W_X:
		op_move(t, d, dbl, false);
		break;
	default: /* FCVT_S_D, FCVT_D_S */
		op_cvt_fp(t, d, helper, sop == RV_OP_FCVT_S_D);
		break;
	}
	helper->back = t->e.p;
	fs_dirty(t); /* rv_fp_exec sets FS to Dirty for every computational instruction */
}

void tr_fp_stub(struct tr *t, struct stub *s)
{
	uint8_t *f;

	switch (s->kind) {
	case STUB_FPNAN:
		/* A NaN result: the canonical NaN instead (boxed for a single). */
		x86_mov_ri(&t->e, RAX, s->value ? CNAN64 : CNAN32BOXED);
		x86_mov_mr(&t->e, JIT_FREG(s->reg), RAX);
		jump_back(t, s->back);
		break;
	case STUB_FPHELPER:
		/* rv_fp_exec() does the instruction (instret is not looked at there). */
		lea_insn(t, RSI, s->insn);
		x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)jit_helper_fp);
		call_thunk(t, t->jit->thunk_call);
		x86_test_rr(&t->e, true, RAX, RAX);
		f = x86_jcc_rel32(&t->e, CC_E);
		jump_back(t, s->back);
		if (!t->e.overflow)
			x86_patch_rel32(f, t->e.p);
		stub_exception_exit(t, s, s->committed);
		break;
	default:
		break;
	}
}
