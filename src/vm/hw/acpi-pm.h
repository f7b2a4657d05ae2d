/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed hardware of the PC board (ACPI 6.4, chapter 4.8), at 12 I/O
 * ports from a base the FADT names (boot/x86-acpi.h):
 *   +0  PM1_STS (16 bits, write 1 to clear): PWRBTN_STS, WAK_STS
 *   +2  PM1_EN  (16 bits): PWRBTN_EN and the other enables, stored
 *   +4  PM1_CNT (16 bits): SCI_EN reads 1 (no SMI handshake: always in ACPI
 *       mode); writing SLP_EN with SLP_TYP = the \_S5 value powers off
 *   +8  PM_TMR  (24-bit counter at 3.579545 MHz, from the host's monotonic clock)
 * The SCI is a level-triggered line, asserted while a status bit and its
 * enable are both set. The power button is the fixed-feature one: the board
 * presses it (control socket `powerdown`) only when the guest enabled it,
 * which tells that an ACPI-aware OS is listening.
 *
 * Trust: every register write comes from the guest. A sleep state other than
 * S5 is refused by setting WAK_STS at once, so the guest's wait loop ends.
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_ACPI_PM_H
#define VK_VM_HW_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define ACPI_PM_LEN         12
#define ACPI_PM1_STS        0
#define ACPI_PM1_EN         2
#define ACPI_PM1_CNT        4
#define ACPI_PM_TMR         8
#define ACPI_PM1_PWRBTN     (1u << 8) /* in PM1_STS and PM1_EN */
#define ACPI_PM1_WAK_STS    (1u << 15)
#define ACPI_PM1_SCI_EN     (1u << 0)
#define ACPI_PM1_SLP_TYP(t) ((unsigned)(t) << 10)
#define ACPI_PM1_SLP_EN     (1u << 13)
#define ACPI_PM_TIMER_HZ    3579545u

struct acpi_pm;

/*
 * poweroff(opaque) runs on the vCPU thread that wrote SLP_EN with SLP_TYP =
 * s5_slp_typ (0-7).
 */
struct acpi_pm *acpi_pm_create(struct bus *pio, uint16_t base, uint8_t s5_slp_typ,
                               struct irq_line sci, void (*poweroff)(void *opaque), void *opaque,
                               struct vk_error *err);
void acpi_pm_destroy(struct acpi_pm *pm);

/*
 * Press the power button: set PWRBTN_STS and raise the SCI. Returns false
 * (and does nothing) when the guest has not enabled the power button event.
 */
bool acpi_pm_power_button(struct acpi_pm *pm);

struct vm_registry;

/* Enter the PM registers in a machine object (registry.h) under name: their state is saved. */
int acpi_pm_register(struct acpi_pm *pm, struct vm_registry *reg, const char *name,
                     struct vk_error *err) VK_MUST_CHECK;

#endif
