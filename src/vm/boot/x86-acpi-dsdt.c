/* SPDX-License-Identifier: MIT */
/*
 * The DSDT of the PC board, written as AML by a tiny encoder (ACPI 6.4,
 * chapter 20 "ACPI Machine Language Specification"; resource descriptors:
 * chapter 6.4). What it holds, in ASL terms:
 *
 *   Name (\_S5, Package (4) { typ, typ, 0, 0 })        S5 soft-off
 *   Scope (\_SB) {
 *     Device (PCI0) {                                  the host bridge
 *       _HID PNP0A03, _UID 0, _BBN 0
 *       _CRS: bus 0, config ports 0xCF8-0xCFF, I/O 0-0xCF7 and 0xD00-0xFFFF,
 *             the 32-bit memory window of the board
 *       _PRT: one entry per device pin, hard-wired to its IOAPIC input
 *     }
 *     Device (COM1) { _HID PNP0501, _UID 1, _CRS: IO 0x3F8/8, IRQ 4 }
 *     Device (VRnn) { _HID "LNRO0005", _UID nn, _CCA 1,
 *                     _CRS: Memory32Fixed base/size, Interrupt (level, high) }
 *   }
 *
 * The virtio-mmio devices are also on the kernel command line
 * (virtio_mmio.device=, for kernels without ACPI); a kernel that reads both
 * sees the same device twice and the second probe fails on the busy region.
 * Debian's cloud kernel reads only ACPI (VIRTIO_MMIO_CMDLINE_DEVICES is off).
 *
 * The encoder covers only what these need: name segments, integers,
 * packages, buffers, scopes and devices, with PkgLength back-patching.
 */
#include <errno.h>
#include <string.h>

#include "vm/boot/x86-acpi.h"

#define AML_ZERO         0x00
#define AML_ONE          0x01
#define AML_NAME         0x08
#define AML_BYTE_PREFIX  0x0a
#define AML_WORD_PREFIX  0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING       0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE        0x10
#define AML_BUFFER       0x11
#define AML_PACKAGE      0x12
#define AML_EXT_PREFIX   0x5b
#define AML_DEVICE       0x82 /* after AML_EXT_PREFIX */

/* Resource descriptors (chapter 6.4). */
#define RES_IRQ_NOFLAGS  0x22 /* small item 0x04, length 2 */
#define RES_IO           0x47 /* small item 0x08, length 7 */
#define RES_END          0x79 /* small item 0x0f, length 1 */
#define RES_MEM32_FIXED  0x86
#define RES_DWORD_ADDR   0x87
#define RES_WORD_ADDR    0x88
#define RES_EXT_IRQ      0x89
#define RES_IRQ_CONSUMER 0x01 /* level-triggered, active high, exclusive */
#define RES_TYPE_MEM     0
#define RES_TYPE_IO      1
#define RES_TYPE_BUS     2
#define RES_MIN_MAX_FIX  0x0c /* producer, positive decode, _MIF and _MAF set */

#define AML_MAX_DEPTH    8

struct aml {
	uint8_t *buf;
	size_t len, cap;
	size_t open[AML_MAX_DEPTH]; /* where each open PkgLength was reserved */
	unsigned depth;
	bool overflow;
};

static void aml_put(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* An integer in the shortest encoding (20.2.3 ComputationalData). */
static void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

/* A NameSeg: exactly four characters, '_' padded by the caller. */
static void aml_nameseg(struct aml *a, const char *seg)
{
	aml_put(a, seg, 4);
}

/* Start something with a PkgLength: reserve the longest encoding (4 bytes). */
static void aml_open(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
	aml_le(a, 0, 4);
}

/* Close it: encode PkgLength (which counts its own bytes) and close the gap. */
static void aml_close(struct aml *a)
{
	size_t start, body;
	uint32_t total;
	unsigned n;

	if (a->overflow || a->depth == 0) {
		a->overflow = true;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start - 4;
	/* 20.2.4: one byte holds up to 63; n bytes hold 4 + 8 * (n - 1) bits. */
	if (body + 1 <= 0x3f)
		n = 1;
	else if (body + 2 <= 0xfff)
		n = 2;
	else if (body + 3 <= 0xfffff)
		n = 3;
	else if (body + 4 <= 0xfffffff)
		n = 4;
	else {
		a->overflow = true;
		return;
	}
	total = (uint32_t)(body + n);
	if (n == 1) {
		a->buf[start] = (uint8_t)total;
	} else {
		a->buf[start] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			a->buf[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + start + n, a->buf + start + 4, body);
	a->len -= 4 - n;
}

static void aml_name_int(struct aml *a, const char *seg, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, seg);
	aml_int(a, v);
}

/* The 32-bit compressed EISA id of "PNPxxxx"-style names (ASL EisaId()). */
static uint32_t eisa_id(const char *id)
{
	uint32_t v = 0;

	v |= (uint32_t)(((id[0] & 0x1f) << 2) | ((id[1] & 0x1f) >> 3));
	v |= (uint32_t)((((id[1] & 0x1f) << 5) | (id[2] & 0x1f)) & 0xff) << 8;
	for (unsigned i = 0; i < 4; i++) {
		char c = id[3 + i];
		uint32_t d = (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10);

		v |= d << (i & 1 ? 16 + 8 * (i / 2) : 20 + 8 * (i / 2));
	}
	return v;
}

static void aml_name_eisa(struct aml *a, const char *seg, const char *id)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, seg);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, eisa_id(id), 4);
}

static void aml_name_string(struct aml *a, const char *seg, const char *s)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, seg);
	aml_byte(a, AML_STRING);
	aml_put(a, s, strlen(s) + 1);
}

static void aml_device_begin(struct aml *a, const char *seg)
{
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE);
	aml_open(a);
	aml_nameseg(a, seg);
}

/*
 * Name (seg, Buffer (len) { descriptors, EndTag }): the caller writes the
 * descriptors between _begin and _end. The size is a WordConst so that it can
 * be patched once the descriptors are known.
 */
static size_t aml_resources_begin(struct aml *a, const char *seg)
{
	size_t size_at;

	aml_byte(a, AML_NAME);
	aml_nameseg(a, seg);
	aml_byte(a, AML_BUFFER);
	aml_open(a);
	aml_byte(a, AML_WORD_PREFIX);
	size_at = a->len;
	aml_le(a, 0, 2);
	return size_at;
}

static void aml_resources_end(struct aml *a, size_t size_at)
{
	size_t n;

	aml_byte(a, RES_END);
	aml_byte(a, 0); /* checksum 0: "the template sums correctly" */
	if (!a->overflow) {
		n = a->len - size_at - 2;
		a->buf[size_at] = (uint8_t)n;
		a->buf[size_at + 1] = (uint8_t)(n >> 8);
	}
	aml_close(a);
}

/* IO (Decode16, base, base, align, len) */
static void res_io(struct aml *a, uint16_t base, uint8_t align, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 0x01); /* 16-bit decode */
	aml_le(a, base, 2);
	aml_le(a, base, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

static void res_irq(struct aml *a, unsigned irq)
{
	aml_byte(a, RES_IRQ_NOFLAGS);
	aml_le(a, 1u << irq, 2);
}

/* WordBusNumber / WordIO producer windows [min, max]. */
static void res_word(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	aml_byte(a, RES_WORD_ADDR);
	aml_le(a, 13, 2);
	aml_byte(a, type);
	aml_byte(a, RES_MIN_MAX_FIX);
	aml_byte(a, type_flags);
	aml_le(a, 0, 2); /* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2); /* translation */
	aml_le(a, (uint32_t)max - min + 1, 2);
}

/* DWordMemory (producer, non-cacheable, read-write) window [base, base + size). */
static void res_dword_mem(struct aml *a, uint32_t base, uint32_t size)
{
	aml_byte(a, RES_DWORD_ADDR);
	aml_le(a, 23, 2);
	aml_byte(a, RES_TYPE_MEM);
	aml_byte(a, RES_MIN_MAX_FIX);
	aml_byte(a, 0x01); /* read-write, non-cacheable */
	aml_le(a, 0, 4);
	aml_le(a, base, 4);
	aml_le(a, base + size - 1, 4);
	aml_le(a, 0, 4);
	aml_le(a, size, 4);
}

/* Memory32Fixed (ReadWrite, base, size) */
static void res_mem32_fixed(struct aml *a, uint32_t base, uint32_t size)
{
	aml_byte(a, RES_MEM32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, 0x01); /* read-write */
	aml_le(a, base, 4);
	aml_le(a, size, 4);
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { gsi } */
static void res_ext_irq(struct aml *a, uint32_t gsi)
{
	aml_byte(a, RES_EXT_IRQ);
	aml_le(a, 6, 2);
	aml_byte(a, RES_IRQ_CONSUMER);
	aml_byte(a, 1);
	aml_le(a, gsi, 4);
}

static void dsdt_virtio_mmio(struct aml *a, unsigned i, const struct x86_acpi_mmio *m)
{
	char seg[5] = {'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0};
	size_t size_at;

	aml_device_begin(a, seg);
	aml_name_string(a, "_HID", "LNRO0005");
	aml_name_int(a, "_UID", i);
	aml_name_int(a, "_CCA", 1); /* DMA is cache-coherent */
	size_at = aml_resources_begin(a, "_CRS");
	res_mem32_fixed(a, m->base, m->size);
	res_ext_irq(a, m->irq);
	aml_resources_end(a, size_at);
	aml_close(a);
}

static void dsdt_pci(struct aml *a, const struct x86_acpi_config *c)
{
	unsigned n = 0;
	size_t size_at;

	aml_device_begin(a, "PCI0");
	aml_name_eisa(a, "_HID", "PNP0A03");
	aml_name_int(a, "_UID", 0);
	aml_name_int(a, "_BBN", 0);

	size_at = aml_resources_begin(a, "_CRS");
	res_word(a, RES_TYPE_BUS, 0, 0, 0);
	res_io(a, 0xcf8, 1, 8); /* the configuration ports: consumed, not forwarded */
	res_word(a, RES_TYPE_IO, 0x03, 0x0000, 0x0cf7);
	res_word(a, RES_TYPE_IO, 0x03, 0x0d00, 0xffff);
	if (c->pci_mmio_size)
		res_dword_mem(a, c->pci_mmio_base, c->pci_mmio_size);
	aml_resources_end(a, size_at);

	/* _PRT: Package { Package (4) { slot << 16 | 0xFFFF, pin, 0, GSI } ... } */
	for (unsigned i = 0; i < c->nr_irqs; i++)
		n += c->irqs[i].pci;
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	aml_open(a);
	aml_byte(a, (uint8_t)n);
	for (unsigned i = 0; i < c->nr_irqs; i++) {
		const struct x86_mp_irq *q = &c->irqs[i];

		if (!q->pci)
			continue;
		aml_byte(a, AML_PACKAGE);
		aml_open(a);
		aml_byte(a, 4);
		aml_int(a, (uint32_t)(q->src_irq >> 2) << 16 | 0xffff);
		aml_int(a, q->src_irq & 3);
		aml_int(a, 0); /* no link device: the last element is a GSI */
		aml_int(a, q->gsi);
		aml_close(a);
	}
	aml_close(a);
	aml_close(a);
}

static void dsdt_com1(struct aml *a, const struct x86_acpi_config *c)
{
	size_t size_at;

	aml_device_begin(a, "COM1");
	aml_name_eisa(a, "_HID", "PNP0501");
	aml_name_int(a, "_UID", 1);
	size_at = aml_resources_begin(a, "_CRS");
	res_io(a, c->com1_port, 0, 8);
	res_irq(a, c->com1_irq);
	aml_resources_end(a, size_at);
	aml_close(a);
}

long x86_acpi_build_dsdt(const struct x86_acpi_config *c, uint8_t *buf, size_t cap)
{
	struct aml a = {.buf = buf, .cap = cap};

	if (cap < ACPI_HEADER_SIZE || c->nr_irqs > 255 || (c->com1_port && c->com1_irq > 15) ||
	    c->nr_virtio_mmio > 100)
		return -E2BIG;
	a.len = ACPI_HEADER_SIZE;

	aml_byte(&a, AML_NAME);
	aml_nameseg(&a, "_S5_");
	aml_byte(&a, AML_PACKAGE);
	aml_open(&a);
	aml_byte(&a, 4);
	aml_int(&a, c->s5_slp_typ); /* SLP_TYPa */
	aml_int(&a, c->s5_slp_typ); /* SLP_TYPb (there is no PM1b block) */
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_close(&a);

	aml_byte(&a, AML_SCOPE);
	aml_open(&a);
	aml_nameseg(&a, "_SB_");
	dsdt_pci(&a, c);
	if (c->com1_port)
		dsdt_com1(&a, c);
	for (unsigned i = 0; i < c->nr_virtio_mmio; i++)
		dsdt_virtio_mmio(&a, i, &c->virtio_mmio[i]);
	aml_close(&a);

	if (a.overflow || a.depth || a.len > UINT32_MAX)
		return -E2BIG;
	/* DSDT revision 2: integers are 64-bit. */
	x86_acpi_header(buf, "DSDT", (uint32_t)a.len, 2, "VKPCDSDT");
	buf[9] = x86_acpi_checksum(buf, a.len);
	return (long)a.len;
}
