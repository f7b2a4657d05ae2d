/* SPDX-License-Identifier: MIT */
/*
 * The RV64GC decoder: 32-bit encodings (RISC-V unprivileged spec, chapter 34
 * opcode map) and the compressed ones (chapter 16), which are expanded into
 * the same operations. Reserved encodings decode to RV_OP_ILLEGAL; HINTs
 * decode to their base instruction writing the sink register.
 */
#include "vm/emu/riscv64/decode.h"

#include <string.h>

static inline int32_t sext(uint32_t v, unsigned bits)
{
	uint32_t m = 1u << (bits - 1);

	v &= (bits == 32) ? ~0u : ((1u << bits) - 1);
	return (int32_t)((v ^ m) - m);
}

static inline unsigned bits(uint32_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline uint8_t xrd(unsigned r)
{
	return r ? (uint8_t)r : RV_REG_SINK;
}

static void set(struct rv_insn *d, enum rv_op op, unsigned rd, unsigned rs1, unsigned rs2,
                int32_t imm)
{
	d->op = (uint8_t)op;
	d->rd = (uint8_t)rd;
	d->rs1 = (uint8_t)rs1;
	d->rs2 = (uint8_t)rs2;
	d->imm = imm;
}

/* Valid static or dynamic rounding mode field (5 and 6 are reserved). */
static inline int rm_ok(unsigned rm)
{
	return rm <= 4 || rm == 7;
}

static void decode_op_fp(struct rv_insn *d, uint32_t raw)
{
	unsigned f7 = bits(raw, 31, 25), rs2 = bits(raw, 24, 20), f3 = bits(raw, 14, 12);
	unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
	unsigned dbl = f7 & 1, fmt = f7 & 3;
	enum rv_op op = RV_OP_ILLEGAL;
	int int_rd = 0;

	if (fmt > 1)
		return;
	switch (f7 >> 2) {
	case 0x00: /* fadd */
		op = dbl ? RV_OP_FADD_D : RV_OP_FADD_S;
		break;
	case 0x01:
		op = dbl ? RV_OP_FSUB_D : RV_OP_FSUB_S;
		break;
	case 0x02:
		op = dbl ? RV_OP_FMUL_D : RV_OP_FMUL_S;
		break;
	case 0x03:
		op = dbl ? RV_OP_FDIV_D : RV_OP_FDIV_S;
		break;
	case 0x0b: /* fsqrt */
		if (rs2 == 0)
			op = dbl ? RV_OP_FSQRT_D : RV_OP_FSQRT_S;
		break;
	case 0x04: /* fsgnj */
		if (f3 <= 2)
			op = (dbl ? RV_OP_FSGNJ_D : RV_OP_FSGNJ_S) + f3;
		break;
	case 0x05: /* fmin/fmax */
		if (f3 <= 1)
			op = (dbl ? RV_OP_FMIN_D : RV_OP_FMIN_S) + f3;
		break;
	case 0x08: /* fcvt.s.d (fmt S, rs2 = 1) / fcvt.d.s (fmt D, rs2 = 0) */
		if (!dbl && rs2 == 1)
			op = RV_OP_FCVT_S_D;
		else if (dbl && rs2 == 0)
			op = RV_OP_FCVT_D_S;
		break;
	case 0x18: /* fcvt.{w,wu,l,lu}.{s,d} */
		if (rs2 <= 3) {
			op = (dbl ? RV_OP_FCVT_W_D : RV_OP_FCVT_W_S) + rs2;
			int_rd = 1;
		}
		break;
	case 0x1a: /* fcvt.{s,d}.{w,wu,l,lu} */
		if (rs2 <= 3)
			op = (dbl ? RV_OP_FCVT_D_W : RV_OP_FCVT_S_W) + rs2;
		break;
	case 0x1c: /* fmv.x.{w,d} / fclass */
		if (rs2 == 0 && f3 == 0)
			op = dbl ? RV_OP_FMV_X_D : RV_OP_FMV_X_W;
		else if (rs2 == 0 && f3 == 1)
			op = dbl ? RV_OP_FCLASS_D : RV_OP_FCLASS_S;
		int_rd = 1;
		break;
	case 0x14: /* feq/flt/fle */
		if (f3 == 2)
			op = dbl ? RV_OP_FEQ_D : RV_OP_FEQ_S;
		else if (f3 == 1)
			op = dbl ? RV_OP_FLT_D : RV_OP_FLT_S;
		else if (f3 == 0)
			op = dbl ? RV_OP_FLE_D : RV_OP_FLE_S;
		int_rd = 1;
		break;
	case 0x1e: /* fmv.{w,d}.x */
		if (rs2 == 0 && f3 == 0)
			op = dbl ? RV_OP_FMV_D_X : RV_OP_FMV_W_X;
		break;
	default:
		break;
	}
	if (op == RV_OP_ILLEGAL)
		return;
	/* Operations whose funct3 is a rounding mode. */
	switch (f7 >> 2) {
	case 0x00:
	case 0x01:
	case 0x02:
	case 0x03:
	case 0x0b:
	case 0x08:
	case 0x18:
	case 0x1a:
		if (!rm_ok(f3))
			return;
		break;
	default:
		break;
	}
	set(d, op, int_rd ? xrd(rd) : rd, rs1, rs2, 0);
	d->rm = (uint8_t)f3;
}

static void decode_amo(struct rv_insn *d, uint32_t raw)
{
	static const signed char f5_to_op[32] = {
	        [0x00] = RV_OP_AMOADD_W - RV_OP_LR_W,
	        [0x01] = RV_OP_AMOSWAP_W - RV_OP_LR_W,
	        [0x02] = 0,
	        [0x03] = RV_OP_SC_W - RV_OP_LR_W,
	        [0x04] = RV_OP_AMOXOR_W - RV_OP_LR_W,
	        [0x08] = RV_OP_AMOOR_W - RV_OP_LR_W,
	        [0x0c] = RV_OP_AMOAND_W - RV_OP_LR_W,
	        [0x10] = RV_OP_AMOMIN_W - RV_OP_LR_W,
	        [0x14] = RV_OP_AMOMAX_W - RV_OP_LR_W,
	        [0x18] = RV_OP_AMOMINU_W - RV_OP_LR_W,
	        [0x1c] = RV_OP_AMOMAXU_W - RV_OP_LR_W,
	};
	unsigned f3 = bits(raw, 14, 12), f5 = bits(raw, 31, 27), rs2 = bits(raw, 24, 20);
	unsigned base;

	if (f3 != 2 && f3 != 3)
		return;
	if (f5 != 0x02 && f5_to_op[f5] == 0)
		return;
	if (f5 == 0x02 && rs2 != 0)
		return;
	base = f3 == 2 ? RV_OP_LR_W : RV_OP_LR_D;
	set(d, (enum rv_op)(base + (unsigned)f5_to_op[f5]), xrd(bits(raw, 11, 7)),
	    bits(raw, 19, 15), rs2, 0);
}

static void decode_system(struct rv_insn *d, uint32_t raw)
{
	unsigned f3 = bits(raw, 14, 12), rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);

	if (f3 == 0) {
		switch (raw) {
		case 0x00000073:
			set(d, RV_OP_ECALL, RV_REG_SINK, 0, 0, 0);
			return;
		case 0x00100073:
			set(d, RV_OP_EBREAK, RV_REG_SINK, 0, 0, 0);
			return;
		case 0x10200073:
			set(d, RV_OP_SRET, RV_REG_SINK, 0, 0, 0);
			return;
		case 0x30200073:
			set(d, RV_OP_MRET, RV_REG_SINK, 0, 0, 0);
			return;
		case 0x10500073:
			set(d, RV_OP_WFI, RV_REG_SINK, 0, 0, 0);
			return;
		default:
			break;
		}
		if (bits(raw, 31, 25) == 0x09 && rd == 0)
			set(d, RV_OP_SFENCE_VMA, RV_REG_SINK, rs1, bits(raw, 24, 20), 0);
		return;
	}
	if (f3 == 4)
		return;
	/* csrrw=1 csrrs=2 csrrc=3 csrrwi=5 csrrsi=6 csrrci=7; imm = the CSR number. */
	set(d, (enum rv_op)(RV_OP_CSRRW + (f3 & 3) - 1 + (f3 & 4 ? 3 : 0)), xrd(rd), rs1, 0,
	    (int32_t)bits(raw, 31, 20));
}

static void decode32(struct rv_insn *d, uint32_t raw)
{
	unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15), rs2 = bits(raw, 24, 20);
	unsigned f3 = bits(raw, 14, 12), f7 = bits(raw, 31, 25);
	int32_t imm_i = sext(raw >> 20, 12);
	int32_t imm_s = sext((bits(raw, 31, 25) << 5) | bits(raw, 11, 7), 12);
	int32_t imm_b = sext((bits(raw, 31, 31) << 12) | (bits(raw, 7, 7) << 11) |
	                             (bits(raw, 30, 25) << 5) | (bits(raw, 11, 8) << 1),
	                     13);
	int32_t imm_j = sext((bits(raw, 31, 31) << 20) | (bits(raw, 19, 12) << 12) |
	                             (bits(raw, 20, 20) << 11) | (bits(raw, 30, 21) << 1),
	                     21);

	d->len = 4;
	switch (raw & 0x7f) {
	case 0x03: /* LOAD */
		if (f3 != 7)
			set(d, (enum rv_op)(RV_OP_LB + f3), xrd(rd), rs1, 0, imm_i);
		break;
	case 0x07: /* LOAD-FP */
		if (f3 == 2 || f3 == 3)
			set(d, f3 == 2 ? RV_OP_FLW : RV_OP_FLD, rd, rs1, 0, imm_i);
		break;
	case 0x0f:           /* MISC-MEM */
		if (f3 == 0) /* imm: fm, pred, succ (guest-ram.h's rv_fence) */
			set(d, RV_OP_FENCE, RV_REG_SINK, 0, 0, (int32_t)bits(raw, 31, 20));
		else if (f3 == 1)
			set(d, RV_OP_FENCE_I, RV_REG_SINK, 0, 0, 0);
		break;
	case 0x13: /* OP-IMM */
		switch (f3) {
		case 1:
			if (bits(raw, 31, 26) == 0)
				set(d, RV_OP_SLLI, xrd(rd), rs1, 0, (int32_t)bits(raw, 25, 20));
			break;
		case 5:
			if (bits(raw, 31, 26) == 0)
				set(d, RV_OP_SRLI, xrd(rd), rs1, 0, (int32_t)bits(raw, 25, 20));
			else if (bits(raw, 31, 26) == 0x10)
				set(d, RV_OP_SRAI, xrd(rd), rs1, 0, (int32_t)bits(raw, 25, 20));
			break;
		default: {
			static const enum rv_op ops[8] = {RV_OP_ADDI, 0, RV_OP_SLTI, RV_OP_SLTIU,
			                                  RV_OP_XORI, 0, RV_OP_ORI,  RV_OP_ANDI};
			set(d, ops[f3], xrd(rd), rs1, 0, imm_i);
			break;
		}
		}
		break;
	case 0x17:
		set(d, RV_OP_AUIPC, xrd(rd), 0, 0, (int32_t)(raw & 0xfffff000u));
		break;
	case 0x1b: /* OP-IMM-32 */
		if (f3 == 0)
			set(d, RV_OP_ADDIW, xrd(rd), rs1, 0, imm_i);
		else if (f3 == 1 && f7 == 0)
			set(d, RV_OP_SLLIW, xrd(rd), rs1, 0, (int32_t)rs2);
		else if (f3 == 5 && f7 == 0)
			set(d, RV_OP_SRLIW, xrd(rd), rs1, 0, (int32_t)rs2);
		else if (f3 == 5 && f7 == 0x20)
			set(d, RV_OP_SRAIW, xrd(rd), rs1, 0, (int32_t)rs2);
		break;
	case 0x23: /* STORE */
		if (f3 <= 3)
			set(d, (enum rv_op)(RV_OP_SB + f3), RV_REG_SINK, rs1, rs2, imm_s);
		break;
	case 0x27: /* STORE-FP */
		if (f3 == 2 || f3 == 3)
			set(d, f3 == 2 ? RV_OP_FSW : RV_OP_FSD, RV_REG_SINK, rs1, rs2, imm_s);
		break;
	case 0x2f:
		decode_amo(d, raw);
		break;
	case 0x33: /* OP */
		if (f7 == 0) {
			static const enum rv_op ops[8] = {RV_OP_ADD,  RV_OP_SLL, RV_OP_SLT,
			                                  RV_OP_SLTU, RV_OP_XOR, RV_OP_SRL,
			                                  RV_OP_OR,   RV_OP_AND};
			set(d, ops[f3], xrd(rd), rs1, rs2, 0);
		} else if (f7 == 1) {
			set(d, (enum rv_op)(RV_OP_MUL + f3), xrd(rd), rs1, rs2, 0);
		} else if (f7 == 0x20 && (f3 == 0 || f3 == 5)) {
			set(d, f3 == 0 ? RV_OP_SUB : RV_OP_SRA, xrd(rd), rs1, rs2, 0);
		}
		break;
	case 0x37:
		set(d, RV_OP_LUI, xrd(rd), 0, 0, (int32_t)(raw & 0xfffff000u));
		break;
	case 0x3b: /* OP-32 */
		if (f7 == 0 && (f3 == 0 || f3 == 1 || f3 == 5))
			set(d,
			    f3 == 0   ? RV_OP_ADDW
			    : f3 == 1 ? RV_OP_SLLW
			              : RV_OP_SRLW,
			    xrd(rd), rs1, rs2, 0);
		else if (f7 == 0x20 && (f3 == 0 || f3 == 5))
			set(d, f3 == 0 ? RV_OP_SUBW : RV_OP_SRAW, xrd(rd), rs1, rs2, 0);
		else if (f7 == 1 && (f3 == 0 || f3 >= 4))
			set(d, f3 == 0 ? RV_OP_MULW : (enum rv_op)(RV_OP_DIVW + f3 - 4), xrd(rd),
			    rs1, rs2, 0);
		break;
	case 0x43: /* FMADD */
	case 0x47: /* FMSUB */
	case 0x4b: /* FNMSUB */
	case 0x4f: /* FNMADD */
		if (bits(raw, 26, 25) <= 1 && rm_ok(f3)) {
			unsigned which = bits(raw, 3, 2);
			enum rv_op base = bits(raw, 25, 25) ? RV_OP_FMADD_D : RV_OP_FMADD_S;
			set(d, (enum rv_op)(base + which), rd, rs1, rs2, 0);
			d->rs3 = (uint8_t)bits(raw, 31, 27);
			d->rm = (uint8_t)f3;
		}
		break;
	case 0x53:
		decode_op_fp(d, raw);
		break;
	case 0x63: /* BRANCH */
		if (f3 != 2 && f3 != 3)
			set(d, (enum rv_op)(RV_OP_BEQ + (f3 < 2 ? f3 : f3 - 2)), RV_REG_SINK, rs1,
			    rs2, imm_b);
		break;
	case 0x67:
		if (f3 == 0)
			set(d, RV_OP_JALR, xrd(rd), rs1, 0, imm_i);
		break;
	case 0x6f:
		set(d, RV_OP_JAL, xrd(rd), 0, 0, imm_j);
		break;
	case 0x73:
		decode_system(d, raw);
		break;
	default:
		break;
	}
}

/* Compressed register fields rd'/rs1'/rs2' name x8..x15 (and f8..f15). */
#define CR(hi, lo) (8 + bits(raw, hi, lo))

static void decode_q0(struct rv_insn *d, uint32_t raw)
{
	unsigned uw = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 6);
	unsigned ud = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6);

	switch (bits(raw, 15, 13)) {
	case 0: { /* c.addi4spn */
		unsigned imm = (bits(raw, 12, 11) << 4) | (bits(raw, 10, 7) << 6) |
		               (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 3);
		if (imm)
			set(d, RV_OP_ADDI, CR(4, 2), 2, 0, (int32_t)imm);
		break;
	}
	case 1:
		set(d, RV_OP_FLD, CR(4, 2), CR(9, 7), 0, (int32_t)ud);
		break;
	case 2:
		set(d, RV_OP_LW, CR(4, 2), CR(9, 7), 0, (int32_t)uw);
		break;
	case 3:
		set(d, RV_OP_LD, CR(4, 2), CR(9, 7), 0, (int32_t)ud);
		break;
	case 5:
		set(d, RV_OP_FSD, RV_REG_SINK, CR(9, 7), CR(4, 2), (int32_t)ud);
		break;
	case 6:
		set(d, RV_OP_SW, RV_REG_SINK, CR(9, 7), CR(4, 2), (int32_t)uw);
		break;
	case 7:
		set(d, RV_OP_SD, RV_REG_SINK, CR(9, 7), CR(4, 2), (int32_t)ud);
		break;
	default: /* 4: reserved */
		break;
	}
}

static void decode_q1(struct rv_insn *d, uint32_t raw)
{
	unsigned rd = bits(raw, 11, 7);
	int32_t imm6 = sext((bits(raw, 12, 12) << 5) | bits(raw, 6, 2), 6);

	switch (bits(raw, 15, 13)) {
	case 0: /* c.addi (rd = 0 or imm = 0: HINT) */
		set(d, RV_OP_ADDI, xrd(rd), rd, 0, imm6);
		break;
	case 1: /* c.addiw */
		if (rd)
			set(d, RV_OP_ADDIW, rd, rd, 0, imm6);
		break;
	case 2: /* c.li */
		set(d, RV_OP_ADDI, xrd(rd), 0, 0, imm6);
		break;
	case 3:
		if (rd == 2) { /* c.addi16sp */
			int32_t imm = sext((bits(raw, 12, 12) << 9) | (bits(raw, 6, 6) << 4) |
			                           (bits(raw, 5, 5) << 6) | (bits(raw, 4, 3) << 7) |
			                           (bits(raw, 2, 2) << 5),
			                   10);
			if (imm)
				set(d, RV_OP_ADDI, 2, 2, 0, imm);
		} else if (imm6) { /* c.lui */
			set(d, RV_OP_LUI, xrd(rd), 0, 0, (int32_t)((uint32_t)imm6 << 12));
		}
		break;
	case 4: {
		unsigned r = CR(9, 7), r2 = CR(4, 2);
		unsigned shamt = (bits(raw, 12, 12) << 5) | bits(raw, 6, 2);
		switch (bits(raw, 11, 10)) {
		case 0:
			set(d, RV_OP_SRLI, r, r, 0, (int32_t)shamt);
			break;
		case 1:
			set(d, RV_OP_SRAI, r, r, 0, (int32_t)shamt);
			break;
		case 2:
			set(d, RV_OP_ANDI, r, r, 0, imm6);
			break;
		default: {
			static const enum rv_op ops[8] = {RV_OP_SUB,     RV_OP_XOR,    RV_OP_OR,
			                                  RV_OP_AND,     RV_OP_SUBW,   RV_OP_ADDW,
			                                  RV_OP_ILLEGAL, RV_OP_ILLEGAL};
			enum rv_op op = ops[(bits(raw, 12, 12) << 2) | bits(raw, 6, 5)];
			if (op != RV_OP_ILLEGAL)
				set(d, op, r, r, r2, 0);
			break;
		}
		}
		break;
	}
	case 5: { /* c.j */
		int32_t off = sext((bits(raw, 12, 12) << 11) | (bits(raw, 11, 11) << 4) |
		                           (bits(raw, 10, 9) << 8) | (bits(raw, 8, 8) << 10) |
		                           (bits(raw, 7, 7) << 6) | (bits(raw, 6, 6) << 7) |
		                           (bits(raw, 5, 3) << 1) | (bits(raw, 2, 2) << 5),
		                   12);
		set(d, RV_OP_JAL, RV_REG_SINK, 0, 0, off);
		break;
	}
	default: { /* 6: c.beqz, 7: c.bnez */
		int32_t off = sext((bits(raw, 12, 12) << 8) | (bits(raw, 11, 10) << 3) |
		                           (bits(raw, 6, 5) << 6) | (bits(raw, 4, 3) << 1) |
		                           (bits(raw, 2, 2) << 5),
		                   9);
		set(d, bits(raw, 13, 13) ? RV_OP_BNE : RV_OP_BEQ, RV_REG_SINK, CR(9, 7), 0, off);
		break;
	}
	}
}

static void decode_q2(struct rv_insn *d, uint32_t raw)
{
	unsigned rd = bits(raw, 11, 7), rs2 = bits(raw, 6, 2);
	unsigned ul = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 5) << 3) | (bits(raw, 4, 2) << 6);
	unsigned uw = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 4) << 2) | (bits(raw, 3, 2) << 6);
	unsigned sd = (bits(raw, 12, 10) << 3) | (bits(raw, 9, 7) << 6);
	unsigned sw = (bits(raw, 12, 9) << 2) | (bits(raw, 8, 7) << 6);

	switch (bits(raw, 15, 13)) {
	case 0: /* c.slli (rd = 0 or shamt = 0: HINT) */
		set(d, RV_OP_SLLI, xrd(rd), rd, 0, (int32_t)((bits(raw, 12, 12) << 5) | rs2));
		break;
	case 1:
		set(d, RV_OP_FLD, rd, 2, 0, (int32_t)ul);
		break;
	case 2:
		if (rd)
			set(d, RV_OP_LW, rd, 2, 0, (int32_t)uw);
		break;
	case 3:
		if (rd)
			set(d, RV_OP_LD, rd, 2, 0, (int32_t)ul);
		break;
	case 4:
		if (!bits(raw, 12, 12)) {
			if (rs2) /* c.mv */
				set(d, RV_OP_ADD, xrd(rd), 0, rs2, 0);
			else if (rd) /* c.jr */
				set(d, RV_OP_JALR, RV_REG_SINK, rd, 0, 0);
		} else {
			if (rs2) /* c.add */
				set(d, RV_OP_ADD, xrd(rd), rd, rs2, 0);
			else if (rd) /* c.jalr */
				set(d, RV_OP_JALR, 1, rd, 0, 0);
			else
				set(d, RV_OP_EBREAK, RV_REG_SINK, 0, 0, 0);
		}
		break;
	case 5:
		set(d, RV_OP_FSD, RV_REG_SINK, 2, rs2, (int32_t)sd);
		break;
	case 6:
		set(d, RV_OP_SW, RV_REG_SINK, 2, rs2, (int32_t)sw);
		break;
	default:
		set(d, RV_OP_SD, RV_REG_SINK, 2, rs2, (int32_t)sd);
		break;
	}
}

void rv_decode(struct rv_insn *d, uint32_t raw)
{
	memset(d, 0, sizeof(*d));
	d->op = RV_OP_ILLEGAL;
	d->rd = RV_REG_SINK;
	d->raw = raw;
	switch (raw & 3) {
	case 0:
		d->len = 2;
		decode_q0(d, raw & 0xffff);
		break;
	case 1:
		d->len = 2;
		decode_q1(d, raw & 0xffff);
		break;
	case 2:
		d->len = 2;
		decode_q2(d, raw & 0xffff);
		break;
	default:
		/* 48-bit and longer encodings (bits 4:2 = 111) are not implemented. */
		if ((raw & 0x1c) != 0x1c)
			decode32(d, raw);
		d->len = 4;
		break;
	}
	/* set() may have left rd of a reserved compressed encoding at 0. */
	if (d->op == RV_OP_ILLEGAL)
		d->rd = RV_REG_SINK;
}

const char *rv_op_name(unsigned op)
{
#define RV_OP_NAME_(name) [RV_OP_##name] = #name,
	static const char *const names[RV_OP_COUNT] = {
	        RV_OPS_MAIN(RV_OP_NAME_) RV_OPS_AMO(RV_OP_NAME_) RV_OPS_FP(RV_OP_NAME_)};
#undef RV_OP_NAME_
	return op < RV_OP_COUNT ? names[op] : "?";
}
