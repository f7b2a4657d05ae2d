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
#include <fenv.h>
#include <math.h>

#include "vm/emu/riscv64/rv.h"

#define NX     0x01u
#define UF     0x02u
#define OF     0x04u
#define DZ     0x08u
#define NV     0x10u

#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4

#define SIGN32 0x80000000u
#define SIGN64 0x8000000000000000ull
#define CNAN32 0x7fc00000u
#define CNAN64 0x7ff8000000000000ull

/* Forces v into memory here: host FP operations cannot be moved across it. */
#define FP_BARRIER(v) __asm__ volatile("" : "+m"(v) : : "memory")

static const int host_modes[5] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD,
                                  FE_TONEAREST};

void rv_fp_sync_flags(struct rv_cpu *cpu)
{
	int ex;

	if (cpu->host_rm < 0)
		return;
	ex = fetestexcept(FE_ALL_EXCEPT);
	if (!ex)
		return;
	cpu->fflags |= ((ex & FE_INEXACT) ? NX : 0) | ((ex & FE_UNDERFLOW) ? UF : 0) |
	               ((ex & FE_OVERFLOW) ? OF : 0) | ((ex & FE_DIVBYZERO) ? DZ : 0) |
	               ((ex & FE_INVALID) ? NV : 0);
	feclearexcept(FE_ALL_EXCEPT);
}

void rv_fp_quiesce(struct rv_cpu *cpu)
{
	if (cpu->host_rm < 0)
		return;
	rv_fp_sync_flags(cpu);
	if (cpu->host_rm != FE_TONEAREST)
		fesetround(FE_TONEAREST);
	cpu->host_rm = -1;
}

/* Put the host in the rounding mode for rm (0..4); the first use in a run clears its flags. */
static void host_mode(struct rv_cpu *cpu, unsigned rm)
{
	int want = host_modes[rm];

	if (cpu->host_rm == want)
		return;
	if (cpu->host_rm < 0)
		feclearexcept(FE_ALL_EXCEPT);
	if (cpu->host_rm != want && !(cpu->host_rm < 0 && want == FE_TONEAREST))
		fesetround(want);
	cpu->host_rm = want;
}

static inline float f32(uint32_t b)
{
	float f;
	memcpy(&f, &b, 4);
	return f;
}

static inline uint32_t b32(float f)
{
	uint32_t b;
	memcpy(&b, &f, 4);
	return b;
}

static inline double f64(uint64_t b)
{
	double f;
	memcpy(&f, &b, 8);
	return f;
}

static inline uint64_t b64(double f)
{
	uint64_t b;
	memcpy(&b, &f, 8);
	return b;
}

static inline bool nan32(uint32_t b)
{
	return (b & ~SIGN32) > 0x7f800000u;
}

static inline bool snan32(uint32_t b)
{
	return nan32(b) && !(b & 0x00400000u);
}

static inline bool nan64(uint64_t b)
{
	return (b & ~SIGN64) > 0x7ff0000000000000ull;
}

static inline bool snan64(uint64_t b)
{
	return nan64(b) && !(b & 0x0008000000000000ull);
}

static inline bool inf32(uint32_t b)
{
	return (b & ~SIGN32) == 0x7f800000u;
}

static inline bool inf64(uint64_t b)
{
	return (b & ~SIGN64) == 0x7ff0000000000000ull;
}

static inline uint32_t unbox(uint64_t v)
{
	return (v >> 32) == 0xffffffffu ? (uint32_t)v : CNAN32;
}

static inline uint64_t box(uint32_t b)
{
	return 0xffffffff00000000ull | b;
}

static inline uint64_t canon32(float r)
{
	uint32_t b = b32(r);
	return box(nan32(b) ? CNAN32 : b);
}

static inline uint64_t canon64(double r)
{
	uint64_t b = b64(r);
	return nan64(b) ? CNAN64 : b;
}

/* The representable neighbour of finite r in direction up (toward +inf) or down, by bits. */
static uint32_t next32(uint32_t rb, bool up)
{
	if ((rb & ~SIGN32) == 0)
		return up ? 1u : SIGN32 | 1u;
	return ((rb & SIGN32) == 0) == up ? rb + 1 : rb - 1;
}

static uint64_t next64(uint64_t rb, bool up)
{
	if ((rb & ~SIGN64) == 0)
		return up ? 1u : SIGN64 | 1u;
	return ((rb & SIGN64) == 0) == up ? rb + 1 : rb - 1;
}

/*
 * RMM from the RNE result rb and the exact result w (in a wider format): they
 * differ only when w lies exactly halfway between rb and its neighbour and
 * RNE went to the one nearer zero.
 */
static uint32_t rmm_fix32(uint32_t rb, long double w)
{
	long double r = f32(rb), mid;
	uint32_t nb;

	if (nan32(rb) || inf32(rb) || r == w)
		return rb;
	nb = next32(rb, w > r);
	if (inf32(nb))
		return rb;
	mid = (r + (long double)f32(nb)) / 2; /* exact in long double */
	if (w != mid)
		return rb;
	return (nb & ~SIGN32) > (rb & ~SIGN32) ? nb : rb;
}

static uint64_t rmm_fix64(uint64_t rb, long double w)
{
	long double r = f64(rb), mid;
	uint64_t nb;

	if (nan64(rb) || inf64(rb) || r == w)
		return rb;
	nb = next64(rb, w > r);
	if (inf64(nb))
		return rb;
	mid = (r + (long double)f64(nb)) / 2; /* exact in long double */
	if (w != mid)
		return rb;
	return (nb & ~SIGN64) > (rb & ~SIGN64) ? nb : rb;
}

enum arith { A_ADD, A_SUB, A_MUL, A_DIV, A_SQRT, A_FMA };

/* The exact result of op in double, or false when even double cannot hold it exactly. */
static bool exact_wide32(enum arith op, float a, float b, float c, double *out)
{
	fexcept_t saved;
	double da = a, db = b, dc = c, w;
	bool exact;

	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
	FP_BARRIER(da);
	FP_BARRIER(db);
	FP_BARRIER(dc);
	switch (op) {
	case A_ADD:
		w = da + db;
		break;
	case A_SUB:
		w = da - db;
		break;
	case A_MUL:
		w = da * db;
		break;
	case A_DIV:
		w = da / db;
		break;
	case A_SQRT:
		w = sqrt(da);
		break;
	default:
		w = fma(da, db, dc);
		break;
	}
	FP_BARRIER(w);
	exact = !fetestexcept(FE_INEXACT);
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
	*out = w;
	return exact;
}

static bool exact_wide64(enum arith op, double a, double b, double c, long double *out)
{
	fexcept_t saved;
	long double da = a, db = b, dc = c, w;
	bool exact;

	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
	FP_BARRIER(da);
	FP_BARRIER(db);
	FP_BARRIER(dc);
	switch (op) {
	case A_ADD:
		w = da + db;
		break;
	case A_SUB:
		w = da - db;
		break;
	case A_MUL:
		w = da * db;
		break;
	case A_DIV:
		w = da / db;
		break;
	case A_SQRT:
		w = sqrtl(da);
		break;
	default:
		w = fmal(da, db, dc);
		break;
	}
	FP_BARRIER(w);
	exact = !fetestexcept(FE_INEXACT);
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
	*out = w;
	return exact;
}

static uint64_t arith32(struct rv_cpu *cpu, enum arith op, unsigned rm, uint32_t ab, uint32_t bb,
                        uint32_t cb)
{
	float a = f32(ab), b = f32(bb), c = f32(cb), r;
	double w;

	/* inf * 0 in a fused multiply-add is invalid even when the addend is a quiet NaN. */
	if (op == A_FMA &&
	    ((inf32(ab) && (bb & ~SIGN32) == 0) || ((ab & ~SIGN32) == 0 && inf32(bb)))) {
		cpu->fflags |= NV;
		return box(CNAN32);
	}
	host_mode(cpu, rm);
	FP_BARRIER(a);
	FP_BARRIER(b);
	FP_BARRIER(c);
	switch (op) {
	case A_ADD:
		r = a + b;
		break;
	case A_SUB:
		r = a - b;
		break;
	case A_MUL:
		r = a * b;
		break;
	case A_DIV:
		r = a / b;
		break;
	case A_SQRT:
		r = sqrtf(a);
		break;
	default:
		r = fmaf(a, b, c);
		break;
	}
	FP_BARRIER(r);
	if (rm == RM_RMM && exact_wide32(op, a, b, c, &w))
		return canon32(f32(rmm_fix32(b32(r), w)));
	return canon32(r);
}

static uint64_t arith64(struct rv_cpu *cpu, enum arith op, unsigned rm, uint64_t ab, uint64_t bb,
                        uint64_t cb)
{
	double a = f64(ab), b = f64(bb), c = f64(cb), r;
	long double w;

	if (op == A_FMA &&
	    ((inf64(ab) && (bb & ~SIGN64) == 0) || ((ab & ~SIGN64) == 0 && inf64(bb)))) {
		cpu->fflags |= NV;
		return CNAN64;
	}
	host_mode(cpu, rm);
	FP_BARRIER(a);
	FP_BARRIER(b);
	FP_BARRIER(c);
	switch (op) {
	case A_ADD:
		r = a + b;
		break;
	case A_SUB:
		r = a - b;
		break;
	case A_MUL:
		r = a * b;
		break;
	case A_DIV:
		r = a / b;
		break;
	case A_SQRT:
		r = sqrt(a);
		break;
	default:
		r = fma(a, b, c);
		break;
	}
	FP_BARRIER(r);
	if (rm == RM_RMM && exact_wide64(op, a, b, c, &w))
		return canon64(f64(rmm_fix64(b64(r), w)));
	return canon64(r);
}

/*
 * Round v (finite) to an integral value with rm. By hand: the C library's
 * floor/ceil/trunc raise inexact on some hosts, and only exact host
 * operations (which raise nothing) are used here.
 */
static double round_integral(double v, unsigned rm)
{
	uint64_t b = b64(v);
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	double t, frac, away;

	if (e >= 52)
		return v; /* already integral */
	t = e < 0 ? f64(b & SIGN64) : f64(b & ~((1ull << (52 - e)) - 1));
	frac = v - t; /* exact: same sign as v, |frac| < 1 */
	if (frac == 0)
		return v;
	away = (b & SIGN64) ? t - 1 : t + 1; /* exact below 2^52 */
	switch (rm) {
	case RM_RTZ:
		return t;
	case RM_RDN:
		return (b & SIGN64) ? away : t;
	case RM_RUP:
		return (b & SIGN64) ? t : away;
	case RM_RMM:
		return fabs(frac) >= 0.5 ? away : t;
	default: /* RNE */
		if (fabs(frac) != 0.5)
			return fabs(frac) > 0.5 ? away : t;
		return ((uint64_t)(int64_t)t & 1) == 0 ? t : away;
	}
}

enum cvt_kind { CVT_W, CVT_WU, CVT_L, CVT_LU };

/* fcvt.{w,wu,l,lu}: saturating, NV for NaN and out of range, NX when inexact in range. */
static uint64_t to_int(struct rv_cpu *cpu, double v, bool is_nan, unsigned rm, enum cvt_kind k)
{
	static const uint64_t max[4] = {0x7fffffffull, ~0ull, 0x7fffffffffffffffull, ~0ull};
	static const uint64_t min[4] = {0xffffffff80000000ull, 0, 0x8000000000000000ull, 0};
	double r;
	uint64_t res;

	if (is_nan) {
		cpu->fflags |= NV;
		return max[k];
	}
	r = round_integral(v, rm);
	switch (k) {
	case CVT_W:
		if (r < -2147483648.0 || r > 2147483647.0)
			goto out_of_range;
		res = (uint64_t)(int64_t)(int32_t)r;
		break;
	case CVT_WU:
		if (r < 0.0 || r > 4294967295.0)
			goto out_of_range;
		res = (uint64_t)(int64_t)(int32_t)(uint32_t)r;
		break;
	case CVT_L:
		if (r < -9223372036854775808.0 || r >= 9223372036854775808.0)
			goto out_of_range;
		res = (uint64_t)(int64_t)r;
		break;
	default:
		if (r < 0.0 || r >= 18446744073709551616.0)
			goto out_of_range;
		res = (uint64_t)r;
		break;
	}
	if (r != v)
		cpu->fflags |= NX;
	return res;
out_of_range:
	cpu->fflags |= NV;
	return r < 0.0 ? min[k] : max[k];
}

/* fcvt.{s,d}.{w,wu,l,lu} */
static uint64_t from_int(struct rv_cpu *cpu, uint64_t xv, enum cvt_kind k, unsigned rm, bool dbl)
{
	long double w;

	host_mode(cpu, rm);
	FP_BARRIER(xv);
	if (dbl) {
		double r;
		switch (k) {
		case CVT_W:
			r = (double)(int32_t)(uint32_t)xv;
			break;
		case CVT_WU:
			r = (double)(uint32_t)xv;
			break;
		case CVT_L:
			r = (double)(int64_t)xv;
			break;
		default:
			r = (double)xv;
			break;
		}
		FP_BARRIER(r);
		if (rm == RM_RMM) {
			w = k == CVT_W    ? (long double)(int32_t)(uint32_t)xv
			    : k == CVT_WU ? (long double)(uint32_t)xv
			    : k == CVT_L  ? (long double)(int64_t)xv
			                  : (long double)xv; /* all exact in long double */
			return rmm_fix64(b64(r), w);
		}
		return b64(r);
	}
	float r;
	switch (k) {
	case CVT_W:
		r = (float)(int32_t)(uint32_t)xv;
		break;
	case CVT_WU:
		r = (float)(uint32_t)xv;
		break;
	case CVT_L:
		r = (float)(int64_t)xv;
		break;
	default:
		r = (float)xv;
		break;
	}
	FP_BARRIER(r);
	if (rm == RM_RMM) {
		w = k == CVT_W    ? (long double)(int32_t)(uint32_t)xv
		    : k == CVT_WU ? (long double)(uint32_t)xv
		    : k == CVT_L  ? (long double)(int64_t)xv
		                  : (long double)xv; /* all exact in long double */
		return box(rmm_fix32(b32(r), w));
	}
	return box(b32(r));
}

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
		f[d->rd] = dbl ? arith64(cpu, A_FMA, rm, a, b, c)
		               : arith32(cpu, A_FMA, rm, (uint32_t)a, (uint32_t)b, (uint32_t)c);
		return true;
	}
	case RV_OP_FADD_S:
	case RV_OP_FSUB_S:
	case RV_OP_FMUL_S:
	case RV_OP_FDIV_S:
	case RV_OP_FSQRT_S: {
		enum arith ar = sop == RV_OP_FADD_S   ? A_ADD
		                : sop == RV_OP_FSUB_S ? A_SUB
		                : sop == RV_OP_FMUL_S ? A_MUL
		                : sop == RV_OP_FDIV_S ? A_DIV
		                                      : A_SQRT;
		f[d->rd] = dbl ? arith64(cpu, ar, rm, a, b, 0)
		               : arith32(cpu, ar, rm, (uint32_t)a, (uint32_t)b, 0);
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
		x[d->rd] = to_int(cpu, v, is_nan, rm, (enum cvt_kind)(sop - RV_OP_FCVT_W_S));
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
		f[d->rd] = from_int(cpu, x[d->rs1], (enum cvt_kind)(sop - RV_OP_FCVT_S_W), rm, dbl);
		return true;
	case RV_OP_FMV_W_X:
		f[d->rd] = dbl ? x[d->rs1] : box((uint32_t)x[d->rs1]);
		return true;
	case RV_OP_FCVT_S_D: {
		uint64_t in = f[d->rs1];
		double v = f64(in);
		float r;
		host_mode(cpu, rm);
		FP_BARRIER(v);
		r = (float)v;
		FP_BARRIER(r);
		if (rm == RM_RMM && !nan64(in))
			f[d->rd] = canon32(f32(rmm_fix32(b32(r), v)));
		else
			f[d->rd] = canon32(r);
		return true;
	}
	case RV_OP_FCVT_D_S: {
		float v = f32(unbox(f[d->rs1]));
		double r;
		host_mode(cpu, rm);
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
