/* SPDX-License-Identifier: MIT */
/*
 * Private to the translator's files (translate*.c): the state of one block's
 * translation, the out-of-line stubs it collects, and the small emission
 * helpers every instruction uses. jit.h has the conventions generated code
 * keeps (registers, exits); translate.c the layout of a block.
 */
#ifndef VK_VM_EMU_RISCV64_JIT_TR_H
#define VK_VM_EMU_RISCV64_JIT_TR_H

#include <stddef.h>
#include <string.h>

#include "vm/emu/riscv64/jit/jit.h"

#define MAX_STUBS (3 * JIT_MAX_INSNS + 8) /* a load makes two; the loop keeps 8 spare */
#define MAX_EXITS (JIT_MAX_INSNS + 2)     /* a branch makes one, the terminal two */

enum stub_kind {
	STUB_CHECK,    /* the entry check fired: leave for the dispatcher */
	STUB_EXC,      /* a helper raised an exception at pc */
	STUB_RAISE,    /* raise (cause, tval) at pc */
	STUB_LOAD,     /* a load's slow path */
	STUB_STORE,    /* a store's slow path */
	STUB_NEXT,     /* leave for the dispatcher at s->pc, this instruction retired */
	STUB_TLB,      /* a load's inline-cache miss: the soft TLB, then STUB_LOAD */
	STUB_EXIT,     /* a taken branch: a direct exit to s->target (chainable) */
	STUB_FPHELPER, /* an FP instruction the inline code declined: rv_fp_exec() */
	STUB_FPNAN,    /* an FP result that is a NaN: store the canonical one */
};

struct stub {
	enum stub_kind kind;
	uint8_t *field;   /* rel32 of the jcc that leads here (writable view) */
	uint8_t *more[3]; /* and of further jumps here (tr_stub_jcc) */
	unsigned nmore;
	const struct rv_insn *insn; /* STUB_FPHELPER */
	uint8_t *back;              /* where the slow path returns (writable view) */
	uint64_t pc;                /* of the instruction */
	unsigned retired;           /* instructions before it in the block */
	unsigned committed;         /* of those, already added to instret on the main path */
	uint64_t cause, tval;
	uint8_t size;
	bool sign;
	bool fp;         /* the load's destination / store's source is an FP register */
	uint8_t reg;     /* guest destination (loads) */
	int8_t value;    /* host register holding the value to store */
	unsigned ic;     /* STUB_TLB: the load's inline-cache entry */
	uint8_t *host;   /* STUB_TLB: where the load goes on with rsi = host address */
	uint64_t target; /* STUB_EXIT */
};

struct tr {
	struct rv_jit *jit;
	struct x86_emit e;
	struct jit_block *b;
	uint64_t vpc0;      /* the block's first pc */
	uint64_t pc;        /* the instruction being translated */
	unsigned idx;       /* its index in the block */
	unsigned ninsns;    /* instructions decoded */
	unsigned committed; /* instructions added to instret on the main path so far */
	unsigned priv;
	bool fs_checked; /* mstatus.FS != Off tested earlier in this block */
	bool fs_dirty;   /* mstatus.FS set to Dirty earlier in this block */
	bool ended;      /* a terminal was emitted */
	struct stub stubs[MAX_STUBS];
	unsigned nstubs;
	/* Chainable exits; the code refers to them by an address known only at the end
	 * (the movabs immediates in exit_imm are patched then). */
	struct jit_exit exits[MAX_EXITS];
	uint8_t *exit_imm[MAX_EXITS];
	unsigned nexits;
	struct rv_insn insns[JIT_MAX_INSNS];
	uint8_t *insn_ref[JIT_MAX_INSNS]; /* rip-relative lea fields that point at insns[i] */
	unsigned ninsn_refs;
	unsigned insn_ref_idx[JIT_MAX_INSNS];
};

/* ---- small emission helpers ------------------------------------------------- */

static inline struct stub *new_stub(struct tr *t, enum stub_kind kind)
{
	struct stub *s;

	if (t->nstubs == MAX_STUBS) {
		t->e.overflow = true;
		return &t->stubs[0]; /* never emitted: the block is abandoned */
	}
	s = &t->stubs[t->nstubs++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->pc = t->pc;
	s->retired = t->idx;
	s->committed = t->committed;
	return s;
}

/* Another jcc to stub s (a stub takes up to four). */
static inline void tr_stub_jcc(struct tr *t, struct stub *s, enum x86_cc cc)
{
	uint8_t *f = x86_jcc_rel32(&t->e, cc);

	if (!s->field)
		s->field = f;
	else if (s->nmore < ARRAY_SIZE(s->more))
		s->more[s->nmore++] = f;
	else
		t->e.overflow = true;
}

/* jmp back to the main path (writable view). */
static inline void jump_back(struct tr *t, uint8_t *back)
{
	uint8_t *j = x86_jmp_rel32(&t->e);

	if (!t->e.overflow)
		x86_patch_rel32(j, back);
}

/* jcc to a new stub of the given kind. */
static inline struct stub *jcc_stub(struct tr *t, enum x86_cc cc, enum stub_kind kind)
{
	struct stub *s = new_stub(t, kind);

	s->field = x86_jcc_rel32(&t->e, cc);
	return s;
}

/* Make instret count the instructions before index `upto` of the block. */
static inline void commit(struct tr *t, unsigned upto)
{
	if (upto > t->committed) {
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET, (int32_t)(upto - t->committed));
		t->committed = upto;
	}
}

/* call one of the shared routines (prologue.c). */
static inline void call_thunk(struct tr *t, const uint8_t *thunk)
{
	uint8_t *f = x86_call_rel32(&t->e);

	if (!t->e.overflow)
		x86_patch_rel32(f, jit_rw(t->jit, thunk));
}

/* jmp (or jcc) to one of the shared routines. */
static inline void jump_to(struct tr *t, const uint8_t *rx, int cc)
{
	uint8_t *f = cc < 0 ? x86_jmp_rel32(&t->e) : x86_jcc_rel32(&t->e, (enum x86_cc)cc);

	if (!t->e.overflow)
		x86_patch_rel32(f, jit_rw(t->jit, rx));
}

/* rsi = address of the decoded instruction d (kept after the block's code). */
static inline void lea_insn(struct tr *t, enum x86_reg r, const struct rv_insn *d)
{
	unsigned i = (unsigned)(d - t->insns);

	/* lea r, [rip + disp32]: the displacement is patched once the data is placed. */
	x86_rex(&t->e, true, r, 0, 0);
	x86_byte(&t->e, 0x8d);
	x86_byte(&t->e, (uint8_t)(((r & 7) << 3) | 5));
	if (t->ninsn_refs < JIT_MAX_INSNS) {
		t->insn_ref[t->ninsn_refs] = t->e.p;
		t->insn_ref_idx[t->ninsn_refs++] = i;
	} else {
		t->e.overflow = true;
	}
	x86_u32(&t->e, 0);
}

static inline bool is_pinned(unsigned g)
{
	return jit_pinned_reg(g) != X86_NOREG;
}

/* A host register holding guest register g: its pinned register, or scratch loaded. */
static inline enum x86_reg src(struct tr *t, unsigned g, enum x86_reg scratch)
{
	enum x86_reg r;

	if (g == 0) {
		x86_mov_ri_keepflags(&t->e, scratch, 0);
		return scratch;
	}
	r = jit_pinned_reg(g);
	if (r != X86_NOREG)
		return r;
	x86_mov_rm(&t->e, scratch, JIT_XREG(g));
	return scratch;
}

/* The register to compute guest rd in: its pinned register, or rax. */
static inline enum x86_reg dst(unsigned g)
{
	enum x86_reg r = jit_pinned_reg(g);

	return r != X86_NOREG ? r : RAX;
}

/* Finish a write of guest rd computed in host register r. */
static inline void put(struct tr *t, unsigned g, enum x86_reg r)
{
	enum x86_reg p = jit_pinned_reg(g);

	if (p != X86_NOREG)
		x86_mov_rr(&t->e, p, r);
	else
		x86_mov_mr(&t->e, JIT_XREG(g), r);
}

/* op r, <guest g> with g as a register, memory or immediate-0 operand. */
static inline void alu_with(struct tr *t, enum x86_alu op, bool w, enum x86_reg r, unsigned g)
{
	enum x86_reg p = jit_pinned_reg(g);

	if (g == 0)
		x86_alu_ri(&t->e, op, w, r, 0);
	else if (p != X86_NOREG)
		x86_alu_rr(&t->e, op, w, r, p);
	else
		x86_alu_rm(&t->e, op, w, r, JIT_XREG(g));
}

/* Local forward jumps inside one instruction's code (rel8). */
static inline uint8_t *jcc8(struct tr *t, enum x86_cc cc)
{
	uint8_t *f;

	x86_byte(&t->e, (uint8_t)(0x70 | cc));
	f = t->e.p;
	x86_byte(&t->e, 0);
	return f;
}

static inline uint8_t *jmp8(struct tr *t)
{
	uint8_t *f;

	x86_byte(&t->e, 0xeb);
	f = t->e.p;
	x86_byte(&t->e, 0);
	return f;
}

static inline void land8(struct tr *t, uint8_t *f)
{
	if (!t->e.overflow)
		*f = (uint8_t)(t->e.p - (f + 1));
}

/* Leave for the dispatcher with rax = code (after cpu->pc was set as needed). */
static inline void leave(struct tr *t, uint64_t code)
{
	x86_mov_ri(&t->e, RAX, code);
	jump_to(t, t->jit->epilogue, -1);
}

/* cpu->pc = pc (clobbers rax). */
static inline void set_pc(struct tr *t, uint64_t pc)
{
	if (x86_fits_i32((int64_t)pc)) {
		x86_mov_mi(&t->e, JIT_CPU(pc), (int32_t)pc);
	} else {
		x86_mov_ri(&t->e, RAX, pc);
		x86_mov_mr(&t->e, JIT_CPU(pc), RAX);
	}
}

/* Test mstatus.FS once per block before the first FP instruction; Off = illegal. */
static inline void fs_check(struct tr *t, const struct rv_insn *d)
{
	struct stub *s;

	if (t->fs_checked)
		return;
	x86_test_m32i(&t->e, JIT_CPU(mstatus), (uint32_t)MSTATUS_FS);
	s = jcc_stub(t, CC_E, STUB_RAISE);
	s->cause = RV_EXC_ILLEGAL;
	s->tval = d->len == 2 ? (d->raw & 0xffff) : d->raw;
	t->fs_checked = true;
}

/* mstatus.FS = Dirty, once per block, after the first instruction that writes FP state. */
static inline void fs_dirty(struct tr *t)
{
	if (t->fs_dirty)
		return;
	x86_alu_mi(&t->e, ALU_OR, false, JIT_CPU(mstatus), (int32_t)MSTATUS_FS);
	t->fs_dirty = true;
}

/*
 * Call fn(cpu, &insn) with the whole guest state in cpu (pinned registers
 * written out and read back); a 0 return is an exception at this instruction.
 */
static inline void call_insn_helper(struct tr *t, const struct rv_insn *d, const void *fn)
{
	/* As in the interpreter, a helper sees instret counting this instruction. */
	commit(t, t->idx + 1);
	lea_insn(t, RSI, d);
	x86_mov_ri(&t->e, RAX, (uint64_t)(uintptr_t)fn);
	call_thunk(t, t->jit->thunk_call);
	x86_test_rr(&t->e, true, RAX, RAX);
	jcc_stub(t, CC_E, STUB_EXC);
}

/* Terminal: every instruction of the block retired. */
static inline void commit_all(struct tr *t)
{
	commit(t, t->idx + 1);
}

/*
 * Leave with the exception raised at the stub's instruction (cpu->exc_* set);
 * `counted` instructions of the block are in cpu->instret on this path, and
 * the faulting one does not retire.
 */
static inline void stub_exception_exit(struct tr *t, const struct stub *s, unsigned counted)
{
	if (s->retired != counted)
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET,
		           (int32_t)s->retired - (int32_t)counted);
	set_pc(t, s->pc);
	leave(t, JIT_EXIT_TRAP);
}

/* instret += n on a slow path (n may be negative or 0). */
static inline void adjust_instret(struct tr *t, int n)
{
	if (n)
		x86_alu_ri(&t->e, ALU_ADD, true, JIT_INSTRET, n);
}

/* rd = value (lui, auipc, link registers) */
static inline void op_lui(struct tr *t, const struct rv_insn *d, uint64_t value)
{
	if (d->rd == RV_REG_SINK)
		return;
	if (is_pinned(d->rd)) {
		x86_mov_ri(&t->e, jit_pinned_reg(d->rd), value);
	} else if (x86_fits_i32((int64_t)value)) {
		x86_mov_mi(&t->e, JIT_XREG(d->rd), (int32_t)value);
	} else {
		x86_mov_ri(&t->e, RAX, value);
		x86_mov_mr(&t->e, JIT_XREG(d->rd), RAX);
	}
}

/* ---- the parts of the translator ------------------------------------------- */

/* translate-alu.c: integer computation (RV64I, M); false when d is none of it. */
bool tr_alu(struct tr *t, const struct rv_insn *d);
/* translate-mem.c: loads and stores, integer and FP; false when d is none of them. */
bool tr_mem(struct tr *t, const struct rv_insn *d);
/* translate-mem.c: the out-of-line code of STUB_TLB, STUB_LOAD and STUB_STORE. */
void tr_mem_stub(struct tr *t, struct stub *s);
/* translate-fp.c: F and D computation (not loads and stores), and its stubs. */
void tr_fp(struct tr *t, const struct rv_insn *d);
void tr_fp_stub(struct tr *t, struct stub *s);

#endif
