/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the PC devices, driven through their ports and registers from
 * test code that plays the guest: the PCI host bridge (configuration
 * mechanism #1, BAR sizing and moving, reset control), MSI-X (masking, the
 * pending bit array), the virtio-pci transport with a real virtio-rng device
 * (capabilities, feature negotiation, a request and its MSI-X interrupt, INTx
 * and the ISR, vector checks, reset), the i8042 and the CMOS RTC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/bus.h"
#include "vm/hw/i8042.h"
#include "vm/hw/pci.h"
#include "vm/hw/rtc.h"
#include "vm/mem.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-pci.h"
#include "vm/virtio/virtio.h"

static struct bus pio, mmio;
static struct pci_host host;
static struct vm_mem mem;

static struct {
	unsigned n;
	uint64_t addr;
	uint32_t data;
} msi;
static struct {
	unsigned sets;
	bool level;
	unsigned gsi;
} intx;
static unsigned resets;

static void msi_record(void *opaque, uint64_t addr, uint32_t data)
{
	msi.n++;
	msi.addr = addr;
	msi.data = data;
}

static void intx_record(void *opaque, unsigned n, bool level)
{
	intx.sets++;
	intx.level = level;
	intx.gsi = n;
}

static struct irq_line intx_line(void *opaque, unsigned slot, unsigned pin)
{
	return (struct irq_line){.set = intx_record, .n = 16 + slot};
}

static void reset_record(void *opaque)
{
	resets++;
}

static int setup(void **state)
{
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	vm_mem_init(&mem);
	assert_int_equal(vm_mem_add_ram(&mem, 0, 16 << 20, NULL), 0);
	assert_int_equal(
	        pci_host_init(&host, &pio, &mmio, 0xe0000000, 0x1000000, 0xc000, 0x4000, NULL), 0);
	host.platform.msi = (struct msi_target){.send = msi_record};
	host.intx_line = intx_line;
	host.reset = reset_record;
	memset(&msi, 0, sizeof(msi));
	memset(&intx, 0, sizeof(intx));
	resets = 0;
	return 0;
}

static int teardown(void **state)
{
	pci_host_destroy(&host);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	vm_mem_destroy(&mem);
	return 0;
}

static uint64_t in(uint16_t port, unsigned size)
{
	uint64_t v = 0;

	assert_true(bus_read(&pio, port, size, &v));
	return v;
}

static void out(uint16_t port, unsigned size, uint64_t v)
{
	assert_true(bus_write(&pio, port, size, v));
}

static uint32_t cfg_read(unsigned slot, unsigned off, unsigned size)
{
	out(0xcf8, 4, 0x80000000u | slot << 11 | (off & 0xfc));
	return (uint32_t)in((uint16_t)(0xcfc + (off & 3)), size);
}

static void cfg_write(unsigned slot, unsigned off, unsigned size, uint32_t v)
{
	out(0xcf8, 4, 0x80000000u | slot << 11 | (off & 0xfc));
	out((uint16_t)(0xcfc + (off & 3)), size, v);
}

static uint64_t mr(uint64_t a, unsigned size)
{
	uint64_t v = 0;

	if (!bus_read(&mmio, a, size, &v))
		return UINT64_MAX;
	return v;
}

static void mw(uint64_t a, unsigned size, uint64_t v)
{
	assert_true(bus_write(&mmio, a, size, v));
}

static void test_pci_config_mechanism(void **state)
{
	/* The address register reads back; Linux's type-1 probe relies on it. */
	out(0xcf8, 4, 0x80000000);
	assert_int_equal(in(0xcf8, 4), 0x80000000);
	assert_int_equal(cfg_read(0, 0, 4), 0x00081b36);
	assert_int_equal(cfg_read(0, 2, 2), 0x0008);
	assert_int_equal(cfg_read(0, 0x0b, 1), 0x06); /* class: bridge */
	assert_int_equal(cfg_read(0, 0x0a, 1), 0x00); /* host */
	/* Empty slots, other functions and buses, and the disabled window read all-ones. */
	assert_int_equal(cfg_read(5, 0, 4), 0xffffffff);
	out(0xcf8, 4, 0x80000100);
	assert_int_equal(in(0xcfc, 4), 0xffffffff);
	out(0xcf8, 4, 0x80010000);
	assert_int_equal(in(0xcfc, 2), 0xffff);
	out(0xcf8, 4, 0x00000000);
	assert_int_equal(in(0xcfc, 4), 0xffffffff);
	/* Read-only fields stay read-only. */
	cfg_write(0, 0, 4, 0x12345678);
	assert_int_equal(cfg_read(0, 0, 4), 0x00081b36);
	/* The reset control register. */
	out(0xcf9, 1, 0x02);
	assert_int_equal(resets, 0);
	out(0xcf9, 1, 0x06);
	assert_int_equal(resets, 1);
}

static uint64_t bar_ops_read(void *opaque, uint64_t off, unsigned size)
{
	return 0xb0000000u + off;
}

static const struct bus_ops bar_ops = {.read = bar_ops_read};

static void test_pci_bars(void **state)
{
	struct pci_device d;
	struct vk_error err = {0};
	uint32_t bar0;
	int slot;

	pci_device_init(&d, "test", 0x1234, 0x5678, 0xff0000, 1, 0, 0);
	d.cfg[PCI_INTERRUPT_PIN] = 1;
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, &bar_ops, NULL), 0);
	assert_int_equal(pci_device_set_bar(&d, 2, PCI_BAR_MEM64, 0x4000, &bar_ops, NULL), 0);
	assert_int_equal(pci_device_set_bar(&d, 4, PCI_BAR_IO, 0x20, &bar_ops, NULL), 0);
	assert_int_equal(pci_device_set_bar(&d, 5, PCI_BAR_MEM64, 0x1000, &bar_ops, NULL), -EINVAL);
	assert_int_equal(pci_device_set_bar(&d, 1, PCI_BAR_MEM32, 0x1800, &bar_ops, NULL), -EINVAL);
	slot = pci_host_add_device(&host, &d, &err);
	assert_int_equal(slot, 1);
	assert_int_equal(cfg_read(1, PCI_INTERRUPT_LINE, 1), 17);
	bar0 = cfg_read(1, 0x10, 4);
	assert_int_equal(bar0, 0xe0000000);
	assert_int_equal(cfg_read(1, 0x18, 4), 0xe0004004); /* 64-bit, aligned to its size */
	assert_int_equal(cfg_read(1, 0x1c, 4), 0);
	assert_int_equal(cfg_read(1, 0x20, 4) & 3, 1);   /* I/O */
	assert_int_equal(cfg_read(1, 4, 2) & 3, 3);      /* decoding enabled */
	assert_int_equal(mr(0xe0000010, 4), 0xb0000010); /* mapped */
	assert_int_equal(in((uint16_t)(cfg_read(1, 0x20, 4) & ~3u) + 4, 1), 0xb0000004);

	/* Sizing, as Linux does it. */
	cfg_write(1, 4, 2, 0);
	assert_int_equal(mr(0xe0000010, 4), UINT64_MAX); /* decoding off: unmapped */
	cfg_write(1, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(1, 0x10, 4), 0xfffff000);
	cfg_write(1, 0x18, 4, 0xffffffff);
	cfg_write(1, 0x1c, 4, 0xffffffff);
	assert_int_equal(cfg_read(1, 0x18, 4), 0xffffc004);
	assert_int_equal(cfg_read(1, 0x1c, 4), 0xffffffff);
	cfg_write(1, 0x10, 4, bar0);
	cfg_write(1, 0x18, 4, 0xe0004000);
	cfg_write(1, 0x1c, 4, 0);
	cfg_write(1, 4, 2, 3);
	assert_int_equal(mr(0xe0000010, 4), 0xb0000010);

	/* Moving a BAR moves its range. */
	cfg_write(1, 0x10, 4, 0xe0100000);
	assert_int_equal(mr(0xe0000010, 4), UINT64_MAX);
	assert_int_equal(mr(0xe0100010, 4), 0xb0000010);
	/* A BAR moved onto another is refused (left unmapped), not a crash. */
	cfg_write(1, 0x10, 4, 0xe0004000);
	assert_int_equal(mr(0xe0004000, 4), 0xb0000000); /* still BAR 2's */

	/* INTx follows the device and the INTx-disable bit. */
	pci_set_irq(&d, true);
	assert_true(intx.level);
	assert_int_equal(intx.gsi, 17);
	assert_true(cfg_read(1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(1, 4, 2, 3 | PCI_COMMAND_INTX_DISABLE);
	assert_false(intx.level);
	cfg_write(1, 4, 2, 3);
	assert_true(intx.level);
	pci_set_irq(&d, false);
	assert_false(intx.level);
	pci_host_remove_device(&host, &d);
	assert_int_equal(cfg_read(1, 0, 4), 0xffffffff);
	assert_int_equal(mr(0xe0004000, 4), UINT64_MAX);
}

static uint64_t msix_bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_device *d = opaque;

	return off >= 0x800 ? pci_msix_pba_read(d, off - 0x800, size)
	                    : pci_msix_table_read(d, off, size);
}

static void msix_bar_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	pci_msix_table_write(opaque, off, v, size);
}

static const struct bus_ops msix_ops = {.read = msix_bar_read, .write = msix_bar_write};

static void test_msix(void **state)
{
	struct pci_device d;
	struct vk_error err = {0};
	uint8_t cap;
	uint64_t t;

	pci_device_init(&d, "msix", 0x1234, 0x1, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, &msix_ops, &d), 0);
	assert_int_equal(pci_msix_init(&d, 3, 0, 0, 0x800, &err), 0);
	assert_int_equal(pci_host_add_device(&host, &d, &err), 1);
	cap = (uint8_t)cfg_read(1, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(cfg_read(1, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(1, cap + 2, 2), 2); /* table size - 1 */
	assert_int_equal(cfg_read(1, cap + 4, 4), 0);
	assert_int_equal(cfg_read(1, cap + 8, 4), 0x800);
	t = 0xe0000000;

	/* Disabled: nothing is sent. */
	assert_false(pci_msix_notify(&d, 0));
	cfg_write(1, cap + 2, 2, 0x8000);
	assert_true(pci_msix_enabled(&d));
	/* Entries start masked: the message waits in the PBA. */
	assert_int_equal(mr(t + 12, 4), 1);
	assert_true(pci_msix_notify(&d, 1));
	assert_int_equal(msi.n, 0);
	assert_int_equal(mr(t + 0x800, 8), 2);
	mw(t + 16, 4, 0xfee00000);
	mw(t + 20, 4, 0);
	mw(t + 24, 4, 0x41);
	mw(t + 28, 4, 0); /* unmask: the pending message goes out */
	assert_int_equal(msi.n, 1);
	assert_int_equal(msi.addr, 0xfee00000);
	assert_int_equal(msi.data, 0x41);
	assert_int_equal(mr(t + 0x800, 8), 0);
	/* Function mask holds every vector. */
	cfg_write(1, cap + 2, 2, 0xc000);
	assert_true(pci_msix_notify(&d, 1));
	assert_int_equal(msi.n, 1);
	cfg_write(1, cap + 2, 2, 0x8000);
	assert_int_equal(msi.n, 2);
	/* 8-byte table access, a bad vector, odd access sizes. */
	mw(t, 8, 0x00000000fee01000ull);
	assert_int_equal(mr(t, 8), 0xfee01000);
	assert_false(pci_msix_notify(&d, 3));
	mw(t + 2, 2, 0xffff);
	assert_int_equal(mr(t, 4), 0xfee01000);
	assert_int_equal(mr(t + 3 * 16, 4), 0); /* beyond the table */
	pci_msix_destroy(&d);
	pci_host_remove_device(&host, &d);
}

/* ---- virtio-pci with a virtio-rng device ---- */

struct vp_caps {
	uint64_t common, notify, isr, device;
	uint32_t mult;
	uint8_t msix, cfgcap;
};

static void vp_find_caps(unsigned slot, struct vp_caps *c)
{
	memset(c, 0, sizeof(*c));
	assert_true(cfg_read(slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (uint8_t cap = (uint8_t)cfg_read(slot, 0x34, 1); cap;
	     cap = (uint8_t)cfg_read(slot, cap + 1, 1)) {
		uint8_t id = (uint8_t)cfg_read(slot, cap, 1);

		if (id == PCI_CAP_ID_MSIX) {
			c->msix = cap;
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		uint8_t type = (uint8_t)cfg_read(slot, cap + 3, 1);
		uint64_t a = (cfg_read(slot, 0x10 + 4 * cfg_read(slot, cap + 4, 1), 4) & ~0xfu) +
		             cfg_read(slot, cap + 8, 4);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			c->common = a;
			assert_int_equal(cfg_read(slot, cap + 12, 4), VIRTIO_PCI_COMMON_SIZE);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			c->notify = a;
			c->mult = cfg_read(slot, cap + 16, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			c->isr = a;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			c->device = a;
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			c->cfgcap = cap;
			break;
		default:
			fail_msg("unknown virtio capability type %u", type);
		}
	}
}

#define RING 0x10000 /* desc at RING, avail at RING+0x100, used at RING+0x200 */
#define BUF  0x20000

static void vp_bring_up(struct vp_caps *c, uint16_t vector)
{
	uint64_t co = c->common;

	mw(co + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	mw(co + VIRTIO_PCI_COMMON_STATUS, 1, 1 | 2);
	mw(co + VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	assert_true(mr(co + VIRTIO_PCI_COMMON_DF, 4) & 1); /* VERSION_1 */
	mw(co + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	mw(co + VIRTIO_PCI_COMMON_GF, 4, 1);
	mw(co + VIRTIO_PCI_COMMON_STATUS, 1, 1 | 2 | 8);
	assert_true(mr(co + VIRTIO_PCI_COMMON_STATUS, 1) & 8);
	mw(co + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	mw(co + VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
	mw(co + VIRTIO_PCI_COMMON_Q_DESCLO, 8, RING);
	mw(co + VIRTIO_PCI_COMMON_Q_AVAILLO, 4, RING + 0x100);
	mw(co + VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	mw(co + VIRTIO_PCI_COMMON_Q_USEDLO, 4, RING + 0x200);
	mw(co + VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
	mw(co + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(mr(co + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_int_equal(mr(co + VIRTIO_PCI_COMMON_Q_DESCLO, 8), RING);
	mw(co + VIRTIO_PCI_COMMON_STATUS, 1, 1 | 2 | 8 | 4);
}

/* Post one 32-byte writable buffer, notify, return the used index afterwards. */
static uint16_t vp_request(struct vp_caps *c, uint16_t n)
{
	uint8_t *ring = vm_mem_translate(&mem, RING, 0x300);
	uint64_t addr = BUF;
	uint32_t len = 32;
	uint16_t flags = 2, idx = (uint16_t)(n + 1), used;

	memcpy(ring, &addr, 8); /* descriptor 0 */
	memcpy(ring + 8, &len, 4);
	memcpy(ring + 12, &flags, 2);
	memset(ring + 0x104 + 2 * (n % 16), 0, 2); /* avail ring[n] = 0 */
	memcpy(ring + 0x102, &idx, 2);
	mw(c->notify + 0 * c->mult, 2, 0);
	memcpy(&used, ring + 0x202, 2);
	return used;
}

static void test_virtio_pci(void **state)
{
	struct vk_error err = {0};
	struct virtio_dev *rng = virtio_rng_create(&mem, &err);
	struct virtio_pci *vp;
	struct vp_caps c;
	uint64_t t;

	assert_non_null(rng);
	vp = virtio_pci_create(&host, rng, &err);
	assert_non_null(vp);
	assert_int_equal(cfg_read(1, 0, 4), (0x1040u + 4) << 16 | 0x1af4);
	assert_int_equal(cfg_read(1, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_read(1, 0x2e, 2), 0x1044); /* subsystem id */
	assert_int_equal(cfg_read(1, PCI_INTERRUPT_PIN, 1), 1);
	vp_find_caps(1, &c);
	assert_true(c.common && c.notify && c.isr && c.msix && c.cfgcap);
	assert_int_equal(c.mult, VIRTIO_PCI_NOTIFY_MULT);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_NUMQ, 2), 1);

	/* INTx first (MSI-X off): a request raises the line, reading the ISR lowers it. */
	vp_bring_up(&c, VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(vp_request(&c, 0), 1);
	assert_true(intx.level);
	assert_int_equal(mr(c.isr, 1), 1);
	assert_false(intx.level);
	assert_int_equal(mr(c.isr, 1), 0);
	assert_int_equal(msi.n, 0);

	/* MSI-X: vector 0 for the queue; vectors beyond the table read back NO_VECTOR. */
	cfg_write(1, c.msix + 2, 2, 0x8000);
	t = cfg_read(1, 0x18, 4) & ~0xfu; /* BAR 2 */
	mw(t + 0, 4, 0xfee00000);
	mw(t + 8, 4, 0x45);
	mw(t + 12, 4, 0);
	mw(c.common + VIRTIO_PCI_COMMON_Q_MSIX, 2, 7);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* Reset, then set the queue up again with vector 0. */
	mw(c.common + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_STATUS, 1), 0);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	mw(c.common + VIRTIO_PCI_COMMON_MSIX, 2, 2); /* beyond the 2 vectors */
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_MSIX, 2), 0xffff);
	mw(c.common + VIRTIO_PCI_COMMON_MSIX, 2, 1);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_MSIX, 2), 1);
	memset(vm_mem_translate(&mem, RING, 0x300), 0, 0x300);
	vp_bring_up(&c, 0);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_Q_MSIX, 2), 0);
	assert_int_equal(vp_request(&c, 0), 1);
	assert_int_equal(msi.n, 1);
	assert_int_equal(msi.data, 0x45);
	assert_false(intx.level);

	/* Unknown queues read as absent; the config access window reads num_queues. */
	mw(c.common + VIRTIO_PCI_COMMON_Q_SELECT, 2, 5);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(mr(c.common + VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cfg_write(1, c.cfgcap + 4, 1, 0);
	cfg_write(1, c.cfgcap + 8, 4, VIRTIO_PCI_COMMON_NUMQ);
	cfg_write(1, c.cfgcap + 12, 4, 2);
	assert_int_equal(cfg_read(1, c.cfgcap + 16, 4), 1);
	cfg_write(1, c.cfgcap + 12, 4, 3); /* bad length: plain config bytes */
	cfg_read(1, c.cfgcap + 16, 4);
	/* Odd-sized and out-of-range accesses are ignored. */
	mw(c.common + VIRTIO_PCI_COMMON_STATUS, 4, 0x12345678);
	mw(c.common + 0x100, 4, 1);
	mr(c.common + 0x37, 8);

	virtio_pci_destroy(vp);
	virtio_dev_destroy(rng);
	assert_int_equal(cfg_read(1, 0, 4), 0xffffffff);
}

/* ---- i8042 ---- */

static struct {
	bool kbd;
	unsigned edges;
} kbd_irq;

static void kbd_irq_set(void *opaque, unsigned n, bool level)
{
	if (level && !kbd_irq.kbd)
		kbd_irq.edges++;
	kbd_irq.kbd = level;
}

static void test_i8042(void **state)
{
	struct vk_error err = {0};
	struct i8042 *k = i8042_create(&pio, (struct irq_line){.set = kbd_irq_set},
	                               (struct irq_line){0}, reset_record, NULL, &err);

	assert_non_null(k);
	assert_int_equal(in(0x64, 1) & 1, 0);
	out(0x64, 1, 0xaa); /* self-test */
	assert_int_equal(in(0x64, 1) & 1, 1);
	assert_int_equal(in(0x60, 1), 0x55);
	assert_int_equal(in(0x64, 1) & 1, 0);
	out(0x64, 1, 0x20); /* read the command byte */
	assert_int_equal(in(0x60, 1) & 0x45, 0x45);
	out(0x64, 1, 0x60); /* write it */
	out(0x60, 1, 0x00); /* interrupts off */
	kbd_irq.edges = 0;
	out(0x60, 1, 0xff); /* keyboard reset: ACK, self-test passed */
	assert_int_equal(kbd_irq.edges, 0);
	assert_int_equal(in(0x60, 1), 0xfa);
	assert_int_equal(in(0x60, 1), 0xaa);
	out(0x64, 1, 0x60);
	out(0x60, 1, 0x01); /* keyboard interrupt on */
	out(0x60, 1, 0xf2); /* identify */
	assert_true(kbd_irq.kbd);
	assert_int_equal(in(0x60, 1), 0xfa);
	assert_true(kbd_irq.kbd);
	assert_int_equal(in(0x60, 1), 0xab);
	assert_int_equal(in(0x60, 1), 0x83);
	assert_false(kbd_irq.kbd);
	/* A mouse command gets a NAK, not silence. */
	out(0x64, 1, 0xd4);
	out(0x60, 1, 0xf2);
	assert_int_equal(in(0x64, 1) & 0x21, 0x21);
	assert_int_equal(in(0x60, 1), 0xfe);
	/* Ctrl-Alt-Del is queued as scancodes. */
	i8042_send_ctrl_alt_del(k);
	assert_int_equal(in(0x60, 1), 0x1d);
	assert_int_equal(in(0x60, 1), 0x38);
	assert_int_equal(in(0x60, 1), 0xe0);
	assert_int_equal(in(0x60, 1), 0x53);
	for (int i = 0; i < 4; i++)
		in(0x60, 1);
	assert_int_equal(in(0x64, 1) & 1, 0);
	/* Resets: 0xFE pulses the reset line; the output port's bit 0 too; 0xFF does not. */
	out(0x64, 1, 0xff);
	assert_int_equal(resets, 0);
	out(0x64, 1, 0xfe);
	assert_int_equal(resets, 1);
	out(0x64, 1, 0xd1);
	out(0x60, 1, 0x03);
	assert_int_equal(resets, 1);
	out(0x64, 1, 0xd1);
	out(0x60, 1, 0x02);
	assert_int_equal(resets, 2);
	/* Flooding the output buffer drops bytes instead of growing. */
	for (int i = 0; i < 100; i++)
		out(0x64, 1, 0xaa);
	i8042_destroy(k);
	assert_false(bus_read(&pio, 0x60, 1, &(uint64_t){0}));
}

/* ---- RTC ---- */

static unsigned bcd(uint8_t v)
{
	assert_true((v & 0xf) <= 9 && (v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t rtc_get(unsigned reg)
{
	out(0x70, 1, reg);
	return (uint8_t)in(0x71, 1);
}

static void rtc_put(unsigned reg, uint8_t v)
{
	out(0x70, 1, reg);
	out(0x71, 1, v);
}

static void test_rtc(void **state)
{
	struct vk_error err = {0};
	struct rtc *r = rtc_create(&pio, &err);
	unsigned sec, year;

	assert_non_null(r);
	assert_int_equal(rtc_get(0x0d) & 0x80, 0x80); /* valid RAM and time */
	assert_int_equal(rtc_get(0x0a) & 0x80, 0);    /* never update-in-progress */
	assert_true(rtc_get(0x0b) & 0x02);            /* 24-hour */
	sec = bcd(rtc_get(0x00));
	assert_true(sec < 60);
	assert_true(bcd(rtc_get(0x04)) < 24);
	assert_true(bcd(rtc_get(0x08)) >= 1 && bcd(rtc_get(0x08)) <= 12);
	year = bcd(rtc_get(0x32)) * 100 + bcd(rtc_get(0x09));
	assert_true(year >= 2024);
	/* The guest sets the year; it reads back, in binary mode too. */
	rtc_put(0x0b, 0x82);
	rtc_put(0x09, 0x31);
	rtc_put(0x0b, 0x02);
	assert_int_equal(rtc_get(0x09), 0x31);
	rtc_put(0x0b, 0x06); /* binary */
	assert_int_equal(rtc_get(0x09), 31);
	/* CMOS RAM, the memory size bytes and the index's NMI bit. */
	rtc_set_memory_size(r, 64u << 20, 0);
	assert_int_equal(rtc_get(0x80 | 0x34) | rtc_get(0x35) << 8, (48u << 20) >> 16);
	rtc_put(0x40, 0x5a);
	assert_int_equal(rtc_get(0x40), 0x5a);
	rtc_put(0x0d, 0); /* read-only */
	assert_int_equal(rtc_get(0x0d) & 0x80, 0x80);
	rtc_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_pci_config_mechanism, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pci_bars, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_virtio_pci, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_i8042, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rtc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
