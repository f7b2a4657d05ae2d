/* SPDX-License-Identifier: MIT */
/*
 * Differential checker: the riscv64 translator against the interpreter.
 *
 * Each input is a little program and the state it starts in. Two harts run
 * it from the same state, one interpreting, one translating, each in its
 * own copy of guest RAM; when both stop at the same place they must agree on
 * every architectural register, the CSRs the program can reach, instret, the
 * privilege, and every byte of RAM. A disagreement prints both states and
 * aborts.
 *
 * RAM (256 KiB at 0x8000_0000):
 *   0x8000_0000  the M-mode trap vector: `wfi`, so the first trap ends the
 *                run exactly there (mie = 0: nothing wakes it) with mcause,
 *                mepc and mtval holding the precise exception
 *   0x8000_1000  Sv39 root page table (when the input asks for paging):
 *                0x8000_0000 identity-mapped by a 1 GiB page, and
 *                0x0000_0000 .. 0x3fff_ffff onto the same RAM
 *   0x8001_0000  the program, placed so that it may cross a page boundary;
 *                whatever follows it is zeros (an illegal instruction)
 *   0x8002_0000  64 KiB of data the registers point into
 *
 * Input: a 64-byte header (start privilege, paging, mstatus.FS, frm, fflags,
 * the program's offset, what each x and f register holds), then the
 * program's bytes. Runs that do not stop on their own within the budget (a
 * loop) are not compared; neither are runs that wrote into code they had
 * translated, wherever it was (programs jump into their data too): the
 * interpreter sees such a store at once, the translator at the next block,
 * which the specification allows (self-modifying code needs fence.i).
 *
 * Seeds: tests/fuzz/corpus/rv-jit, made from the ISA tests' code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "fuzz.h"
#include "vm/bus.h"
#include "vm/mem.h"
#include "vm/emu/riscv64/rv.h"

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  (256u << 10)
#define VEC       RAM_BASE
#define PT_ROOT   (RAM_BASE + 0x1000)
#define CODE      (RAM_BASE + 0x10000)
#define CODE_MAX  2048u
#define DATA      (RAM_BASE + 0x20000)
#define DATA_SIZE (64u << 10)
#define BUDGET    200000

const char vk_fuzz_name[] = "rv-jit";

struct side {
	struct vm_mem mem;
	struct bus bus;
	struct rv_jit *jit;
	struct rv_cpu *cpu;
	uint8_t *ram;
	uint64_t instret0; /* the hart's instret when this input started */
};

static struct side interp, jit;
static bool ready;

static void side_init(struct side *s, bool translate)
{
	struct vk_error err = {0};
	struct rv_cpu_config cfg = {.hartid = 0, .max_satp_mode = RV_SATP_MODE_SV48};

	vm_mem_init(&s->mem);
	bus_init(&s->bus, "mmio");
	if (vm_mem_add_ram(&s->mem, RAM_BASE, RAM_SIZE, &err)) {
		fprintf(stderr, "fuzz-rv-jit: %s\n", err.msg);
		abort();
	}
	s->ram = vm_mem_translate(&s->mem, RAM_BASE, RAM_SIZE);
	if (translate) {
		s->jit = rv_jit_new(&s->mem, 0, &err);
		if (!s->jit) {
			fprintf(stderr, "fuzz-rv-jit: %s\n", err.msg);
			abort();
		}
	}
	cfg.mem = &s->mem;
	cfg.mmio = &s->bus;
	cfg.jit = s->jit;
	s->cpu = rv_cpu_new(&cfg, &err);
	if (!s->cpu) {
		fprintf(stderr, "fuzz-rv-jit: %s\n", err.msg);
		abort();
	}
}

/* Values registers start with: into the data area (loads and stores that
 * work), near its edges, and the usual suspects of integer and FP code. */
static uint64_t xval(uint8_t sel, uint64_t rnd)
{
	switch (sel >> 5) {
	case 0:
	case 1:
	case 2: /* inside the data area, 8-byte or odd aligned */
		return DATA + ((uint64_t)sel << 7) + (sel & 4 ? (rnd & 7) : 0);
	case 3:
		return rnd;
	case 4:
		return (uint64_t)(int64_t)(int8_t)rnd;
	case 5: {
		static const uint64_t special[8] = {0,
		                                    1,
		                                    ~0ull,
		                                    0x8000000000000000ull,
		                                    0x7fffffffffffffffull,
		                                    0xffffffff80000000ull,
		                                    0x80000000ull,
		                                    DATA + DATA_SIZE - 4};
		return special[sel & 7];
	}
	case 6:
		return (uint64_t)(int64_t)(int32_t)rnd;
	default:
		return CODE + (rnd & 0x7fe);
	}
}

static uint64_t fval(uint8_t sel, uint64_t rnd)
{
	static const uint64_t special[16] = {
	        0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
	        0xbff8000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
	        0x7ff8000000000000ull, 0x7ff4000000000000ull, /* sNaN */
	        0x0000000000000001ull,                        /* denormal */
	        0x7fefffffffffffffull, 0xffffffff3f800000ull, /* boxed 1.0f */
	        0xffffffffbf800000ull, 0xffffffff7fc00000ull, /* boxed qNaN */
	        0xffffffff7fa00000ull,                        /* boxed sNaN */
	        0xffffffff00000001ull,                        /* boxed denormal */
	        0x000000003f800000ull,                        /* not boxed */
	};

	if (sel < 128)
		return special[sel & 15];
	if (sel < 192)
		return 0xffffffff00000000ull | (uint32_t)rnd;
	return rnd;
}

struct start {
	unsigned priv; /* 0 U, 1 S, 3 M */
	bool paging;
	bool fs;
	unsigned frm, fflags;
	uint64_t code_at;
	uint64_t x[32], f[32];
	uint64_t mstatus_extra; /* SUM / MXR / MPRV bits */
};

static void load(struct side *s, const struct start *st, const uint8_t *prog, size_t len)
{
	struct rv_cpu *cpu = s->cpu;
	uint64_t *pt = (uint64_t *)(void *)(s->ram + (PT_ROOT - RAM_BASE));

	memset(s->ram, 0, RAM_SIZE);
	s->ram[0] = 0x73; /* wfi = 0x10500073 */
	s->ram[1] = 0x00;
	s->ram[2] = 0x50;
	s->ram[3] = 0x10;
	/* Sv39: VPN[2] = 2 (0x8000_0000) and 0 (0x0): 1 GiB leaves onto RAM, RWX, A, D;
	 * U set for U-mode programs so that they may run at all. */
	pt[2] = ((RAM_BASE >> 12) << 10) | 0xcf | (st->priv == 0 ? 0x10 : 0);
	pt[0] = pt[2];
	memcpy(s->ram + (st->code_at - RAM_BASE), prog, len);
	for (unsigned i = 0; i < DATA_SIZE; i++)
		s->ram[DATA - RAM_BASE + i] = (uint8_t)(i * 37 + (i >> 8));
	if (s->jit)
		rv_jit_flush(s->jit);
	rv_cpu_reset(cpu, st->code_at);
	for (unsigned i = 1; i < 32; i++)
		cpu->x[i] = st->x[i];
	memcpy(cpu->f, st->f, sizeof(cpu->f));
	cpu->mtvec = VEC;
	cpu->frm = st->frm;
	cpu->fflags = st->fflags;
	cpu->mstatus |= (st->fs ? MSTATUS_FS : 0) | st->mstatus_extra;
	if (st->paging)
		cpu->satp = (8ull << 60) | (PT_ROOT >> 12);
	/* instret only grows over the harts' lives: each input counts (and minstret,
	 * mcycle read) from 0, whatever earlier inputs did on either side. */
	s->instret0 = cpu->instret;
	cpu->instret_offset = cpu->cycle_offset = -cpu->instret;
	cpu->priv = st->priv;
	rv_update_mmu_ctx(cpu);
}

static enum rv_exit run(struct side *s)
{
	enum rv_exit r;

	do
		r = rv_cpu_run(s->cpu, BUDGET);
	while (r == RV_EXIT_BUDGET && rv_cpu_instret(s->cpu) - s->instret0 < BUDGET);
	return r;
}

static void dump(const char *who, const struct rv_cpu *c)
{
	char buf[4096];

	rv_cpu_describe(c, buf, sizeof(buf));
	fprintf(stderr, "--- %s\n%sfflags %x frm %x\n", who, buf, c->fflags, c->frm);
	for (unsigned i = 0; i < 32; i++)
		fprintf(stderr, "f%-2u %016llx%s", i, (unsigned long long)c->f[i],
		        i % 4 == 3 ? "\n" : " ");
}

#define SAME(field)                                                           \
	do {                                                                  \
		if (a->field != b->field) {                                   \
			fprintf(stderr, "fuzz-rv-jit: %s differs\n", #field); \
			goto differ;                                          \
		}                                                             \
	} while (0)

static void compare(enum rv_exit ra, enum rv_exit rb)
{
	const struct rv_cpu *a = interp.cpu, *b = jit.cpu;

	if (ra != rb) {
		fprintf(stderr, "fuzz-rv-jit: exit %d (interpreter) vs %d (translator)\n", ra, rb);
		goto differ;
	}
	for (unsigned i = 1; i < 32; i++)
		SAME(x[i]);
	for (unsigned i = 0; i < 32; i++)
		SAME(f[i]);
	SAME(pc);
	if (a->instret - interp.instret0 != b->instret - jit.instret0) {
		fprintf(stderr, "fuzz-rv-jit: instret differs: %llu vs %llu\n",
		        (unsigned long long)(a->instret - interp.instret0),
		        (unsigned long long)(b->instret - jit.instret0));
		goto differ;
	}
	SAME(priv);
	SAME(fflags);
	SAME(frm);
	SAME(mstatus);
	SAME(mcause);
	SAME(mepc);
	SAME(mtval);
	SAME(mscratch);
	SAME(satp);
	SAME(fatal);
	if (memcmp(interp.ram, jit.ram, RAM_SIZE)) {
		for (unsigned i = 0; i < RAM_SIZE; i++) {
			if (interp.ram[i] != jit.ram[i]) {
				fprintf(stderr,
				        "fuzz-rv-jit: RAM differs at 0x%llx: %02x vs %02x\n",
				        (unsigned long long)(RAM_BASE + i), interp.ram[i],
				        jit.ram[i]);
				break;
			}
		}
		goto differ;
	}
	return;
differ:
	dump("interpreter", a);
	dump("translator", b);
	abort();
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};
	struct start st = {0};
	uint8_t flags, prog[CODE_MAX];
	size_t len;
	uint64_t rnd;
	enum rv_exit ra, rb;
	struct rv_jit_stats before, after;

	if (!rv_jit_supported())
		return 0;
	if (!ready) {
		side_init(&interp, false);
		side_init(&jit, true);
		ready = true;
	}
	/* Header: 64 bytes. */
	flags = fz_get8(&r);
	st.priv = (flags & 3) == 2 ? 3 : flags & 3;
	st.paging = (flags & 4) && st.priv != 3;
	st.fs = !(flags & 8);
	st.mstatus_extra = (flags & 0x10 ? MSTATUS_SUM : 0) | (flags & 0x20 ? MSTATUS_MXR : 0);
	st.frm = fz_get8(&r) & 7;
	st.fflags = fz_get8(&r) & 0x1f;
	/* Anywhere in the first page, or ending just past its end. */
	st.code_at = CODE + (fz_get16(&r) & 0xffe);
	rnd = fz_get64(&r) | 1;
	for (unsigned i = 1; i < 32; i++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		st.x[i] = xval(fz_get8(&r), rnd);
	}
	for (unsigned i = 0; i < 32; i++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		st.f[i] = fval((uint8_t)(rnd >> 56), rnd);
	}
	while (r.left && (size_t)(r.p - data) < 64)
		fz_get8(&r);
	len = VK_MIN(r.left, (size_t)CODE_MAX);
	memcpy(prog, r.p, len);

	load(&interp, &st, prog, len);
	load(&jit, &st, prog, len);
	rv_jit_get_stats(jit.jit, &before);
	ra = run(&interp);
	rb = run(&jit);
	rv_jit_get_stats(jit.jit, &after);
	if (ra == RV_EXIT_BUDGET || rb == RV_EXIT_BUDGET)
		return 0; /* a loop: the two stop where their own checks fall */
	if (after.invalidated != before.invalidated ||
	    memcmp(interp.ram + (st.code_at - RAM_BASE), prog, len))
		return 0; /* the program wrote into code it ran */
	compare(ra, rb);
	return 0;
}

/* A few programs of our own: loads/stores of every size, a branch, an ecall. */
static const uint8_t builtin0[] = {
        /* header */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* ld a0, 8(a1); sw a0, 4(a2); lbu a3, 3(a1); add a4, a0, a3; beq a4, a4, +8; addi a5, x0, 1;
         * ecall */
        0x03, 0xb5, 0x85, 0x00, 0x23, 0x22, 0xa6, 0x00, 0x83, 0xc6, 0x35, 0x00, 0x33, 0x07, 0xd5,
        0x00, 0x63, 0x04, 0xe7, 0x00, 0x93, 0x07, 0x10, 0x00, 0x73, 0x00, 0x00, 0x00};

const struct vk_fuzz_input vk_fuzz_builtin[] = {{builtin0, sizeof(builtin0)}};
const unsigned vk_fuzz_nr_builtin = 1;
