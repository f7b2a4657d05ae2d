/* SPDX-License-Identifier: MIT */
/*
 * Translation of F and D computation (loads and stores are translate-mem.c's).
 */
#include "vm/emu/riscv64/jit/tr.h"

void tr_fp(struct tr *t, const struct rv_insn *d)
{
	fs_check(t, d);
	call_insn_helper(t, d, (const void *)jit_helper_fp);
	/* rv_fp_exec sets FS to Dirty itself. */
}
