/* SPDX-License-Identifier: MIT */
/*
 * The MP table (Intel MultiProcessor Specification 1.4, chapter 4): a floating
 * pointer and a configuration table in the BIOS area, listing one processor
 * entry per vCPU (APIC id = vCPU index, vCPU 0 the BSP), a PCI bus (0) and an
 * ISA bus (1), the IOAPIC, the ISA IRQs routed 1:1 to IOAPIC inputs, the
 * board's extra interrupts (PCI INTx, virtio-mmio), and LINT0 = ExtINT,
 * LINT1 = NMI on every LAPIC. Linux without ACPI finds its CPUs here.
 */
#include "vm/boot/x86-boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/mem.h"

#define MP_BUS_PCI         0
#define MP_BUS_ISA         1

#define MP_ENTRY_PROCESSOR 0
#define MP_ENTRY_BUS       1
#define MP_ENTRY_IOAPIC    2
#define MP_ENTRY_IOINT     3
#define MP_ENTRY_LINT      4

#define MP_INT             0
#define MP_NMI             1
#define MP_EXTINT          3

#define MP_CPU_ENABLED     1
#define MP_CPU_BSP         2

/* Interrupt flags: polarity in bits 0-1, trigger mode in bits 2-3. */
#define MP_IRQ_ACTIVE_HIGH 0x1
#define MP_IRQ_LEVEL       (0x3 << 2)

struct mpf {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_header {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t ver;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

struct mpc_int {
	uint8_t type;
	uint8_t irqtype;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_irq;
} __attribute__((packed));

/* The table is built in a host buffer, then copied into guest RAM. */
#define MP_TABLE_MAX 0x4000

struct mp_builder {
	uint8_t buf[MP_TABLE_MAX];
	size_t len;
	unsigned count;
	bool overflow;
};

static void mp_add(struct mp_builder *b, const void *entry, size_t size)
{
	if (b->len + size > sizeof(b->buf)) {
		b->overflow = true;
		return;
	}
	memcpy(b->buf + b->len, entry, size);
	b->len += size;
	b->count++;
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

static void mp_add_ioint(struct mp_builder *b, uint16_t flags, uint8_t bus, uint8_t src,
                         uint8_t apic, uint8_t dst)
{
	struct mpc_int e = {
	        .type = MP_ENTRY_IOINT,
	        .irqtype = MP_INT,
	        .flags = flags,
	        .src_bus = bus,
	        .src_irq = src,
	        .dst_apic = apic,
	        .dst_irq = dst,
	};

	mp_add(b, &e, sizeof(e));
}

int x86_mptable_write(struct vm_mem *mem, const struct x86_mp_config *c, struct vk_error *err)
{
	_cleanup_free_ struct mp_builder *b = NULL;
	struct mpf mpf;
	struct mpc_header h;
	uint8_t ioapic_id;

	if (c->nr_cpus == 0 || c->nr_cpus > 254)
		return vk_error_set(err, EINVAL, "the MP table cannot describe %u CPUs",
		                    c->nr_cpus);
	ioapic_id = (uint8_t)c->nr_cpus;
	b = calloc(1, sizeof(*b));
	if (!b)
		return vk_error_errno(err, ENOMEM, "MP table");
	b->len = sizeof(mpf) + sizeof(h);

	for (unsigned i = 0; i < c->nr_cpus; i++) {
		struct mpc_cpu cpu = {
		        .type = MP_ENTRY_PROCESSOR,
		        .apic_id = (uint8_t)i,
		        .apic_ver = 0x14,
		        .flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
		        .signature = 0x600, /* family 6 */
		        .features = 0x201,  /* FPU, APIC */
		};
		mp_add(b, &cpu, sizeof(cpu));
	}
	{
		struct mpc_bus pci = {.type = MP_ENTRY_BUS, .id = MP_BUS_PCI, .name = "PCI   "};
		struct mpc_bus isa = {.type = MP_ENTRY_BUS, .id = MP_BUS_ISA, .name = "ISA   "};
		struct mpc_ioapic io = {.type = MP_ENTRY_IOAPIC,
		                        .id = ioapic_id,
		                        .ver = 0x11,
		                        .flags = 1,
		                        .addr = X86_IOAPIC_ADDR};

		mp_add(b, &pci, sizeof(pci));
		mp_add(b, &isa, sizeof(isa));
		mp_add(b, &io, sizeof(io));
	}
	/* ISA IRQs 0-15 on IOAPIC inputs 0-15 (2 is the PIC cascade, unused). */
	for (uint8_t irq = 0; irq < 16; irq++) {
		bool overridden = false;

		if (irq == 2)
			continue;
		for (unsigned i = 0; i < c->nr_irqs; i++)
			if (!c->irqs[i].pci && c->irqs[i].src_irq == irq)
				overridden = true;
		if (!overridden)
			mp_add_ioint(b, 0, MP_BUS_ISA, irq, ioapic_id, irq);
	}
	for (unsigned i = 0; i < c->nr_irqs; i++) {
		const struct x86_mp_irq *q = &c->irqs[i];
		uint16_t flags =
		        q->trigger == X86_MP_LEVEL_HIGH ? MP_IRQ_ACTIVE_HIGH | MP_IRQ_LEVEL : 0;

		mp_add_ioint(b, flags, q->pci ? MP_BUS_PCI : MP_BUS_ISA, q->src_irq, ioapic_id,
		             q->gsi);
	}
	/* LINT0 = ExtINT and LINT1 = NMI on every LAPIC (destination 0xff). */
	{
		struct mpc_int l0 = {.type = MP_ENTRY_LINT,
		                     .irqtype = MP_EXTINT,
		                     .src_bus = MP_BUS_ISA,
		                     .dst_apic = 0xff,
		                     .dst_irq = 0};
		struct mpc_int l1 = {.type = MP_ENTRY_LINT,
		                     .irqtype = MP_NMI,
		                     .src_bus = MP_BUS_ISA,
		                     .dst_apic = 0xff,
		                     .dst_irq = 1};

		mp_add(b, &l0, sizeof(l0));
		mp_add(b, &l1, sizeof(l1));
	}
	if (b->overflow)
		return vk_error_set(err, E2BIG, "the MP table does not fit in %d bytes",
		                    MP_TABLE_MAX);

	memset(&h, 0, sizeof(h));
	memcpy(h.signature, "PCMP", 4);
	h.length = (uint16_t)(b->len - sizeof(mpf));
	h.spec_rev = 4;
	memcpy(h.oem, "VIRTKIT ", 8);
	memcpy(h.product, "PC          ", 12);
	h.count = (uint16_t)b->count;
	h.lapic = X86_LAPIC_ADDR;
	memcpy(b->buf + sizeof(mpf), &h, sizeof(h));
	b->buf[sizeof(mpf) + offsetof(struct mpc_header, checksum)] =
	        mp_checksum(b->buf + sizeof(mpf), b->len - sizeof(mpf));

	memset(&mpf, 0, sizeof(mpf));
	memcpy(mpf.signature, "_MP_", 4);
	mpf.physptr = X86_MPTABLE_ADDR + sizeof(mpf);
	mpf.length = 1;
	mpf.spec_rev = 4;
	mpf.checksum = mp_checksum((const uint8_t *)&mpf, sizeof(mpf));
	memcpy(b->buf, &mpf, sizeof(mpf));

	if (vm_mem_write(mem, X86_MPTABLE_ADDR, b->buf, b->len) < 0)
		return vk_error_set(err, ENOMEM, "no guest RAM for the MP table");
	return 0;
}
