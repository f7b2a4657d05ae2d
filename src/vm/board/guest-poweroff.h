/* SPDX-License-Identifier: MIT */
/*
 * Asking a guest to power off, for a board without a power button (the
 * riscv64 virt board's `powerdown`): through the guest agent when the guest
 * has one and it answers, else with serial SysRq on the 16550 (guest-poweroff.c
 * says how and why in that order).
 *
 * Everything happens on the loop under the machine lock. The board creates it
 * once its UART (and agent port, if any) exist and frees it before them.
 */
#ifndef VK_VM_BOARD_GUEST_POWEROFF_H
#define VK_VM_BOARD_GUEST_POWEROFF_H

#include "common/error.h"

struct guest_agent;
struct guest_poweroff;
struct uart16550;
struct vm_loop;
struct vm_mem;
struct virtio_dev;

/*
 * The guest-agent port (org.qemu.guest_agent.0, its host end the VMM's own
 * agent client, *agent) on a multiport virtio-console, with console_spec's
 * chardev as port 0 (hvc0) when given.
 */
struct virtio_dev *guest_poweroff_agent_port(const char *console_spec, const struct vm_mem *mem,
                                             struct vm_loop *loop, struct guest_agent **agent,
                                             struct vk_error *err);

/*
 * progress(opaque, method, step) reports each step ("agent"/"sync",
 * "agent"/"shutdown", "agent"/"no-answer", "sysrq"/"fallback", "sysrq"/"sync",
 * "sysrq"/"remount", "sysrq"/"poweroff", "sysrq"/"no-answer"), for the
 * board's monitor. uart and agent may be NULL.
 */
struct guest_poweroff *
guest_poweroff_new(struct vm_loop *loop, struct uart16550 *uart, struct guest_agent *agent,
                   void (*progress)(void *opaque, const char *method, const char *step),
                   void *opaque, struct vk_error *err);
void guest_poweroff_free(struct guest_poweroff *p);

/*
 * Start asking (again, when an earlier request has run its course; a request
 * still under way goes on). -ENOTSUP when the machine has neither way.
 */
int guest_poweroff_request(struct guest_poweroff *p, struct vk_error *err);

#endif
