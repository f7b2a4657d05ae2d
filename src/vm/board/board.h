/* SPDX-License-Identifier: MIT */
/*
 * The boards' entry points. Each builds its machine from a board-neutral
 * description, hands its loop and controls to the monitor, runs the machine
 * to the end and tears it down (machine.h says what crosses in each direction).
 */
#ifndef VK_VM_BOARD_H
#define VK_VM_BOARD_H

#include "common/error.h"
#include "vm/machine.h"

/*
 * Build the machine, run it to the end, tear it down. Return the process exit
 * status (0 on guest power-off) or -errno with err set. mon may be NULL.
 */
int riscv_virt_main(const struct vm_machine_config *cfg, const struct vm_monitor *mon,
                    struct vk_error *err);
int pc_main(const struct vm_machine_config *cfg, const struct vm_monitor *mon,
            struct vk_error *err);

#endif
