/* SPDX-License-Identifier: MIT */
/*
 * A guest whose state the save/restore tests carry over (issue 15): every 20 ms
 * of LAPIC timer time it asks virtio-rng (virtio-pci, MSI-X) for 16 bytes,
 * waits for the queue's MSI-X interrupt, checks that the TSC only went
 * forward, and prints "count N msix M". A restored machine must go on from
 * the next N (the counter lives in guest RAM and registers), with the timer
 * armed as it was, the MSI-X table and the queue indexes as they were, and
 * the TSC not rewound. Each count also writes its number into one of 64 pages
 * and checks that every page holds the number last written there: a page a
 * save or a migration did not carry over (a dirty log that missed a write)
 * fails the guest. "count=K" on the command line ends it after K counts.
 * "stream" instead prints "tick N" lines back to back: nearly every moment
 * follows a port write, the case of a vCPU held just after one (a save must
 * not have it write the same character again once restored).
 */
#include "pvh.h"
#include "virtio.h"

#define VEC_MSIX 0x40

static struct vq q0 __attribute__((aligned(4096)));
static uint8_t entropy[16];
#define PAGES 64
static volatile uint64_t pages[PAGES][512] __attribute__((aligned(4096)));

/* Page i % PAGES gets i at both ends; every page must hold what was last written. */
static void touch_pages(unsigned i)
{
	pages[i % PAGES][0] = i;
	pages[i % PAGES][511] = i;
	for (unsigned j = 0; j < PAGES && j <= i; j++) {
		uint64_t want = i - (i + PAGES - j) % PAGES;

		CHECK(pages[j][0] == want && pages[j][511] == want,
		      "count %u: page %u holds %lu/%lu, want %lu", i, j, pages[j][0], pages[j][511],
		      want);
	}
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Bit v of the LAPIC's 256-bit register at reg (IRR 0x200, ISR 0x100). */
static unsigned lapic_bit(unsigned reg, unsigned v)
{
	return mmio_read32(LAPIC_BASE + reg + 0x10 * (v / 32)) >> (v % 32) & 1;
}

static void stream(void)
{
	for (unsigned long n = 1;; n++)
		printf("tick %lu\n", n);
}

void guest_main(void)
{
	struct vbuf b = {entropy, sizeof(entropy), true};
	const char *p = strstr(guest_cmdline, "count=");
	unsigned limit = p ? (unsigned)parse_dec(p + 6, 0) : 100000, msix = 0;
	uint64_t last;
	struct vdev d;
	int slot;

	if (strstr(guest_cmdline, "stream"))
		stream();
	idt_init();
	lapic_init();
	slot = pci_find(0x1af4, 0x1044);
	CHECK(slot >= 0, "no virtio-rng PCI function (1af4:1044)");
	vdev_pci_init(&d, (unsigned)slot, 0, VEC_MSIX);
	vdev_setup_queue(&d, 0, &q0);
	vdev_driver_ok(&d);
	puts_serial("counting\n");
	last = rdtsc();
	for (unsigned i = 1; i <= limit; i++) {
		uint32_t id, len;
		uint64_t t;
		unsigned v;

		lapic_timer_oneshot(20 * 7812u);
		v = wait_irq();
		lapic_timer_stop();
		lapic_eoi();
		CHECK(v == IRQ_TIMEOUT, "count %u: vector %u instead of the LAPIC timer", i, v);
		vq_submit(&d, 0, &b, 1);
		lapic_timer_oneshot(10000 * 7812u);
		v = wait_irq();
		lapic_timer_stop();
		/* Which half went missing: the device's answer (used index) or its interrupt? */
		CHECK(v != IRQ_TIMEOUT,
		      "count %u: no interrupt for the virtio-rng MSI-X interrupt within 10 s of "
		      "guest time (avail %u, used %u in RAM, %u taken; vector IRR %u ISR %u; "
		      "MSI-X entry 0 control %x)",
		      i, q0.avail.idx, *(volatile uint16_t *)&q0.used.idx, q0.last_used,
		      lapic_bit(0x200, VEC_MSIX), lapic_bit(0x100, VEC_MSIX),
		      mmio_read32(d.msix_table + 12));
		CHECK(v == VEC_MSIX, "count %u: vector %u, want the queue's MSI-X vector %u", i, v,
		      VEC_MSIX);
		lapic_eoi();
		CHECK(vq_used(&d, 0, &id, &len), "count %u: MSI-X without a used buffer", i);
		CHECK(len == sizeof(entropy), "count %u: %u bytes of entropy", i, len);
		msix++;
		touch_pages(i);
		t = rdtsc();
		CHECK(t > last, "count %u: the TSC went back (%lx after %lx)", i, t, last);
		last = t;
		printf("count %u msix %u\n", i, msix);
	}
}
