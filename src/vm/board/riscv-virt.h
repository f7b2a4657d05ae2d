/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 "virt" board: QEMU's virt memory map, so that Debian's OpenSBI
 * and any kernel built for qemu-virt boot unchanged.
 */
#ifndef VK_BOARD_RISCV_VIRT_H
#define VK_BOARD_RISCV_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VIRT_TEST_BASE     0x00100000ull /* sifive,test1 finisher */
#define VIRT_CLINT_BASE    0x02000000ull
#define VIRT_PLIC_BASE     0x0c000000ull
#define VIRT_UART0_BASE    0x10000000ull
#define VIRT_UART0_IRQ     10
#define VIRT_VIRTIO_BASE   0x10001000ull
#define VIRT_VIRTIO_STRIDE 0x1000ull
#define VIRT_VIRTIO_COUNT  8
#define VIRT_VIRTIO_IRQ    1 /* slot n uses IRQ 1 + n */
#define VIRT_DRAM_BASE     0x80000000ull
#define VIRT_KERNEL_OFFSET 0x200000ull
#define VIRT_PLIC_SOURCES  96 /* riscv,ndev = 95 */
#define VIRT_TIMEBASE_HZ   10000000u
#define VIRT_FDT_MAX_SIZE  0x10000
#define VM_FDT_MAX_HARTS   64

struct riscv_fdt_params {
	uint64_t ram_base, ram_size;
	unsigned nr_harts;
	const char *isa;                   /* riscv,isa string */
	const char *mmu_type;              /* "riscv,sv39" or "riscv,sv48" */
	const char *bootargs;              /* may be NULL */
	uint64_t initrd_start, initrd_end; /* both 0: no initrd */
	unsigned nr_virtio;                /* virtio-mmio slots described (0..VIRT_VIRTIO_COUNT) */
};

/* Write the board's device tree into buf (size bytes, with room to spare for firmware fixups). */
int riscv_fdt_build(const struct riscv_fdt_params *p, void *buf, size_t size,
                    struct vk_error *err) VK_MUST_CHECK;

#endif
