/* SPDX-License-Identifier: MIT */
/*
 * F and D arithmetic on the host's IEEE-754 unit (see fpu.c for the whole
 * picture): the host rounding mode and flags, add/sub/mul/div/sqrt/fma,
 * RMM by correcting round-to-nearest-even at exact ties, and the
 * conversions between integers and floating point.
 */
#include <fenv.h>
#include <math.h>

#include "vm/emu/riscv64/fpu.h"

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
void rv_fp_host_mode(struct rv_cpu *cpu, unsigned rm)
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

bool rv_fp_host_matches_frm(const struct rv_cpu *cpu)
{
	return cpu->frm <= RM_RUP && cpu->host_rm == host_modes[cpu->frm];
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
uint32_t rv_fp_rmm_fix32(uint32_t rb, long double w)
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

/* The exact result of op in double, or false when even double cannot hold it exactly. */
static bool exact_wide32(enum rv_fp_arith op, float a, float b, float c, double *out)
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

static bool exact_wide64(enum rv_fp_arith op, double a, double b, double c, long double *out)
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

uint64_t rv_fp_arith32(struct rv_cpu *cpu, enum rv_fp_arith op, unsigned rm, uint32_t ab,
                       uint32_t bb, uint32_t cb)
{
	float a = f32(ab), b = f32(bb), c = f32(cb), r;
	double w;

	/* inf * 0 in a fused multiply-add is invalid even when the addend is a quiet NaN. */
	if (op == A_FMA &&
	    ((inf32(ab) && (bb & ~SIGN32) == 0) || ((ab & ~SIGN32) == 0 && inf32(bb)))) {
		cpu->fflags |= NV;
		return box(CNAN32);
	}
	rv_fp_host_mode(cpu, rm);
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
		return canon32(f32(rv_fp_rmm_fix32(b32(r), w)));
	return canon32(r);
}

uint64_t rv_fp_arith64(struct rv_cpu *cpu, enum rv_fp_arith op, unsigned rm, uint64_t ab,
                       uint64_t bb, uint64_t cb)
{
	double a = f64(ab), b = f64(bb), c = f64(cb), r;
	long double w;

	if (op == A_FMA &&
	    ((inf64(ab) && (bb & ~SIGN64) == 0) || ((ab & ~SIGN64) == 0 && inf64(bb)))) {
		cpu->fflags |= NV;
		return CNAN64;
	}
	rv_fp_host_mode(cpu, rm);
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

/* fcvt.{w,wu,l,lu}: saturating, NV for NaN and out of range, NX when inexact in range. */
uint64_t rv_fp_to_int(struct rv_cpu *cpu, double v, bool is_nan, unsigned rm, enum rv_fp_cvt k)
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
uint64_t rv_fp_from_int(struct rv_cpu *cpu, uint64_t xv, enum rv_fp_cvt k, unsigned rm, bool dbl)
{
	long double w;

	rv_fp_host_mode(cpu, rm);
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
		return box(rv_fp_rmm_fix32(b32(r), w));
	}
	return box(b32(r));
}
