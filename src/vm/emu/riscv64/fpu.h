/* SPDX-License-Identifier: MIT */
/*
 * Private to the riscv64 FPU (fpu.c, fpu-arith.c): IEEE-754 bit helpers and
 * the host-arithmetic operations. Both files are built with -frounding-math.
 */
#ifndef VK_VM_EMU_RISCV64_FPU_H
#define VK_VM_EMU_RISCV64_FPU_H

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

enum rv_fp_arith { A_ADD, A_SUB, A_MUL, A_DIV, A_SQRT, A_FMA };
enum rv_fp_cvt { CVT_W, CVT_WU, CVT_L, CVT_LU };

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

/* Put the host in the rounding mode for rm (0..4); the first use in a run clears its flags. */
void rv_fp_host_mode(struct rv_cpu *cpu, unsigned rm);
/* RMM from the RNE result and the exact result w (see fpu-arith.c). */
uint32_t rv_fp_rmm_fix32(uint32_t rb, long double w);
/* Arithmetic (fused multiply-add too) of singles / doubles; results canonical and boxed. */
uint64_t rv_fp_arith32(struct rv_cpu *cpu, enum rv_fp_arith op, unsigned rm, uint32_t ab,
                       uint32_t bb, uint32_t cb);
uint64_t rv_fp_arith64(struct rv_cpu *cpu, enum rv_fp_arith op, unsigned rm, uint64_t ab,
                       uint64_t bb, uint64_t cb);
/* fcvt to an integer: saturating, NV for NaN and out of range, NX when inexact in range. */
uint64_t rv_fp_to_int(struct rv_cpu *cpu, double v, bool is_nan, unsigned rm, enum rv_fp_cvt k);
/* fcvt from an integer to a single (boxed) or a double. */
uint64_t rv_fp_from_int(struct rv_cpu *cpu, uint64_t xv, enum rv_fp_cvt k, unsigned rm, bool dbl);

#endif
