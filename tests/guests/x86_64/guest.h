/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 test guests' library: port and MMIO access, COM1 output, a small
 * printf, PCI configuration, LAPIC/IOAPIC, interrupts without IRET (see
 * common.S), and the way every test ends (an i8042 reset). Built freestanding
 * with the host gcc; kept to simple instructions because this project's KVM
 * host (kvm_pvm) emulates them one by one.
 */
#ifndef VK_GUEST_H
#define VK_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAPIC_BASE  0xfee00000ul
#define IOAPIC_BASE 0xfec00000ul
#define IRQ_TIMEOUT 0xef /* the LAPIC timer vector the guests use as a watchdog */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint8_t mmio_read8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_read16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t mmio_read32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}
static inline void mmio_write8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_write16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void mmio_write32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}
static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

/* Output on COM1. */
void putc_serial(char c);
void puts_serial(const char *s);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The end of every test: "PASS"/"FAIL: why" on the console, then an i8042 reset. */
__attribute__((noreturn)) void pass(void);
__attribute__((noreturn)) void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void reset_machine(void);
#define CHECK(cond, ...)                   \
	do {                               \
		if (!(cond))               \
			fail(__VA_ARGS__); \
	} while (0)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
const char *strstr(const char *h, const char *n);
uint64_t parse_hex(const char *s, const char **end);
uint64_t parse_dec(const char *s, const char **end);

/* The kernel command line (PVH start info or zero page), set by the entry code. */
extern const char *guest_cmdline;

/* PCI configuration mechanism #1, bus 0. */
uint32_t pci_read32(unsigned slot, unsigned off);
uint16_t pci_read16(unsigned slot, unsigned off);
uint8_t pci_read8(unsigned slot, unsigned off);
void pci_write32(unsigned slot, unsigned off, uint32_t v);
void pci_write16(unsigned slot, unsigned off, uint16_t v);
int pci_find(uint16_t vendor, uint16_t device); /* slot, or -1 */
uint64_t pci_bar(unsigned slot, unsigned bar);  /* memory BAR address */

/* Interrupts: IDT with a stub per vector; exceptions are fatal. */
void idt_init(void);
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_timer_oneshot(uint32_t count); /* IRQ_TIMEOUT after count * 128 bus cycles */
void lapic_timer_stop(void);
void ioapic_route(unsigned pin, uint8_t vector, bool level);
/*
 * Enable interrupts and halt until one arrives; returns its vector with
 * interrupts disabled again. No IRET: the handler jumps back here (common.S).
 */
unsigned wait_irq(void);
/* wait_irq() with the LAPIC timer as a watchdog: fails the test after ~`ms`. */
unsigned wait_irq_timeout(unsigned ms, const char *what);

#endif
