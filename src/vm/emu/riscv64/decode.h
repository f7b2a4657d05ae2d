/* SPDX-License-Identifier: MIT */
/*
 * RV64GC instruction decoding: raw bits (32-bit or compressed) to one
 * struct rv_insn the interpreter dispatches on. Compressed instructions are
 * expanded to their 32-bit equivalents (len = 2).
 *
 * rv_decode() is a pure function of the raw bits: the interpreter memoizes
 * its results in a small table indexed by pc and re-validates each entry by
 * comparing its raw bits with the bytes in memory at every execution, so a
 * decoded instruction can never be stale (self-modifying code, DMA, fence.i
 * need no invalidation).
 *
 * Register fields: an integer destination x0 is decoded as 32, a sink
 * register slot, so that handlers write x[rd] unconditionally. FP register
 * fields are 0..31 as encoded.
 */
#ifndef VK_VM_EMU_RISCV64_DECODE_H
#define VK_VM_EMU_RISCV64_DECODE_H

#include <stdint.h>

#define RV_REG_SINK 32

/* clang-format off */
/* Integer, control and system operations: each has its own interpreter handler. */
#define RV_OPS_MAIN(X) \
	X(ILLEGAL) \
	X(LUI) X(AUIPC) X(JAL) X(JALR) X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
	X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) X(SB) X(SH) X(SW) X(SD) \
	X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
	X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
	X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
	X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
	X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
	X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) \
	X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) \
	X(FLW) X(FLD) X(FSW) X(FSD)

/* A extension: one shared handler (rv_amo). */
#define RV_OPS_AMO(X) \
	X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) \
	X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) \
	X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) \
	X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D)

/* F and D computation (not loads/stores): one shared handler (rv_fp_exec). The D list
 * mirrors the S list entry by entry. */
#define RV_OPS_FP(X) \
	X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S) X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) \
	X(FSQRT_S) X(FSGNJ_S) X(FSGNJN_S) X(FSGNJX_S) X(FMIN_S) X(FMAX_S) \
	X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S) X(FMV_X_W) X(FEQ_S) X(FLT_S) X(FLE_S) \
	X(FCLASS_S) X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU) X(FMV_W_X) \
	X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D) X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) \
	X(FSQRT_D) X(FSGNJ_D) X(FSGNJN_D) X(FSGNJX_D) X(FMIN_D) X(FMAX_D) \
	X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D) X(FMV_X_D) X(FEQ_D) X(FLT_D) X(FLE_D) \
	X(FCLASS_D) X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU) X(FMV_D_X) \
	X(FCVT_S_D) X(FCVT_D_S)
/* clang-format on */

#define RV_OP_ENUM_(name) RV_OP_##name,
enum rv_op { RV_OPS_MAIN(RV_OP_ENUM_) RV_OPS_AMO(RV_OP_ENUM_) RV_OPS_FP(RV_OP_ENUM_) RV_OP_COUNT };
#undef RV_OP_ENUM_

struct rv_insn {
	uint32_t raw; /* the bits given to rv_decode (compressed: the low 16 count) */
	uint8_t op;   /* enum rv_op */
	uint8_t rd, rs1, rs2;
	int32_t imm; /* immediate, sign-extended; CSR number for CSR ops; shamt for shifts */
	uint8_t rs3;
	uint8_t rm;  /* FP rounding mode field (7 = dynamic) or sub-function */
	uint8_t len; /* 2 or 4 */
	uint8_t pad;
};

/* Decode raw (bits beyond a compressed instruction's 16 are ignored then). */
void rv_decode(struct rv_insn *d, uint32_t raw);

/* Length of the instruction whose low bits are given: 2 or 4. */
static inline unsigned rv_insn_len(uint32_t raw)
{
	return (raw & 3) == 3 ? 4 : 2;
}

/* "ADDI", ..., for tests and messages. */
const char *rv_op_name(unsigned op);

#endif
