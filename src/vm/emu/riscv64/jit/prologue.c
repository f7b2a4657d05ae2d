/* SPDX-License-Identifier: MIT */
/*
 * The routines at the start of the code cache that every block shares:
 *
 *   enter(cpu, code)   called from C: saves the callee-saved registers, keeps
 *                      rsp 16-byte aligned for helper calls, sets rbp = cpu,
 *                      loads the pinned guest registers, jumps to code
 *   epilogue           reached by jmp with rax = exit code: stores the pinned
 *                      registers back to cpu->x[] and returns rax to C
 *
 * They are written once when the translator is created and survive flushes.
 */
#include "vm/emu/riscv64/jit/jit.h"

static const enum x86_reg saved[] = {RBX, RBP, R12, R13, R14, R15};

size_t jit_emit_prologue(struct rv_jit *jit)
{
	struct x86_emit e = {.p = jit->rw, .start = jit->rw, .end = jit->rw + 4096};

	jit->enter = jit_rx(jit, e.p);
	for (unsigned i = 0; i < ARRAY_SIZE(saved); i++)
		x86_push(&e, saved[i]);
	/* 8 (return address) + 6 * 8 pushed: one more slot makes rsp 16-byte aligned. */
	x86_alu_ri(&e, ALU_SUB, true, RSP, 8);
	x86_mov_rr(&e, RBP, RDI);
	for (unsigned i = 0; i < JIT_NPINNED; i++) {
		unsigned g = jit_pinned_guest(i);
		x86_mov_rm(&e, jit_pinned_reg(g), JIT_XREG(g));
	}
	x86_jmp_r(&e, RSI);

	x86_align(&e, 16, 0);
	jit->epilogue = jit_rx(jit, e.p);
	for (unsigned i = 0; i < JIT_NPINNED; i++) {
		unsigned g = jit_pinned_guest(i);
		x86_mov_mr(&e, JIT_XREG(g), jit_pinned_reg(g));
	}
	x86_alu_ri(&e, ALU_ADD, true, RSP, 8);
	for (unsigned i = ARRAY_SIZE(saved); i-- > 0;)
		x86_pop(&e, saved[i]);
	x86_ret(&e);
	x86_align(&e, 64, 0);
	return (size_t)(e.p - e.start);
}
