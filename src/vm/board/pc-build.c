/* SPDX-License-Identifier: MIT */
/*
 * Assembling the PC: guest RAM, kernel files, console and virtio devices
 * (once), then for every boot a KVM VM with its memory slots and in-kernel
 * irqchip, the platform devices (i8042, RTC, ACPI PM, PCI host, virtio
 * transports), the e820 map, the MP and ACPI tables, the kernel and the vCPUs.
 */
#include "vm/board/pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/boot/x86-acpi.h"
#include "vm/boot/x86-boot.h"
#include "vm/chardev.h"
#include "vm/hw/acpi-pm.h"
#include "vm/hw/i8042.h"
#include "vm/hw/rtc.h"
#include "vm/hw/uart16550.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/transport-pci.h"
#include "vm/virtio/virtio.h"

#define PC_KERNEL_MAX (512u << 20)

/* ISA IRQs free for virtio-mmio devices (level-triggered in the MP table and MADT). */
static const uint8_t pc_mmio_irqs[] = {5, 6, 7, 10, 11, 13, 14, 15};

/* ---- interrupts ---- */

/* Devices call this under the machine lock whenever their condition may have changed. */
static void pc_gsi_set(void *opaque, unsigned gsi, bool level)
{
	struct pc *pc = opaque;

	if (pc->kvm.vm_fd < 0)
		return;
	/* Unchanged lines need no system call (a UART re-evaluates on every access). */
	if (gsi < PC_GSIS && pc->gsi_level[gsi] == level)
		return;
	if (kvm_vm_irq_line(&pc->kvm, gsi, level) < 0)
		vk_log_once(&pc->logged_irq_line, VK_LOG_DEBUG, "KVM_IRQ_LINE %u failed", gsi);
	else if (gsi < PC_GSIS)
		pc->gsi_level[gsi] = level;
}

struct irq_line pc_gsi_line(struct pc *pc, unsigned gsi)
{
	return (struct irq_line){.set = pc_gsi_set, .opaque = pc, .n = gsi};
}

static struct irq_line pc_pci_intx(void *opaque, unsigned slot, unsigned pin)
{
	return pc_gsi_line(opaque, PC_PCI_GSI_BASE + (slot + pin) % PC_PCI_GSIS);
}

static void pc_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	struct pc *pc = opaque;

	/* The guest writes the message (one aimed at no CPU fails): log once a boot. */
	if (kvm_vm_signal_msi(&pc->kvm, addr, data) < 0)
		vk_log_once(&pc->logged_msi, VK_LOG_DEBUG,
		            "KVM_SIGNAL_MSI to 0x%llx (data 0x%x) failed", (unsigned long long)addr,
		            data);
}

static int pc_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd, bool assign)
{
	return kvm_vm_ioeventfd(&((struct pc *)opaque)->kvm, addr, len, false, fd, assign);
}

static int pc_route_add(void *opaque, uint64_t addr, uint32_t data)
{
	return kvm_vm_msi_route_add(&((struct pc *)opaque)->kvm, addr, data);
}

static int pc_route_update(void *opaque, unsigned gsi, uint64_t addr, uint32_t data)
{
	return kvm_vm_msi_route_update(&((struct pc *)opaque)->kvm, gsi, addr, data);
}

static void pc_route_del(void *opaque, unsigned gsi)
{
	kvm_vm_msi_route_del(&((struct pc *)opaque)->kvm, gsi);
}

static int pc_irqfd(void *opaque, unsigned gsi, int fd, bool assign)
{
	return kvm_vm_irqfd(&((struct pc *)opaque)->kvm, gsi, fd, assign);
}

static void pc_guest_reset(void *opaque)
{
	pc_request_stop(opaque, PC_STOP_RESET, "the guest reset the machine");
}

static void pc_guest_poweroff(void *opaque)
{
	pc_request_stop(opaque, PC_STOP_POWEROFF, "the guest powered off (ACPI S5)");
}

/* ---- the host side ---- */

static int pc_read_files(struct pc *pc, struct vk_error *err)
{
	const struct vm_machine_config *cfg = pc->cfg;
	struct stat st;
	int r;

	r = vk_read_file(cfg->kernel, PC_KERNEL_MAX, &pc->kernel, &pc->kernel_len, err);
	if (r < 0)
		return vk_error_prefix(err, "cannot load kernel");
	if (!cfg->initrd)
		return 0;
	if (stat(cfg->initrd, &st) == 0 && (uint64_t)st.st_size > pc->low_ram)
		return vk_error_set(
		        err, EFBIG,
		        "initrd '%s' (%lld MiB) is larger than the guest RAM below 4 GiB "
		        "(%llu MiB); give the machine more --memory",
		        cfg->initrd, (long long)(st.st_size >> 20),
		        (unsigned long long)(pc->low_ram >> 20));
	r = vk_read_file(cfg->initrd, (size_t)pc->low_ram, &pc->initrd, &pc->initrd_len, err);
	if (r < 0)
		return vk_error_prefix(err, "cannot load initrd");
	return 0;
}

static void pc_console_quit(void *opaque)
{
	pc_request_stop(opaque, PC_STOP_QUIT, NULL);
}

int pc_prepare(struct pc *pc, struct vk_error *err)
{
	const struct vm_machine_config *cfg = pc->cfg;
	struct chardev *console;
	int r;

	if (cfg->firmware && strcmp(cfg->firmware, "none"))
		return vk_error_set(
		        err, EINVAL,
		        "--firmware: the x86_64 machine boots the kernel directly (bzImage "
		        "or PVH ELF) and takes no firmware");
	if (cfg->memory % 4096)
		return vk_error_set(err, EINVAL, "--memory must be a multiple of 4 KiB");
	if (cfg->memory < (2u << 20))
		return vk_error_set(err, EINVAL,
		                    "--memory is too small for an x86 guest (at least 2M)");
	pc->low_ram = VK_MIN(cfg->memory, PC_LOW_RAM_MAX);
	pc->high_ram = cfg->memory - pc->low_ram;
	/* A restored machine needs its kernel only if the guest reboots (pc_boot()). */
	r = pc->restoring ? 0 : pc_read_files(pc, err);
	if (r < 0)
		return r;
	r = vm_mem_add_ram(&pc->mem, 0, pc->low_ram, err);
	if (r == 0 && pc->high_ram)
		r = vm_mem_add_ram(&pc->mem, PC_HIGH_RAM_START, pc->high_ram, err);
	if (r < 0)
		return r;

	console = chardev_open(pc->loop, cfg->console, err);
	if (!console)
		return vk_error_prefix(err, "--console");
	chardev_set_quit_handler(console, pc_console_quit, pc);
	/* The UART owns the console from here on, even when it fails. */
	pc->uart =
	        uart16550_create(&pc->pio, PC_COM1, 0, pc_gsi_line(pc, PC_COM1_IRQ), console, err);
	if (!pc->uart)
		return -EINVAL;

	/* Slot order: disks, network cards, the entropy source. */
	for (unsigned i = 0; i < cfg->nr_disks + cfg->nr_nets + (cfg->rng ? 1 : 0); i++) {
		enum virtio_spec_kind kind = i < cfg->nr_disks                  ? VIRTIO_SPEC_DISK
		                             : i < cfg->nr_disks + cfg->nr_nets ? VIRTIO_SPEC_NET
		                                                                : VIRTIO_SPEC_RNG;
		/* A migration's destination: the source hands the disks' locks over. */
		if (kind == VIRTIO_SPEC_DISK && cfg->incoming)
			kind = VIRTIO_SPEC_DISK_INCOMING;
		const char *spec = kind != VIRTIO_SPEC_NET && kind != VIRTIO_SPEC_RNG
		                           ? cfg->disks[i]
		                   : kind == VIRTIO_SPEC_NET ? cfg->nets[i - cfg->nr_disks]
		                                             : NULL;

		if (cfg->virtio_mmio && pc->nr_virtio == ARRAY_SIZE(pc_mmio_irqs))
			return vk_error_set(err, ENOSPC,
			                    "too many virtio devices for virtio-mmio (at most %zu)",
			                    ARRAY_SIZE(pc_mmio_irqs));
		pc->virtio[pc->nr_virtio] =
		        virtio_dev_from_spec(kind, spec, &pc->mem, pc->loop, err);
		if (!pc->virtio[pc->nr_virtio])
			return -EINVAL;
		pc->nr_virtio++;
	}
	return 0;
}

void pc_release(struct pc *pc)
{
	for (unsigned i = 0; i < pc->nr_virtio; i++)
		virtio_dev_destroy(pc->virtio[i]);
	pc->nr_virtio = 0;
	uart16550_destroy(pc->uart);
	pc->uart = NULL;
	free(pc->kernel);
	free(pc->initrd);
	pc->kernel = pc->initrd = NULL;
}

/* ---- one boot ---- */

static int pc_build_e820(const struct pc *pc, struct x86_e820_entry *e)
{
	unsigned n = 0;

	e[n++] = (struct x86_e820_entry){0, X86_EBDA_START, E820_RAM};
	e[n++] = (struct x86_e820_entry){X86_EBDA_START, X86_HIGH_MEMORY_START - X86_EBDA_START,
	                                 E820_RESERVED};
	if (pc->low_ram > X86_HIGH_MEMORY_START)
		e[n++] = (struct x86_e820_entry){X86_HIGH_MEMORY_START,
		                                 pc->low_ram - X86_HIGH_MEMORY_START, E820_RAM};
	e[n++] = (struct x86_e820_entry){PC_KVM_RESERVED, 0x4000, E820_RESERVED};
	if (pc->high_ram)
		e[n++] = (struct x86_e820_entry){PC_HIGH_RAM_START, pc->high_ram, E820_RAM};
	return (int)n;
}

static int pc_add_transports(struct pc *pc, char *cmdline_extra, size_t len, struct vk_error *err)
{
	size_t used = 0;

	for (unsigned i = 0; i < pc->nr_virtio; i++) {
		if (pc->cfg->virtio_mmio) {
			uint64_t base = PC_VIRTIO_MMIO + i * PC_VIRTIO_MMIO_GAP;

			pc->virtio_mmio[i] = virtio_mmio_create(&pc->mmio, base,
			                                        pc_gsi_line(pc, pc_mmio_irqs[i]),
			                                        pc->virtio[i], err);
			if (!pc->virtio_mmio[i])
				return -EINVAL;
			/* What QEMU's microvm adds: Linux's virtio_mmio.device= parameter. */
			used += (size_t)snprintf(cmdline_extra + used, len - used,
			                         " virtio_mmio.device=%u@0x%llx:%u",
			                         (unsigned)VIRTIO_MMIO_SIZE,
			                         (unsigned long long)base, pc_mmio_irqs[i]);
			if (used >= len)
				return vk_error_set(err, E2BIG, "too many virtio-mmio devices");
		} else {
			pc->virtio_pci[i] = virtio_pci_create(&pc->pci, pc->virtio[i], err);
			if (!pc->virtio_pci[i])
				return -EINVAL;
		}
	}
	return 0;
}

/* The MP table and the ACPI tables, from one list of the board's interrupts. */
static int pc_write_tables(struct pc *pc, struct vk_error *err)
{
	struct x86_mp_irq irqs[PCI_MAX_SLOTS + ARRAY_SIZE(pc_mmio_irqs)];
	struct x86_acpi_mmio mmio[ARRAY_SIZE(pc_mmio_irqs)];
	struct x86_mp_config mc = {.nr_cpus = pc->cfg->cpus, .irqs = irqs};
	struct x86_acpi_config ac = {
	        .nr_cpus = pc->cfg->cpus,
	        .irqs = irqs,
	        .pm_base = PC_ACPI_PM_BASE,
	        .sci_irq = PC_SCI_IRQ,
	        .s5_slp_typ = PC_S5_SLP_TYP,
	        .reset_port = 0xcf9,
	        .reset_value = 0x06, /* RST_CPU | SYS_RST */
	        .com1_port = PC_COM1,
	        .com1_irq = PC_COM1_IRQ,
	        .pci_mmio_base = (uint32_t)PC_PCI_MMIO_START,
	        .pci_mmio_size = (uint32_t)(PC_PCI_MMIO_END - PC_PCI_MMIO_START),
	        .virtio_mmio = mmio,
	};
	int r;

	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_device *d = pc->pci.devs[s];

		if (d && d->cfg[PCI_INTERRUPT_PIN])
			irqs[mc.nr_irqs++] = (struct x86_mp_irq){
			        .pci = true,
			        .src_irq = (uint8_t)(s << 2 | (d->cfg[PCI_INTERRUPT_PIN] - 1u)),
			        .gsi = (uint8_t)d->intx.n,
			        .trigger = X86_MP_CONFORMS};
	}
	for (unsigned i = 0; pc->cfg->virtio_mmio && i < pc->nr_virtio; i++) {
		irqs[mc.nr_irqs++] = (struct x86_mp_irq){.src_irq = pc_mmio_irqs[i],
		                                         .gsi = pc_mmio_irqs[i],
		                                         .trigger = X86_MP_LEVEL_HIGH};
		mmio[ac.nr_virtio_mmio++] = (struct x86_acpi_mmio){
		        .base = (uint32_t)(PC_VIRTIO_MMIO + i * PC_VIRTIO_MMIO_GAP),
		        .size = VIRTIO_MMIO_SIZE,
		        .irq = pc_mmio_irqs[i]};
	}
	ac.nr_irqs = mc.nr_irqs;
	r = x86_mptable_write(&pc->mem, &mc, err);
	if (r == 0)
		r = x86_acpi_write(&pc->mem, &ac, err);
	return r;
}

static int pc_load_kernel(struct pc *pc, const char *extra, struct x86_boot_state *bs,
                          struct vk_error *err)
{
	const struct vm_machine_config *cfg = pc->cfg;
	struct x86_e820_entry e820[8];
	struct x86_linux_info info;
	_cleanup_free_ char *cmdline = NULL;

	if (asprintf(&cmdline, "%s%s", cfg->cmdline ? cfg->cmdline : "", extra) < 0) {
		cmdline = NULL;
		return vk_error_errno(err, ENOMEM, "kernel command line");
	}
	struct x86_linux_params p = {
	        .kernel_name = cfg->kernel,
	        .kernel = pc->kernel,
	        .kernel_len = pc->kernel_len,
	        .initrd_name = cfg->initrd,
	        .initrd = pc->initrd,
	        .initrd_len = pc->initrd_len,
	        .cmdline = cmdline[0] == ' ' ? cmdline + 1 : cmdline,
	        .e820 = e820,
	        .nr_e820 = (unsigned)pc_build_e820(pc, e820),
	        .ram_below_4g = pc->low_ram,
	        .acpi_rsdp = X86_ACPI_RSDP_ADDR,
	};
	return x86_load_linux(&pc->mem, &p, bs, &info, err);
}

int pc_boot(struct pc *pc, struct vk_error *err)
{
	struct pci_platform plat = {
	        .msi = {.send = pc_msi_send, .opaque = pc},
	        .loop = pc->loop,
	        .ioeventfd = pc_ioeventfd,
	        .msi_route_add = pc_route_add,
	        .msi_route_update = pc_route_update,
	        .msi_route_del = pc_route_del,
	        .irqfd = pc_irqfd,
	        .opaque = pc,
	};
	struct x86_boot_state bs;
	char extra[1024] = "";
	int r;

	pc->booted = true;
	memset(pc->gsi_level, 0, sizeof(pc->gsi_level)); /* a new VM: every line low */
	pc->logged_irq_line = pc->logged_msi = false;
	r = kvm_vm_open(&pc->kvm, NULL, err);
	if (r < 0)
		return r;
	r = kvm_vm_create(&pc->kvm, PC_KVM_TSS, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < pc->mem.nr; i++) {
		const struct vm_mem_region *m = &pc->mem.regions[i];

		r = kvm_vm_add_ram(&pc->kvm, m->gpa, m->size, m->host, err);
		if (r < 0)
			return r;
	}

	pc->i8042 = i8042_create(&pc->pio, pc_gsi_line(pc, 1), pc_gsi_line(pc, 12), pc_guest_reset,
	                         pc, err);
	if (!pc->i8042)
		return -EINVAL;
	pc->rtc = rtc_create(&pc->pio, err);
	if (!pc->rtc)
		return -EINVAL;
	rtc_set_memory_size(pc->rtc, pc->low_ram, pc->high_ram);
	r = rtc_set_irq(pc->rtc, pc->loop, pc_gsi_line(pc, PC_RTC_IRQ), err);
	if (r < 0)
		return r;
	pc->acpi = acpi_pm_create(&pc->pio, PC_ACPI_PM_BASE, PC_S5_SLP_TYP,
	                          pc_gsi_line(pc, PC_SCI_IRQ), pc_guest_poweroff, pc, err);
	if (!pc->acpi)
		return -EINVAL;
	r = pci_host_init(&pc->pci, &pc->pio, &pc->mmio, PC_PCI_MMIO_START,
	                  PC_PCI_MMIO_END - PC_PCI_MMIO_START, PC_PCI_IO_START,
	                  PC_PCI_IO_END - PC_PCI_IO_START, err);
	if (r < 0)
		return r;
	pc->pci_ready = true;
	/* Without a capability, the plain path (MMIO exits, KVM_SIGNAL_MSI) takes over. */
	if (!pc->kvm.caps.ioeventfd)
		plat.ioeventfd = NULL;
	if (!pc->kvm.caps.irqfd || !pc->kvm.caps.irq_routing)
		plat.msi_route_add = NULL;
	pc->pci.platform = plat;
	pc->pci.intx_line = pc_pci_intx;
	pc->pci.intx_opaque = pc;
	pc->pci.reset = pc_guest_reset;
	pc->pci.reset_opaque = pc;
	r = pc_add_transports(pc, extra, sizeof(extra), err);
	if (r < 0)
		return r;

	/* A restored machine's RAM and registers come from its state (pc.c). */
	if (!pc->restoring) {
		if (!pc->kernel && (r = pc_read_files(pc, err)) < 0)
			return r;
		r = pc_load_kernel(pc, extra, &bs, err);
		if (r < 0)
			return r;
		r = pc_write_tables(pc, err);
		if (r < 0)
			return r;
	}

	r = kvm_cpus_create(&pc->cpus, &pc->kvm, pc->cfg->cpus, err);
	pc->cpus_created = true;
	if (r < 0)
		return r;
	pc->cpus.pio = &pc->pio;
	pc->cpus.mmio = &pc->mmio;
	pc->cpus.mem = &pc->mem;
	pc->cpus.loop = pc->loop;
	vm_loop_lock(pc->loop);
	r = pc_state_register(pc, err);
	vm_loop_unlock(pc->loop);
	if (r < 0 || pc->restoring)
		return r;
	return kvm_vcpu_set_boot_state(&pc->cpus, 0, &bs, err);
}

void pc_unboot(struct pc *pc)
{
	if (!pc->booted)
		return;
	/* A migration that ends late must find no device of this boot (pc-state.c). */
	pc->reg.nr = 0;
	for (unsigned i = 0; i < pc->nr_virtio; i++) {
		virtio_pci_destroy(pc->virtio_pci[i]);
		virtio_mmio_destroy(pc->virtio_mmio[i]);
		pc->virtio_pci[i] = NULL;
		pc->virtio_mmio[i] = NULL;
	}
	if (pc->pci_ready)
		pci_host_destroy(&pc->pci);
	pc->pci_ready = false;
	i8042_destroy(pc->i8042);
	rtc_destroy(pc->rtc);
	acpi_pm_destroy(pc->acpi);
	pc->i8042 = NULL;
	pc->rtc = NULL;
	pc->acpi = NULL;
	if (pc->cpus_created)
		kvm_cpus_destroy(&pc->cpus);
	pc->cpus_created = false;
	kvm_vm_close(&pc->kvm);
	pc->booted = false;
}
