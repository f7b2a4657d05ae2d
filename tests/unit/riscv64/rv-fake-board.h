/* SPDX-License-Identifier: MIT */
/*
 * A small fake board for the riscv64 CPU unit tests: 1 MiB of RAM at
 * 0x8000_0000, a bus with a test device at 0x1000_0000 (a scratch register,
 * a doorbell that runs a callback, reads of all ones elsewhere), a fixed
 * clock, and instruction encoders so tests can write code without an
 * assembler. Header-only (static functions) so each test binary stands alone.
 */
#ifndef VK_TEST_RV_FAKE_BOARD_H
#define VK_TEST_RV_FAKE_BOARD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm/bus.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/emu/riscv64/rv.h"
#include "vm/mem.h"

#define RAM_BASE     0x80000000ull
#define RAM_SIZE     (1ull << 20)
#define DEV_BASE     0x10000000ull
#define DEV_SCRATCH  0x0
#define DEV_DOORBELL 0x8

struct fake_board {
	struct vm_mem mem;
	struct bus mmio;
	struct rv_cpu *cpu;
	uint64_t time;
	uint64_t scratch;
	unsigned doorbells;
	void (*doorbell)(struct fake_board *b, uint64_t value);
};

static uint64_t fb_dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_board *b = opaque;
	return off == DEV_SCRATCH ? b->scratch : ~0ull;
}

static void fb_dev_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct fake_board *b = opaque;

	if (off == DEV_SCRATCH)
		b->scratch = value;
	if (off == DEV_DOORBELL) {
		b->doorbells++;
		if (b->doorbell)
			b->doorbell(b, value);
	}
}

static const struct bus_ops fb_dev_ops = {.read = fb_dev_read, .write = fb_dev_write};

static uint64_t fb_time(void *opaque)
{
	return ((struct fake_board *)opaque)->time;
}

static inline struct fake_board *fb_new(void)
{
	struct fake_board *b = calloc(1, sizeof(*b));
	struct rv_cpu_config cfg;

	assert_non_null(b);
	vm_mem_init(&b->mem);
	bus_init(&b->mmio, "mmio");
	assert_int_equal(vm_mem_add_ram(&b->mem, RAM_BASE, RAM_SIZE, NULL), 0);
	assert_int_equal(bus_register(&b->mmio, DEV_BASE, 0x1000, &fb_dev_ops, b, "dev"), 0);
	cfg = (struct rv_cpu_config){
	        .hartid = 0, .mem = &b->mem, .mmio = &b->mmio, .rdtime = fb_time, .opaque = b};
	b->cpu = rv_cpu_new(&cfg, NULL);
	assert_non_null(b->cpu);
	rv_cpu_reset(b->cpu, RAM_BASE);
	return b;
}

static inline void fb_free(struct fake_board *b)
{
	rv_cpu_free(b->cpu);
	bus_destroy(&b->mmio);
	vm_mem_destroy(&b->mem);
	free(b);
}

static inline void *fb_ptr(struct fake_board *b, uint64_t pa, uint64_t len)
{
	void *p = vm_mem_translate(&b->mem, pa, len);
	assert_non_null(p);
	return p;
}

static inline void fb_put32(struct fake_board *b, uint64_t pa, uint32_t v)
{
	memcpy(fb_ptr(b, pa, 4), &v, 4);
}

static inline void fb_put16(struct fake_board *b, uint64_t pa, uint16_t v)
{
	memcpy(fb_ptr(b, pa, 2), &v, 2);
}

static inline void fb_put64(struct fake_board *b, uint64_t pa, uint64_t v)
{
	memcpy(fb_ptr(b, pa, 8), &v, 8);
}

static inline uint64_t fb_get64(struct fake_board *b, uint64_t pa)
{
	uint64_t v;
	memcpy(&v, fb_ptr(b, pa, 8), 8);
	return v;
}

/* Write a sequence of 32-bit instructions at pa; returns the address after them. */
static inline uint64_t fb_code(struct fake_board *b, uint64_t pa, const uint32_t *insn, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fb_put32(b, pa + 4 * i, insn[i]);
	return pa + 4 * n;
}

/* Access a CSR as M-mode software would (for test setup). */
static inline uint64_t fb_csr(struct fake_board *b, unsigned csr, bool write, uint64_t v)
{
	uint64_t old = 0;
	unsigned priv = b->cpu->priv;

	b->cpu->priv = RV_PRIV_M;
	b->cpu->instret++; /* as if an instruction were executing */
	assert_true(rv_csr_access(b->cpu, csr, RV_OP_CSRRW, v, write, &old));
	b->cpu->instret--;
	b->cpu->priv = priv;
	rv_update_mmu_ctx(b->cpu);
	return old;
}

/* ---- encoders ---- */
static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                             unsigned op)
{
	return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
	return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
	       ((u & 0x1f) << 7) | op;
}

static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
	       (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}

static inline uint32_t enc_u(uint32_t imm20, unsigned rd, unsigned op)
{
	return (imm20 << 12) | (rd << 7) | op;
}

static inline uint32_t enc_j(int32_t imm, unsigned rd)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
	       (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}

#define ADDI(rd, rs1, imm)  enc_i(imm, rs1, 0, rd, 0x13)
#define LD(rd, rs1, imm)    enc_i(imm, rs1, 3, rd, 0x03)
#define SD(rs2, rs1, imm)   enc_s(imm, rs2, rs1, 3, 0x23)
#define SW(rs2, rs1, imm)   enc_s(imm, rs2, rs1, 2, 0x23)
#define LUI(rd, imm20)      enc_u(imm20, rd, 0x37)
#define JAL(rd, imm)        enc_j(imm, rd)
#define CSRRW(rd, csr, rs1) enc_i(csr, rs1, 1, rd, 0x73)
#define CSRRS(rd, csr, rs1) enc_i(csr, rs1, 2, rd, 0x73)
#define ECALL               0x00000073u
#define WFI                 0x10500073u
#define MRET                0x30200073u
#define SRET                0x10200073u
#define NOP                 ADDI(0, 0, 0)

#endif
