/* SPDX-License-Identifier: MIT */
/*
 * The routines at the start of the code cache that every block shares:
 *
 *   enter(cpu, code)   called from C: saves the callee-saved registers, keeps
 *                      rsp 16-byte aligned for helper calls, sets rbp = cpu,
 *                      loads the pinned guest registers, jumps to code
 *   epilogue           reached by jmp with rax = exit code: stores the pinned
 *                      registers back to cpu->x[] and returns rax to C
 *   jc_miss            reached by jmp from an inline jump-cache miss with
 *                      rax = guest pc: asks jit_lookup_fast() and jumps to the
 *                      block, or leaves with JIT_EXIT_LOOKUP
 *   load, store        called from a load's / store's slow path: rsi = va,
 *                      load: edx = size | 0x100 if signed -> rax value, rdx ok;
 *                      store: rdx = value, ecx = size -> rax ok
 *   call               called with rax = helper, rsi = its second argument:
 *                      the whole guest state in cpu->x[] around helper(cpu, rsi)
 *
 * They are written once when the translator is created and survive flushes.
 */
#include "vm/emu/riscv64/jit/jit.h"

static const enum x86_reg saved[] = {RBX, RBP, R12, R13, R14, R15};

/* Host registers C calls clobber. */
static bool clobbered(enum x86_reg r)
{
	return r == RAX || r == RCX || r == RDX || r == RSI || r == RDI || (r >= R8 && r <= R11);
}

/* Store (out) or load instret and the pinned registers, all or those C calls clobber. */
static void pinned_move(struct x86_emit *e, bool out, bool all)
{
	if (out)
		x86_mov_mr(e, JIT_CPU(instret), JIT_INSTRET);
	else
		x86_mov_rm(e, JIT_INSTRET, JIT_CPU(instret));
	for (unsigned i = 0; i < JIT_NPINNED; i++) {
		unsigned g = jit_pinned_guest(i);
		enum x86_reg r = jit_pinned_reg(g);
		if (!all && !clobbered(r))
			continue;
		if (out)
			x86_mov_mr(e, JIT_XREG(g), r);
		else
			x86_mov_rm(e, r, JIT_XREG(g));
	}
}

static void call_c(struct x86_emit *e, const void *fn)
{
	x86_mov_ri(e, RAX, (uint64_t)(uintptr_t)fn);
	x86_call_r(e, RAX);
}

/* A routine entered by `call`: rsp is 8 off alignment until it adjusts. */
static const uint8_t *emit_call_thunk(struct rv_jit *jit, struct x86_emit *e, const void *fn,
                                      bool all)
{
	const uint8_t *at;

	x86_align(e, 16, 0);
	at = jit_rx(jit, e->p);
	x86_alu_ri(e, ALU_SUB, true, RSP, 8);
	pinned_move(e, true, all);
	x86_mov_rr(e, RDI, RBP);
	if (fn)
		call_c(e, fn);
	else
		x86_call_r(e, RAX);
	pinned_move(e, false, all);
	x86_alu_ri(e, ALU_ADD, true, RSP, 8);
	x86_ret(e);
	return at;
}

size_t jit_emit_prologue(struct rv_jit *jit)
{
	struct x86_emit e = {.p = jit->rw, .start = jit->rw, .end = jit->rw + 4096};

	jit->enter = jit_rx(jit, e.p);
	for (unsigned i = 0; i < ARRAY_SIZE(saved); i++)
		x86_push(&e, saved[i]);
	/* 8 (return address) + 6 * 8 pushed: one more slot makes rsp 16-byte aligned. */
	x86_alu_ri(&e, ALU_SUB, true, RSP, 8);
	x86_mov_rr(&e, RBP, RDI);
	pinned_move(&e, false, true);
	x86_jmp_r(&e, RSI);

	x86_align(&e, 16, 0);
	jit->epilogue = jit_rx(jit, e.p);
	pinned_move(&e, true, true);
	x86_alu_ri(&e, ALU_ADD, true, RSP, 8);
	for (unsigned i = ARRAY_SIZE(saved); i-- > 0;)
		x86_pop(&e, saved[i]);
	x86_ret(&e);

	/* jc_miss: reached by a jump (rsp aligned), rax = the guest pc. */
	x86_align(&e, 16, 0);
	jit->thunk_jc_miss = jit_rx(jit, e.p);
	x86_mov_mr(&e, JIT_CPU(pc), RAX);
	pinned_move(&e, true, false);
	x86_mov_rr(&e, RDI, RBP);
	call_c(&e, (const void *)jit_lookup_fast);
	pinned_move(&e, false, false);
	x86_test_rr(&e, true, RAX, RAX);
	x86_byte(&e, 0x74); /* jz +2: past the jmp */
	x86_byte(&e, 2);
	x86_jmp_r(&e, RAX);
	x86_mov_ri(&e, RAX, JIT_EXIT_LOOKUP);
	{
		uint8_t *f = x86_jmp_rel32(&e);
		x86_patch_rel32(f, jit_rw(jit, jit->epilogue));
	}

	jit->thunk_load = emit_call_thunk(jit, &e, (const void *)jit_helper_load, false);
	jit->thunk_store = emit_call_thunk(jit, &e, (const void *)jit_helper_store, false);
	jit->thunk_call = emit_call_thunk(jit, &e, NULL, true);
	x86_align(&e, 64, 0);
	return (size_t)(e.p - e.start);
}
