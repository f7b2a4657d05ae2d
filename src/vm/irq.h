/* SPDX-License-Identifier: MIT */
/*
 * Interrupts as seen by a device: a line it raises and lowers, or a message it
 * sends. What sits behind them (a RISC-V PLIC input, an IOAPIC pin through
 * KVM_IRQ_LINE, an MSI-X vector through KVM_SIGNAL_MSI or an irqfd) is the
 * board's business; a device only holds these handles.
 *
 * Level-triggered devices call irq_set() with the state of their interrupt
 * condition whenever it may have changed; edge-triggered ones call
 * irq_pulse(). A line with no handler is silently ignored (unwired device).
 */
#ifndef VK_VM_IRQ_H
#define VK_VM_IRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct irq_line {
	void (*set)(void *opaque, unsigned n, bool level);
	void *opaque;
	unsigned n; /* input number at the controller (PLIC source, GSI, ...) */
};

static inline void irq_set(const struct irq_line *line, bool level)
{
	if (line && line->set)
		line->set(line->opaque, line->n, level);
}

static inline void irq_raise(const struct irq_line *line)
{
	irq_set(line, true);
}

static inline void irq_lower(const struct irq_line *line)
{
	irq_set(line, false);
}

static inline void irq_pulse(const struct irq_line *line)
{
	irq_set(line, true);
	irq_set(line, false);
}

/* A message-signalled interrupt target (MSI / MSI-X). */
struct msi_target {
	void (*send)(void *opaque, uint64_t addr, uint32_t data);
	void *opaque;
};

static inline void msi_send(const struct msi_target *t, uint64_t addr, uint32_t data)
{
	if (t && t->send)
		t->send(t->opaque, addr, data);
}

#endif
