/* SPDX-License-Identifier: MIT */
/*
 * F: single precision. Rounding modes (static, dynamic, RMM ties), every
 * flag, NaN boxing and canonical NaNs, fmin/fmax 2.2 rules, fclass,
 * saturating conversions, fused multiply-add, FS off/dirty.
 */
#include "rvtest.h"

#define FLT(freg, bits) \
	li t0, bits;    \
	fmv.w.x freg, t0
/* Fail unless freg holds the single `bits` (low 32 bits). */
#define CHECKF(freg, bits)  \
	fmv.x.w t0, freg;   \
	slli t0, t0, 32;    \
	srli t0, t0, 32;    \
	CHECK(t0, bits)
/* Fail unless fflags == v; clears fflags. */
#define CHECKFLAGS(v)           \
	csrrw t0, fflags, zero; \
	CHECK(t0, v)

#define NX 1
#define UF 2
#define OF 4
#define DZ 8
#define NV 16

RVTEST_BEGIN
	TEST(1)
	FLT(fa1, 0x3f800000) /* 1.0 */
	FLT(fa2, 0x40000000) /* 2.0 */
	fadd.s fa0, fa1, fa2
	CHECKF(fa0, 0x40400000)
	CHECKFLAGS(0)
	TEST(2)
	FLT(fa2, 0x30800000) /* 2^-30 */
	fadd.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800000)
	CHECKFLAGS(NX)
	fadd.s fa0, fa1, fa2, rup
	CHECKF(fa0, 0x3f800001)
	fadd.s fa0, fa1, fa2, rdn
	CHECKF(fa0, 0x3f800000)
	fadd.s fa0, fa1, fa2, rtz
	CHECKF(fa0, 0x3f800000)
	fneg.s fa3, fa1
	fneg.s fa4, fa2
	fadd.s fa0, fa3, fa4, rdn
	CHECKF(fa0, 0xbf800001)
	fadd.s fa0, fa3, fa4, rup
	CHECKF(fa0, 0xbf800000)
	CHECKFLAGS(NX)
	TEST(3)
	/* ties: 1 + 2^-24 is halfway between 1 and 1 + 2^-23 */
	FLT(fa2, 0x33800000)
	fadd.s fa0, fa1, fa2, rne
	CHECKF(fa0, 0x3f800000)
	fadd.s fa0, fa1, fa2, rmm
	CHECKF(fa0, 0x3f800001)
	fneg.s fa3, fa1
	fneg.s fa4, fa2
	fadd.s fa0, fa3, fa4, rmm
	CHECKF(fa0, 0xbf800001)
	FLT(fa3, 0x3f800001)
	fadd.s fa0, fa3, fa2, rmm
	CHECKF(fa0, 0x3f800002)
	fadd.s fa0, fa3, fa2, rne
	CHECKF(fa0, 0x3f800002)
	CHECKFLAGS(NX)
	TEST(4)
	/* dynamic rounding through frm */
	FLT(fa2, 0x30800000)
	csrwi frm, 3
	fadd.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800001)
	csrwi frm, 4
	FLT(fa2, 0x33800000)
	fadd.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800001)
	csrwi frm, 0
	CHECKFLAGS(NX)
	TEST(5)
	/* an invalid frm makes dynamic-rounding instructions illegal, static ones still work */
	csrwi frm, 5
	EXPECT_TRAP(1f)
	fadd.s fa0, fa1, fa2
	j fail
1:	CHECK_MEM(trap_cause, 2)
	fadd.s fa0, fa1, fa2, rne
	csrwi frm, 0
	/* a reserved static rounding mode (5) is illegal */
	EXPECT_TRAP(1f)
	.word 0x00c5d553 /* fadd.s fa0, fa1, fa2 with rm = 5 */
	j fail
1:	CHECK_TRAP(2, 0x00c5d553)
	CHECKFLAGS(NX)
	TEST(6)
	FLT(fa2, 0)
	fdiv.s fa0, fa1, fa2
	CHECKF(fa0, 0x7f800000)
	CHECKFLAGS(DZ)
	fdiv.s fa0, fa2, fa2
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(NV)
	TEST(7)
	FLT(fa1, 0x7f7fffff) /* FLT_MAX */
	FLT(fa2, 0x40000000)
	fmul.s fa0, fa1, fa2
	CHECKF(fa0, 0x7f800000)
	CHECKFLAGS(OF | NX)
	fmul.s fa0, fa1, fa2, rtz
	CHECKF(fa0, 0x7f7fffff)
	CHECKFLAGS(OF | NX)
	TEST(8)
	FLT(fa1, 0x00800000) /* smallest normal */
	FLT(fa2, 0x3f000000) /* 0.5 */
	fmul.s fa0, fa1, fa2
	CHECKF(fa0, 0x00400000)
	CHECKFLAGS(0) /* exact: no underflow */
	FLT(fa1, 0x00800001)
	fmul.s fa0, fa1, fa2
	CHECKF(fa0, 0x00400000)
	CHECKFLAGS(UF | NX)
	fmul.s fa0, fa1, fa2, rmm
	CHECKF(fa0, 0x00400001)
	CHECKFLAGS(UF | NX)
	TEST(9)
	/* NaN boxing: a single not boxed in the 64-bit register reads as the canonical NaN */
	li t0, 0x3f800000
	fmv.d.x fa1, t0
	fadd.s fa0, fa1, fa1
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(0)
	fmv.x.w t1, fa1 /* fmv.x.w moves the raw low bits */
	CHECK(t1, 0x3f800000)
	FLT(fa1, 0x3f800000)
	fadd.s fa0, fa1, fa1
	fmv.x.d t1, fa0
	CHECK(t1, 0xffffffff40000000)
	la s0, fdata
	flw fa0, 0(s0)
	fmv.x.d t1, fa0
	CHECK(t1, 0xffffffffc0a00000)
	fsw fa1, 4(s0)
	lwu t1, 4(s0)
	CHECK(t1, 0x3f800000)
	TEST(10)
	FLT(fa1, 0x80000000)
	FLT(fa2, 0x00000000)
	fmin.s fa0, fa1, fa2
	CHECKF(fa0, 0x80000000)
	fmin.s fa0, fa2, fa1
	CHECKF(fa0, 0x80000000)
	fmax.s fa0, fa1, fa2
	CHECKF(fa0, 0x00000000)
	FLT(fa1, 0x7fc00000)
	FLT(fa2, 0x3f800000)
	fmin.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800000)
	CHECKFLAGS(0)
	FLT(fa1, 0x7f800001) /* signaling */
	fmax.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800000)
	CHECKFLAGS(NV)
	FLT(fa2, 0xffc00001)
	fmax.s fa0, fa1, fa2
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(NV)
	FLT(fa1, 0xc0000000)
	FLT(fa2, 0x3f800000)
	fmax.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800000)
	fmin.s fa0, fa1, fa2
	CHECKF(fa0, 0xc0000000)
	TEST(11)
#define CLASS(bits, mask) \
	FLT(fa1, bits);   \
	fclass.s t1, fa1; \
	CHECK(t1, mask)
	CLASS(0xff800000, 1)
	CLASS(0xbf800000, 2)
	CLASS(0x80000001, 4)
	CLASS(0x80000000, 8)
	CLASS(0x00000000, 16)
	CLASS(0x00000001, 32)
	CLASS(0x3f800000, 64)
	CLASS(0x7f800000, 128)
	CLASS(0x7f800001, 256)
	CLASS(0x7fc00000, 512)
	CHECKFLAGS(0)
	TEST(12)
	FLT(fa1, 0x3fc00000) /* 1.5 */
	fcvt.w.s t1, fa1, rne
	CHECK(t1, 2)
	CHECKFLAGS(NX)
	FLT(fa1, 0x40200000) /* 2.5 */
	fcvt.w.s t1, fa1, rne
	CHECK(t1, 2)
	fcvt.w.s t1, fa1, rmm
	CHECK(t1, 3)
	FLT(fa1, 0xc0200000) /* -2.5 */
	fcvt.w.s t1, fa1, rmm
	CHECK(t1, -3)
	fcvt.w.s t1, fa1, rdn
	CHECK(t1, -3)
	fcvt.w.s t1, fa1, rup
	CHECK(t1, -2)
	fcvt.w.s t1, fa1, rtz
	CHECK(t1, -2)
	CHECKFLAGS(NX)
	TEST(13)
	FLT(fa1, 0x4f32d05e) /* 3e9 */
	fcvt.w.s t1, fa1, rtz
	CHECK(t1, 0x7fffffff)
	CHECKFLAGS(NV)
	fcvt.wu.s t1, fa1, rtz
	CHECK(t1, 0xffffffffb2d05e00)
	CHECKFLAGS(0)
	fneg.s fa1, fa1
	fcvt.w.s t1, fa1, rtz
	CHECK(t1, 0xffffffff80000000)
	CHECKFLAGS(NV)
	FLT(fa1, 0x7fc00000)
	fcvt.w.s t1, fa1, rtz
	CHECK(t1, 0x7fffffff)
	fcvt.wu.s t1, fa1, rtz
	CHECK(t1, -1)
	fcvt.l.s t1, fa1, rtz
	CHECK(t1, 0x7fffffffffffffff)
	fcvt.lu.s t1, fa1, rtz
	CHECK(t1, -1)
	CHECKFLAGS(NV)
	FLT(fa1, 0xff800000) /* -inf */
	fcvt.w.s t1, fa1, rtz
	CHECK(t1, 0xffffffff80000000)
	fcvt.lu.s t1, fa1, rtz
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	FLT(fa1, 0xbf800000) /* -1.0 */
	fcvt.wu.s t1, fa1, rtz
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	FLT(fa1, 0xbf000000) /* -0.5 */
	fcvt.wu.s t1, fa1, rtz
	CHECK(t1, 0)
	CHECKFLAGS(NX)
	FLT(fa1, 0x5f000000) /* 2^63 */
	fcvt.l.s t1, fa1, rtz
	CHECK(t1, 0x7fffffffffffffff)
	CHECKFLAGS(NV)
	fcvt.lu.s t1, fa1, rtz
	CHECK(t1, 0x8000000000000000)
	CHECKFLAGS(0)
	FLT(fa1, 0xdf000000) /* -2^63 */
	fcvt.l.s t1, fa1, rtz
	CHECK(t1, 0x8000000000000000)
	CHECKFLAGS(0)
	FLT(fa1, 0x5f800000) /* 2^64 */
	fcvt.lu.s t1, fa1, rtz
	CHECK(t1, -1)
	CHECKFLAGS(NV)
	TEST(14)
	li t1, 16777217
	fcvt.s.w fa0, t1, rne
	CHECKF(fa0, 0x4b800000)
	fcvt.s.w fa0, t1, rmm
	CHECKF(fa0, 0x4b800001)
	fcvt.s.w fa0, t1, rup
	CHECKF(fa0, 0x4b800001)
	CHECKFLAGS(NX)
	li t1, -1
	fcvt.s.wu fa0, t1, rne
	CHECKF(fa0, 0x4f800000)
	fcvt.s.lu fa0, t1, rne
	CHECKF(fa0, 0x5f800000)
	CHECKFLAGS(NX)
	fcvt.s.l fa0, t1, rne
	CHECKF(fa0, 0xbf800000)
	li t1, 0xffffffff00000005 /* only the low 32 bits count for .w */
	fcvt.s.w fa0, t1
	CHECKF(fa0, 0x40a00000)
	CHECKFLAGS(0)
	TEST(15)
	FLT(fa1, 0x7fc00000)
	FLT(fa2, 0x3f800000)
	feq.s t1, fa1, fa2
	CHECK(t1, 0)
	CHECKFLAGS(0)
	flt.s t1, fa1, fa2
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	fle.s t1, fa2, fa1
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	FLT(fa1, 0x7f800001)
	feq.s t1, fa1, fa2
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	FLT(fa1, 0x80000000)
	FLT(fa2, 0x00000000)
	feq.s t1, fa1, fa2
	CHECK(t1, 1)
	flt.s t1, fa1, fa2
	CHECK(t1, 0)
	fle.s t1, fa1, fa2
	CHECK(t1, 1)
	FLT(fa1, 0xc0000000)
	flt.s t1, fa1, fa2
	CHECK(t1, 1)
	CHECKFLAGS(0)
	TEST(16)
	FLT(fa1, 0x3f800000)
	FLT(fa2, 0xc0000000)
	fsgnj.s fa0, fa1, fa2
	CHECKF(fa0, 0xbf800000)
	fsgnjn.s fa0, fa1, fa2
	CHECKF(fa0, 0x3f800000)
	fsgnjx.s fa0, fa2, fa2
	CHECKF(fa0, 0x40000000)
	fabs.s fa0, fa2
	CHECKF(fa0, 0x40000000)
	TEST(17)
	/* fused: (1 + 2^-23)^2 - (1 + 2^-22) = 2^-46 exactly */
	FLT(fa1, 0x3f800001)
	FLT(fa3, 0xbf800002)
	fmadd.s fa0, fa1, fa1, fa3
	CHECKF(fa0, 0x28800000)
	CHECKFLAGS(0)
	FLT(fa1, 0x40000000) /* 2 */
	FLT(fa2, 0x40400000) /* 3 */
	FLT(fa3, 0x3f800000) /* 1 */
	fmadd.s fa0, fa1, fa2, fa3
	CHECKF(fa0, 0x40e00000) /* 7 */
	fmsub.s fa0, fa1, fa2, fa3
	CHECKF(fa0, 0x40a00000) /* 5 */
	fnmsub.s fa0, fa1, fa2, fa3
	CHECKF(fa0, 0xc0a00000) /* -5 */
	fnmadd.s fa0, fa1, fa2, fa3
	CHECKF(fa0, 0xc0e00000) /* -7 */
	CHECKFLAGS(0)
	/* inf * 0 + qNaN is invalid */
	FLT(fa1, 0x7f800000)
	FLT(fa2, 0)
	FLT(fa3, 0x7fc00000)
	fmadd.s fa0, fa1, fa2, fa3
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(NV)
	TEST(18)
	FLT(fa1, 0x40800000)
	fsqrt.s fa0, fa1
	CHECKF(fa0, 0x40000000)
	CHECKFLAGS(0)
	FLT(fa1, 0xbf800000)
	fsqrt.s fa0, fa1
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(NV)
	FLT(fa1, 0x40000000)
	fsqrt.s fa0, fa1
	CHECKF(fa0, 0x3fb504f3)
	CHECKFLAGS(NX)
	TEST(19)
	/* FS = Off: FP instructions and fcsr are illegal */
	li t1, MSTATUS_FS
	csrc mstatus, t1
	EXPECT_TRAP(1f)
	fadd.s fa0, fa1, fa1
	j fail
1:	CHECK_MEM(trap_cause, 2)
	EXPECT_TRAP(1f)
	csrr t1, fflags
	j fail
1:	EXPECT_TRAP(1f)
	flw fa0, 0(s0)
	j fail
1:	/* FS = Initial: an FP instruction makes it Dirty, and SD follows */
	li t1, (1 << 13)
	csrs mstatus, t1
	csrr t1, mstatus
	bltz t1, fail
	fadd.s fa0, fa1, fa1
	csrr t1, mstatus
	bgez t1, fail
	srli t1, t1, 13
	andi t1, t1, 3
	CHECK(t1, 3)
	RVTEST_PASS

	.data
	.align 3
fdata:	.word 0xc0a00000, 0
RVTEST_END
