/* SPDX-License-Identifier: MIT */
/*
 * Booting the riscv64 virt board: where firmware, kernel, initrd, the device
 * tree and OpenSBI's fw_dynamic_info go in RAM, and the HTIF protocol of
 * bare-metal test programs (--firmware none with an ELF that has `tohost`).
 *
 * Layout (as QEMU's virt board, so the same firmware works):
 *   DRAM + 0         firmware, entered in M-mode (OpenSBI fw_dynamic / fw_jump, U-Boot in
 *                    M-mode; an ELF by its headers, anything else as a flat binary)
 *   DRAM + 2 MiB     the payload the firmware enters in S-mode: a Linux Image (needs
 *                    image_size bytes) or a flat binary (U-Boot's u-boot.bin), or an ELF at
 *                    its own addresses above DRAM + 2 MiB, entered at e_entry
 *                    (fw_dynamic_info.next_addr; fw_jump always jumps to DRAM + 2 MiB)
 *   above it         initrd, at kernel + min(RAM/2, 128 MiB) when it fits,
 *                    else right after the kernel
 *   top 2 MiB block  device tree (64 KiB, room for firmware fixups), then
 *                    struct fw_dynamic_info
 */
#ifndef VK_BOARD_RISCV_BOOT_H
#define VK_BOARD_RISCV_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/boot/riscv-image.h"

struct vm_machine_config;
struct vm_mem;
struct chardev;

#define RISCV_DEFAULT_FIRMWARE "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
/* The S-mode payload of a disk boot through OpenSBI (Debian's u-boot-qemu). */
#define RISCV_DEFAULT_UBOOT "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
/* Its default environment loads files up to RAM + 193 MiB: what it needs, rounded up. */
#define RISCV_UBOOT_MIN_MEMORY (256ull << 20)

struct riscv_boot {
	/* The files, only while riscv_boot_load() runs. */
	uint8_t *kernel, *initrd, *firmware;
	size_t kernel_len, initrd_len, firmware_len;

	const char *payload;                /* the file the firmware enters, NULL: none */
	const char *firmware_kind;          /* "opensbi", "u-boot", "unknown", "none" */
	bool firmware_elf;                  /* loaded by its ELF headers */
	enum riscv_kernel_kind kernel_kind; /* of the payload */
	uint64_t kernel_entry;              /* where the firmware enters the payload */

	uint64_t entry;        /* where every hart starts */
	uint64_t fdt_addr;     /* a1 */
	uint64_t dyninfo_addr; /* a2: fw_dynamic_info, 0 without firmware */

	bool htif; /* bare-metal ELF with a tohost symbol */
	uint64_t tohost, fromhost;
};

/*
 * Read the images and write them, the device tree and the boot information
 * into RAM (again on every reboot). nr_virtio is the number of virtio-mmio
 * slots in use.
 */
int riscv_boot_load(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                    struct vm_mem *mem, unsigned nr_virtio, struct vk_error *err) VK_MUST_CHECK;
void riscv_boot_free(struct riscv_boot *boot);

/* What was booted, for --stats: "firmware=opensbi,binary kernel=flat-binary entry=0x...". */
void riscv_boot_describe(const struct riscv_boot *boot, char *buf, size_t size);

/*
 * Serve a pending HTIF request, if any: console output goes to console.
 * Returns true when the program asked to exit, with its status in *status
 * (0 = pass).
 */
bool riscv_boot_htif_poll(struct riscv_boot *boot, struct vm_mem *mem, struct chardev *console,
                          int *status);

#endif
