/* SPDX-License-Identifier: MIT */
/*
 * The PIO fuzz harness (the x86 PC side), shared between its two files: the
 * machine and the script (fuzz-pio.c, which documents the input format and
 * the invariants) and the models that check every access (fuzz-pio-model.c).
 */
#ifndef VK_FUZZ_PIO_H
#define VK_FUZZ_PIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"
#include "vm/bus.h"
#include "vm/hw/i8042.h"
#include "vm/hw/pci.h"
#include "vm/hw/rtc.h"
#include "vm/mem.h"
#include "vm/virtio/transport-pci.h"

#define RAM_SIZE      0x10000 /* at guest-physical 0 */
#define MMIO_WIN      0xe0000000ull
#define MMIO_WIN_SIZE 0x100000ull
#define IO_WIN        0xc000u
#define IO_WIN_SIZE   0x1000u
#define NR_VP         2 /* virtio-blk and virtio-rng, PCI slots 1 and 2 */

#define CHECK(cond, ...)                                           \
	do {                                                       \
		if (!(cond)) {                                     \
			fprintf(stderr, "fuzz-pio: " __VA_ARGS__); \
			fputc('\n', stderr);                       \
			abort();                                   \
		}                                                  \
	} while (0)

/* The machine, what its lines and messages say, and the model (fuzz-pio.c owns it). */
struct pio_fuzz {
	bool ready;
	uint8_t *ram;
	struct vm_mem mem;
	struct fz_disk disk;
	struct bus pio, mmio;

	struct i8042 *kbd;
	struct rtc *rtc;
	struct pci_host host;
	struct virtio_dev *vdev[NR_VP];
	struct virtio_pci *vp[NR_VP];
	struct pci_device *pdev[1 + NR_VP];  /* the bridge, then the virtio functions */
	uint8_t ro[1 + NR_VP][PCI_CFG_SIZE]; /* read-only configuration bits at start */

	/* Lines and events as the harness recorded them. */
	bool kbd_line, aux_line;
	bool intx[PCI_MAX_SLOTS];
	unsigned resets, msis;

	/* The model. */
	uint8_t ctr, pending_cmd; /* i8042 command byte, command awaiting data */
	uint8_t rtc_index;
	uint8_t cmos[RTC_CMOS_SIZE]; /* what plain CMOS bytes must read */
	uint32_t cf8;
	unsigned expected_resets;
};

extern struct pio_fuzz fz;

/* One guest port or memory access, checked against the models; returns what a read read. */
uint64_t pio_access(uint16_t port, unsigned size, bool write, uint64_t value);
uint64_t mmio_access(uint64_t addr, unsigned size, bool write, uint64_t value);

/* A message from a virtio function: it must come from a live, unmasked vector. */
void check_msi(uint64_t addr, uint32_t data);

/* The model's starting state, once the machine is built. */
void model_init(void);

/* Every invariant that must hold between two steps. */
void check_all(void);

#endif
