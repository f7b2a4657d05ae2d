/* SPDX-License-Identifier: MIT */
/*
 * The machine configuration, as parsed from the `virtkit-vm run` command line,
 * and the entry points of the boards that run it.
 */
#ifndef VK_VM_CONFIG_H
#define VK_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define VM_MAX_DISKS 8
#define VM_MAX_NETS  4
#define VM_MAX_CPUS  64

enum vm_on_reset {
	VM_ON_RESET_EXIT,   /* a guest reset ends the run with status 0 (Firecracker) */
	VM_ON_RESET_REBOOT, /* restart the guest */
};

struct vm_config {
	const char *arch;  /* "riscv64" or "x86_64" */
	const char *accel; /* "kvm" or "emu" */
	uint64_t memory;   /* bytes */
	unsigned cpus;
	const char *kernel;
	const char *initrd;   /* NULL: none */
	const char *cmdline;  /* NULL: empty */
	const char *firmware; /* NULL: the board's default; "none": boot the kernel directly */
	const char *disks[VM_MAX_DISKS]; /* "path[,readonly]" as given */
	unsigned nr_disks;
	const char *nets[VM_MAX_NETS]; /* "user[,hostfwd=...]", "tap,ifname=X", "echo" as given */
	unsigned nr_nets;
	bool rng;
	const char *console;        /* chardev spec of the serial console, default "stdio" */
	const char *virtio_console; /* chardev spec of a virtio-console (hvc0), NULL: none */
	const char *control;        /* control socket path, NULL: none */
	enum vm_on_reset on_reset;
	bool stats; /* print run statistics on stderr at exit */
	/* x86_64: virtio devices on virtio-mmio (with virtio_mmio.device= on the command
	 * line) instead of virtio-pci; riscv64 always uses virtio-mmio. */
	bool virtio_mmio;
};

/* Parse `run` options (argv[0] is "run"). Returns 0 or -EINVAL with a sentence. */
int vm_config_parse(struct vm_config *cfg, int argc, char **argv, struct vk_error *err);

/* The host architecture's default guest arch ("x86_64" on x86-64 hosts). */
const char *vm_default_arch(void);

/*
 * Board entry points: build the machine, run it to the end, tear it down.
 * Return the process exit status (0 on guest power-off) or -errno with err set.
 */
int riscv_virt_main(const struct vm_config *cfg, struct vk_error *err);
int pc_main(const struct vm_config *cfg, struct vk_error *err);

/*
 * One line on stderr at the end of a run: wall time, guest instructions (0 when the
 * backend cannot count them), host RSS and the part of it beyond guest RAM.
 */
struct vm_mem;
void vm_print_stats(const struct vm_mem *mem, uint64_t start_ns, uint64_t instructions);

/* `virtkit-vm probe [--json]`: returns the process exit status. */
int kvm_probe_main(int argc, char **argv);

#endif
