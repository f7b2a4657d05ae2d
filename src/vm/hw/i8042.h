/* SPDX-License-Identifier: MIT */
/*
 * The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status /
 * command), as much of it as Linux's i8042 and atkbd drivers probe: the
 * controller command byte, self tests, the output port, a keyboard that
 * answers its commands, no mouse. Its board role is the reset line: command
 * 0xFE (pulse output line 0), or clearing bit 0 of the output port, resets
 * the machine, which is how a firmware-less x86 guest ends a run. It can also
 * type Ctrl-Alt-Del, which is how the board asks a guest to shut down.
 *
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_I8042_H
#define VK_VM_HW_I8042_H

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64

struct i8042;

/* reset(opaque) runs on the vCPU thread that wrote the command. */
struct i8042 *i8042_create(struct bus *pio, struct irq_line kbd_irq, struct irq_line aux_irq,
                           void (*reset)(void *opaque), void *opaque, struct vk_error *err);
void i8042_destroy(struct i8042 *k);

/* Queue the scancodes of Ctrl-Alt-Del (press and release). */
void i8042_send_ctrl_alt_del(struct i8042 *k);

struct vm_registry;

/* Enter the controller in a machine object (registry.h) under name: its state is saved. */
int i8042_register(struct i8042 *k, struct vm_registry *reg, const char *name,
                   struct vk_error *err) VK_MUST_CHECK;

#endif
