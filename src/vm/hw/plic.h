/* SPDX-License-Identifier: MIT */
/*
 * RISC-V Platform-Level Interrupt Controller (SiFive PLIC layout, as on
 * QEMU's virt board). Sources 1..nr_sources-1 come in as irq_lines; each
 * context (hart h: 2h = M-mode, 2h+1 = S-mode) drives one output line, wired
 * by the board to that hart's MEIP or SEIP.
 */
#ifndef VK_HW_PLIC_H
#define VK_HW_PLIC_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define PLIC_SIZE        0x600000
#define PLIC_MAX_SOURCES 128

struct plic;

/*
 * Create a PLIC with nr_sources sources (source 0 is reserved) and
 * nr_contexts contexts, mapped at base. outputs[] has nr_contexts lines.
 */
struct plic *plic_create(struct bus *bus, uint64_t base, unsigned nr_sources, unsigned nr_contexts,
                         const struct irq_line *outputs, struct vk_error *err);
void plic_destroy(struct plic *plic);

/* Enter plic in the machine's registry (registry.h); loading drives its outputs again. */
struct vm_registry;
int plic_register(struct plic *plic, struct vm_registry *reg, const char *name,
                  struct vk_error *err) VK_MUST_CHECK;

/* The input line for source n (1..nr_sources-1), for a device to hold. */
struct irq_line plic_input(struct plic *plic, unsigned n);

#endif
