/* SPDX-License-Identifier: MIT */
/*
 * F and D computation (unprivileged spec chapters 11-12) on the host's
 * IEEE-754 unit.
 *
 * Rounding: the host rounding mode is switched lazily (cpu->host_rm caches
 * what is in force during a run; rv_fp_quiesce() restores round-to-nearest
 * before the hart leaves for the board). RMM, which x86 lacks, is computed as
 * round-to-nearest-even and then corrected at exact ties, found by redoing
 * the operation exactly in a wider format (double for singles, x87 long
 * double for doubles).
 *
 * Flags: operations done by the host leave their flags in the host's sticky
 * flags, folded into fflags whenever fflags is read or the hart leaves; the
 * operations done here by hand (comparisons, min/max, conversions to
 * integers) set fflags directly. This file is built with -frounding-math,
 * and every host operation sits between FP_BARRIER()s so that the compiler
 * cannot move it across a rounding-mode change or a flag test.
 *
 * NaNs: results are canonical; single operands that are not properly
 * NaN-boxed read as the canonical NaN.
 */
#include "vm/emu/riscv64/fpu.h"

/* Total order keys of non-NaN values' bits: unsigned comparison of keys orders values. */
static inline uint64_t key64(uint64_t b)
{
	return (b & SIGN64) ? ~b : b | SIGN64;
}

static inline uint32_t key32(uint32_t b)
{
	return (b & SIGN32) ? ~b : b | SIGN32;
}

/* fmin/fmax (2.2): a NaN operand yields the other one, -0 < +0, sNaN raises NV. */
static uint64_t minmax(struct rv_cpu *cpu, uint64_t a, uint64_t b, bool is_max, bool dbl)
{
	bool an = dbl ? nan64(a) : nan32((uint32_t)a), bn = dbl ? nan64(b) : nan32((uint32_t)b);
	bool a_less;

	if ((dbl && (snan64(a) || snan64(b))) ||
	    (!dbl && (snan32((uint32_t)a) || snan32((uint32_t)b))))
		cpu->fflags |= NV;
	if (an && bn)
		return dbl ? CNAN64 : CNAN32;
	if (an)
		return b;
	if (bn)
		return a;
	a_less = dbl ? key64(a) < key64(b) : key32((uint32_t)a) < key32((uint32_t)b);
	return a_less != is_max ? a : b;
}

/* feq (quiet), flt, fle (signaling). */
static uint64_t compare(struct rv_cpu *cpu, uint64_t a, uint64_t b, unsigned which, bool dbl)
{
	bool an = dbl ? nan64(a) : nan32((uint32_t)a), bn = dbl ? nan64(b) : nan32((uint32_t)b);
	double x, y;

	if (an || bn) {
		bool signaling = dbl ? (snan64(a) || snan64(b))
		                     : (snan32((uint32_t)a) || snan32((uint32_t)b));
		if (which != RV_OP_FEQ_S || signaling)
			cpu->fflags |= NV;
		return 0;
	}
	/* No NaN: these host comparisons cannot raise anything. */
	x = dbl ? f64(a) : f32((uint32_t)a);
	y = dbl ? f64(b) : f32((uint32_t)b);
	if (which == RV_OP_FEQ_S)
		return x == y;
	if (which == RV_OP_FLT_S)
		return x < y;
	return x <= y;
}

static uint64_t fclass(uint64_t b, bool dbl)
{
	bool neg = dbl ? (b & SIGN64) != 0 : (b & SIGN32) != 0;
	uint64_t exp = dbl ? (b >> 52) & 0x7ff : (b >> 23) & 0xff;
	uint64_t emax = dbl ? 0x7ff : 0xff;
	uint64_t frac = dbl ? b & ((1ull << 52) - 1) : b & ((1ull << 23) - 1);
	uint64_t quiet = dbl ? 1ull << 51 : 1ull << 22;

	if (exp == emax) {
		if (frac == 0)
			return neg ? 1u << 0 : 1u << 7;
		return (frac & quiet) ? 1u << 9 : 1u << 8;
	}
	if (exp == 0)
		return frac == 0 ? (neg ? 1u << 3 : 1u << 4) : (neg ? 1u << 2 : 1u << 5);
	return neg ? 1u << 1 : 1u << 6;
}

static uint64_t sgnj(uint64_t a, uint64_t b, unsigned kind, uint64_t sign)
{
	uint64_t s = kind == 0 ? (b & sign) : kind == 1 ? (~b & sign) : ((a ^ b) & sign);
	return (a & ~sign) | s;
}

bool rv_fp_exec(struct rv_cpu *cpu, const struct rv_insn *d)
{
	uint64_t *f = cpu->f, *x = cpu->x;
	unsigned op = d->op, rm = d->rm;
	bool dbl = op >= RV_OP_FMADD_D && op <= RV_OP_FMV_D_X;
	unsigned sop = dbl ? op - (RV_OP_FMADD_D - RV_OP_FMADD_S) : op;

	if (op == RV_OP_FCVT_S_D || op == RV_OP_FCVT_D_S)
		sop = op;
	/* Operations with a rounding mode: resolve the dynamic one. */
	switch (sop) {
	case RV_OP_FSGNJ_S:
	case RV_OP_FSGNJN_S:
	case RV_OP_FSGNJX_S:
	case RV_OP_FMIN_S:
	case RV_OP_FMAX_S:
	case RV_OP_FMV_X_W:
	case RV_OP_FEQ_S:
	case RV_OP_FLT_S:
	case RV_OP_FLE_S:
	case RV_OP_FCLASS_S:
	case RV_OP_FMV_W_X:
		break;
	default:
		if (rm == 7)
			rm = cpu->frm;
		if (rm > 4)
			return rv_raise(cpu, RV_EXC_ILLEGAL,
			                d->len == 2 ? (d->raw & 0xffff) : d->raw);
		break;
	}
	cpu->mstatus |= MSTATUS_FS;

	uint64_t a = f[d->rs1], b = f[d->rs2], c = f[d->rs3];
	if (!dbl) {
		a = unbox(a);
		b = unbox(b);
		c = unbox(c);
	}
	switch (sop) {
	case RV_OP_FMADD_S:
	case RV_OP_FMSUB_S:
	case RV_OP_FNMSUB_S:
	case RV_OP_FNMADD_S: {
		uint64_t sign = dbl ? SIGN64 : SIGN32;
		if (sop == RV_OP_FMSUB_S || sop == RV_OP_FNMADD_S)
			c ^= sign;
		if (sop == RV_OP_FNMSUB_S || sop == RV_OP_FNMADD_S)
			a ^= sign;
		f[d->rd] =
		        dbl ? rv_fp_arith64(cpu, A_FMA, rm, a, b, c)
		            : rv_fp_arith32(cpu, A_FMA, rm, (uint32_t)a, (uint32_t)b, (uint32_t)c);
		return true;
	}
	case RV_OP_FADD_S:
	case RV_OP_FSUB_S:
	case RV_OP_FMUL_S:
	case RV_OP_FDIV_S:
	case RV_OP_FSQRT_S: {
		enum rv_fp_arith ar = sop == RV_OP_FADD_S   ? A_ADD
		                      : sop == RV_OP_FSUB_S ? A_SUB
		                      : sop == RV_OP_FMUL_S ? A_MUL
		                      : sop == RV_OP_FDIV_S ? A_DIV
		                                            : A_SQRT;
		f[d->rd] = dbl ? rv_fp_arith64(cpu, ar, rm, a, b, 0)
		               : rv_fp_arith32(cpu, ar, rm, (uint32_t)a, (uint32_t)b, 0);
		return true;
	}
	case RV_OP_FSGNJ_S:
	case RV_OP_FSGNJN_S:
	case RV_OP_FSGNJX_S:
		if (dbl)
			f[d->rd] = sgnj(a, b, sop - RV_OP_FSGNJ_S, SIGN64);
		else
			f[d->rd] = box((uint32_t)sgnj(a, b, sop - RV_OP_FSGNJ_S, SIGN32));
		return true;
	case RV_OP_FMIN_S:
	case RV_OP_FMAX_S: {
		uint64_t r = minmax(cpu, a, b, sop == RV_OP_FMAX_S, dbl);
		f[d->rd] = dbl ? r : box((uint32_t)r);
		return true;
	}
	case RV_OP_FCVT_W_S:
	case RV_OP_FCVT_WU_S:
	case RV_OP_FCVT_L_S:
	case RV_OP_FCVT_LU_S: {
		bool is_nan = dbl ? nan64(a) : nan32((uint32_t)a);
		double v = is_nan ? 0 : dbl ? f64(a) : (double)f32((uint32_t)a);
		x[d->rd] = rv_fp_to_int(cpu, v, is_nan, rm, (enum rv_fp_cvt)(sop - RV_OP_FCVT_W_S));
		return true;
	}
	case RV_OP_FMV_X_W: /* fmv.x.w / fmv.x.d: raw bits, no unboxing */
		x[d->rd] = dbl ? f[d->rs1] : (uint64_t)(int64_t)(int32_t)(uint32_t)f[d->rs1];
		return true;
	case RV_OP_FEQ_S:
	case RV_OP_FLT_S:
	case RV_OP_FLE_S:
		x[d->rd] = compare(cpu, a, b, sop, dbl);
		return true;
	case RV_OP_FCLASS_S:
		x[d->rd] = fclass(a, dbl);
		return true;
	case RV_OP_FCVT_S_W:
	case RV_OP_FCVT_S_WU:
	case RV_OP_FCVT_S_L:
	case RV_OP_FCVT_S_LU:
		f[d->rd] = rv_fp_from_int(cpu, x[d->rs1], (enum rv_fp_cvt)(sop - RV_OP_FCVT_S_W),
		                          rm, dbl);
		return true;
	case RV_OP_FMV_W_X:
		f[d->rd] = dbl ? x[d->rs1] : box((uint32_t)x[d->rs1]);
		return true;
	case RV_OP_FCVT_S_D: {
		uint64_t in = f[d->rs1];
		double v = f64(in);
		float r;
		rv_fp_host_mode(cpu, rm);
		FP_BARRIER(v);
		r = (float)v;
		FP_BARRIER(r);
		if (rm == RM_RMM && !nan64(in))
			f[d->rd] = canon32(f32(rv_fp_rmm_fix32(b32(r), v)));
		else
			f[d->rd] = canon32(r);
		return true;
	}
	case RV_OP_FCVT_D_S: {
		float v = f32(unbox(f[d->rs1]));
		double r;
		rv_fp_host_mode(cpu, rm);
		FP_BARRIER(v);
		r = (double)v; /* exact; NV for a signaling NaN */
		FP_BARRIER(r);
		f[d->rd] = canon64(r);
		return true;
	}
	default:
		return rv_raise(cpu, RV_EXC_ILLEGAL, d->raw);
	}
}
