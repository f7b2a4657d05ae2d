/* SPDX-License-Identifier: MIT */
/*
 * Translation of loads and stores (integer and FP).
 *
 * A load first tries its inline cache (jit.h): the last page it hit, in the
 * hart's cpu->ic[], salted with the TLB generation and data context; a hit
 * costs a compare and an add whose operand does not depend on the address.
 * A miss goes out of line to the soft TLB of the interpreter (rv.h):
 *     e = dtlb + ((va >> 12) & (RV_TLB_SIZE - 1));
 *     if (e->tag == (va & (RV_PAGE_MASK | (size - 1)))) host = va + e->addend
 * which fills the inline cache on a hit; a store probes the TLB directly.
 * Everything else (TLB misses, misaligned accesses, devices, pages holding
 * translated code) calls the interpreter's slow path through a shared routine,
 * which may raise an exception; then the stub leaves with the pc and instret
 * of the faulting instruction and the registers as the interpreter would have
 * them.
 */
#include "vm/emu/riscv64/jit/tr.h"

/* rsi = rs1 + imm (the virtual address of a load or store). */
static void address(struct tr *t, const struct rv_insn *d)
{
	if (d->rs1 == 0)
		x86_mov_ri(&t->e, RSI, (uint64_t)(int64_t)d->imm);
	else if (is_pinned(d->rs1))
		x86_lea(&t->e, RSI, x86_m(jit_pinned_reg(d->rs1), d->imm));
	else {
		x86_mov_rm(&t->e, RSI, JIT_XREG(d->rs1));
		if (d->imm)
			x86_alu_ri(&t->e, ALU_ADD, true, RSI, d->imm);
	}
}

/*
 * The soft-TLB probe for va in rsi: rax = the entry; the jcc to the slow path
 * is taken unless the tag for `tag_off` matches. On the fast path rsi becomes
 * the host address.
 */
static struct stub *tlb_probe(struct tr *t, size_t tag_off, unsigned size, enum stub_kind kind)
{
	struct stub *s;

	x86_mov_rr(&t->e, RAX, RSI);
	x86_shift_ri(&t->e, SH_SHR, true, RAX, RV_PAGE_SHIFT - 5);
	x86_alu_ri(&t->e, ALU_AND, false, RAX, (RV_TLB_SIZE - 1) << 5);
	x86_alu_rm(&t->e, ALU_ADD, true, RAX, JIT_CPU(dtlb));
	x86_mov_rr(&t->e, RDX, RSI);
	x86_alu_ri(&t->e, ALU_AND, true, RDX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	x86_alu_rm(&t->e, ALU_CMP, true, RDX, x86_m(RAX, (int32_t)tag_off));
	s = jcc_stub(t, CC_NE, kind);
	x86_alu_rm(&t->e, ALU_ADD, true, RSI,
	           x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, addend)));
	return s;
}

/* [rbp + ...] of inline-cache entry ic's tag (+0) or addend (+8). */
static struct x86_mem ic_field(unsigned ic, unsigned off)
{
	return jit_cpu_field(offsetof(struct rv_cpu, ic) + sizeof(struct rv_ic_entry) * ic + off);
}

/*
 * A load: the inline cache's hit (jit.h) on the main path; a miss goes out of
 * line to the soft TLB (STUB_TLB, which fills the cache on a hit) and from
 * there to the interpreter's slow path (STUB_LOAD).
 */
static void op_load(struct tr *t, const struct rv_insn *d, unsigned size, bool sign, bool fp)
{
	struct stub *s;
	enum x86_reg r;
	unsigned ic = t->jit->next_ic++ % RV_JIT_IC_SIZE;

	if (fp)
		fs_check(t, d);
	address(t, d);
	x86_mov_rr(&t->e, RDX, RSI);
	x86_alu_ri(&t->e, ALU_AND, true, RDX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	x86_alu_rm(&t->e, ALU_XOR, true, RDX, JIT_CPU(ic_salt));
	x86_alu_rm(&t->e, ALU_CMP, true, RDX, ic_field(ic, 0));
	s = jcc_stub(t, CC_NE, STUB_TLB);
	s->size = (uint8_t)size;
	s->sign = sign;
	s->fp = fp;
	s->reg = d->rd;
	s->ic = ic;
	x86_alu_rm(&t->e, ALU_ADD, true, RSI, ic_field(ic, 8));
	s->host = t->e.p;
	if (fp) {
		x86_load(&t->e, size, false, RAX, x86_m(RSI, 0));
		x86_store(&t->e, size, JIT_FREG(d->rd), RAX);
		if (size == 4) /* NaN-box */
			x86_mov_m32i(&t->e,
			             jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * d->rd + 4),
			             0xffffffffu);
	} else {
		r = dst(d->rd);
		x86_load(&t->e, size, sign, r, x86_m(RSI, 0));
		if (r == RAX)
			x86_mov_mr(&t->e, JIT_XREG(d->rd), RAX); /* x[32] for rd = x0 */
	}
	s->back = t->e.p;
	if (fp)
		fs_dirty(t);
}

static void op_store(struct tr *t, const struct rv_insn *d, unsigned size, bool fp)
{
	struct stub *s;
	enum x86_reg v;

	if (fp) {
		fs_check(t, d);
		x86_load(&t->e, size, false, RCX, JIT_FREG(d->rs2));
		v = RCX;
	} else {
		v = src(t, d->rs2, RCX);
	}
	address(t, d);
	s = tlb_probe(t, offsetof(struct rv_tlb_entry, tag_w), size, STUB_STORE);
	s->size = (uint8_t)size;
	s->value = (int8_t)v;
	x86_store(&t->e, size, x86_m(RSI, 0), v);
	s->back = t->e.p;
}

bool tr_mem(struct tr *t, const struct rv_insn *d)
{
	switch (d->op) {
	case RV_OP_LB:
		op_load(t, d, 1, true, false);
		break;
	case RV_OP_LH:
		op_load(t, d, 2, true, false);
		break;
	case RV_OP_LW:
		op_load(t, d, 4, true, false);
		break;
	case RV_OP_LD:
		op_load(t, d, 8, true, false);
		break;
	case RV_OP_LBU:
		op_load(t, d, 1, false, false);
		break;
	case RV_OP_LHU:
		op_load(t, d, 2, false, false);
		break;
	case RV_OP_LWU:
		op_load(t, d, 4, false, false);
		break;
	case RV_OP_SB:
		op_store(t, d, 1, false);
		break;
	case RV_OP_SH:
		op_store(t, d, 2, false);
		break;
	case RV_OP_SW:
		op_store(t, d, 4, false);
		break;
	case RV_OP_SD:
		op_store(t, d, 8, false);
		break;
	case RV_OP_FLW:
		op_load(t, d, 4, false, true);
		break;
	case RV_OP_FLD:
		op_load(t, d, 8, false, true);
		break;
	case RV_OP_FSW:
		op_store(t, d, 4, true);
		break;
	case RV_OP_FSD:
		op_store(t, d, 8, true);
		break;
	default:
		return false;
	}
	return true;
}

void tr_mem_stub(struct tr *t, struct stub *s)
{
	switch (s->kind) {
	case STUB_LOAD: {
		uint8_t *f;
		/* rsi = va; devices see instret counting this instruction, as in the interpreter */
		int adj = (int)(s->retired + 1) - (int)s->committed;
		adjust_instret(t, adj);
		x86_mov_ri(&t->e, RDX, s->size | (s->sign ? 0x100u : 0));
		call_thunk(t, t->jit->thunk_load);
		x86_test_rr(&t->e, true, RDX, RDX);
		f = x86_jcc_rel32(&t->e, CC_E);
		if (s->fp) {
			x86_store(&t->e, s->size, JIT_FREG(s->reg), RAX);
			if (s->size == 4)
				x86_mov_m32i(
				        &t->e,
				        jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * s->reg + 4),
				        0xffffffffu);
		} else {
			put(t, s->reg, RAX);
		}
		adjust_instret(t, -adj);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->back);
		}
		if (!t->e.overflow)
			x86_patch_rel32(f, t->e.p);
		stub_exception_exit(t, s, s->retired + 1);
		break;
	}
	case STUB_STORE: {
		uint8_t *f;
		int adj = (int)(s->retired + 1) - (int)s->committed;
		x86_mov_rr(&t->e, RDX, (enum x86_reg)s->value);
		adjust_instret(t, adj);
		x86_mov_ri(&t->e, RCX, s->size);
		call_thunk(t, t->jit->thunk_store);
		x86_test_rr(&t->e, true, RAX, RAX);
		f = x86_jcc_rel32(&t->e, CC_E);
		adjust_instret(t, -adj);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->back);
		}
		if (!t->e.overflow)
			x86_patch_rel32(f, t->e.p);
		stub_exception_exit(t, s, s->retired + 1);
		break;
	}
	case STUB_TLB: {
		/* rsi = va, rdx = the salted tag the inline cache missed. */
		struct stub *slow;
		unsigned size = s->size;
		x86_mov_rr(&t->e, RAX, RSI);
		x86_shift_ri(&t->e, SH_SHR, true, RAX, RV_PAGE_SHIFT - 5);
		x86_alu_ri(&t->e, ALU_AND, false, RAX, (RV_TLB_SIZE - 1) << 5);
		x86_alu_rm(&t->e, ALU_ADD, true, RAX, JIT_CPU(dtlb));
		x86_mov_rr(&t->e, RCX, RSI);
		x86_alu_ri(&t->e, ALU_AND, true, RCX, (int32_t)(RV_PAGE_MASK | (size - 1)));
		x86_alu_rm(&t->e, ALU_CMP, true, RCX,
		           x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, tag_r)));
		slow = new_stub(t, STUB_LOAD);
		*slow = *s;
		slow->kind = STUB_LOAD;
		slow->field = x86_jcc_rel32(&t->e, CC_NE);
		x86_mov_rm(&t->e, RCX, x86_m(RAX, (int32_t)offsetof(struct rv_tlb_entry, addend)));
		x86_mov_mr(&t->e, ic_field(s->ic, 8), RCX);
		x86_mov_mr(&t->e, ic_field(s->ic, 0), RDX);
		x86_alu_rr(&t->e, ALU_ADD, true, RSI, RCX);
		{
			uint8_t *j = x86_jmp_rel32(&t->e);
			if (!t->e.overflow)
				x86_patch_rel32(j, s->host);
		}
		break;
	}
	default:
		break;
	}
}
