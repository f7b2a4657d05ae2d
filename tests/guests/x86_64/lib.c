/* SPDX-License-Identifier: MIT */
/* The x86-64 test guests' library (guest.h). */
#include "guest.h"

#define COM1 0x3f8

const char *guest_cmdline = "";

void putc_serial(char c)
{
	if (c == '\n')
		outb(COM1, '\r');
	outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_num(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = pad;
	while (n)
		putc_serial(buf[--n]);
}

static void vprintf_serial(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0) {
				putc_serial('-');
				v = -v;
			}
			put_num((uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
			put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width,
			        pad);
			break;
		case 'x':
			put_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width,
			        pad);
			break;
		case 'c':
			putc_serial((char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			puts_serial(s ? s : "(null)");
			break;
		}
		default:
			putc_serial(*fmt);
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
}

void reset_machine(void)
{
	/* Pulse the CPU reset line through the keyboard controller. */
	outb(0x64, 0xfe);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void pass(void)
{
	puts_serial("PASS\n");
	reset_machine();
}

void fail(const char *fmt, ...)
{
	va_list ap;

	puts_serial("FAIL: ");
	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
	putc_serial('\n');
	reset_machine();
}

void guest_exception(uint64_t vector, uint64_t w1, uint64_t w2);
void guest_exception(uint64_t vector, uint64_t w1, uint64_t w2)
{
	fail("exception %lu (stack: %lx %lx)", vector, w1, w2);
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

const char *strstr(const char *h, const char *n)
{
	size_t len = strlen(n);

	for (; *h; h++)
		if (!memcmp(h, n, len))
			return h;
	return 0;
}

uint64_t parse_hex(const char *s, const char **end)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v * 16 + d;
	}
	if (end)
		*end = s;
	return v;
}

uint64_t parse_dec(const char *s, const char **end)
{
	uint64_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (end)
		*end = s;
	return v;
}

/* ---- PCI ---- */

static void pci_select(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
}

uint32_t pci_read32(unsigned slot, unsigned off)
{
	pci_select(slot, off);
	return inl(0xcfc);
}

uint16_t pci_read16(unsigned slot, unsigned off)
{
	pci_select(slot, off);
	return inw((uint16_t)(0xcfc + (off & 2)));
}

uint8_t pci_read8(unsigned slot, unsigned off)
{
	pci_select(slot, off);
	return inb((uint16_t)(0xcfc + (off & 3)));
}

void pci_write32(unsigned slot, unsigned off, uint32_t v)
{
	pci_select(slot, off);
	outl(0xcfc, v);
}

void pci_write16(unsigned slot, unsigned off, uint16_t v)
{
	pci_select(slot, off);
	outw((uint16_t)(0xcfc + (off & 2)), v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned s = 0; s < 32; s++) {
		uint32_t id = pci_read32(s, 0);
		if ((id & 0xffff) == vendor && (id >> 16) == device)
			return (int)s;
	}
	return -1;
}

uint64_t pci_bar(unsigned slot, unsigned bar)
{
	uint32_t lo = pci_read32(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfu;

	if ((lo & 0x6) == 0x4)
		a |= (uint64_t)pci_read32(slot, 0x14 + 4 * bar) << 32;
	return a;
}

/* ---- interrupts ---- */

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern char irq_stubs[];

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)irq_stubs + 16 * v;
		idt[v] = (struct idt_entry){(uint16_t)a,         0x08, 0, 0x8e, (uint16_t)(a >> 16),
		                            (uint32_t)(a >> 32), 0};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void lapic_init(void)
{
	/* Mask the 8259 PICs: their interrupts reach LINT0 (ExtINT) and would arrive at
	 * vectors 0-15 when a line such as a virtio-mmio IRQ goes high. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	/* Software-enable the LAPIC, spurious vector 0xff; accept every priority. */
	mmio_write32(LAPIC_BASE + 0xf0, 0x1ff);
	mmio_write32(LAPIC_BASE + 0x80, 0);
}

void lapic_eoi(void)
{
	mmio_write32(LAPIC_BASE + 0xb0, 0);
}

uint32_t lapic_id(void)
{
	return mmio_read32(LAPIC_BASE + 0x20) >> 24;
}

void lapic_timer_oneshot(uint32_t count)
{
	mmio_write32(LAPIC_BASE + 0x3e0, 0xa);         /* divide by 128 */
	mmio_write32(LAPIC_BASE + 0x320, IRQ_TIMEOUT); /* one-shot, unmasked */
	mmio_write32(LAPIC_BASE + 0x380, count);
}

void lapic_timer_stop(void)
{
	mmio_write32(LAPIC_BASE + 0x320, 0x10000); /* masked */
	mmio_write32(LAPIC_BASE + 0x380, 0);
}

void ioapic_route(unsigned pin, uint8_t vector, bool level)
{
	/* Fixed delivery to APIC 0, active high; level or edge. */
	mmio_write32(IOAPIC_BASE, 0x10 + 2 * pin + 1);
	mmio_write32(IOAPIC_BASE + 0x10, 0);
	mmio_write32(IOAPIC_BASE, 0x10 + 2 * pin);
	mmio_write32(IOAPIC_BASE + 0x10, vector | (level ? 1u << 15 : 0));
}

unsigned wait_irq_timeout(unsigned ms, const char *what)
{
	unsigned v;

	/* KVM's APIC bus runs at 1 GHz: with divide-by-128, 7812 counts per ms. */
	lapic_timer_oneshot(ms * 7812u);
	v = wait_irq();
	lapic_timer_stop();
	if (v == IRQ_TIMEOUT)
		fail("no interrupt for %s within %u ms of guest time", what, ms);
	return v;
}
