/* SPDX-License-Identifier: MIT */
/*
 * A small x86-64 assembler for the translator: the instructions it emits and
 * nothing else (Intel SDM vol. 2, chapter 2: REX prefixes, ModRM, SIB).
 *
 * Operands are host registers (enum x86_reg) or memory operands
 * base + disp (struct x86_mem; every memory operand the translator uses has
 * a base register and no index). The buffer never overflows: x86_emit_*
 * stop writing at the end and set `overflow`, which the translator checks
 * once per block (a block that does not fit is translated again after a
 * cache flush).
 *
 * Naming: x86_<op>_<operands> with r = 64-bit register, r32 = 32-bit
 * register, m = memory, i = immediate; the size of memory accesses is an
 * explicit argument where it varies (1, 2, 4 or 8 bytes).
 */
#ifndef VK_VM_EMU_RISCV64_JIT_X86_H
#define VK_VM_EMU_RISCV64_JIT_X86_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum x86_reg {
	RAX,
	RCX,
	RDX,
	RBX,
	RSP,
	RBP,
	RSI,
	RDI,
	R8,
	R9,
	R10,
	R11,
	R12,
	R13,
	R14,
	R15,
	X86_NOREG = -1,
};

/* SSE registers share the numbering: XMM0 = 0 ... XMM15 = 15. */
enum x86_xmm { XMM0, XMM1, XMM2, XMM3 };

/* Condition codes (the low nibble of Jcc / SETcc / CMOVcc opcodes). */
enum x86_cc {
	CC_O = 0x0,
	CC_NO = 0x1,
	CC_B = 0x2,
	CC_AE = 0x3,
	CC_E = 0x4,
	CC_NE = 0x5,
	CC_BE = 0x6,
	CC_A = 0x7,
	CC_S = 0x8,
	CC_NS = 0x9,
	CC_P = 0xa,
	CC_NP = 0xb,
	CC_L = 0xc,
	CC_GE = 0xd,
	CC_LE = 0xe,
	CC_G = 0xf,
};

/* The group-1 ALU operations, numbered as their ModRM /digit. */
enum x86_alu {
	ALU_ADD = 0,
	ALU_OR = 1,
	ALU_ADC = 2,
	ALU_SBB = 3,
	ALU_AND = 4,
	ALU_SUB = 5,
	ALU_XOR = 6,
	ALU_CMP = 7
};

/* Shift group (C1 / D3 /digit). */
enum x86_shift { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct x86_mem {
	enum x86_reg base;
	int32_t disp;
};

static inline struct x86_mem x86_m(enum x86_reg base, int32_t disp)
{
	return (struct x86_mem){.base = base, .disp = disp};
}

struct x86_emit {
	uint8_t *p;     /* next byte to write (in the writable view) */
	uint8_t *start; /* first byte of this buffer (writable view) */
	uint8_t *end;   /* one past the last usable byte */
	bool overflow;
};

static inline void x86_byte(struct x86_emit *e, uint8_t b)
{
	if (e->p < e->end)
		*e->p++ = b;
	else
		e->overflow = true;
}

static inline void x86_u32(struct x86_emit *e, uint32_t v)
{
	if (e->end - e->p >= 4) {
		memcpy(e->p, &v, 4);
		e->p += 4;
	} else {
		e->overflow = true;
		e->p = e->end;
	}
}

static inline void x86_u64(struct x86_emit *e, uint64_t v)
{
	x86_u32(e, (uint32_t)v);
	x86_u32(e, (uint32_t)(v >> 32));
}

static inline bool x86_fits_i8(int64_t v)
{
	return v >= -128 && v <= 127;
}

static inline bool x86_fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* ---- prefixes and operand encoding -------------------------------------- */

#define X86_BYTE_REG 1 /* ModRM.reg names an 8-bit register */
#define X86_BYTE_RM  2 /* ModRM.rm names an 8-bit register */

/*
 * REX for a register operand `reg` (ModRM.reg) and an r/m operand whose
 * register is `rm` (ModRM.rm or SIB.base). bytes (X86_BYTE_*): which of them
 * is an 8-bit register, where SPL/BPL/SIL/DIL need a REX to be addressed.
 */
static inline void x86_rex(struct x86_emit *e, bool w, int reg, int rm, unsigned bytes)
{
	uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
	bool need = ((bytes & X86_BYTE_REG) && reg >= 4 && reg < 8) ||
	            ((bytes & X86_BYTE_RM) && rm >= 4 && rm < 8);

	if (rex != 0x40 || need)
		x86_byte(e, rex);
}

static inline void x86_modrm_reg(struct x86_emit *e, int reg, int rm)
{
	x86_byte(e, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

static inline void x86_modrm_mem(struct x86_emit *e, int reg, struct x86_mem m)
{
	int base = m.base & 7;
	int mod = (m.disp == 0 && base != (RBP & 7)) ? 0 : x86_fits_i8(m.disp) ? 1 : 2;

	x86_byte(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | base));
	if (base == (RSP & 7))
		x86_byte(e, 0x24); /* SIB: no index, base = rsp/r12 */
	if (mod == 1)
		x86_byte(e, (uint8_t)(int8_t)m.disp);
	else if (mod == 2)
		x86_u32(e, (uint32_t)m.disp);
}

/* opcode bytes (1 to 3) with a register operand and a register r/m. */
static inline void x86_op_rr(struct x86_emit *e, bool w, const uint8_t *op, unsigned n, int reg,
                             int rm)
{
	x86_rex(e, w, reg, rm, 0);
	for (unsigned i = 0; i < n; i++)
		x86_byte(e, op[i]);
	x86_modrm_reg(e, reg, rm);
}

static inline void x86_op_rm(struct x86_emit *e, bool w, const uint8_t *op, unsigned n, int reg,
                             struct x86_mem m)
{
	x86_rex(e, w, reg, m.base, 0);
	for (unsigned i = 0; i < n; i++)
		x86_byte(e, op[i]);
	x86_modrm_mem(e, reg, m);
}

/* ---- moves ---------------------------------------------------------------- */

static inline void x86_mov_rr(struct x86_emit *e, enum x86_reg dst, enum x86_reg src)
{
	if (dst != src)
		x86_op_rr(e, true, (const uint8_t[]){0x89}, 1, src, dst);
}

static inline void x86_mov_r32r32(struct x86_emit *e, enum x86_reg dst, enum x86_reg src)
{
	x86_op_rr(e, false, (const uint8_t[]){0x89}, 1, src, dst);
}

/* dst = imm, with the shortest encoding. */
static inline void x86_mov_ri(struct x86_emit *e, enum x86_reg dst, uint64_t imm)
{
	if (imm == 0) { /* xor r32, r32 (clobbers the flags) */
		x86_op_rr(e, false, (const uint8_t[]){0x31}, 1, dst, dst);
	} else if (imm <= UINT32_MAX) { /* mov r32, imm32 zero-extends */
		x86_rex(e, false, 0, dst, 0);
		x86_byte(e, (uint8_t)(0xb8 + (dst & 7)));
		x86_u32(e, (uint32_t)imm);
	} else if (x86_fits_i32((int64_t)imm)) { /* mov r/m64, simm32 */
		x86_rex(e, true, 0, dst, 0);
		x86_byte(e, 0xc7);
		x86_modrm_reg(e, 0, dst);
		x86_u32(e, (uint32_t)imm);
	} else {
		x86_rex(e, true, 0, dst, 0);
		x86_byte(e, (uint8_t)(0xb8 + (dst & 7)));
		x86_u64(e, imm);
	}
}

/* movabs dst, imm64 whatever the value; returns the immediate's field for patching. */
static inline uint8_t *x86_movabs(struct x86_emit *e, enum x86_reg dst, uint64_t imm)
{
	uint8_t *f;

	x86_rex(e, true, 0, dst, 0);
	x86_byte(e, (uint8_t)(0xb8 + (dst & 7)));
	f = e->p;
	x86_u64(e, imm);
	return f;
}

/* dst = imm without touching the flags. */
static inline void x86_mov_ri_keepflags(struct x86_emit *e, enum x86_reg dst, uint64_t imm)
{
	if (imm == 0) {
		x86_rex(e, false, 0, dst, 0);
		x86_byte(e, (uint8_t)(0xb8 + (dst & 7)));
		x86_u32(e, 0);
	} else {
		x86_mov_ri(e, dst, imm);
	}
}

/* 64-bit load. */
static inline void x86_mov_rm(struct x86_emit *e, enum x86_reg dst, struct x86_mem m)
{
	x86_op_rm(e, true, (const uint8_t[]){0x8b}, 1, dst, m);
}

/* 64-bit store. */
static inline void x86_mov_mr(struct x86_emit *e, struct x86_mem m, enum x86_reg src)
{
	x86_op_rm(e, true, (const uint8_t[]){0x89}, 1, src, m);
}

/* Load of size bytes into a 64-bit register, sign- or zero-extended. */
static inline void x86_load(struct x86_emit *e, unsigned size, bool sign, enum x86_reg dst,
                            struct x86_mem m)
{
	switch (size) {
	case 1:
		x86_op_rm(e, sign,
		          sign ? (const uint8_t[]){0x0f, 0xbe} : (const uint8_t[]){0x0f, 0xb6}, 2,
		          dst, m);
		break;
	case 2:
		x86_op_rm(e, sign,
		          sign ? (const uint8_t[]){0x0f, 0xbf} : (const uint8_t[]){0x0f, 0xb7}, 2,
		          dst, m);
		break;
	case 4:
		if (sign) /* movsxd */
			x86_op_rm(e, true, (const uint8_t[]){0x63}, 1, dst, m);
		else /* mov r32 zero-extends */
			x86_op_rm(e, false, (const uint8_t[]){0x8b}, 1, dst, m);
		break;
	default:
		x86_mov_rm(e, dst, m);
		break;
	}
}

/* Store the low size bytes of src. */
static inline void x86_store(struct x86_emit *e, unsigned size, struct x86_mem m, enum x86_reg src)
{
	switch (size) {
	case 1:
		x86_rex(e, false, src, m.base, X86_BYTE_REG);
		x86_byte(e, 0x88);
		x86_modrm_mem(e, src, m);
		break;
	case 2:
		x86_byte(e, 0x66);
		x86_op_rm(e, false, (const uint8_t[]){0x89}, 1, src, m);
		break;
	case 4:
		x86_op_rm(e, false, (const uint8_t[]){0x89}, 1, src, m);
		break;
	default:
		x86_mov_mr(e, m, src);
		break;
	}
}

/* 64-bit store of a sign-extended 32-bit immediate. */
static inline void x86_mov_mi(struct x86_emit *e, struct x86_mem m, int32_t imm)
{
	x86_op_rm(e, true, (const uint8_t[]){0xc7}, 1, 0, m);
	x86_u32(e, (uint32_t)imm);
}

/* 32-bit store of an immediate. */
static inline void x86_mov_m32i(struct x86_emit *e, struct x86_mem m, uint32_t imm)
{
	x86_op_rm(e, false, (const uint8_t[]){0xc7}, 1, 0, m);
	x86_u32(e, imm);
}

static inline void x86_lea(struct x86_emit *e, enum x86_reg dst, struct x86_mem m)
{
	x86_op_rm(e, true, (const uint8_t[]){0x8d}, 1, dst, m);
}

/* movsxd dst, src32 */
static inline void x86_movsxd_rr(struct x86_emit *e, enum x86_reg dst, enum x86_reg src)
{
	x86_op_rr(e, true, (const uint8_t[]){0x63}, 1, dst, src);
}

/* movzx dst32, src8 */
static inline void x86_movzx_r8(struct x86_emit *e, enum x86_reg dst, enum x86_reg src)
{
	x86_rex(e, false, dst, src, X86_BYTE_RM);
	x86_byte(e, 0x0f);
	x86_byte(e, 0xb6);
	x86_modrm_reg(e, dst, src);
}

/* ---- arithmetic ------------------------------------------------------------ */

static inline void x86_alu_rr(struct x86_emit *e, enum x86_alu op, bool w, enum x86_reg dst,
                              enum x86_reg src)
{
	x86_op_rr(e, w, (const uint8_t[]){(uint8_t)(op << 3 | 1)}, 1, src, dst);
}

/* dst op= [m] */
static inline void x86_alu_rm(struct x86_emit *e, enum x86_alu op, bool w, enum x86_reg dst,
                              struct x86_mem m)
{
	x86_op_rm(e, w, (const uint8_t[]){(uint8_t)(op << 3 | 3)}, 1, dst, m);
}

/* [m] op= src */
static inline void x86_alu_mr(struct x86_emit *e, enum x86_alu op, bool w, struct x86_mem m,
                              enum x86_reg src)
{
	x86_op_rm(e, w, (const uint8_t[]){(uint8_t)(op << 3 | 1)}, 1, src, m);
}

static inline void x86_alu_ri(struct x86_emit *e, enum x86_alu op, bool w, enum x86_reg dst,
                              int32_t imm)
{
	if (x86_fits_i8(imm)) {
		x86_op_rr(e, w, (const uint8_t[]){0x83}, 1, op, dst);
		x86_byte(e, (uint8_t)(int8_t)imm);
	} else {
		x86_op_rr(e, w, (const uint8_t[]){0x81}, 1, op, dst);
		x86_u32(e, (uint32_t)imm);
	}
}

static inline void x86_alu_mi(struct x86_emit *e, enum x86_alu op, bool w, struct x86_mem m,
                              int32_t imm)
{
	if (x86_fits_i8(imm)) {
		x86_op_rm(e, w, (const uint8_t[]){0x83}, 1, op, m);
		x86_byte(e, (uint8_t)(int8_t)imm);
	} else {
		x86_op_rm(e, w, (const uint8_t[]){0x81}, 1, op, m);
		x86_u32(e, (uint32_t)imm);
	}
}

static inline void x86_test_rr(struct x86_emit *e, bool w, enum x86_reg a, enum x86_reg b)
{
	x86_op_rr(e, w, (const uint8_t[]){0x85}, 1, b, a);
}

/* test dword [m], imm32 */
static inline void x86_test_m32i(struct x86_emit *e, struct x86_mem m, uint32_t imm)
{
	x86_op_rm(e, false, (const uint8_t[]){0xf7}, 1, 0, m);
	x86_u32(e, imm);
}

static inline void x86_shift_ri(struct x86_emit *e, enum x86_shift op, bool w, enum x86_reg dst,
                                unsigned n)
{
	x86_op_rr(e, w, (const uint8_t[]){0xc1}, 1, op, dst);
	x86_byte(e, (uint8_t)n);
}

/* dst shifted by cl */
static inline void x86_shift_rcl(struct x86_emit *e, enum x86_shift op, bool w, enum x86_reg dst)
{
	x86_op_rr(e, w, (const uint8_t[]){0xd3}, 1, op, dst);
}

/* dst *= src (signed, low half) */
static inline void x86_imul_rr(struct x86_emit *e, bool w, enum x86_reg dst, enum x86_reg src)
{
	x86_op_rr(e, w, (const uint8_t[]){0x0f, 0xaf}, 2, dst, src);
}

static inline void x86_imul_rm(struct x86_emit *e, bool w, enum x86_reg dst, struct x86_mem m)
{
	x86_op_rm(e, w, (const uint8_t[]){0x0f, 0xaf}, 2, dst, m);
}

/* The F7 group on a register: 2 not, 3 neg, 4 mul, 5 imul, 6 div, 7 idiv. */
static inline void x86_grp3_r(struct x86_emit *e, unsigned digit, bool w, enum x86_reg r)
{
	x86_op_rr(e, w, (const uint8_t[]){0xf7}, 1, (int)digit, r);
}

static inline void x86_cqo(struct x86_emit *e)
{
	x86_byte(e, 0x48);
	x86_byte(e, 0x99);
}

static inline void x86_cdq(struct x86_emit *e)
{
	x86_byte(e, 0x99);
}

static inline void x86_setcc(struct x86_emit *e, enum x86_cc cc, enum x86_reg dst)
{
	x86_rex(e, false, 0, dst, X86_BYTE_RM);
	x86_byte(e, 0x0f);
	x86_byte(e, (uint8_t)(0x90 | cc));
	x86_modrm_reg(e, 0, dst);
}

static inline void x86_cmov_rr(struct x86_emit *e, enum x86_cc cc, bool w, enum x86_reg dst,
                               enum x86_reg src)
{
	x86_op_rr(e, w, (const uint8_t[]){0x0f, (uint8_t)(0x40 | cc)}, 2, dst, src);
}

/* ---- control flow ------------------------------------------------------------ */

/*
 * Jumps take their target later: they return the address of their rel32
 * field for x86_patch_rel32(). `at` is where e->p was when the field was
 * written (the writable view); the displacement is relative to the end of
 * the field, which is the same in both views.
 */
static inline uint8_t *x86_jmp_rel32(struct x86_emit *e)
{
	uint8_t *f;

	x86_byte(e, 0xe9);
	f = e->p;
	x86_u32(e, 0);
	return f;
}

static inline uint8_t *x86_jcc_rel32(struct x86_emit *e, enum x86_cc cc)
{
	uint8_t *f;

	x86_byte(e, 0x0f);
	x86_byte(e, (uint8_t)(0x80 | cc));
	f = e->p;
	x86_u32(e, 0);
	return f;
}

/* Point the rel32 field at `field` (writable view) to `target` (same view). */
static inline void x86_patch_rel32(uint8_t *field, const uint8_t *target)
{
	int32_t rel = (int32_t)(target - (field + 4));

	memcpy(field, &rel, 4);
}

/* call rel32: returns the field, like the jumps. */
static inline uint8_t *x86_call_rel32(struct x86_emit *e)
{
	uint8_t *f;

	x86_byte(e, 0xe8);
	f = e->p;
	x86_u32(e, 0);
	return f;
}

/* jmp/call through a register */
static inline void x86_jmp_r(struct x86_emit *e, enum x86_reg r)
{
	x86_op_rr(e, false, (const uint8_t[]){0xff}, 1, 4, r);
}

static inline void x86_call_r(struct x86_emit *e, enum x86_reg r)
{
	x86_op_rr(e, false, (const uint8_t[]){0xff}, 1, 2, r);
}

/* jmp qword [m] */
static inline void x86_jmp_m(struct x86_emit *e, struct x86_mem m)
{
	x86_op_rm(e, false, (const uint8_t[]){0xff}, 1, 4, m);
}

static inline void x86_push(struct x86_emit *e, enum x86_reg r)
{
	x86_rex(e, false, 0, r, 0);
	x86_byte(e, (uint8_t)(0x50 + (r & 7)));
}

static inline void x86_pop(struct x86_emit *e, enum x86_reg r)
{
	x86_rex(e, false, 0, r, 0);
	x86_byte(e, (uint8_t)(0x58 + (r & 7)));
}

static inline void x86_ret(struct x86_emit *e)
{
	x86_byte(e, 0xc3);
}

static inline void x86_mfence(struct x86_emit *e)
{
	x86_byte(e, 0x0f);
	x86_byte(e, 0xae);
	x86_byte(e, 0xf0);
}

/* Pad with one-byte nops until e->p + skew is a multiple of align. */
static inline void x86_align(struct x86_emit *e, unsigned align, unsigned skew)
{
	while (((uintptr_t)(e->p + skew) & (align - 1)) != 0 && !e->overflow)
		x86_byte(e, 0x90);
}

/* ---- SSE2 scalar floating point ---------------------------------------------- */

/* prefix (F2 double, F3 single, 66, or 0 none), 0F, op, then ModRM with a memory operand. */
static inline void x86_sse_rm(struct x86_emit *e, uint8_t prefix, bool w, uint8_t op,
                              enum x86_xmm reg, struct x86_mem m)
{
	if (prefix)
		x86_byte(e, prefix);
	x86_rex(e, w, reg, m.base, 0);
	x86_byte(e, 0x0f);
	x86_byte(e, op);
	x86_modrm_mem(e, reg, m);
}

static inline void x86_sse_rr(struct x86_emit *e, uint8_t prefix, bool w, uint8_t op, int reg,
                              int rm)
{
	if (prefix)
		x86_byte(e, prefix);
	x86_rex(e, w, reg, rm, 0);
	x86_byte(e, 0x0f);
	x86_byte(e, op);
	x86_modrm_reg(e, reg, rm);
}

#define SSE_SD      0xf2 /* scalar double prefix */
#define SSE_SS      0xf3 /* scalar single prefix */
#define SSE_MOVLOAD 0x10 /* movsd/movss xmm, m */
#define SSE_MOVSTOR 0x11 /* movsd/movss m, xmm */
#define SSE_SQRT    0x51
#define SSE_ADD     0x58
#define SSE_MUL     0x59
#define SSE_SUB     0x5c
#define SSE_DIV     0x5e
#define SSE_UCOMI   0x2e /* with prefix 66 for double, none for single */
#define SSE_COMI    0x2f

#endif
