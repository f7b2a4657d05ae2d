/* SPDX-License-Identifier: MIT */
/*
 * Translation of integer computation (RV64I and M): one short x86-64 sequence
 * per instruction, computed in the destination's pinned register when it has
 * one (or rax, then stored), sources as register, memory or immediate
 * operands (tr.h). Division gets RISC-V's results where x86 would fault.
 */
#include "vm/emu/riscv64/jit/tr.h"

/* rd = rs1 op rs2 (w32: on the low 32 bits, result sign-extended). */
static void op_alu(struct tr *t, const struct rv_insn *d, enum x86_alu op, bool w32)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	/* Computing in rd's register would overwrite rs2 before it is read. */
	if (r != RAX && jit_pinned_reg(d->rs2) == r && d->rs1 != d->rs2)
		r = RAX;
	if (w32)
		x86_mov_r32r32(&t->e, r, src(t, d->rs1, r));
	else
		x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	alu_with(t, op, !w32, r, d->rs2);
	if (w32)
		x86_movsxd_rr(&t->e, r, r);
	put(t, d->rd, r);
}

/* rd = rs1 op imm */
static void op_alu_imm(struct tr *t, const struct rv_insn *d, enum x86_alu op)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	x86_alu_ri(&t->e, op, true, r, d->imm);
	put(t, d->rd, r);
}

static void op_addi(struct tr *t, const struct rv_insn *d, bool w32)
{
	enum x86_reg r = dst(d->rd), a;

	if (d->rd == RV_REG_SINK)
		return;
	if (d->rs1 == 0) {
		x86_mov_ri(&t->e, r, (uint64_t)(int64_t)d->imm);
	} else {
		a = src(t, d->rs1, r);
		if (w32 && d->imm == 0) { /* sext.w */
			x86_movsxd_rr(&t->e, r, a);
		} else if (w32) {
			x86_lea(&t->e, r, x86_m(a, d->imm));
			x86_movsxd_rr(&t->e, r, r);
		} else if (d->imm == 0) {
			x86_mov_rr(&t->e, r, a);
		} else {
			x86_lea(&t->e, r, x86_m(a, d->imm));
		}
	}
	put(t, d->rd, r);
}

static void op_shift_imm(struct tr *t, const struct rv_insn *d, enum x86_shift op, bool w32)
{
	enum x86_reg r = dst(d->rd);

	if (d->rd == RV_REG_SINK)
		return;
	if (w32)
		x86_mov_r32r32(&t->e, r, src(t, d->rs1, r));
	else
		x86_mov_rr(&t->e, r, src(t, d->rs1, r));
	x86_shift_ri(&t->e, op, !w32, r, (unsigned)d->imm & (w32 ? 31 : 63));
	if (w32)
		x86_movsxd_rr(&t->e, r, r);
	put(t, d->rd, r);
}

/* Shifts by a register: the count goes to cl; x86 masks it exactly as RISC-V does. */
static void op_shift(struct tr *t, const struct rv_insn *d, enum x86_shift op, bool w32)
{
	if (d->rd == RV_REG_SINK)
		return;
	x86_mov_rr(&t->e, RCX, src(t, d->rs2, RCX));
	if (w32)
		x86_mov_r32r32(&t->e, RAX, src(t, d->rs1, RAX));
	else
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
	x86_shift_rcl(&t->e, op, !w32, RAX);
	if (w32)
		x86_movsxd_rr(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

/* rd = (rs1 < rs2 or imm) as 0/1 */
static void op_slt(struct tr *t, const struct rv_insn *d, bool imm, bool is_unsigned)
{
	enum x86_reg a;

	if (d->rd == RV_REG_SINK)
		return;
	a = src(t, d->rs1, RCX);
	if (imm)
		x86_alu_ri(&t->e, ALU_CMP, true, a, d->imm);
	else
		alu_with(t, ALU_CMP, true, a, d->rs2);
	x86_setcc(&t->e, is_unsigned ? CC_B : CC_L, RAX);
	x86_movzx_r8(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

/* mul, mulw, mulh, mulhu, mulhsu */
static void op_mul(struct tr *t, const struct rv_insn *d)
{
	if (d->rd == RV_REG_SINK)
		return;
	switch (d->op) {
	case RV_OP_MUL:
	case RV_OP_MULW: {
		bool w32 = d->op == RV_OP_MULW;
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
		if (d->rs2 == 0)
			x86_mov_ri(&t->e, RAX, 0);
		else if (is_pinned(d->rs2))
			x86_imul_rr(&t->e, !w32, RAX, jit_pinned_reg(d->rs2));
		else
			x86_imul_rm(&t->e, !w32, RAX, JIT_XREG(d->rs2));
		if (w32)
			x86_movsxd_rr(&t->e, RAX, RAX);
		put(t, d->rd, RAX);
		return;
	}
	case RV_OP_MULHSU:
		/* high(signed a * unsigned b) = high_u(a, b) - (a < 0 ? b : 0) */
		x86_mov_rr(&t->e, RCX, src(t, d->rs1, RCX));
		x86_mov_rr(&t->e, RAX, RCX);
		x86_shift_ri(&t->e, SH_SAR, true, RCX, 63);
		x86_mov_rr(&t->e, RSI, src(t, d->rs2, RSI));
		x86_alu_rr(&t->e, ALU_AND, true, RCX, RSI);
		x86_grp3_r(&t->e, 4, true, RSI); /* mul rsi: rdx:rax = rax * rsi */
		x86_alu_rr(&t->e, ALU_SUB, true, RDX, RCX);
		put(t, d->rd, RDX);
		return;
	default: /* MULH, MULHU */
		x86_mov_rr(&t->e, RSI, src(t, d->rs2, RSI));
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
		x86_grp3_r(&t->e, d->op == RV_OP_MULH ? 5 : 4, true, RSI);
		put(t, d->rd, RDX);
		return;
	}
}

/*
 * div/rem (signed and unsigned, 64- and 32-bit) with RISC-V's results where
 * x86 would fault: x / 0 = all ones, x % 0 = x, MIN / -1 = MIN, MIN % -1 = 0.
 */
static void op_div(struct tr *t, const struct rv_insn *d)
{
	bool is_signed = d->op == RV_OP_DIV || d->op == RV_OP_REM || d->op == RV_OP_DIVW ||
	                 d->op == RV_OP_REMW;
	bool rem = d->op == RV_OP_REM || d->op == RV_OP_REMU || d->op == RV_OP_REMW ||
	           d->op == RV_OP_REMUW;
	bool w32 = d->op >= RV_OP_DIVW;
	uint8_t *zero, *minus1 = NULL, *done1, *done2 = NULL;

	if (d->rd == RV_REG_SINK)
		return;
	if (w32) {
		x86_mov_r32r32(&t->e, RCX, src(t, d->rs2, RCX));
		x86_mov_r32r32(&t->e, RAX, src(t, d->rs1, RAX));
	} else {
		x86_mov_rr(&t->e, RCX, src(t, d->rs2, RCX));
		x86_mov_rr(&t->e, RAX, src(t, d->rs1, RAX));
	}
	x86_test_rr(&t->e, !w32, RCX, RCX);
	zero = jcc8(t, CC_E);
	if (is_signed) {
		x86_alu_ri(&t->e, ALU_CMP, !w32, RCX, -1);
		minus1 = jcc8(t, CC_E);
		if (w32)
			x86_cdq(&t->e);
		else
			x86_cqo(&t->e);
		x86_grp3_r(&t->e, 7, !w32, RCX); /* idiv */
	} else {
		x86_mov_ri(&t->e, RDX, 0);
		x86_grp3_r(&t->e, 6, !w32, RCX); /* div */
	}
	if (rem)
		x86_mov_rr(&t->e, RAX, RDX);
	done1 = jmp8(t);
	if (is_signed) {
		/* divisor -1: quotient -x (MIN stays MIN), remainder 0 */
		land8(t, minus1);
		if (rem)
			x86_mov_ri(&t->e, RAX, 0);
		else
			x86_grp3_r(&t->e, 3, !w32, RAX); /* neg */
		done2 = jmp8(t);
	}
	/* divisor 0: quotient all ones, remainder the dividend (already in rax) */
	land8(t, zero);
	if (!rem)
		x86_mov_ri(&t->e, RAX, ~0ull);
	land8(t, done1);
	if (done2)
		land8(t, done2);
	if (w32)
		x86_movsxd_rr(&t->e, RAX, RAX);
	put(t, d->rd, RAX);
}

bool tr_alu(struct tr *t, const struct rv_insn *d)
{
	switch (d->op) {
	case RV_OP_LUI:
		op_lui(t, d, (uint64_t)(int64_t)d->imm);
		break;
	case RV_OP_AUIPC:
		op_lui(t, d, t->pc + (uint64_t)(int64_t)d->imm);
		break;
	case RV_OP_ADDI:
		op_addi(t, d, false);
		break;
	case RV_OP_ADDIW:
		op_addi(t, d, true);
		break;
	case RV_OP_SLTI:
		op_slt(t, d, true, false);
		break;
	case RV_OP_SLTIU:
		op_slt(t, d, true, true);
		break;
	case RV_OP_XORI:
		op_alu_imm(t, d, ALU_XOR);
		break;
	case RV_OP_ORI:
		op_alu_imm(t, d, ALU_OR);
		break;
	case RV_OP_ANDI:
		op_alu_imm(t, d, ALU_AND);
		break;
	case RV_OP_SLLI:
		op_shift_imm(t, d, SH_SHL, false);
		break;
	case RV_OP_SRLI:
		op_shift_imm(t, d, SH_SHR, false);
		break;
	case RV_OP_SRAI:
		op_shift_imm(t, d, SH_SAR, false);
		break;
	case RV_OP_SLLIW:
		op_shift_imm(t, d, SH_SHL, true);
		break;
	case RV_OP_SRLIW:
		op_shift_imm(t, d, SH_SHR, true);
		break;
	case RV_OP_SRAIW:
		op_shift_imm(t, d, SH_SAR, true);
		break;
	case RV_OP_ADD:
		op_alu(t, d, ALU_ADD, false);
		break;
	case RV_OP_SUB:
		op_alu(t, d, ALU_SUB, false);
		break;
	case RV_OP_XOR:
		op_alu(t, d, ALU_XOR, false);
		break;
	case RV_OP_OR:
		op_alu(t, d, ALU_OR, false);
		break;
	case RV_OP_AND:
		op_alu(t, d, ALU_AND, false);
		break;
	case RV_OP_ADDW:
		op_alu(t, d, ALU_ADD, true);
		break;
	case RV_OP_SUBW:
		op_alu(t, d, ALU_SUB, true);
		break;
	case RV_OP_SLT:
		op_slt(t, d, false, false);
		break;
	case RV_OP_SLTU:
		op_slt(t, d, false, true);
		break;
	case RV_OP_SLL:
		op_shift(t, d, SH_SHL, false);
		break;
	case RV_OP_SRL:
		op_shift(t, d, SH_SHR, false);
		break;
	case RV_OP_SRA:
		op_shift(t, d, SH_SAR, false);
		break;
	case RV_OP_SLLW:
		op_shift(t, d, SH_SHL, true);
		break;
	case RV_OP_SRLW:
		op_shift(t, d, SH_SHR, true);
		break;
	case RV_OP_SRAW:
		op_shift(t, d, SH_SAR, true);
		break;
	case RV_OP_MUL:
	case RV_OP_MULH:
	case RV_OP_MULHSU:
	case RV_OP_MULHU:
	case RV_OP_MULW:
		op_mul(t, d);
		break;
	case RV_OP_DIV:
	case RV_OP_DIVU:
	case RV_OP_REM:
	case RV_OP_REMU:
	case RV_OP_DIVW:
	case RV_OP_DIVUW:
	case RV_OP_REMW:
	case RV_OP_REMUW:
		op_div(t, d);
		break;
	default:
		return false;
	}
	return true;
}
