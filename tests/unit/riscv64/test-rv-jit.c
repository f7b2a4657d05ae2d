/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 translator on the fake board: what the differential checker
 * (tests/fuzz/fuzz-rv-jit.c) cannot see because it compares only runs that
 * leave code alone, and the promises of cpu.h about translated code:
 * invalidation by device DMA, by the hart's own stores and fence.i, and by
 * another hart's stores through a TLB entry filled before the code was
 * translated; a full cache flushed and filled again; exit requests noticed
 * inside a chained loop; precise exceptions in the middle of a block; W^X.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "rv-fake-board.h"

#define A0 10
#define A1 11
#define T0 5
#define RA 1

/* A fake board whose hart runs on a translator (a second hart optional). */
struct jit_board {
	struct fake_board *fb;
	struct rv_jit *jit;
	struct rv_cpu *other; /* a second hart of the same machine, or NULL */
};

static struct jit_board *jb_new(uint64_t cache, bool second)
{
	struct jit_board *jb = calloc(1, sizeof(*jb));
	struct rv_cpu_config cfg;
	struct vk_error err = {0};

	assert_non_null(jb);
	jb->fb = fb_new();
	jb->jit = rv_jit_new(&jb->fb->mem, cache, &err);
	assert_non_null(jb->jit);
	jb->fb->mem.write_hook = rv_jit_mem_write_hook;
	jb->fb->mem.write_hook_opaque = jb->jit;
	/* The fake board's hart interprets: replace it by one on the translator. */
	rv_cpu_free(jb->fb->cpu);
	cfg = (struct rv_cpu_config){.hartid = 0,
	                             .mem = &jb->fb->mem,
	                             .mmio = &jb->fb->mmio,
	                             .rdtime = fb_time,
	                             .opaque = jb->fb,
	                             .jit = jb->jit};
	jb->fb->cpu = rv_cpu_new(&cfg, NULL);
	assert_non_null(jb->fb->cpu);
	rv_cpu_reset(jb->fb->cpu, RAM_BASE);
	if (second) {
		cfg.hartid = 1;
		jb->other = rv_cpu_new(&cfg, NULL);
		assert_non_null(jb->other);
		rv_cpu_reset(jb->other, RAM_BASE);
	}
	return jb;
}

static void jb_free(struct jit_board *jb)
{
	rv_cpu_free(jb->other);
	rv_cpu_free(jb->fb->cpu);
	jb->fb->cpu = NULL;
	rv_jit_free(jb->jit);
	fb_free(jb->fb);
	free(jb);
}

static struct rv_jit_stats stats_of(struct jit_board *jb)
{
	struct rv_jit_stats st;

	rv_jit_get_stats(jb->jit, &st);
	return st;
}

/* Run cpu from pc until it executes wfi; returns its a0. */
static uint64_t run_to_wfi(struct rv_cpu *cpu, uint64_t pc)
{
	rv_cpu_set_pc(cpu, pc);
	assert_int_equal(rv_cpu_run(cpu, 1000000), RV_EXIT_WFI);
	return rv_cpu_get_reg(cpu, A0);
}

/* A device writes new code over translated code: the next run sees the new code. */
static void test_dma_invalidates(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	uint32_t old_code[] = {ADDI(A0, 0, 1), WFI}, new_code[] = {ADDI(A0, 0, 2), WFI};

	fb_code(jb->fb, RAM_BASE, old_code, 2);
	assert_int_equal(run_to_wfi(jb->fb->cpu, RAM_BASE), 1);
	assert_true(stats_of(jb).blocks >= 1);
	/* vm_mem_write is how loaders and devices write RAM; it calls the write hook. */
	assert_int_equal(vm_mem_write(&jb->fb->mem, RAM_BASE, new_code, sizeof(new_code)), 0);
	assert_true(stats_of(jb).invalidated >= 1);
	assert_int_equal(run_to_wfi(jb->fb->cpu, RAM_BASE), 2);
	jb_free(jb);
}

/* The hart rewrites an instruction of a function it has run, fence.i, calls it again. */
static void test_own_store_and_fence_i(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	uint64_t fn = RAM_BASE + 0x100;
	uint32_t patch = ADDI(A0, 0, 7);
	uint32_t main_code[] = {
	        JAL(RA, 0x100),                 /* 0x00: call fn: a0 = 5 */
	        LUI(T0, (patch + 0x800) >> 12), /* 0x04: t0 = the new instruction */
	        ADDI(T0, T0, (int32_t)(patch << 20) >> 20),
	        SW(T0, A1, 0),         /* 0x0c: fn[0] = addi a0, x0, 7 (a1 = fn) */
	        0x0000100fu,           /* 0x10: fence.i */
	        JAL(RA, 0x100 - 0x14), /* 0x14: call fn again */
	        WFI,
	};
	uint32_t fn_code[] = {ADDI(A0, 0, 5), enc_i(0, RA, 0, 0, 0x67) /* jalr x0, 0(ra) */};

	fb_code(jb->fb, RAM_BASE, main_code, ARRAY_SIZE(main_code));
	fb_code(jb->fb, fn, fn_code, 2);
	jb->fb->cpu->x[A1] = fn;
	assert_int_equal(run_to_wfi(jb->fb->cpu, RAM_BASE), 7);
	assert_true(stats_of(jb).invalidated >= 1);
	jb_free(jb);
}

/*
 * Hart 1 filled its write TLB entry for a page before hart 0 translated code
 * in it; hart 1's next store into that code must still invalidate it.
 */
static void test_other_hart_store_invalidates(void **state)
{
	struct jit_board *jb = jb_new(0, true);
	uint64_t code = RAM_BASE + 0x2000, data = RAM_BASE + 0x2800; /* the same page */
	uint32_t old_code[] = {ADDI(A0, 0, 1), WFI};
	uint32_t writer[] = {SW(T0, A1, 0), WFI}; /* hart 1: *a1 = t0 */
	uint64_t writer_at = RAM_BASE + 0x8000;

	fb_code(jb->fb, code, old_code, 2);
	fb_code(jb->fb, writer_at, writer, 2);
	/* hart 1 stores to the page while it holds no code: a write tag for it is cached */
	jb->other->x[A1] = data;
	jb->other->x[T0] = 0x1234;
	run_to_wfi(jb->other, writer_at);
	assert_int_equal(fb_get64(jb->fb, data) & 0xffffffff, 0x1234);
	/* hart 0 translates the code in that page */
	assert_int_equal(run_to_wfi(jb->fb->cpu, code), 1);
	/* hart 1 overwrites the code through the entry it cached */
	jb->other->x[A1] = code;
	jb->other->x[T0] = ADDI(A0, 0, 3);
	run_to_wfi(jb->other, writer_at);
	assert_int_equal(run_to_wfi(jb->fb->cpu, code), 3);
	jb_free(jb);
}

/* Code worth more than the cache: flushed when full, and the program still right. */
static void test_cache_full(void **state)
{
	struct jit_board *jb = jb_new(1 << 20, false);
	const unsigned n = 48 * 1024; /* 48k loads: about 4 MiB of translated code */
	uint64_t at = RAM_BASE + 0x10000;

	for (unsigned i = 0; i < n; i++)
		fb_put32(jb->fb, at + 4 * i, enc_i(0, 2, 3, A1, 0x03)); /* ld a1, 0(sp) */
	fb_put32(jb->fb, at + 4 * n, ADDI(A0, A1, 1));
	fb_put32(jb->fb, at + 4 * n + 4, WFI);
	fb_put64(jb->fb, RAM_BASE + 0x8000, 41);
	jb->fb->cpu->x[2] = RAM_BASE + 0x8000;
	for (int round = 0; round < 2; round++) {
		rv_cpu_set_pc(jb->fb->cpu, at);
		enum rv_exit r;
		do
			r = rv_cpu_run(jb->fb->cpu, 1000000);
		while (r == RV_EXIT_BUDGET);
		assert_int_equal(r, RV_EXIT_WFI);
		assert_int_equal(rv_cpu_get_reg(jb->fb->cpu, A0), 42);
	}
	assert_true(stats_of(jb).flushes >= 1);
	assert_true(stats_of(jb).cache_used <= stats_of(jb).cache_size);
	jb_free(jb);
}

static void *request_exit_later(void *arg)
{
	struct rv_cpu *cpu = arg;

	nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	rv_cpu_request_exit(cpu);
	return NULL;
}

/* `j .` chains to itself; an exit request from another thread still ends the run. */
static void test_exit_request_in_chained_loop(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	pthread_t th;

	fb_put32(jb->fb, RAM_BASE, JAL(0, 0));
	rv_cpu_set_pc(jb->fb->cpu, RAM_BASE);
	assert_int_equal(pthread_create(&th, NULL, request_exit_later, jb->fb->cpu), 0);
	assert_int_equal(rv_cpu_run(jb->fb->cpu, UINT64_MAX), RV_EXIT_HALTED);
	pthread_join(th, NULL);
	assert_true(rv_cpu_instret(jb->fb->cpu) > 1000);
	assert_true(stats_of(jb).chained >= 1);
	/* and the budget ends a run of the same loop */
	assert_int_equal(rv_cpu_run(jb->fb->cpu, 100000), RV_EXIT_BUDGET);
	jb_free(jb);
}

/* An access fault in the middle of a block: mepc, mtval, instret and registers exact. */
static void test_precise_exception(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	struct rv_cpu *cpu = jb->fb->cpu;
	uint32_t code[] = {
	        ADDI(A0, 0, 11),  /* retires */
	        ADDI(T0, 0, 12),  /* retires */
	        LD(A1, 0, 0x100), /* address 0x100: no RAM, no device: access fault */
	        ADDI(A0, 0, 99),  /* must not run */
	        WFI,
	};
	uint64_t before;

	fb_code(jb->fb, RAM_BASE, code, ARRAY_SIZE(code));
	cpu->mtvec = RAM_BASE + 0x400;
	fb_put32(jb->fb, RAM_BASE + 0x400, WFI);
	before = rv_cpu_instret(cpu);
	rv_cpu_set_pc(cpu, RAM_BASE);
	assert_int_equal(rv_cpu_run(cpu, 1000), RV_EXIT_WFI);
	assert_int_equal(cpu->mcause, RV_EXC_LOAD_ACCESS);
	assert_int_equal(cpu->mepc, RAM_BASE + 8);
	assert_int_equal(cpu->mtval, 0x100);
	assert_int_equal(rv_cpu_get_reg(cpu, A0), 11);
	assert_int_equal(rv_cpu_get_reg(cpu, T0), 12);
	/* two instructions before the fault, then the handler's wfi */
	assert_int_equal(rv_cpu_instret(cpu) - before, 3);
	jb_free(jb);
}

/* The code cache is never writable and executable at one address. */
static void test_w_xor_x(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	char line[512];
	unsigned rx = 0, rw = 0, wx = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char perms[8];
		if (!strstr(line, "virtkit-jit") || sscanf(line, "%*s %7s", perms) != 1)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			wx++;
		else if (perms[2] == 'x')
			rx++;
		else if (perms[1] == 'w')
			rw++;
	}
	fclose(f);
	assert_int_equal(wx, 0);
	assert_int_equal(rx, 1);
	assert_int_equal(rw, 1);
	jb_free(jb);
}

/* Out-of-range cache sizes are refused with a sentence. */
static void test_bad_cache_size(void **state)
{
	struct fake_board *fb = fb_new();
	struct vk_error err = {0};

	assert_null(rv_jit_new(&fb->mem, 1000, &err));
	assert_non_null(strstr(err.msg, "out of range"));
	assert_null(rv_jit_new(&fb->mem, 64ull << 30, &err));
	fb_free(fb);
}

/*
 * A jump cache entry outlives a TLB flush only for the same code: after satp
 * changes, the same virtual pc reached by an indirect jump runs what the new
 * mapping puts there, and the old mapping's code again when it comes back.
 */
static void test_remapped_pc_after_tlb_flush(void **state)
{
	struct jit_board *jb = jb_new(0, false);
	struct rv_cpu *cpu = jb->fb->cpu;
	const uint64_t root[2] = {RAM_BASE + 0x10000, RAM_BASE + 0x11000};
	const uint64_t l1[2] = {RAM_BASE + 0x12000, RAM_BASE + 0x13000};
	const uint64_t l0[2] = {RAM_BASE + 0x14000, RAM_BASE + 0x15000};
	const uint64_t fn_pa[2] = {RAM_BASE + 0x20000, RAM_BASE + 0x21000}, fn_va = 0x40000000;
	uint32_t caller[] = {enc_i(0, A1, 0, RA, 0x67) /* jalr ra, 0(a1) */, WFI};

	fb_code(jb->fb, RAM_BASE + 0x100, caller, 2);
	for (unsigned m = 0; m < 2; m++) {
		uint32_t fn[] = {ADDI(A0, 0, (int32_t)m + 1), enc_i(0, RA, 0, 0, 0x67) /* ret */};

		fb_code(jb->fb, fn_pa[m], fn, 2);
		/* Sv39: 0x8000_0000 identity (1 GiB, RWX), 0x4000_0000 -> fn_pa[m] (RX) */
		fb_put64(jb->fb, root[m] + 2 * 8, ((RAM_BASE >> 12) << 10) | 0xcf);
		fb_put64(jb->fb, root[m] + 1 * 8, ((l1[m] >> 12) << 10) | 0x01);
		fb_put64(jb->fb, l1[m], ((l0[m] >> 12) << 10) | 0x01);
		fb_put64(jb->fb, l0[m], ((fn_pa[m] >> 12) << 10) | 0x4b);
	}
	cpu->x[A1] = fn_va;
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned m = 0; m < 2; m++) {
			cpu->priv = RV_PRIV_M;
			fb_csr(jb->fb, 0x180, true, (8ull << 60) | (root[m] >> 12));
			cpu->priv = RV_PRIV_S;
			rv_update_mmu_ctx(cpu);
			assert_int_equal(run_to_wfi(cpu, RAM_BASE + 0x100), m + 1);
		}
	}
	jb_free(jb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dma_invalidates),
	        cmocka_unit_test(test_own_store_and_fence_i),
	        cmocka_unit_test(test_other_hart_store_invalidates),
	        cmocka_unit_test(test_cache_full),
	        cmocka_unit_test(test_exit_request_in_chained_loop),
	        cmocka_unit_test(test_precise_exception),
	        cmocka_unit_test(test_w_xor_x),
	        cmocka_unit_test(test_bad_cache_size),
	        cmocka_unit_test(test_remapped_pc_after_tlb_flush),
	};

	if (!rv_jit_supported()) {
		printf("1..0 # SKIP the translator needs an x86-64 host\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
