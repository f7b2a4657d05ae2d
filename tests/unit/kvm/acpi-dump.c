/* SPDX-License-Identifier: MIT */
/*
 * Test helper for acpica.sh: build the board's ACPI tables for a machine
 * with CPUS vCPUs, PCI PCI devices and MMIO virtio-mmio transports (4 KiB
 * apart from MMIO_BASE, default 0xd0000000, on IRQs 5, 6, 7...), find them the
 * way an OS does (RSDP at 0xE0000, XSDT, FADT) and write each one to
 * OUTDIR/<signature>.dat for ACPICA's iasl and acpiexec, and the whole
 * 64 KiB area from 0xE0000 to OUTDIR/region.dat (for kvm/acpi-linux-qemu.sh).
 *   acpi-dump OUTDIR CPUS PCI MMIO [MMIO_BASE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/boot/x86-acpi.h"
#include "vm/mem.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
}

static int dump(const char *dir, const char *name, const struct vm_mem *mem, uint32_t gpa,
                uint32_t len)
{
	const uint8_t *p = vm_mem_translate(mem, gpa, len);
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	if (!p || !f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "acpi-dump: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

static int dump_table(const char *dir, const char *name, const struct vm_mem *mem, uint32_t gpa)
{
	const uint8_t *h = vm_mem_translate(mem, gpa, ACPI_HEADER_SIZE);

	return h ? dump(dir, name, mem, gpa, get32(h + 4)) : 1;
}

int main(int argc, char **argv)
{
	struct x86_mp_irq irqs[64];
	struct x86_acpi_mmio mmio[8];
	struct x86_acpi_config c = {
	        .irqs = irqs,
	        .pm_base = 0x600,
	        .sci_irq = 9,
	        .s5_slp_typ = 5,
	        .reset_port = 0xcf9,
	        .reset_value = 6,
	        .com1_port = 0x3f8,
	        .com1_irq = 4,
	        .pci_mmio_base = 0xe0000000,
	        .pci_mmio_size = 0x1ec00000,
	        .virtio_mmio = mmio,
	};
	static const uint8_t mmio_irqs[] = {5, 6, 7, 10, 11, 13, 14, 15};
	struct vk_error err = {0};
	struct vm_mem mem;
	const uint8_t *rsdp, *xsdt, *fadt;
	unsigned npci, nmmio;
	uint32_t mmio_base;
	int r = 0;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: acpi-dump OUTDIR CPUS PCI MMIO [MMIO_BASE]\n");
		return 2;
	}
	mmio_base = argc == 6 ? (uint32_t)strtoul(argv[5], NULL, 0) : 0xd0000000u;
	c.nr_cpus = (unsigned)atoi(argv[2]);
	npci = (unsigned)atoi(argv[3]);
	nmmio = (unsigned)atoi(argv[4]);
	if (npci > 31 || nmmio > sizeof(mmio_irqs))
		return 2;
	for (unsigned s = 1; s <= npci; s++)
		irqs[c.nr_irqs++] = (struct x86_mp_irq){
		        .pci = true, .src_irq = (uint8_t)(s << 2), .gsi = (uint8_t)(16 + s % 8)};
	for (unsigned i = 0; i < nmmio; i++) {
		irqs[c.nr_irqs++] = (struct x86_mp_irq){
		        .src_irq = mmio_irqs[i], .gsi = mmio_irqs[i], .trigger = X86_MP_LEVEL_HIGH};
		mmio[c.nr_virtio_mmio++] = (struct x86_acpi_mmio){
		        .base = mmio_base + 0x1000u * i, .size = 0x200, .irq = mmio_irqs[i]};
	}

	vm_mem_init(&mem);
	if (vm_mem_add_ram(&mem, 0, 2u << 20, &err) < 0 || x86_acpi_write(&mem, &c, &err) < 0) {
		fprintf(stderr, "acpi-dump: %s\n", err.msg);
		return 1;
	}
	rsdp = vm_mem_translate(&mem, X86_ACPI_RSDP_ADDR, 36);
	xsdt = vm_mem_translate(&mem, get32(rsdp + 24), ACPI_HEADER_SIZE + 16);
	fadt = vm_mem_translate(&mem, get32(xsdt + 36), 48);
	r |= dump(argv[1], "rsdp", &mem, X86_ACPI_RSDP_ADDR, 36);
	r |= dump_table(argv[1], "xsdt", &mem, get32(rsdp + 24));
	r |= dump_table(argv[1], "rsdt", &mem, get32(rsdp + 16));
	r |= dump_table(argv[1], "facp", &mem, get32(xsdt + 36));
	r |= dump_table(argv[1], "apic", &mem, get32(xsdt + 44));
	r |= dump(argv[1], "facs", &mem, get32(fadt + 36), 64);
	r |= dump_table(argv[1], "dsdt", &mem, get32(fadt + 40));
	r |= dump(argv[1], "region", &mem, X86_ACPI_RSDP_ADDR, X86_ACPI_TABLES_MAX);
	vm_mem_destroy(&mem);
	return r;
}
