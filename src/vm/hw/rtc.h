/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 real-time clock and CMOS RAM at ports 0x70 (index, bit 7
 * masks NMI) and 0x71 (data). Time registers follow the host's UTC clock
 * plus an offset the guest sets by writing them (with SET in register B);
 * BCD or binary and 12/24-hour modes as register B says. The update-in-
 * progress bit never reads as set, so readers never wait.
 *
 * Interrupts (once the board wires a line with rtc_set_irq()): the periodic
 * (PF, at the rate of register A), alarm (AF, seconds/minutes/hours of
 * registers 1, 3, 5, 0xC0-0xFF meaning "any") and update-ended (UF, once a
 * second unless SET) flags of register C, and IRQF with the line high while
 * a flag is set whose enable in register B is on; reading C clears them and
 * lowers the line. A host timer runs only while an enable bit is on; flags
 * are also brought up to date whenever the guest reads C. Periodic rates
 * above 1024 Hz are delivered at 1024 Hz (the flag is set, the guest sees one
 * interrupt per millisecond). Without rtc_set_irq() register C reads 0.
 *
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_RTC_H
#define VK_VM_HW_RTC_H

#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define RTC_INDEX_PORT 0x70
#define RTC_DATA_PORT  0x71
#define RTC_CMOS_SIZE  128

struct rtc;

struct rtc *rtc_create(struct bus *pio, struct vk_error *err);
void rtc_destroy(struct rtc *r);

struct vm_loop;

/* Wire the interrupt line (ISA IRQ 8) and start the interrupt sources (timers on loop). */
int rtc_set_irq(struct rtc *r, struct vm_loop *loop, struct irq_line irq,
                struct vk_error *err) VK_MUST_CHECK;

/* Set a byte of CMOS RAM (index >= 0x0e), e.g. the memory sizes firmware reads. */
void rtc_set_cmos(struct rtc *r, unsigned index, uint8_t value);

/* Record the guest RAM size in the CMOS memory-size bytes (what a BIOS would do). */
void rtc_set_memory_size(struct rtc *r, uint64_t below_4g, uint64_t above_4g);

struct vm_registry;

/* Enter the RTC in a machine object (registry.h) under name: its state is saved. */
int rtc_register(struct rtc *r, struct vm_registry *reg, const char *name,
                 struct vk_error *err) VK_MUST_CHECK;

#endif
