/* SPDX-License-Identifier: MIT */
/*
 * The virt board's flattened device tree, written with libfdt's sequential
 * API. Node names, compatibles and phandle wiring follow QEMU's virt board
 * so that OpenSBI's and Linux's drivers probe the same way.
 */
#include "vm/board/riscv-virt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/sifive-test.h"

enum {
	PHANDLE_PLIC = 1,
	PHANDLE_TEST,
	PHANDLE_CPU_INTC_BASE, /* + hart */
};

/* Each fdt_* call returns 0 or a negative FDT_ERR_*: stop at the first error. */
#define TRY(expr)                   \
	do {                        \
		int r__ = (expr);   \
		if (r__ < 0)        \
			return r__; \
	} while (0)

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = {cpu_to_fdt64(base), cpu_to_fdt64(size)};

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int begin_node_at(void *fdt, const char *name, uint64_t addr)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, buf);
}

static int fdt_cpus(void *fdt, const struct riscv_fdt_params *p)
{
	char name[32];

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_cell(fdt, "#address-cells", 1));
	TRY(fdt_property_cell(fdt, "#size-cells", 0));
	TRY(fdt_property_cell(fdt, "timebase-frequency", VIRT_TIMEBASE_HZ));
	for (unsigned h = 0; h < p->nr_harts; h++) {
		snprintf(name, sizeof(name), "cpu@%u", h);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_cell(fdt, "reg", h));
		TRY(fdt_property_string(fdt, "status", "okay"));
		TRY(fdt_property_string(fdt, "compatible", "riscv"));
		TRY(fdt_property_string(fdt, "riscv,isa", p->isa));
		TRY(fdt_property_string(fdt, "mmu-type", p->mmu_type));
		TRY(fdt_property_cell(fdt, "phandle", PHANDLE_CPU_INTC_BASE + p->nr_harts + h));
		TRY(fdt_begin_node(fdt, "interrupt-controller"));
		TRY(fdt_property_cell(fdt, "#interrupt-cells", 1));
		TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
		TRY(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
		TRY(fdt_property_cell(fdt, "phandle", PHANDLE_CPU_INTC_BASE + h));
		TRY(fdt_end_node(fdt));
		TRY(fdt_end_node(fdt));
	}
	TRY(fdt_begin_node(fdt, "cpu-map"));
	TRY(fdt_begin_node(fdt, "cluster0"));
	for (unsigned h = 0; h < p->nr_harts; h++) {
		snprintf(name, sizeof(name), "core%u", h);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_cell(fdt, "cpu", PHANDLE_CPU_INTC_BASE + p->nr_harts + h));
		TRY(fdt_end_node(fdt));
	}
	TRY(fdt_end_node(fdt));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

/* interrupts-extended = <&intc0 a &intc0 b &intc1 a ...> */
static int prop_irqs_extended(void *fdt, unsigned nr_harts, uint32_t a, uint32_t b)
{
	fdt32_t cells[4 * VM_FDT_MAX_HARTS];
	unsigned n = 0;

	for (unsigned h = 0; h < nr_harts; h++) {
		cells[n++] = cpu_to_fdt32(PHANDLE_CPU_INTC_BASE + h);
		cells[n++] = cpu_to_fdt32(a);
		cells[n++] = cpu_to_fdt32(PHANDLE_CPU_INTC_BASE + h);
		cells[n++] = cpu_to_fdt32(b);
	}
	return fdt_property(fdt, "interrupts-extended", cells, n * sizeof(cells[0]));
}

static int fdt_soc(void *fdt, const struct riscv_fdt_params *p)
{
	TRY(fdt_begin_node(fdt, "soc"));
	TRY(fdt_property_cell(fdt, "#address-cells", 2));
	TRY(fdt_property_cell(fdt, "#size-cells", 2));
	TRY(fdt_property_string(fdt, "compatible", "simple-bus"));
	TRY(fdt_property(fdt, "ranges", NULL, 0));

	TRY(begin_node_at(fdt, "clint", VIRT_CLINT_BASE));
	TRY(fdt_property(fdt, "compatible", "sifive,clint0\0riscv,clint0",
	                 sizeof("sifive,clint0\0riscv,clint0")));
	TRY(prop_reg(fdt, VIRT_CLINT_BASE, CLINT_SIZE));
	TRY(prop_irqs_extended(fdt, p->nr_harts, 3 /* MSI */, 7 /* MTI */));
	TRY(fdt_end_node(fdt));

	TRY(begin_node_at(fdt, "plic", VIRT_PLIC_BASE));
	TRY(fdt_property(fdt, "compatible", "sifive,plic-1.0.0\0riscv,plic0",
	                 sizeof("sifive,plic-1.0.0\0riscv,plic0")));
	TRY(prop_reg(fdt, VIRT_PLIC_BASE, PLIC_SIZE));
	TRY(fdt_property_cell(fdt, "#address-cells", 0));
	TRY(fdt_property_cell(fdt, "#interrupt-cells", 1));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_cell(fdt, "riscv,ndev", VIRT_PLIC_SOURCES - 1));
	TRY(prop_irqs_extended(fdt, p->nr_harts, 11 /* MEI */, 9 /* SEI */));
	TRY(fdt_property_cell(fdt, "phandle", PHANDLE_PLIC));
	TRY(fdt_end_node(fdt));

	TRY(begin_node_at(fdt, "serial", VIRT_UART0_BASE));
	TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	TRY(prop_reg(fdt, VIRT_UART0_BASE, 0x100));
	TRY(fdt_property_cell(fdt, "clock-frequency", 3686400));
	TRY(fdt_property_cell(fdt, "interrupt-parent", PHANDLE_PLIC));
	TRY(fdt_property_cell(fdt, "interrupts", VIRT_UART0_IRQ));
	TRY(fdt_end_node(fdt));

	/* Lowest slot first: Linux probes the nodes in this order and numbers devices as
	 * it goes, so the first --disk is vda and the first --net eth0. (QEMU gets the same
	 * result the other way round: its first device takes the highest slot, listed first.) */
	for (unsigned n = 0; n < p->nr_virtio; n++) {
		uint64_t base = VIRT_VIRTIO_BASE + (uint64_t)n * VIRT_VIRTIO_STRIDE;
		TRY(begin_node_at(fdt, "virtio_mmio", base));
		TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
		TRY(prop_reg(fdt, base, VIRT_VIRTIO_STRIDE));
		TRY(fdt_property_cell(fdt, "interrupt-parent", PHANDLE_PLIC));
		TRY(fdt_property_cell(fdt, "interrupts", VIRT_VIRTIO_IRQ + n));
		TRY(fdt_end_node(fdt));
	}

	TRY(begin_node_at(fdt, "test", VIRT_TEST_BASE));
	TRY(fdt_property(fdt, "compatible", "sifive,test1\0sifive,test0\0syscon",
	                 sizeof("sifive,test1\0sifive,test0\0syscon")));
	TRY(prop_reg(fdt, VIRT_TEST_BASE, SIFIVE_TEST_SIZE));
	TRY(fdt_property_cell(fdt, "phandle", PHANDLE_TEST));
	TRY(fdt_end_node(fdt));

	TRY(fdt_begin_node(fdt, "poweroff"));
	TRY(fdt_property_string(fdt, "compatible", "syscon-poweroff"));
	TRY(fdt_property_cell(fdt, "regmap", PHANDLE_TEST));
	TRY(fdt_property_cell(fdt, "offset", 0));
	TRY(fdt_property_cell(fdt, "value", 0x5555));
	TRY(fdt_end_node(fdt));

	TRY(fdt_begin_node(fdt, "reboot"));
	TRY(fdt_property_string(fdt, "compatible", "syscon-reboot"));
	TRY(fdt_property_cell(fdt, "regmap", PHANDLE_TEST));
	TRY(fdt_property_cell(fdt, "offset", 0));
	TRY(fdt_property_cell(fdt, "value", 0x7777));
	TRY(fdt_end_node(fdt));

	return fdt_end_node(fdt);
}

static int fdt_write_tree(void *fdt, size_t size, const struct riscv_fdt_params *p)
{
	char name[64];

	TRY(fdt_create(fdt, (int)size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_cell(fdt, "#address-cells", 2));
	TRY(fdt_property_cell(fdt, "#size-cells", 2));
	TRY(fdt_property_string(fdt, "compatible", "riscv-virtio"));
	TRY(fdt_property_string(fdt, "model", "virtkit riscv64 virt"));

	TRY(fdt_begin_node(fdt, "chosen"));
	if (p->bootargs)
		TRY(fdt_property_string(fdt, "bootargs", p->bootargs));
	snprintf(name, sizeof(name), "/soc/serial@%llx", (unsigned long long)VIRT_UART0_BASE);
	TRY(fdt_property_string(fdt, "stdout-path", name));
	if (p->initrd_end > p->initrd_start) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	TRY(fdt_end_node(fdt));

	TRY(begin_node_at(fdt, "memory", p->ram_base));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_reg(fdt, p->ram_base, p->ram_size));
	TRY(fdt_end_node(fdt));

	TRY(fdt_cpus(fdt, p));
	TRY(fdt_soc(fdt, p));
	TRY(fdt_end_node(fdt));
	TRY(fdt_finish(fdt));
	/* Leave the rest of the buffer as free space for firmware fixups. */
	return fdt_open_into(fdt, fdt, (int)size);
}

int riscv_fdt_build(const struct riscv_fdt_params *p, void *buf, size_t size, struct vk_error *err)
{
	int r;

	if (p->nr_harts == 0 || p->nr_harts > VM_FDT_MAX_HARTS || p->nr_virtio > VIRT_VIRTIO_COUNT)
		return vk_error_set(err, EINVAL, "device tree: unsupported board shape");
	r = fdt_write_tree(buf, size, p);
	if (r < 0)
		return vk_error_set(err, ENOSPC, "cannot build the device tree: %s",
		                    fdt_strerror(r));
	return 0;
}
