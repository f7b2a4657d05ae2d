/* SPDX-License-Identifier: MIT */
/*
 * The translator: one guest block (RV64GC code in one page, through
 * conditional branches, up to a jump or a system instruction) to x86-64
 * code, in one pass. This file owns the block and control flow; integer
 * computation is translate-alu.c's, memory translate-mem.c's, FP
 * translate-fp.c's (tr.h is what they share).
 *
 * Block layout in the code cache:
 *
 *   [struct jit_block *]  8 bytes, so that an entry point leads to its block
 *   entry:  cmp r11, stop; jae <check stub>     the event check
 *           body: one short sequence per guest instruction; a taken branch
 *                 leaves through a chainable exit out of line
 *           terminal: add r11, n; jumps out (chainable rel32 fields,
 *                     4-byte aligned so that chaining is one atomic store)
 *   out of line: slow paths of loads and stores, exception stubs, exit stubs
 *   [struct rv_insn ...]  decoded instructions the helpers are handed
 *
 * Guest registers: JIT_NPINNED of them live in host registers for as long as
 * generated code runs (jit_pinned_reg()), the rest are [rbp + x] memory
 * operands. x0 reads as an immediate 0; a write to x0 is dropped (loads to x0
 * still access memory: they can fault or touch a device).
 *
 * instret lives in r11 (JIT_INSTRET) while translated code runs, so that a
 * loop's count and event check are register operations, not a store that the
 * next iteration's check has to wait for; it goes to cpu->instret whenever C
 * code runs (the shared routines and the epilogue store it, and load it back).
 * Each block adds its count at its terminal and at each branch, and before
 * any helper that can see it (CSRs, traps) what has retired so far on the
 * main path ("committed"); exception stubs add exactly the instructions
 * before the faulting one. So instret is exact wherever C code looks at it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm/emu/riscv64/jit/tr.h"

/*
 * Pinned guest registers: the ones compiled RISC-V code uses most (counted in
 * CoreMark's and the kernel's hot functions: a5, a0, a4, a1, a3, sp, s0, a2,
 * a6, then s1). ra is not among them: a call writes it with one store of an
 * immediate and a return reads it once. r11 holds instret (JIT_INSTRET).
 */
/* host register + 1 of each pinned guest register; 0: in memory */
static const uint8_t host_of[RV_REG_SINK + 1] = {
        [2] = RBX + 1,  /* sp */
        [8] = R12 + 1,  /* s0 */
        [9] = R13 + 1,  /* s1 */
        [10] = R14 + 1, /* a0 */
        [11] = R15 + 1, /* a1 */
        [12] = RDI + 1, /* a2 */
        [13] = R8 + 1,  /* a3 */
        [14] = R9 + 1,  /* a4 */
        [15] = R10 + 1, /* a5 */
};
static const uint8_t pinned_guest[JIT_NPINNED] = {2, 8, 9, 10, 11, 12, 13, 14, 15};

enum x86_reg jit_pinned_reg(unsigned g)
{
	return g <= RV_REG_SINK ? (enum x86_reg)(host_of[g] - 1) : X86_NOREG;
}

unsigned jit_pinned_guest(unsigned i)
{
	return pinned_guest[i];
}

/* ---- small emission helpers ------------------------------------------------- */

/* ---- guest register operands ---------------------------------------------- */

/* ---- integer instructions --------------------------------------------------- */

/* ---- memory ------------------------------------------------------------------ */

_Static_assert(sizeof(struct rv_tlb_entry) == 32, "the translator indexes the TLB by << 5");

/* ---- control flow ------------------------------------------------------------- */

/*
 * The inline jump-cache lookup for the guest pc in rax: a hit jumps to the
 * block, a miss leaves with JIT_EXIT_LOOKUP. Inlined at every indirect jump
 * so that each has its own host indirect branch to predict.
 */
static void jc_jump(struct tr *t)
{
	x86_mov_rr(&t->e, RDX, RAX);
	x86_shift_ri(&t->e, SH_SHR, true, RDX, JIT_JC_BITS);
	x86_alu_rr(&t->e, ALU_XOR, false, RDX, RAX);
	x86_shift_ri(&t->e, SH_SHR, false, RDX, 1);
	x86_alu_ri(&t->e, ALU_AND, false, RDX, JIT_JC_SIZE - 1);
	x86_shift_ri(&t->e, SH_SHL, false, RDX, 4);
	x86_alu_rm(&t->e, ALU_ADD, true, RDX, JIT_CPU(jc));
	x86_mov_rr(&t->e, RCX, RAX);
	x86_alu_rm(&t->e, ALU_XOR, true, RCX, JIT_CPU(jc_salt));
	x86_alu_rm(&t->e, ALU_CMP, true, RCX, x86_m(RDX, 0));
	jump_to(t, t->jit->thunk_jc_miss, CC_NE);
	x86_jmp_m(&t->e, x86_m(RDX, 8));
}

/*
 * A direct jump to `target` whose rel32 field is `field`: chainable when the
 * target is in the block's own page (same mapping, so the chained block is the
 * one a lookup would find); otherwise through the jump cache.
 */
static void direct_exit(struct tr *t, uint8_t *field, uint64_t target, uint8_t **stub_out)
{
	uint8_t *stub = t->e.p;

	*stub_out = stub;
	if ((target & RV_PAGE_MASK) == (t->vpc0 & RV_PAGE_MASK) && t->nexits < MAX_EXITS) {
		struct jit_exit *x = &t->exits[t->nexits];

		x->target = target;
		x->rel32 = (uint32_t)(field - t->jit->rw); /* field and stub: writable view */
		x->stub = (uint32_t)(stub - t->jit->rw);
		set_pc(t, target);
		t->exit_imm[t->nexits++] = x86_movabs(&t->e, RAX, 0);
		jump_to(t, t->jit->epilogue, -1);
	} else {
		x86_mov_ri(&t->e, RAX, target);
		jc_jump(t);
	}
	if (!t->e.overflow)
		x86_patch_rel32(field, stub);
}

/* jmp rel32 with its field 4-byte aligned (atomic re-patching). */
static uint8_t *aligned_jmp(struct tr *t)
{
	x86_align(&t->e, 4, 1);
	return x86_jmp_rel32(&t->e);
}

static uint8_t *aligned_jcc(struct tr *t, enum x86_cc cc)
{
	x86_align(&t->e, 4, 2);
	return x86_jcc_rel32(&t->e, cc);
}

/*
 * A conditional branch leaves the block when taken (a chainable exit, out of
 * line) and the block goes on with the fall-through path: fewer block
 * transitions, and the not-taken path pays no jump and no event check.
 */
static void op_branch(struct tr *t, const struct rv_insn *d, enum x86_cc cc)
{
	uint64_t taken = t->pc + (uint64_t)(int64_t)d->imm;
	struct stub *s;
	enum x86_reg a;

	commit_all(t); /* on both paths the branch retired */
	a = src(t, d->rs1, RAX);
	alu_with(t, ALU_CMP, true, a, d->rs2);
	s = new_stub(t, STUB_EXIT);
	s->field = aligned_jcc(t, cc);
	s->target = taken;
}

static void op_jal(struct tr *t, const struct rv_insn *d)
{
	uint64_t target = t->pc + (uint64_t)(int64_t)d->imm;
	uint8_t *f, *s;

	op_lui(t, d, t->pc + d->len);
	commit_all(t);
	f = aligned_jmp(t);
	direct_exit(t, f, target, &s);
	t->ended = true;
}

static void op_jalr(struct tr *t, const struct rv_insn *d)
{
	enum x86_reg a = src(t, d->rs1, RAX);

	x86_lea(&t->e, RAX, x86_m(a, d->imm));
	x86_alu_ri(&t->e, ALU_AND, true, RAX, -2);
	if (d->rd != RV_REG_SINK) {
		uint64_t link = t->pc + d->len;
		if (is_pinned(d->rd)) {
			x86_mov_ri(&t->e, jit_pinned_reg(d->rd), link);
		} else {
			x86_mov_ri(&t->e, RCX, link);
			x86_mov_mr(&t->e, JIT_XREG(d->rd), RCX);
		}
	}
	commit_all(t);
	jc_jump(t);
	t->ended = true;
}

/* The block ends before instruction idx without a jump: go on at pc. */
static void fallthrough(struct tr *t, uint64_t pc)
{
	uint8_t *f, *s;

	commit(t, t->idx);
	f = aligned_jmp(t);
	direct_exit(t, f, pc, &s);
	t->ended = true;
}

/* Raise (cause, tval) at this instruction: a terminal. */
static void op_raise(struct tr *t, uint64_t cause, uint64_t tval)
{
	struct stub *s = new_stub(t, STUB_RAISE);

	s->cause = cause;
	s->tval = tval;
	s->field = x86_jmp_rel32(&t->e);
	t->ended = true;
}

/* ---- helpers ------------------------------------------------------------------ */

/* mret, sret, wfi, sfence.vma: the helper returns the exit code; a terminal. */
static void op_system(struct tr *t, const struct rv_insn *d)
{
	commit_all(t); /* the helper takes it back when the instruction traps */
	set_pc(t, t->pc);
	lea_insn(t, RSI, d);
	x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)jit_helper_system);
	call_thunk(t, t->jit->thunk_call);
	jump_to(t, t->jit->epilogue, -1);
	t->ended = true;
}

static void op_csr(struct tr *t, const struct rv_insn *d)
{
	struct stub *s;

	call_insn_helper(t, d, (const void *)jit_helper_csr);
	/* 2: translation, FP enable or interrupt state changed: the dispatcher looks
	 * at events and at the next pc afresh. */
	x86_alu_ri(&t->e, ALU_CMP, false, RAX, 2);
	s = jcc_stub(t, CC_E, STUB_NEXT);
	s->pc = t->pc + d->len;
}

/* fence: the host needs a full fence only to order earlier stores before later loads
 * (guest-ram.h); the translated code keeps every access in program order otherwise. */
static void op_fence(struct tr *t, const struct rv_insn *d)
{
	/* pause: a spin-wait hint, which may give the host CPU away (rv_pause). */
	if ((uint32_t)d->imm == RV_FENCE_PAUSE)
		call_insn_helper(t, d, (const void *)jit_helper_pause);
	else if (rv_fence_needs_host_fence((uint32_t)d->imm))
		x86_mfence(&t->e);
}

/* ---- FP ----------------------------------------------------------------------- */

/* ---- one instruction ----------------------------------------------------------- */

static void translate_insn(struct tr *t, const struct rv_insn *d)
{
	switch (d->op) {
	case RV_OP_JAL:
		op_jal(t, d);
		break;
	case RV_OP_JALR:
		op_jalr(t, d);
		break;
	case RV_OP_BEQ:
		op_branch(t, d, CC_E);
		break;
	case RV_OP_BNE:
		op_branch(t, d, CC_NE);
		break;
	case RV_OP_BLT:
		op_branch(t, d, CC_L);
		break;
	case RV_OP_BGE:
		op_branch(t, d, CC_GE);
		break;
	case RV_OP_BLTU:
		op_branch(t, d, CC_B);
		break;
	case RV_OP_BGEU:
		op_branch(t, d, CC_AE);
		break;
	case RV_OP_FENCE:
		op_fence(t, d);
		break;
	case RV_OP_FENCE_I:
		/* Writes into translated code invalidated it already: look the next pc up. */
		commit_all(t);
		set_pc(t, t->pc + d->len);
		leave(t, JIT_EXIT_LOOKUP);
		t->ended = true;
		break;
	case RV_OP_ECALL:
		op_raise(t, RV_EXC_ECALL_U + t->priv, 0);
		break;
	case RV_OP_EBREAK:
		op_raise(t, RV_EXC_BREAKPOINT, t->pc);
		break;
	case RV_OP_MRET:
	case RV_OP_SRET:
	case RV_OP_WFI:
	case RV_OP_SFENCE_VMA:
		op_system(t, d);
		break;
	case RV_OP_CSRRW:
	case RV_OP_CSRRS:
	case RV_OP_CSRRC:
	case RV_OP_CSRRWI:
	case RV_OP_CSRRSI:
	case RV_OP_CSRRCI:
		op_csr(t, d);
		break;
	case RV_OP_ILLEGAL:
		op_raise(t, RV_EXC_ILLEGAL, d->len == 2 ? (d->raw & 0xffff) : d->raw);
		break;
	default:
		if (tr_alu(t, d) || tr_mem(t, d))
			break;
		if (d->op >= RV_OP_LR_W && d->op <= RV_OP_AMOMAXU_D)
			call_insn_helper(t, d, (const void *)jit_helper_amo);
		else
			tr_fp(t, d);
		break;
	}
}

/* ---- stubs ---------------------------------------------------------------------- */

static void emit_stub(struct tr *t, struct stub *s)
{
	uint8_t *unused;

	if (s->kind == STUB_EXIT) {
		/* The jcc is the exit's own jump: direct_exit() points it at the stub. */
		direct_exit(t, s->field, s->target, &unused);
		return;
	}
	if (!s->field)
		return; /* nothing jumps here (an FP instruction that never falls back) */
	if (!t->e.overflow) {
		x86_patch_rel32(s->field, t->e.p);
		for (unsigned i = 0; i < s->nmore; i++)
			x86_patch_rel32(s->more[i], t->e.p);
	}
	switch (s->kind) {
	case STUB_FPHELPER:
	case STUB_FPNAN:
		tr_fp_stub(t, s);
		break;
	case STUB_TLB:
	case STUB_LOAD:
	case STUB_STORE:
		tr_mem_stub(t, s);
		break;
	case STUB_CHECK:
		set_pc(t, t->vpc0);
		leave(t, JIT_EXIT_LOOKUP);
		break;
	case STUB_NEXT:
		set_pc(t, s->pc);
		leave(t, JIT_EXIT_LOOKUP);
		break;
	case STUB_EXIT:
		break;
	case STUB_RAISE:
		x86_mov_ri(&t->e, RAX, s->cause);
		x86_mov_mr(&t->e, JIT_CPU(exc_cause), RAX);
		x86_mov_ri(&t->e, RAX, s->tval);
		x86_mov_mr(&t->e, JIT_CPU(exc_tval), RAX);
		/* fall through */
	case STUB_EXC:
		stub_exception_exit(t, s, s->committed);
		break;
	}
}

/* ---- a block ----------------------------------------------------------------------- */

/*
 * VK_JIT_DUMP=DIR: DIR/<vpc>-<priv>.bin is the block's code (from its entry)
 * and .txt its guest instructions, for objdump -D -b binary -m i386:x86-64.
 */
static void dump_block(struct rv_jit *jit, const struct jit_block *b, const struct tr *t)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%016llx-%u.bin", jit->dump_dir, (unsigned long long)b->vpc,
	         b->priv);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(jit_rw(jit, b->code), 1, b->code_size, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%016llx-%u.txt", jit->dump_dir, (unsigned long long)b->vpc,
	         b->priv);
	f = fopen(path, "w");
	if (!f)
		return;
	for (unsigned i = 0; i < t->ninsns; i++)
		fprintf(f, "%s rd=%u rs1=%u rs2=%u imm=%d len=%u\n", rv_op_name(t->insns[i].op),
		        t->insns[i].rd, t->insns[i].rs1, t->insns[i].rs2, t->insns[i].imm,
		        t->insns[i].len);
	fclose(f);
}

static inline uint32_t fetch32(const uint8_t *p, size_t avail)
{
	uint32_t v = 0;

	memcpy(&v, p, avail >= 4 ? 4 : avail);
	return v;
}

struct jit_block *jit_translate(struct rv_jit *jit, struct rv_cpu *cpu, uint64_t vpc,
                                const uint8_t *host, size_t avail)
{
	struct tr *t;
	struct jit_block *b;
	uint8_t *start, *entry;
	size_t off = 0;
	struct stub *check;

	t = calloc(1, sizeof(*t));
	b = jit_meta_alloc(jit, sizeof(*b));
	start = jit_code_alloc(jit, JIT_BLOCK_MAX);
	if (!t || !b || !start) {
		free(t);
		return NULL;
	}
	t->jit = jit;
	t->b = b;
	t->vpc0 = vpc;
	t->pc = vpc;
	t->priv = cpu->priv;
	t->e = (struct x86_emit){.p = start, .start = start, .end = start + JIT_BLOCK_MAX};
	memset(b, 0, sizeof(*b));
	b->vpc = vpc;
	b->host = host;
	b->priv = (uint8_t)cpu->priv;

	/* The block pointer, then the entry point (16-byte aligned). */
	x86_align(&t->e, 16, 8);
	x86_u64(&t->e, (uint64_t)(uintptr_t)b);
	entry = t->e.p;
	x86_alu_rm(&t->e, ALU_CMP, true, JIT_INSTRET, JIT_CPU(stop));
	check = jcc_stub(t, CC_AE, STUB_CHECK);
	(void)check;
	if (jit->profile) {
		x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)&b->execs);
		x86_alu_mi(&t->e, ALU_ADD, true, x86_m(RAX, 0), 1);
	}

	while (!t->ended) {
		uint32_t raw;
		struct rv_insn *d;

		if (t->idx == JIT_MAX_INSNS || avail - off < 2) {
			fallthrough(t, t->pc);
			break;
		}
		raw = fetch32(host + off, avail - off);
		if ((raw & 3) == 3 && avail - off < 4) {
			/* It straddles the page: the dispatcher runs it in the interpreter. */
			fallthrough(t, t->pc);
			break;
		}
		d = &t->insns[t->idx];
		rv_decode(d, raw);
		t->ninsns++;
		translate_insn(t, d);
		off += d->len;
		if (!t->ended) {
			t->idx++;
			t->pc += d->len;
		}
		if (!t->ended && (t->e.p - t->e.start > (ptrdiff_t)(JIT_BLOCK_MAX - 2048) ||
		                  t->nstubs > MAX_STUBS - 8)) {
			fallthrough(t, t->pc);
			break;
		}
	}
	for (unsigned i = 0; i < t->nstubs; i++)
		emit_stub(t, &t->stubs[i]);
	/* The decoded instructions the helpers get, after the code. */
	x86_align(&t->e, 8, 0);
	{
		uint8_t *data = t->e.p;
		unsigned n = t->ninsns;
		for (unsigned i = 0; i < n && !t->e.overflow; i++) {
			if (t->e.end - t->e.p < (ptrdiff_t)sizeof(struct rv_insn)) {
				t->e.overflow = true;
				break;
			}
			memcpy(t->e.p, &t->insns[i], sizeof(struct rv_insn));
			t->e.p += sizeof(struct rv_insn);
		}
		for (unsigned i = 0; i < t->ninsn_refs && !t->e.overflow; i++) {
			uint8_t *f = t->insn_ref[i];
			x86_patch_rel32(f, data + sizeof(struct rv_insn) * t->insn_ref_idx[i]);
		}
	}
	if (t->e.overflow) {
		free(t);
		jit_code_commit(jit, start, 0);
		return NULL;
	}
	b->ninsns = (uint16_t)t->ninsns;
	b->size = (uint32_t)off;
	b->code = jit_rx(jit, entry);
	b->code_size = (uint32_t)(t->e.p - entry);
	b->nexits = (uint16_t)t->nexits;
	b->exits = t->nexits ? jit_meta_alloc(jit, t->nexits * sizeof(*b->exits)) : NULL;
	if (t->nexits && !b->exits) {
		free(t);
		jit_code_commit(jit, start, 0);
		return NULL;
	}
	for (unsigned i = 0; i < t->nexits; i++) {
		struct jit_exit *x = &b->exits[i];
		uint64_t addr = (uint64_t)(uintptr_t)x;

		*x = t->exits[i];
		x->from = b;
		memcpy(t->exit_imm[i], &addr, 8);
	}
	jit_code_commit(jit, start, (size_t)(t->e.p - start));
	if (jit->dump_dir)
		dump_block(jit, b, t);
	jit->stats.blocks++;
	jit->stats.guest_insns += b->ninsns;
	free(t);
	return b;
}
