/* SPDX-License-Identifier: MIT */
/* riscv64 decoder fed raw bits: every format, compressed expansions, reserved encodings. */
#include <stdlib.h>

#include "rv-fake-board.h"
#include "vm/emu/riscv64/decode.h"
#include "vm/emu/riscv64/guest-ram.h"

static struct rv_insn dec(uint32_t raw)
{
	struct rv_insn d;

	rv_decode(&d, raw);
	return d;
}

#define assert_insn(raw, op_, rd_, rs1_, rs2_, imm_, len_)                        \
	do {                                                                      \
		struct rv_insn d_ = dec(raw);                                     \
		if (d_.op != (op_))                                               \
			fail_msg("0x%08x decodes to %s, not %s", (unsigned)(raw), \
			         rv_op_name(d_.op), rv_op_name(op_));             \
		assert_int_equal(d_.rd, rd_);                                     \
		assert_int_equal(d_.rs1, rs1_);                                   \
		assert_int_equal(d_.rs2, rs2_);                                   \
		assert_int_equal(d_.imm, imm_);                                   \
		assert_int_equal(d_.len, len_);                                   \
	} while (0)

#define assert_illegal(raw)                                                                  \
	do {                                                                                 \
		struct rv_insn d_ = dec(raw);                                                \
		if (d_.op != RV_OP_ILLEGAL)                                                  \
			fail_msg("0x%08x should be illegal, decodes to %s", (unsigned)(raw), \
			         rv_op_name(d_.op));                                         \
	} while (0)

static void test_formats(void **state)
{
	/* I: addi a0, a1, -2048 */
	assert_insn(ADDI(10, 11, -2048), RV_OP_ADDI, 10, 11, 0, -2048, 4);
	/* x0 as destination goes to the sink register */
	assert_insn(ADDI(0, 0, 0), RV_OP_ADDI, RV_REG_SINK, 0, 0, 0, 4);
	/* S: sd ra, -8(sp) */
	assert_insn(SD(1, 2, -8), RV_OP_SD, RV_REG_SINK, 2, 1, -8, 4);
	/* B: bltu a0, a1, -4096 (the lowest offset) and +4094 */
	assert_insn(enc_b(-4096, 11, 10, 6), RV_OP_BLTU, RV_REG_SINK, 10, 11, -4096, 4);
	assert_insn(enc_b(4094, 11, 10, 0), RV_OP_BEQ, RV_REG_SINK, 10, 11, 4094, 4);
	/* U: lui t0, 0x80000 (sign-extended) and auipc */
	assert_insn(LUI(5, 0x80000), RV_OP_LUI, 5, 0, 0, INT32_MIN, 4);
	assert_insn(enc_u(0x12345, 6, 0x17), RV_OP_AUIPC, 6, 0, 0, 0x12345000, 4);
	/* J: jal ra, -1 MiB and +1 MiB - 2 */
	assert_insn(JAL(1, -(1 << 20)), RV_OP_JAL, 1, 0, 0, -(1 << 20), 4);
	assert_insn(JAL(0, (1 << 20) - 2), RV_OP_JAL, RV_REG_SINK, 0, 0, (1 << 20) - 2, 4);
	/* R: sub, sra, mulhsu, remuw */
	assert_insn(enc_r(0x20, 3, 2, 0, 1, 0x33), RV_OP_SUB, 1, 2, 3, 0, 4);
	assert_insn(enc_r(0x20, 3, 2, 5, 1, 0x33), RV_OP_SRA, 1, 2, 3, 0, 4);
	assert_insn(enc_r(0x01, 3, 2, 2, 1, 0x33), RV_OP_MULHSU, 1, 2, 3, 0, 4);
	assert_insn(enc_r(0x01, 3, 2, 7, 1, 0x3b), RV_OP_REMUW, 1, 2, 3, 0, 4);
	/* shifts: 6-bit shamt for 64-bit forms */
	assert_insn(enc_i(0x3f, 2, 1, 1, 0x13), RV_OP_SLLI, 1, 2, 0, 63, 4);
	assert_insn(enc_i(0x400 | 63, 2, 5, 1, 0x13), RV_OP_SRAI, 1, 2, 0, 63, 4);
	assert_insn(enc_i(0x400 | 31, 2, 5, 1, 0x1b), RV_OP_SRAIW, 1, 2, 0, 31, 4);
	/* loads of every width */
	for (unsigned f3 = 0; f3 < 7; f3++)
		assert_insn(enc_i(16, 2, f3, 1, 0x03), RV_OP_LB + f3, 1, 2, 0, 16, 4);
	/* CSR: the CSR number in imm, uimm in rs1 */
	assert_insn(CSRRW(5, 0x300, 6), RV_OP_CSRRW, 5, 6, 0, 0x300, 4);
	assert_insn(enc_i(0xfff, 31, 7, 0, 0x73), RV_OP_CSRRCI, RV_REG_SINK, 31, 0, 0xfff, 4);
	/* system */
	assert_insn(ECALL, RV_OP_ECALL, RV_REG_SINK, 0, 0, 0, 4);
	assert_insn(0x00100073, RV_OP_EBREAK, RV_REG_SINK, 0, 0, 0, 4);
	assert_insn(MRET, RV_OP_MRET, RV_REG_SINK, 0, 0, 0, 4);
	assert_insn(SRET, RV_OP_SRET, RV_REG_SINK, 0, 0, 0, 4);
	assert_insn(WFI, RV_OP_WFI, RV_REG_SINK, 0, 0, 0, 4);
	assert_insn(enc_r(0x09, 11, 10, 0, 0, 0x73), RV_OP_SFENCE_VMA, RV_REG_SINK, 10, 11, 0, 4);
	/* fence: imm = fm:pred:succ, which decides whether the host needs a full fence */
	assert_insn(0x0ff0000f, RV_OP_FENCE, RV_REG_SINK, 0, 0, 0x0ff, 4);
	assert_insn(0x8330000f, RV_OP_FENCE, RV_REG_SINK, 0, 0, 0x833, 4);
	assert_true(rv_fence_needs_host_fence(0x0ff));  /* fence iorw, iorw */
	assert_true(rv_fence_needs_host_fence(0x033));  /* fence rw, rw */
	assert_true(rv_fence_needs_host_fence(0x012));  /* fence w, r */
	assert_false(rv_fence_needs_host_fence(0x833)); /* fence.tso */
	assert_false(rv_fence_needs_host_fence(0x011)); /* fence w, w */
	assert_false(rv_fence_needs_host_fence(0x023)); /* fence r, rw */
	assert_false(rv_fence_needs_host_fence(0x0c3)); /* fence io, rw */
	assert_insn(0x0000100f, RV_OP_FENCE_I, RV_REG_SINK, 0, 0, 0, 4);
	/* A: amoadd.w a0, a2, (a1) with aq/rl; lr.d */
	assert_insn(enc_r(0x03, 12, 11, 2, 10, 0x2f), RV_OP_AMOADD_W, 10, 11, 12, 0, 4);
	assert_insn(enc_r(0x08, 0, 11, 3, 10, 0x2f), RV_OP_LR_D, 10, 11, 0, 0, 4);
	assert_insn(enc_r(0x70, 12, 11, 3, 10, 0x2f), RV_OP_AMOMAXU_D, 10, 11, 12, 0, 4);
}

static void test_fp_formats(void **state)
{
	struct rv_insn d;

	/* fmadd.d f1, f2, f3, f4, rup: R4 with rs3 and a static rounding mode */
	d = dec((4u << 27) | (1u << 25) | (3u << 20) | (2u << 15) | (3u << 12) | (1u << 7) | 0x43);
	assert_int_equal(d.op, RV_OP_FMADD_D);
	assert_int_equal(d.rd, 1);
	assert_int_equal(d.rs1, 2);
	assert_int_equal(d.rs2, 3);
	assert_int_equal(d.rs3, 4);
	assert_int_equal(d.rm, 3);
	/* fnmadd.s */
	assert_int_equal(dec(0x4f | (7u << 12)).op, RV_OP_FNMADD_S);
	/* fcvt.w.d x0, f1: integer destination x0 -> sink */
	d = dec(enc_r(0x61, 0, 1, 1, 0, 0x53));
	assert_int_equal(d.op, RV_OP_FCVT_W_D);
	assert_int_equal(d.rd, RV_REG_SINK);
	/* fcvt.d.lu f0, x5: FP destination f0 stays 0 */
	d = dec(enc_r(0x69, 3, 5, 7, 0, 0x53));
	assert_int_equal(d.op, RV_OP_FCVT_D_LU);
	assert_int_equal(d.rd, 0);
	assert_int_equal(dec(enc_r(0x20, 1, 2, 0, 1, 0x53)).op, RV_OP_FCVT_S_D);
	assert_int_equal(dec(enc_r(0x21, 0, 2, 0, 1, 0x53)).op, RV_OP_FCVT_D_S);
	assert_int_equal(dec(enc_r(0x71, 0, 2, 1, 1, 0x53)).op, RV_OP_FCLASS_D);
	assert_int_equal(dec(enc_r(0x70, 0, 2, 0, 1, 0x53)).op, RV_OP_FMV_X_W);
	assert_int_equal(dec(enc_r(0x79, 0, 2, 0, 1, 0x53)).op, RV_OP_FMV_D_X);
	assert_int_equal(dec(enc_r(0x51, 3, 2, 1, 1, 0x53)).op, RV_OP_FLT_D);
	assert_int_equal(dec(enc_r(0x14, 3, 2, 1, 1, 0x53)).op, RV_OP_FMAX_S);
	assert_int_equal(dec(enc_r(0x11, 3, 2, 2, 1, 0x53)).op, RV_OP_FSGNJX_D);
	assert_int_equal(dec(enc_i(8, 2, 3, 1, 0x07)).op, RV_OP_FLD);
	assert_int_equal(dec(enc_s(8, 1, 2, 2, 0x27)).op, RV_OP_FSW);
}

static void test_compressed(void **state)
{
	/* Quadrant 0 */
	assert_insn(0x0040, RV_OP_ADDI, 8, 2, 0, 4, 2);             /* c.addi4spn s0, sp, 4 */
	assert_insn(0x4188, RV_OP_LW, 10, 11, 0, 0, 2);             /* c.lw a0, 0(a1) */
	assert_insn(0x6188, RV_OP_LD, 10, 11, 0, 0, 2);             /* c.ld a0, 0(a1) */
	assert_insn(0xfde8, RV_OP_SD, RV_REG_SINK, 11, 10, 248, 2); /* c.sd a0, 248(a1) */
	assert_insn(0x2188, RV_OP_FLD, 10, 11, 0, 0, 2);            /* c.fld fa0, 0(a1) */
	assert_insn(0xa188, RV_OP_FSD, RV_REG_SINK, 11, 10, 0, 2);  /* c.fsd fa0, 0(a1) */
	/* Quadrant 1 */
	assert_insn(0x1579, RV_OP_ADDI, 10, 10, 0, -2, 2);          /* c.addi a0, -2 */
	assert_insn(0x0001, RV_OP_ADDI, RV_REG_SINK, 0, 0, 0, 2);   /* c.nop */
	assert_insn(0x357d, RV_OP_ADDIW, 10, 10, 0, -1, 2);         /* c.addiw a0, -1 */
	assert_insn(0x557d, RV_OP_ADDI, 10, 0, 0, -1, 2);           /* c.li a0, -1 */
	assert_insn(0x757d, RV_OP_LUI, 10, 0, 0, -4096, 2);         /* c.lui a0, 0xfffff */
	assert_insn(0x7139, RV_OP_ADDI, 2, 2, 0, -64, 2);           /* c.addi16sp sp, -64 */
	assert_insn(0x8105, RV_OP_SRLI, 10, 10, 0, 1, 2);           /* c.srli a0, 1 */
	assert_insn(0x9501, RV_OP_SRAI, 10, 10, 0, 32, 2);          /* c.srai a0, 32 */
	assert_insn(0x993d, RV_OP_ANDI, 10, 10, 0, -17, 2);         /* c.andi a0, -17 */
	assert_insn(0x8d0d, RV_OP_SUB, 10, 10, 11, 0, 2);           /* c.sub a0, a1 */
	assert_insn(0x8d2d, RV_OP_XOR, 10, 10, 11, 0, 2);           /* c.xor a0, a1 */
	assert_insn(0x8d4d, RV_OP_OR, 10, 10, 11, 0, 2);            /* c.or a0, a1 */
	assert_insn(0x8d6d, RV_OP_AND, 10, 10, 11, 0, 2);           /* c.and a0, a1 */
	assert_insn(0x9d0d, RV_OP_SUBW, 10, 10, 11, 0, 2);          /* c.subw a0, a1 */
	assert_insn(0x9d2d, RV_OP_ADDW, 10, 10, 11, 0, 2);          /* c.addw a0, a1 */
	assert_insn(0xbffd, RV_OP_JAL, RV_REG_SINK, 0, 0, -2, 2);   /* c.j -2 */
	assert_insn(0xa001, RV_OP_JAL, RV_REG_SINK, 0, 0, 0, 2);    /* c.j 0 */
	assert_insn(0xdd7d, RV_OP_BEQ, RV_REG_SINK, 10, 0, -2, 2);  /* c.beqz a0, -2 */
	assert_insn(0xe141, RV_OP_BNE, RV_REG_SINK, 10, 0, 128, 2); /* c.bnez a0, 128 */
	/* Quadrant 2 */
	assert_insn(0x157e, RV_OP_SLLI, 10, 10, 0, 63, 2);          /* c.slli a0, 63 */
	assert_insn(0x2522, RV_OP_FLD, 10, 2, 0, 8, 2);             /* c.fldsp fa0, 8(sp) */
	assert_insn(0x4532, RV_OP_LW, 10, 2, 0, 12, 2);             /* c.lwsp a0, 12(sp) */
	assert_insn(0x6522, RV_OP_LD, 10, 2, 0, 8, 2);              /* c.ldsp a0, 8(sp) */
	assert_insn(0x8502, RV_OP_JALR, RV_REG_SINK, 10, 0, 0, 2);  /* c.jr a0 */
	assert_insn(0x852e, RV_OP_ADD, 10, 0, 11, 0, 2);            /* c.mv a0, a1 */
	assert_insn(0x9002, RV_OP_EBREAK, RV_REG_SINK, 0, 0, 0, 2); /* c.ebreak */
	assert_insn(0x9502, RV_OP_JALR, 1, 10, 0, 0, 2);            /* c.jalr a0 */
	assert_insn(0x952e, RV_OP_ADD, 10, 10, 11, 0, 2);           /* c.add a0, a1 */
	assert_insn(0xa42a, RV_OP_FSD, RV_REG_SINK, 2, 10, 8, 2);   /* c.fsdsp fa0, 8(sp) */
	assert_insn(0xc62a, RV_OP_SW, RV_REG_SINK, 2, 10, 12, 2);   /* c.swsp a0, 12(sp) */
	assert_insn(0xe42a, RV_OP_SD, RV_REG_SINK, 2, 10, 8, 2);    /* c.sdsp a0, 8(sp) */
	/* The upper 16 bits of a compressed instruction do not matter. */
	assert_insn(0xffff0001, RV_OP_ADDI, RV_REG_SINK, 0, 0, 0, 2);
}

static void test_illegal(void **state)
{
	const uint32_t bad[] = {
	        0x00000000, 0xffffffff, 0x0000ffff,
	        /* compressed reserved: addi4spn 0, lwsp/ldsp x0, jr x0, addiw x0, lui 0,
		 * addi16sp 0, quadrant 0 funct3 100, CA 10/11 with bit 12 */
	        0x4002, 0x6002, 0x8002, 0x2001, 0x6281, 0x6101, 0x8000, 0x9c41, 0x9c61,
	        /* 32-bit */
	        enc_i(0, 1, 7, 1, 0x03),                    /* load funct3 7 */
	        enc_s(0, 1, 2, 4, 0x23),                    /* store funct3 4 */
	        enc_i(0, 1, 4, 1, 0x07),                    /* FP load funct3 4 */
	        enc_i(0x41, 1, 1, 1, 0x13),                 /* slli with funct6 1 */
	        enc_i(0x200 | 1, 1, 5, 1, 0x13),            /* srli with funct6 8 */
	        enc_i(0x20 | 1, 1, 1, 1, 0x1b),             /* slliw with shamt[5] */
	        enc_r(0x02, 3, 2, 0, 1, 0x33),              /* OP funct7 2 */
	        enc_r(0x20, 3, 2, 1, 1, 0x33),              /* sub's funct7 with sll */
	        enc_r(0x01, 3, 2, 1, 1, 0x3b),              /* mulw funct3 1 */
	        enc_b(8, 2, 1, 2),                          /* branch funct3 2 */
	        enc_i(0, 1, 1, 1, 0x67),                    /* jalr funct3 1 */
	        enc_r(0x08, 3, 2, 2, 1, 0x2f),              /* lr.w with rs2 != 0 */
	        enc_r(0x0c, 3, 2, 2, 1, 0x2f) | (1u << 29), /* AMO funct5 0x07 */
	        enc_r(0x00, 3, 2, 4, 1, 0x2f),              /* AMO funct3 4 */
	        enc_r(0x00, 3, 2, 5, 1, 0x53),              /* fadd.s rm 5 */
	        enc_r(0x01, 3, 2, 6, 1, 0x53),              /* fadd.d rm 6 */
	        enc_r(0x2c, 1, 2, 0, 1, 0x53),              /* fsqrt.s rs2 1 */
	        enc_r(0x02, 3, 2, 0, 1, 0x53),              /* fmt 2 (H/Q) */
	        enc_r(0x14, 3, 2, 3, 1, 0x53),              /* fmin funct3 3 */
	        enc_r(0x50, 3, 2, 3, 1, 0x53),              /* fcmp funct3 3 */
	        enc_r(0x60, 4, 2, 0, 1, 0x53),              /* fcvt.?.s rs2 4 */
	        enc_r(0x20, 0, 2, 0, 1, 0x53),              /* fcvt.s.s */
	        enc_r(0x70, 1, 2, 0, 1, 0x53),              /* fmv.x.w rs2 1 */
	        enc_r(0x78, 0, 2, 1, 1, 0x53),              /* fmv.w.x funct3 1 */
	        (3u << 25) | 0x43,                          /* fmadd.q */
	        0x10400073,                                 /* unknown SYSTEM funct3 0 */
	        0x00200073,                                 /* uret (N extension) */
	        enc_r(0x09, 0, 0, 0, 1, 0x73),              /* sfence.vma with rd != 0 */
	        enc_i(0, 1, 4, 1, 0x73),                    /* SYSTEM funct3 4 */
	        0x0000200f,                                 /* MISC-MEM funct3 2 */
	        0x0000001f,                                 /* 48-bit encoding */
	        0x0000003f,                                 /* 64-bit encoding */
	        0x0000000b,                                 /* custom-0 */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_illegal(bad[i]);
	}
	/* HINTs are not illegal */
	assert_int_equal(dec(0x4015).op, RV_OP_ADDI); /* c.li x0, 5 */
	assert_int_equal(dec(0x0002).op, RV_OP_SLLI); /* c.slli x0, 0 */
	assert_int_equal(dec(0x8006).op, RV_OP_ADD);  /* c.mv x0, ra */
}

/* Any 32 bits decode to something well-formed: no crash, sane fields. */
static void test_random_words(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < 200000; i++) {
		struct rv_insn d;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rv_decode(&d, (uint32_t)x);
		assert_true(d.op < RV_OP_COUNT);
		assert_true(d.len == 2 || d.len == 4);
		assert_int_equal(d.len, rv_insn_len((uint32_t)x));
		assert_true(d.rd <= RV_REG_SINK && d.rs1 < 32 && d.rs2 < 32 && d.rs3 < 32);
		assert_int_equal(d.raw, (uint32_t)x);
		assert_non_null(rv_op_name(d.op));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_formats),      cmocka_unit_test(test_fp_formats),
	        cmocka_unit_test(test_compressed),   cmocka_unit_test(test_illegal),
	        cmocka_unit_test(test_random_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
