/* SPDX-License-Identifier: MIT */
/*
 * riscv64 FPU edge cases, instruction by instruction: rounding modes (static,
 * dynamic, RMM ties), exact flags, NaN boxing and canonical NaNs, fcvt
 * saturation, fmin/fmax, fclass, fused multiply-add, and the host FP state
 * left behind.
 */
#include <fenv.h>
#include <stdlib.h>

#include "rv-fake-board.h"
#include "vm/emu/riscv64/decode.h"

enum { RNE, RTZ, RDN, RUP, RMM, DYN = 7 };
#define NX     1u
#define UF     2u
#define OF     4u
#define DZ     8u
#define NV     16u

#define ONE_D  0x3ff0000000000000ull
#define ONE_S  0x3f800000u
#define BOX(s) (0xffffffff00000000ull | (s))

static int setup(void **state)
{
	struct fake_board *b = fb_new();

	b->cpu->mstatus |= MSTATUS_FS;
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	fb_free(*state);
	return 0;
}

/* Execute one OP-FP style instruction; returns fflags accumulated (and clears them). */
static unsigned run(struct fake_board *b, uint32_t raw, bool *ok)
{
	struct rv_insn d;
	unsigned fl;

	rv_decode(&d, raw);
	assert_int_not_equal(d.op, RV_OP_ILLEGAL);
	*ok = rv_fp_exec(b->cpu, &d);
	rv_fp_sync_flags(b->cpu);
	fl = b->cpu->fflags;
	b->cpu->fflags = 0;
	return fl;
}

/* f1 = f2 op f3 (funct7 selects the operation and format) with rounding mode rm. */
static uint64_t op2(struct fake_board *b, unsigned f7, uint64_t a, uint64_t c, unsigned rm,
                    unsigned *flags)
{
	bool ok;

	b->cpu->f[2] = a;
	b->cpu->f[3] = c;
	*flags = run(b, enc_r(f7, 3, 2, rm, 1, 0x53), &ok);
	assert_true(ok);
	return b->cpu->f[1];
}

#define FADD_D 0x01
#define FSUB_D 0x05
#define FMUL_D 0x09
#define FDIV_D 0x0d
#define FADD_S 0x00
#define FMUL_S 0x08
#define FDIV_S 0x0c

static void test_rounding_modes(void **state)
{
	struct fake_board *b = *state;
	const uint64_t tiny = 0x3c30000000000000ull; /* 2^-60 */
	unsigned fl;

	assert_int_equal(op2(b, FADD_D, ONE_D, tiny, RNE, &fl), ONE_D);
	assert_int_equal(fl, NX);
	assert_int_equal(op2(b, FADD_D, ONE_D, tiny, RUP, &fl), ONE_D + 1);
	assert_int_equal(op2(b, FADD_D, ONE_D, tiny, RDN, &fl), ONE_D);
	assert_int_equal(op2(b, FSUB_D, ONE_D, tiny, RDN, &fl), 0x3fefffffffffffffull);
	assert_int_equal(op2(b, FSUB_D, ONE_D, tiny, RTZ, &fl), 0x3fefffffffffffffull);
	assert_int_equal(op2(b, FSUB_D, ONE_D, tiny, RUP, &fl), ONE_D);
	assert_int_equal(op2(b, FSUB_D, ONE_D, tiny, RMM, &fl), ONE_D);
	assert_int_equal(fl, NX);
	/* dynamic: frm */
	b->cpu->frm = RUP;
	assert_int_equal(op2(b, FADD_D, ONE_D, tiny, DYN, &fl), ONE_D + 1);
	b->cpu->frm = RNE;
	assert_int_equal(op2(b, FADD_D, ONE_D, tiny, DYN, &fl), ONE_D);
	/* exact results raise nothing in any mode */
	for (unsigned rm = 0; rm <= RMM; rm++) {
		assert_int_equal(op2(b, FADD_D, ONE_D, ONE_D, rm, &fl), 0x4000000000000000ull);
		assert_int_equal(fl, 0);
	}
}

static void test_rmm_ties(void **state)
{
	struct fake_board *b = *state;
	unsigned fl;

	/* 1 + 2^-53: a tie; RNE keeps 1, RMM goes away from zero */
	assert_int_equal(op2(b, FADD_D, ONE_D, 0x3ca0000000000000ull, RNE, &fl), ONE_D);
	assert_int_equal(op2(b, FADD_D, ONE_D, 0x3ca0000000000000ull, RMM, &fl), ONE_D + 1);
	assert_int_equal(fl, NX);
	assert_int_equal(op2(b, FADD_D, ONE_D | (1ull << 63), 0xbca0000000000000ull, RMM, &fl),
	                 (ONE_D + 1) | (1ull << 63));
	/* not a tie: RMM = RNE */
	assert_int_equal(op2(b, FADD_D, ONE_D, 0x3c90000000000000ull, RMM, &fl), ONE_D);
	/* a tie that RNE already rounds away */
	assert_int_equal(op2(b, FADD_D, ONE_D + 1, 0x3ca0000000000000ull, RMM, &fl), ONE_D + 2);
	/* subnormal ties in multiplication and division */
	assert_int_equal(op2(b, FMUL_D, 0x0010000000000001ull, 0x3fe0000000000000ull, RNE, &fl),
	                 0x0008000000000000ull);
	assert_int_equal(fl, UF | NX);
	assert_int_equal(op2(b, FMUL_D, 0x0010000000000001ull, 0x3fe0000000000000ull, RMM, &fl),
	                 0x0008000000000001ull);
	assert_int_equal(fl, UF | NX);
	assert_int_equal(op2(b, FDIV_D, 1, 0x4000000000000000ull, RMM, &fl), 1);
	assert_int_equal(op2(b, FDIV_D, 1, 0x4000000000000000ull, RNE, &fl), 0);
	/* singles */
	assert_int_equal(op2(b, FADD_S, BOX(ONE_S), BOX(0x33800000), RMM, &fl), BOX(ONE_S + 1));
	assert_int_equal(op2(b, FADD_S, BOX(ONE_S), BOX(0x33800000), RNE, &fl), BOX(ONE_S));
	assert_int_equal(op2(b, FMUL_S, BOX(0x00800001), BOX(0x3f000000), RMM, &fl),
	                 BOX(0x00400001));
	assert_int_equal(fl, UF | NX);
}

static void test_flags(void **state)
{
	struct fake_board *b = *state;
	unsigned fl;

	assert_int_equal(op2(b, FDIV_D, ONE_D, 0, RNE, &fl), 0x7ff0000000000000ull);
	assert_int_equal(fl, DZ);
	assert_int_equal(op2(b, FDIV_D, 0, 0, RNE, &fl), 0x7ff8000000000000ull);
	assert_int_equal(fl, NV);
	assert_int_equal(op2(b, FMUL_D, 0x7fefffffffffffffull, 0x4000000000000000ull, RNE, &fl),
	                 0x7ff0000000000000ull);
	assert_int_equal(fl, OF | NX);
	assert_int_equal(op2(b, FMUL_D, 0x7fefffffffffffffull, 0x4000000000000000ull, RTZ, &fl),
	                 0x7fefffffffffffffull);
	assert_int_equal(op2(b, FMUL_D, 0xffefffffffffffffull, 0x4000000000000000ull, RUP, &fl),
	                 0xffefffffffffffffull);
	assert_int_equal(fl, OF | NX);
	/* exact subnormal result: no underflow */
	assert_int_equal(op2(b, FMUL_D, 0x0010000000000000ull, 0x3fe0000000000000ull, RNE, &fl),
	                 0x0008000000000000ull);
	assert_int_equal(fl, 0);
	/* inf - inf */
	assert_int_equal(op2(b, FSUB_D, 0x7ff0000000000000ull, 0x7ff0000000000000ull, RNE, &fl),
	                 0x7ff8000000000000ull);
	assert_int_equal(fl, NV);
	/* quiet NaN operand: NaN result, canonical, no flag; signaling: NV */
	assert_int_equal(op2(b, FADD_D, 0xfff8000000000123ull, ONE_D, RNE, &fl),
	                 0x7ff8000000000000ull);
	assert_int_equal(fl, 0);
	assert_int_equal(op2(b, FADD_D, 0x7ff0000000000123ull, ONE_D, RNE, &fl),
	                 0x7ff8000000000000ull);
	assert_int_equal(fl, NV);
	/* flags accumulate in fflags until cleared */
	b->cpu->fflags = 0;
	{
		bool ok;
		struct rv_insn d;
		b->cpu->f[2] = ONE_D;
		b->cpu->f[3] = 0;
		rv_decode(&d, enc_r(FDIV_D, 3, 2, RNE, 1, 0x53));
		assert_true(rv_fp_exec(b->cpu, &d));
		b->cpu->f[3] = 0x3c30000000000000ull;
		rv_decode(&d, enc_r(FADD_D, 3, 2, RNE, 1, 0x53));
		assert_true(rv_fp_exec(b->cpu, &d));
		rv_fp_sync_flags(b->cpu);
		assert_int_equal(b->cpu->fflags, DZ | NX);
		(void)ok;
	}
}

static void test_nan_boxing(void **state)
{
	struct fake_board *b = *state;
	unsigned fl;

	/* an unboxed single reads as the canonical NaN */
	assert_int_equal(op2(b, FADD_S, ONE_S, BOX(ONE_S), RNE, &fl), BOX(0x7fc00000));
	assert_int_equal(fl, 0);
	/* results are boxed */
	assert_int_equal(op2(b, FADD_S, BOX(ONE_S), BOX(ONE_S), RNE, &fl), BOX(0x40000000));
	/* single NaN results are canonical */
	assert_int_equal(op2(b, FDIV_S, BOX(0), BOX(0), RNE, &fl), BOX(0x7fc00000));
	assert_int_equal(fl, NV);
}

static void test_invalid_rounding_mode(void **state)
{
	struct fake_board *b = *state;
	struct rv_insn d;
	uint32_t raw = enc_r(FADD_D, 3, 2, DYN, 1, 0x53);

	b->cpu->frm = 5;
	rv_decode(&d, raw);
	assert_false(rv_fp_exec(b->cpu, &d));
	assert_int_equal(b->cpu->exc_cause, RV_EXC_ILLEGAL);
	assert_int_equal(b->cpu->exc_tval, raw);
	b->cpu->frm = 0;
	/* static 5 and 6 are rejected by the decoder */
	rv_decode(&d, enc_r(FADD_D, 3, 2, 5, 1, 0x53));
	assert_int_equal(d.op, RV_OP_ILLEGAL);
}

/* fcvt.{w,wu,l,lu}.d x1, f2 (kind = rs2 field) */
static uint64_t cvt_to_int(struct fake_board *b, unsigned kind, uint64_t v, unsigned rm,
                           unsigned *fl)
{
	bool ok;

	b->cpu->f[2] = v;
	*fl = run(b, enc_r(0x61, kind, 2, rm, 1, 0x53), &ok);
	assert_true(ok);
	return b->cpu->x[1];
}

static void test_fcvt_saturation(void **state)
{
	struct fake_board *b = *state;
	const uint64_t nan = 0x7ff8000000000000ull, inf = 0x7ff0000000000000ull;
	const uint64_t ninf = 0xfff0000000000000ull;
	unsigned fl;

	/* W */
	assert_int_equal(cvt_to_int(b, 0, 0x41dfffffffe00000ull, RTZ, &fl), 0x7fffffff);
	assert_int_equal(fl, NX);
	assert_int_equal(cvt_to_int(b, 0, 0x41dfffffffe00000ull, RNE, &fl), 0x7fffffff);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 0, ninf, RNE, &fl), 0xffffffff80000000ull);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 0, nan, RNE, &fl), 0x7fffffff);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 0, 0xc000000000000000ull, RNE, &fl), (uint64_t)-2);
	assert_int_equal(fl, 0);
	/* WU: results are sign-extended from 32 bits */
	assert_int_equal(cvt_to_int(b, 1, 0x41efffffffe00000ull, RNE, &fl), ~0ull);
	assert_int_equal(fl, 0);
	assert_int_equal(cvt_to_int(b, 1, 0xbff0000000000000ull, RNE, &fl), 0);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 1, 0xbfe0000000000000ull, RTZ, &fl), 0); /* -0.5 */
	assert_int_equal(fl, NX);
	assert_int_equal(cvt_to_int(b, 1, nan, RNE, &fl), ~0ull);
	assert_int_equal(fl, NV);
	/* L */
	assert_int_equal(cvt_to_int(b, 2, 0x43e0000000000000ull, RNE, &fl), INT64_MAX);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 2, 0xc3e0000000000000ull, RNE, &fl), (uint64_t)INT64_MIN);
	assert_int_equal(fl, 0);
	assert_int_equal(cvt_to_int(b, 2, inf, RNE, &fl), INT64_MAX);
	assert_int_equal(cvt_to_int(b, 2, 0x4021000000000000ull, RMM, &fl), 9); /* 8.5 */
	assert_int_equal(cvt_to_int(b, 2, 0x4021000000000000ull, RNE, &fl), 8);
	assert_int_equal(cvt_to_int(b, 2, 0xc021000000000000ull, RMM, &fl), (uint64_t)-9);
	assert_int_equal(cvt_to_int(b, 2, 0xc021000000000000ull, RDN, &fl), (uint64_t)-9);
	assert_int_equal(cvt_to_int(b, 2, 0xc021000000000000ull, RUP, &fl), (uint64_t)-8);
	assert_int_equal(fl, NX);
	/* LU */
	assert_int_equal(cvt_to_int(b, 3, 0x43f0000000000000ull, RNE, &fl), ~0ull);
	assert_int_equal(fl, NV);
	assert_int_equal(cvt_to_int(b, 3, 0x43efffffffffffffull, RNE, &fl), 0xfffffffffffff800ull);
	assert_int_equal(fl, 0);
	assert_int_equal(cvt_to_int(b, 3, ninf, RNE, &fl), 0);
	assert_int_equal(fl, NV);
	/* from a single: fcvt.w.s of 3e9 */
	b->cpu->f[2] = BOX(0x4f32d05e);
	{
		bool ok;
		fl = run(b, enc_r(0x60, 0, 2, RTZ, 1, 0x53), &ok);
		assert_int_equal(b->cpu->x[1], 0x7fffffff);
		assert_int_equal(fl, NV);
	}
}

static void test_int_to_fp(void **state)
{
	struct fake_board *b = *state;
	bool ok;
	unsigned fl;

	/* fcvt.d.l of 2^53 + 1: ties */
	b->cpu->x[5] = (1ull << 53) + 1;
	fl = run(b, enc_r(0x69, 2, 5, RNE, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], 0x4340000000000000ull);
	assert_int_equal(fl, NX);
	run(b, enc_r(0x69, 2, 5, RMM, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], 0x4340000000000001ull);
	/* fcvt.s.w of 2^24 + 1 */
	b->cpu->x[5] = (1u << 24) + 1;
	run(b, enc_r(0x68, 0, 5, RMM, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x4b800001));
	run(b, enc_r(0x68, 0, 5, RTZ, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x4b800000));
	/* fcvt.s.lu of all ones */
	b->cpu->x[5] = ~0ull;
	fl = run(b, enc_r(0x68, 3, 5, RNE, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x5f800000));
	assert_int_equal(fl, NX);
	run(b, enc_r(0x68, 3, 5, RTZ, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x5f7fffff));
	/* fcvt.d.wu uses only the low 32 bits */
	b->cpu->x[5] = 0x12345678ffffffffull;
	fl = run(b, enc_r(0x69, 1, 5, RNE, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], 0x41efffffffe00000ull);
	assert_int_equal(fl, 0);
	/* fcvt.s.d and fcvt.d.s */
	b->cpu->f[2] = 0x3ff0000010000000ull; /* 1 + 2^-24 */
	run(b, enc_r(0x20, 1, 2, RMM, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x3f800001));
	fl = run(b, enc_r(0x20, 1, 2, RNE, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], BOX(0x3f800000));
	assert_int_equal(fl, NX);
	b->cpu->f[2] = BOX(0x7f800001); /* signaling single */
	fl = run(b, enc_r(0x21, 0, 2, RNE, 1, 0x53), &ok);
	assert_int_equal(b->cpu->f[1], 0x7ff8000000000000ull);
	assert_int_equal(fl, NV);
}

static void test_minmax_class_compare(void **state)
{
	struct fake_board *b = *state;
	const uint64_t nzero = 1ull << 63, snan = 0x7ff0000000000001ull;
	unsigned fl;
	bool ok;

	assert_int_equal(op2(b, 0x15, nzero, 0, 0, &fl), nzero); /* fmin.d */
	assert_int_equal(op2(b, 0x15, 0, nzero, 0, &fl), nzero);
	assert_int_equal(op2(b, 0x15, nzero, 0, 1, &fl), 0); /* fmax.d */
	assert_int_equal(op2(b, 0x15, snan, ONE_D, 0, &fl), ONE_D);
	assert_int_equal(fl, NV);
	assert_int_equal(op2(b, 0x15, 0x7ff8000000000000ull, 0xfff8000000000000ull, 1, &fl),
	                 0x7ff8000000000000ull);
	assert_int_equal(fl, 0);
	assert_int_equal(op2(b, 0x14, BOX(0xbf800000), BOX(0x80000000), 0, &fl), BOX(0xbf800000));

	static const struct {
		uint64_t v;
		unsigned cls;
	} cls[] = {
	        {0xfff0000000000000ull, 1 << 0},
	        {0xbff0000000000000ull, 1 << 1},
	        {0x800fffffffffffffull, 1 << 2},
	        {1ull << 63, 1 << 3},
	        {0, 1 << 4},
	        {1, 1 << 5},
	        {ONE_D, 1 << 6},
	        {0x7ff0000000000000ull, 1 << 7},
	        {0x7ff0000000000001ull, 1 << 8},
	        {0x7ff8000000000000ull, 1 << 9},
	};
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		b->cpu->f[2] = cls[i].v;
		fl = run(b, enc_r(0x71, 0, 2, 1, 1, 0x53), &ok);
		assert_int_equal(b->cpu->x[1], cls[i].cls);
		assert_int_equal(fl, 0);
	}
	/* feq is quiet, flt/fle signal on any NaN */
	b->cpu->f[2] = 0x7ff8000000000000ull;
	b->cpu->f[3] = ONE_D;
	assert_int_equal(run(b, enc_r(0x51, 3, 2, 2, 1, 0x53), &ok), 0);
	assert_int_equal(b->cpu->x[1], 0);
	assert_int_equal(run(b, enc_r(0x51, 3, 2, 1, 1, 0x53), &ok), NV);
	b->cpu->f[2] = snan;
	assert_int_equal(run(b, enc_r(0x51, 3, 2, 2, 1, 0x53), &ok), NV);
	b->cpu->f[2] = nzero;
	b->cpu->f[3] = 0;
	run(b, enc_r(0x51, 3, 2, 2, 1, 0x53), &ok);
	assert_int_equal(b->cpu->x[1], 1); /* -0 == +0 */
	run(b, enc_r(0x51, 3, 2, 1, 1, 0x53), &ok);
	assert_int_equal(b->cpu->x[1], 0); /* -0 < +0 is false */
}

static void test_fma(void **state)
{
	struct fake_board *b = *state;
	bool ok;
	unsigned fl;
	/* fmadd.d f1, f2, f3, f4 */
	uint32_t fmadd = (4u << 27) | (1u << 25) | (3u << 20) | (2u << 15) | (1u << 7) | 0x43;

	b->cpu->f[2] = ONE_D + 1;
	b->cpu->f[3] = ONE_D + 1;
	b->cpu->f[4] = 0xbff0000000000002ull;
	fl = run(b, fmadd, &ok);
	assert_int_equal(b->cpu->f[1], 0x3970000000000000ull); /* fused: 2^-104 */
	assert_int_equal(fl, 0);
	/* inf * 0 + qNaN raises NV */
	b->cpu->f[2] = 0x7ff0000000000000ull;
	b->cpu->f[3] = 0;
	b->cpu->f[4] = 0x7ff8000000000000ull;
	fl = run(b, fmadd, &ok);
	assert_int_equal(b->cpu->f[1], 0x7ff8000000000000ull);
	assert_int_equal(fl, NV);
	/* fnmadd.d: -(a*b) - c, RMM tie through the fused path */
	b->cpu->f[2] = ONE_D;
	b->cpu->f[3] = ONE_D;
	b->cpu->f[4] = 0x3ca0000000000000ull;
	run(b, fmadd | (RMM << 12), &ok);
	assert_int_equal(b->cpu->f[1], ONE_D + 1);
	run(b, (fmadd & ~0x7fu) | 0x4f | (RMM << 12), &ok);
	assert_int_equal(b->cpu->f[1], (ONE_D + 1) | (1ull << 63));
}

static void test_host_state_restored(void **state)
{
	struct fake_board *b = *state;
	unsigned fl;

	op2(b, FADD_D, ONE_D, 0x3c30000000000000ull, RUP, &fl);
	b->cpu->f[2] = ONE_D;
	b->cpu->f[3] = 0x3c30000000000000ull;
	{
		struct rv_insn d;
		rv_decode(&d, enc_r(FADD_D, 3, 2, RDN, 1, 0x53));
		assert_true(rv_fp_exec(b->cpu, &d));
	}
	rv_fp_quiesce(b->cpu);
	assert_int_equal(fegetround(), FE_TONEAREST);
	assert_int_equal(fetestexcept(FE_ALL_EXCEPT), 0);
	assert_int_equal(b->cpu->fflags, NX);
	b->cpu->fflags = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_rounding_modes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rmm_ties, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nan_boxing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_invalid_rounding_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fcvt_saturation, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_int_to_fp, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_minmax_class_compare, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fma, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_host_state_restored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
