/* SPDX-License-Identifier: MIT */
/*
 * D: double precision. Rounding (incl. RMM ties through fma, division and
 * conversions), flags, canonical NaNs, fmin/fmax, fclass, conversions to and
 * from integers and singles with saturation, fused multiply-add, fld/fsd.
 */
#include "rvtest.h"

#define DBL(freg, bits) \
	li t0, bits;    \
	fmv.d.x freg, t0
#define CHECKD(freg, bits) \
	fmv.x.d t0, freg;  \
	CHECK(t0, bits)
#define CHECKF(freg, bits)  \
	fmv.x.d t0, freg;   \
	CHECK(t0, (0xffffffff00000000 | (bits)))
#define CHECKFLAGS(v)           \
	csrrw t0, fflags, zero; \
	CHECK(t0, v)

#define NX 1
#define UF 2
#define OF 4
#define DZ 8
#define NV 16

#define ONE 0x3ff0000000000000

RVTEST_BEGIN
	TEST(1)
	DBL(fa1, ONE)
	DBL(fa2, 0x4000000000000000)
	fadd.d fa0, fa1, fa2
	CHECKD(fa0, 0x4008000000000000)
	fsub.d fa0, fa1, fa2
	CHECKD(fa0, 0xbff0000000000000)
	fmul.d fa0, fa2, fa2
	CHECKD(fa0, 0x4010000000000000)
	fdiv.d fa0, fa1, fa2
	CHECKD(fa0, 0x3fe0000000000000)
	CHECKFLAGS(0)
	TEST(2)
	DBL(fa2, 0x3c30000000000000) /* 2^-60 */
	fadd.d fa0, fa1, fa2
	CHECKD(fa0, ONE)
	fadd.d fa0, fa1, fa2, rup
	CHECKD(fa0, 0x3ff0000000000001)
	fsub.d fa0, fa1, fa2, rdn
	CHECKD(fa0, 0x3fefffffffffffff)
	fsub.d fa0, fa1, fa2, rtz
	CHECKD(fa0, 0x3fefffffffffffff)
	fsub.d fa0, fa1, fa2, rne
	CHECKD(fa0, ONE)
	CHECKFLAGS(NX)
	TEST(3)
	/* RMM ties in add, fma, division (subnormal result) */
	DBL(fa2, 0x3ca0000000000000) /* 2^-53 */
	fadd.d fa0, fa1, fa2, rne
	CHECKD(fa0, ONE)
	fadd.d fa0, fa1, fa2, rmm
	CHECKD(fa0, 0x3ff0000000000001)
	fmadd.d fa0, fa1, fa1, fa2, rmm
	CHECKD(fa0, 0x3ff0000000000001)
	fmadd.d fa0, fa1, fa1, fa2, rne
	CHECKD(fa0, ONE)
	CHECKFLAGS(NX)
	DBL(fa3, 1)
	DBL(fa4, 0x4000000000000000)
	fdiv.d fa0, fa3, fa4, rne
	CHECKD(fa0, 0)
	CHECKFLAGS(UF | NX)
	fdiv.d fa0, fa3, fa4, rmm
	CHECKD(fa0, 1)
	CHECKFLAGS(UF | NX)
	TEST(4)
	DBL(fa2, 0)
	fdiv.d fa0, fa1, fa2
	CHECKD(fa0, 0x7ff0000000000000)
	CHECKFLAGS(DZ)
	fdiv.d fa0, fa2, fa2
	CHECKD(fa0, 0x7ff8000000000000)
	CHECKFLAGS(NV)
	DBL(fa1, 0x7fefffffffffffff)
	DBL(fa2, 0x4000000000000000)
	fmul.d fa0, fa1, fa2
	CHECKD(fa0, 0x7ff0000000000000)
	CHECKFLAGS(OF | NX)
	fmul.d fa0, fa1, fa2, rtz
	CHECKD(fa0, 0x7fefffffffffffff)
	CHECKFLAGS(OF | NX)
	TEST(5)
	DBL(fa1, 0x0010000000000001)
	DBL(fa2, 0x3fe0000000000000)
	fmul.d fa0, fa1, fa2
	CHECKD(fa0, 0x0008000000000000)
	CHECKFLAGS(UF | NX)
	fmul.d fa0, fa1, fa2, rmm
	CHECKD(fa0, 0x0008000000000001)
	CHECKFLAGS(UF | NX)
	DBL(fa1, 0x0010000000000000)
	fmul.d fa0, fa1, fa2
	CHECKD(fa0, 0x0008000000000000)
	CHECKFLAGS(0)
	TEST(6)
	/* conversions between formats */
	DBL(fa1, 0x3ff0000010000000) /* 1 + 2^-24 */
	fcvt.s.d fa0, fa1, rne
	CHECKF(fa0, 0x3f800000)
	fcvt.s.d fa0, fa1, rmm
	CHECKF(fa0, 0x3f800001)
	CHECKFLAGS(NX)
	DBL(fa1, 0x7e37e43c8800759c) /* 1e300 */
	fcvt.s.d fa0, fa1
	CHECKF(fa0, 0x7f800000)
	CHECKFLAGS(OF | NX)
	DBL(fa1, 0x7ff0000000000001)
	fcvt.s.d fa0, fa1
	CHECKF(fa0, 0x7fc00000)
	CHECKFLAGS(NV)
	li t1, 0xffffffff3fc00000 /* 1.5f */
	fmv.d.x fa1, t1
	fcvt.d.s fa0, fa1
	CHECKD(fa0, 0x3ff8000000000000)
	CHECKFLAGS(0)
	li t1, 0xffffffff7f800001 /* signaling single */
	fmv.d.x fa1, t1
	fcvt.d.s fa0, fa1
	CHECKD(fa0, 0x7ff8000000000000)
	CHECKFLAGS(NV)
	TEST(7)
	/* to integers */
	DBL(fa1, 0x4023000000000000) /* 9.5 */
	fcvt.l.d t1, fa1, rne
	CHECK(t1, 10)
	fcvt.l.d t1, fa1, rmm
	CHECK(t1, 10)
	DBL(fa1, 0x4021000000000000) /* 8.5 */
	fcvt.l.d t1, fa1, rne
	CHECK(t1, 8)
	fcvt.l.d t1, fa1, rmm
	CHECK(t1, 9)
	CHECKFLAGS(NX)
	DBL(fa1, 0x43e0000000000000) /* 2^63 */
	fcvt.l.d t1, fa1, rtz
	CHECK(t1, 0x7fffffffffffffff)
	CHECKFLAGS(NV)
	fcvt.lu.d t1, fa1, rtz
	CHECK(t1, 0x8000000000000000)
	DBL(fa1, 0xc3e0000000000000)
	fcvt.l.d t1, fa1, rtz
	CHECK(t1, 0x8000000000000000)
	DBL(fa1, 0x43efffffffffffff)
	fcvt.lu.d t1, fa1, rtz
	CHECK(t1, 0xfffffffffffff800)
	CHECKFLAGS(0)
	DBL(fa1, 0x43f0000000000000) /* 2^64 */
	fcvt.lu.d t1, fa1, rtz
	CHECK(t1, -1)
	CHECKFLAGS(NV)
	DBL(fa1, 0x41dfffffffe00000) /* 2^31 - 0.5 */
	fcvt.w.d t1, fa1, rne
	CHECK(t1, 0x7fffffff)
	CHECKFLAGS(NV)
	fcvt.w.d t1, fa1, rtz
	CHECK(t1, 0x7fffffff)
	CHECKFLAGS(NX)
	DBL(fa1, 0xc1e0000000100000) /* -2^31 - 0.5 */
	fcvt.w.d t1, fa1, rtz
	CHECK(t1, 0xffffffff80000000)
	CHECKFLAGS(NX)
	fcvt.w.d t1, fa1, rne
	CHECK(t1, 0xffffffff80000000)
	CHECKFLAGS(NX)
	fcvt.w.d t1, fa1, rdn
	CHECK(t1, 0xffffffff80000000)
	CHECKFLAGS(NV)
	DBL(fa1, 0x41efffffffe00000) /* 2^32 - 1 */
	fcvt.wu.d t1, fa1
	CHECK(t1, -1)
	CHECKFLAGS(0)
	DBL(fa1, 0x7ff8000000000000)
	fcvt.wu.d t1, fa1
	CHECK(t1, -1)
	fcvt.w.d t1, fa1
	CHECK(t1, 0x7fffffff)
	CHECKFLAGS(NV)
	TEST(8)
	/* from integers */
	li t1, 9007199254740993 /* 2^53 + 1 */
	fcvt.d.l fa0, t1, rne
	CHECKD(fa0, 0x4340000000000000)
	fcvt.d.l fa0, t1, rmm
	CHECKD(fa0, 0x4340000000000001)
	fcvt.d.l fa0, t1, rup
	CHECKD(fa0, 0x4340000000000001)
	CHECKFLAGS(NX)
	li t1, -1
	fcvt.d.lu fa0, t1
	CHECKD(fa0, 0x43f0000000000000)
	CHECKFLAGS(NX)
	fcvt.d.w fa0, t1
	CHECKD(fa0, 0xbff0000000000000)
	fcvt.d.wu fa0, t1
	CHECKD(fa0, 0x41efffffffe00000)
	CHECKFLAGS(0)
	TEST(9)
	DBL(fa1, 0x8000000000000000)
	DBL(fa2, 0)
	fmin.d fa0, fa1, fa2
	CHECKD(fa0, 0x8000000000000000)
	fmax.d fa0, fa1, fa2
	CHECKD(fa0, 0)
	DBL(fa1, 0x7ff4000000000000) /* signaling */
	DBL(fa2, ONE)
	fmin.d fa0, fa1, fa2
	CHECKD(fa0, ONE)
	CHECKFLAGS(NV)
	DBL(fa1, 0xfff8000000000000)
	fmax.d fa0, fa1, fa1
	CHECKD(fa0, 0x7ff8000000000000)
	CHECKFLAGS(0)
	TEST(10)
#define CLASS(bits, mask) \
	DBL(fa1, bits);   \
	fclass.d t1, fa1; \
	CHECK(t1, mask)
	CLASS(0xfff0000000000000, 1)
	CLASS(0xbff0000000000000, 2)
	CLASS(0x800fffffffffffff, 4)
	CLASS(0x8000000000000000, 8)
	CLASS(0x0000000000000000, 16)
	CLASS(0x0000000000000001, 32)
	CLASS(0x3ff0000000000000, 64)
	CLASS(0x7ff0000000000000, 128)
	CLASS(0x7ff0000000000001, 256)
	CLASS(0x7ff8000000000000, 512)
	TEST(11)
	DBL(fa1, 0x3ff0000000000001)
	DBL(fa3, 0xbff0000000000002)
	fmadd.d fa0, fa1, fa1, fa3
	CHECKD(fa0, 0x3970000000000000)
	CHECKFLAGS(0)
	DBL(fa1, 0x4000000000000000)
	DBL(fa2, 0x4008000000000000)
	DBL(fa3, ONE)
	fnmadd.d fa0, fa1, fa2, fa3
	CHECKD(fa0, 0xc01c000000000000) /* -7 */
	fnmsub.d fa0, fa1, fa2, fa3
	CHECKD(fa0, 0xc014000000000000) /* -5 */
	fmsub.d fa0, fa1, fa2, fa3
	CHECKD(fa0, 0x4014000000000000) /* 5 */
	DBL(fa1, 0xfff0000000000000)
	DBL(fa2, 0x8000000000000000)
	DBL(fa3, 0x7ff8000000000000)
	fmadd.d fa0, fa1, fa2, fa3
	CHECKD(fa0, 0x7ff8000000000000)
	CHECKFLAGS(NV)
	TEST(12)
	DBL(fa1, 0x4000000000000000)
	fsqrt.d fa0, fa1
	CHECKD(fa0, 0x3ff6a09e667f3bcd)
	CHECKFLAGS(NX)
	DBL(fa1, 0x8000000000000000) /* sqrt(-0) = -0 */
	fsqrt.d fa0, fa1
	CHECKD(fa0, 0x8000000000000000)
	CHECKFLAGS(0)
	TEST(13)
	DBL(fa1, 0xfff8000000000000)
	DBL(fa2, ONE)
	feq.d t1, fa1, fa2
	CHECK(t1, 0)
	CHECKFLAGS(0)
	fle.d t1, fa1, fa2
	CHECK(t1, 0)
	CHECKFLAGS(NV)
	DBL(fa1, 0xbff0000000000000)
	flt.d t1, fa1, fa2
	CHECK(t1, 1)
	fle.d t1, fa2, fa1
	CHECK(t1, 0)
	feq.d t1, fa2, fa2
	CHECK(t1, 1)
	CHECKFLAGS(0)
	TEST(14)
	la s0, ddata
	fld fa0, 0(s0)
	CHECKD(fa0, 0x123456789abcdef0)
	fsgnjn.d fa1, fa0, fa0
	fsd fa1, 8(s0)
	ld t1, 8(s0)
	CHECK(t1, 0x923456789abcdef0)
	fsgnjx.d fa1, fa1, fa1
	CHECKD(fa1, 0x123456789abcdef0)
	/* misaligned fld/fsd are done in hardware too */
	fsd fa0, 17(s0)
	fld fa2, 17(s0)
	CHECKD(fa2, 0x123456789abcdef0)
	RVTEST_PASS

	.data
	.align 3
ddata:	.dword 0x123456789abcdef0, 0, 0, 0, 0
RVTEST_END
