/* SPDX-License-Identifier: MIT */
/*
 * The translator on hosts it does not generate code for (it emits x86-64):
 * rv_jit_new() says so, and nothing else can be reached.
 */
#include <errno.h>

#include "vm/emu/riscv64/rv.h"

bool rv_jit_supported(void)
{
	return false;
}

struct rv_jit *rv_jit_new(const struct vm_mem *mem, uint64_t cache_size, struct vk_error *err)
{
	vk_error_set(err, ENOTSUP, "the riscv64 translator needs an x86-64 host; use --jit off");
	return NULL;
}

void rv_jit_free(struct rv_jit *jit)
{
}

void rv_jit_flush(struct rv_jit *jit)
{
}

void rv_jit_note_write(struct rv_jit *jit, const void *host, size_t len)
{
}

void rv_jit_mem_write_hook(void *opaque, const void *host, size_t len)
{
}

void rv_jit_get_stats(struct rv_jit *jit, struct rv_jit_stats *st)
{
	memset(st, 0, sizeof(*st));
}

enum rv_exit rv_jit_run(struct rv_cpu *cpu, uint64_t budget)
{
	return rv_interp_run(cpu, budget);
}

struct rv_jit_hart *rv_jit_hart_new(struct rv_jit *jit, struct rv_cpu *cpu)
{
	return NULL;
}

void rv_jit_hart_free(struct rv_jit_hart *jh)
{
}

void rv_jit_hart_set_ctx(struct rv_jit_hart *jh)
{
}

void rv_jit_hart_tlb_flushed(struct rv_jit_hart *jh)
{
}

void rv_jit_hart_reset(struct rv_jit_hart *jh)
{
}

bool rv_jit_page_has_code(const struct rv_jit *jit, const void *host)
{
	return false;
}

struct rv_jit *rv_jit_of(const struct rv_jit_hart *jh)
{
	return NULL;
}
