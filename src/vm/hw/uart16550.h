/* SPDX-License-Identifier: MIT */
/*
 * The 16550A UART (what Linux's 8250 driver calls PORT_16550A): eight byte
 * registers at base << reg_shift spacing, 16-byte FIFOs, the host end on a
 * character device.
 *
 * Board use:
 *   x86 PC      uart16550_create(pio, 0x3f8, 0, irq4, chr, err)
 *   riscv virt  uart16550_create(mmio, 0x10000000, 0, plic_irq10, chr, err)
 * Accesses of 1, 2, 4 or 8 bytes at a register's offset use the low byte.
 *
 * The UART takes ownership of chr (as virtio-console does): it attaches
 * itself as chr's client and closes chr in uart16550_destroy(), or at once
 * when creation fails. chr may be NULL: output is discarded, nothing comes
 * in. All calls happen under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_UART16550_H
#define VK_VM_HW_UART16550_H

#include <stdint.h>

#include "common/compiler.h"
#include "common/error.h"
#include "vm/bus.h"
#include "vm/chardev.h"
#include "vm/irq.h"

struct uart16550;

/* Registers the range [base, base + (8 << reg_shift)) on bus. reg_shift <= 2. */
struct uart16550 *uart16550_create(struct bus *bus, uint64_t base, unsigned reg_shift,
                                   struct irq_line irq, struct chardev *chr, struct vk_error *err);

/*
 * The host's own input, beside the chardev's: c is a byte, or UART16550_BREAK
 * for a break condition (a NUL with BI, as a line held low; Linux's serial
 * SysRq takes the next byte as a SysRq key). -EAGAIN while the RX FIFO is full
 * or the UART is in loopback: nothing was received, try again later.
 */
#define UART16550_BREAK (-1)
int uart16550_inject(struct uart16550 *u, int c) VK_MUST_CHECK;

/* Watch what the guest transmits, byte by byte (tap NULL: stop). One watcher. */
void uart16550_set_tx_tap(struct uart16550 *u, void (*tap)(void *opaque, uint8_t byte),
                          void *opaque);

/* Enter u in the machine's registry (registry.h): registers, FIFOs, interrupt state. */
struct vm_registry;
int uart16550_register(struct uart16550 *u, struct vm_registry *reg, const char *name,
                       struct vk_error *err) VK_MUST_CHECK;

/* Unregisters from the bus and closes the chardev. NULL is a no-op. */
void uart16550_destroy(struct uart16550 *u);

#endif
