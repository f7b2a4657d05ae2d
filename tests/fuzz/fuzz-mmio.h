/* SPDX-License-Identifier: MIT */
/*
 * The MMIO register fuzz harness, shared between its two files: the machine
 * and the script (fuzz-mmio.c, which documents the input format and the
 * invariants) and the models that check every access (fuzz-mmio-model.c).
 */
#ifndef VK_FUZZ_MMIO_H
#define VK_FUZZ_MMIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"
#include "vm/backend/chardev-internal.h"
#include "vm/bus.h"
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/sifive-test.h"
#include "vm/hw/uart16550.h"
#include "vm/mem.h"
#include "vm/virtio/transport-mmio.h"

#define RAM_BASE   0x80000000ull
#define RAM_SIZE   0x10000
#define TEST_BASE  0x00100000ull
#define CLINT_BASE 0x02000000ull
#define PLIC_BASE  0x0c000000ull
#define UART_BASE  0x10000000ull
#define BLK_BASE   0x10001000ull
#define RNG_BASE   0x10002000ull
#define IRQ_BLK    1
#define IRQ_RNG    2
#define IRQ_UART   10
#define MAX_CTX    8
#define MAX_HARTS  4
#define OUT_MAX    256

/* PLIC register map (SiFive layout, as plic.c implements it). */
#define P_PENDING 0x1000
#define P_ENABLE  0x2000
#define P_ESTRIDE 0x80
#define P_CONTEXT 0x200000
#define P_CSTRIDE 0x1000
#define P_WORDS   (PLIC_MAX_SOURCES / 32)
/* CLINT register map. */
#define C_MTIMECMP 0x4000
#define C_MTIME    0xbff8

#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			fprintf(stderr, "fuzz-mmio: " __VA_ARGS__); \
			fputc('\n', stderr);                        \
			abort();                                    \
		}                                                   \
	} while (0)

/* The UART's host end: output captured, pushing back while `limited`. */
struct fake_chr {
	struct chardev chr;
	bool limited;
	size_t room;
	bool blocked; /* a write came up short: write_ready is owed */
	uint8_t out[OUT_MAX];
	size_t out_len;
};

/* What the harness expects of the UART's transmitter and plain registers. */
struct uart_model {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo;
	uint8_t tx[16];
	unsigned tx_head, tx_count;
	bool waiting; /* came up short: nothing is written until write_ready */
	bool limited;
	size_t room;
	uint8_t exp[OUT_MAX];
	size_t exp_len;
};

/* The machine, what its lines say, and the model (fuzz-mmio.c owns it). */
struct mmio_fuzz {
	bool ready;
	uint8_t *ram;
	struct vm_mem mem;
	struct fz_disk disk;
	struct bus bus;

	unsigned nr_sources, nr_ctx, nr_harts;
	struct plic *plic;
	struct clint *clint;
	struct sifive_test *test;
	struct uart16550 *uart;
	struct fake_chr *chr;
	struct virtio_dev *vdev[2];
	struct virtio_mmio *vmmio[2];

	/* What the devices' output lines say, as recorded by the harness. */
	bool level[PLIC_MAX_SOURCES]; /* PLIC inputs: device lines and harness lines */
	bool ctx_line[MAX_CTX];
	bool msip_line[MAX_HARTS], mtip_line[MAX_HARTS];
	unsigned events, last_event;
	uint32_t last_code;

	/* The harness's model. */
	bool in_service[PLIC_MAX_SOURCES];
	bool plic_dirty;
	uint64_t now, mtime_offset;
	struct uart_model um;
};

extern struct mmio_fuzz fz;
extern const uint64_t vio_base[2];
extern const unsigned vio_irq[2];

/* Checked bus accesses of the harness itself (abort when nothing answers). */
uint64_t fz_rd(uint64_t addr, unsigned size);
void fz_wr(uint64_t addr, unsigned size, uint64_t v);

/* One guest access, checked against the models; returns what a read read. */
uint64_t guest_access(uint64_t addr, unsigned size, bool write, uint64_t value);

/* The UART's reader lets n more bytes in (or any number); write_ready if owed. */
void uart_give_room(size_t n, bool unlimited);

/* Every invariant that must hold between two steps. */
void check_all(void);

#endif
