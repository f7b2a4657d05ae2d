/* SPDX-License-Identifier: MIT */
/*
 * The checking half of the PIO fuzz harness: every guest access goes through
 * pio_access() or mmio_access(), which update the harness's model of what the
 * guest can infer (the i8042 command byte and the command awaiting data, the
 * RTC index and plain CMOS bytes, the 0xCF8 address, reset requests) and
 * check reads against it; check_all() checks the invariants listed in
 * fuzz-pio.c.
 */
#include <string.h>

#include "fuzz-pio.h"
#include "vm/virtio/virtio-spec.h"
#include "vm/virtio/virtio.h"

#define I8042_OBF   0x01
#define I8042_SYS   0x04
#define I8042_AUXB  0x20
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32
#define RTC_BINARY  0x04
#define RTC_24H     0x02
#define MSIX_ENABLE 0x8000
#define MSIX_FMASK  0x4000

void model_init(void)
{
	fz.ctr = 0x65; /* KBDINT | SYS | AUXDIS | XLATE, as the i8042 starts */
	fz.pending_cmd = 0;
	fz.rtc_index = 0;
	memset(fz.cmos, 0, sizeof(fz.cmos));
	fz.cmos[RTC_REG_A] = 0x26;
	fz.cmos[RTC_REG_B] = RTC_24H;
	fz.cmos[RTC_REG_D] = 0x80;
	fz.cf8 = 0;
	fz.expected_resets = 0;
}

/* ---- i8042 ---------------------------------------------------------------- */

static void i8042_command(uint8_t c)
{
	switch (c) {
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		fz.pending_cmd = c;
		break;
	case 0xa7:
		fz.ctr |= 0x20;
		break;
	case 0xa8:
		fz.ctr &= (uint8_t)~0x20;
		break;
	case 0xad:
		fz.ctr |= 0x10;
		break;
	case 0xae:
		fz.ctr &= (uint8_t)~0x10;
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 low is the CPU reset. */
		if (c >= 0xf0 && !(c & 1))
			fz.expected_resets++;
		break;
	}
}

static void i8042_data(uint8_t v)
{
	uint8_t cmd = fz.pending_cmd;

	fz.pending_cmd = 0;
	if (cmd == 0x60)
		fz.ctr = v;
	else if (cmd == 0xd1 && !(v & 1))
		fz.expected_resets++;
}

static void check_i8042(void)
{
	uint64_t st = 0;
	bool obf, auxb;

	CHECK(bus_read(&fz.pio, I8042_COMMAND_PORT, 1, &st), "no i8042 status port");
	obf = st & I8042_OBF;
	auxb = st & I8042_AUXB;
	CHECK(!!(st & I8042_SYS) == !!(fz.ctr & I8042_SYS), "i8042 status 0x%llx, CTR 0x%x",
	      (unsigned long long)st, fz.ctr);
	CHECK(fz.kbd_line == (obf && !auxb && (fz.ctr & 1)),
	      "i8042 keyboard line %d, status 0x%llx", fz.kbd_line, (unsigned long long)st);
	CHECK(fz.aux_line == (obf && auxb && (fz.ctr & 2)), "i8042 aux line %d, status 0x%llx",
	      fz.aux_line, (unsigned long long)st);
}

/* ---- RTC ------------------------------------------------------------------ */

static bool rtc_time_reg(unsigned reg)
{
	return (reg <= 9 && !((reg & 1) && reg < 6)) || reg == RTC_CENTURY;
}

/* A time register as read: valid BCD (or binary) and in range for its field. */
static void check_rtc_time(unsigned reg, uint8_t v)
{
	bool bcd = !(fz.cmos[RTC_REG_B] & RTC_BINARY);
	bool h12 = reg == 4 && !(fz.cmos[RTC_REG_B] & RTC_24H);
	uint8_t raw = h12 ? v & 0x7f : v;
	unsigned val = bcd ? (raw >> 4) * 10u + (raw & 0xf) : raw;
	static const unsigned lo[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 0};
	static const unsigned hi[10] = {59, 0, 59, 0, 23, 0, 7, 31, 12, 99};

	if (bcd)
		CHECK((raw & 0xf) <= 9 && (raw >> 4) <= 9,
		      "RTC register 0x%x reads 0x%02x: not BCD", reg, v);
	if (reg == RTC_CENTURY)
		CHECK(val <= 99, "RTC century reads 0x%02x", v);
	else if (h12)
		CHECK(val >= 1 && val <= 12, "RTC 12-hour register reads 0x%02x", v);
	else
		CHECK(val >= lo[reg] && val <= hi[reg], "RTC register 0x%x reads 0x%02x", reg, v);
}

static void rtc_access(uint64_t off, bool write, uint64_t value, uint64_t out)
{
	unsigned reg = fz.rtc_index;
	uint8_t v = (uint8_t)value;

	if (off == 0) {
		if (write)
			fz.rtc_index = v & 0x7f;
		else
			CHECK(out == 0xff, "RTC index port reads 0x%llx", (unsigned long long)out);
		return;
	}
	if (!write) {
		if (rtc_time_reg(reg))
			check_rtc_time(reg, (uint8_t)out);
		else
			CHECK(out == fz.cmos[reg], "CMOS 0x%02x reads 0x%02llx, expected 0x%02x",
			      reg, (unsigned long long)out, fz.cmos[reg]);
		return;
	}
	if (rtc_time_reg(reg) || reg == RTC_REG_C || reg == RTC_REG_D)
		return;
	fz.cmos[reg] = reg == RTC_REG_A ? v & 0x7f : v;
}

/* ---- PCI configuration mechanism #1 --------------------------------------- */

static struct pci_device *cf8_target(void)
{
	uint32_t a = fz.cf8;

	if (!(a & 0x80000000u) || ((a >> 16) & 0xff) || ((a >> 8) & 7))
		return NULL;
	return fz.host.devs[(a >> 11) & 0x1f];
}

/* The offset of capability id in d's list, or 0. */
static unsigned find_cap(const struct pci_device *d, uint8_t id)
{
	unsigned off = d->cfg[PCI_CAPABILITY_LIST];

	for (unsigned n = 0; off && n < 48; n++, off = d->cfg[off + 1])
		if (d->cfg[off] == id)
			return off;
	return 0;
}

/* The offset of the virtio PCI-configuration access capability (4.1.4.9), or 0. */
static unsigned cfg_window_cap(const struct pci_device *d)
{
	unsigned off = d->cfg[PCI_CAPABILITY_LIST];

	for (unsigned n = 0; off && n < 48; n++, off = d->cfg[off + 1])
		if (d->cfg[off] == PCI_CAP_ID_VNDR && d->cfg[off + 3] == VIRTIO_PCI_CAP_PCI_CFG)
			return off;
	return 0;
}

/* Does [reg, reg+size) touch the window's data field (reads go through to BAR 0)? */
static bool in_cfg_window(const struct pci_device *d, uint32_t reg, unsigned size)
{
	unsigned cap = cfg_window_cap(d);

	return cap && reg < cap + 20u && cap + 16u < reg + size;
}

static void cfg_data_read(uint64_t off, unsigned size, uint64_t out)
{
	struct pci_device *d = cf8_target();
	uint32_t reg = (fz.cf8 & 0xfc) + (uint32_t)off, want = 0;

	if (!d) {
		CHECK(out == (1ull << (8 * size)) - 1, "absent PCI function reads 0x%llx",
		      (unsigned long long)out);
		return;
	}
	if (in_cfg_window(d, reg, size))
		return; /* reads through to BAR 0 */
	for (unsigned i = 0; i < size; i++)
		want |= (uint32_t)d->cfg[reg + i] << (8 * i);
	CHECK(out == want, "%s: config 0x%x/%u reads 0x%llx, holds 0x%x", d->name, reg, size,
	      (unsigned long long)out, want);
}

static void pci_port_access(uint16_t port, unsigned size, bool write, uint64_t value, uint64_t out)
{
	uint64_t off = port - PCI_CONFIG_ADDR;

	if (port >= PCI_CONFIG_DATA) {
		if (!write)
			cfg_data_read(port - PCI_CONFIG_DATA, size, out);
		return;
	}
	if (off == 0 && size == 4) {
		if (write)
			fz.cf8 = (uint32_t)value & 0x80fffffc;
		else
			CHECK(out == fz.cf8, "0xCF8 reads 0x%llx, wrote 0x%x",
			      (unsigned long long)out, fz.cf8);
	} else if (off == 1 && size == 1 && write && (value & 4)) {
		fz.expected_resets++; /* 0xCF9 RST_CPU */
	}
}

uint64_t pio_access(uint16_t port, unsigned size, bool write, uint64_t value)
{
	const struct bus_range *r = bus_lookup(&fz.pio, port);
	uint64_t out = 0;
	bool ok;

	value &= size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; /* as a CPU delivers it */
	if (write)
		ok = bus_write(&fz.pio, port, size, value);
	else
		ok = bus_read(&fz.pio, port, size, &out);
	CHECK(ok == (r && port + size <= r->base + r->len), "port 0x%x/%u: bus said %d", port, size,
	      ok);
	if (!ok)
		return 0;
	if (port == I8042_DATA_PORT && write)
		i8042_data((uint8_t)value);
	else if (port == I8042_COMMAND_PORT && write)
		i8042_command((uint8_t)value);
	else if (r->base == RTC_INDEX_PORT)
		rtc_access(port - RTC_INDEX_PORT, write, value, out);
	else if (port >= PCI_CONFIG_ADDR && port < PCI_CONFIG_DATA + 4)
		pci_port_access(port, size, write, value, out);
	return out;
}

/* ---- virtio-pci BARs and MSI-X --------------------------------------------- */

static int vp_index(const void *opaque)
{
	for (int i = 0; i < NR_VP; i++)
		if (fz.vp[i] == opaque)
			return i;
	return -1;
}

uint64_t mmio_access(uint64_t addr, unsigned size, bool write, uint64_t value)
{
	const struct bus_range *r = bus_lookup(&fz.mmio, addr);
	uint64_t out = 0, off;
	int i;

	value &= size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1; /* as a CPU delivers it */
	if (write)
		(void)bus_write(&fz.mmio, addr, size, value);
	else
		(void)bus_read(&fz.mmio, addr, size, &out);
	if (!r || write || addr + size > r->base + r->len || (i = vp_index(r->opaque)) < 0 ||
	    r->len != VIRTIO_PCI_BAR_SIZE)
		return out;
	off = addr - r->base;
	if (off == VIRTIO_PCI_ISR_OFF)
		CHECK(virtio_isr_get(fz.vdev[i]) == 0, "virtio-pci %d: ISR still set after a read",
		      i);
	if (size == 2 && off == VIRTIO_PCI_COMMON_NUMQ)
		CHECK(out == fz.vdev[i]->ops->num_queues, "virtio-pci %d: num_queues %llu", i,
		      (unsigned long long)out);
	if (size == 2 && (off == VIRTIO_PCI_COMMON_MSIX || off == VIRTIO_PCI_COMMON_Q_MSIX))
		CHECK(out < pci_msix_nr_vectors(fz.pdev[1 + i]) || out == VIRTIO_MSI_NO_VECTOR,
		      "virtio-pci %d: vector %llu", i, (unsigned long long)out);
	return out;
}

static uint16_t msix_ctrl(const struct pci_device *d)
{
	unsigned cap = find_cap(d, PCI_CAP_ID_MSIX);

	return cap ? (uint16_t)(d->cfg[cap + 2] | d->cfg[cap + 3] << 8) : 0;
}

void check_msi(uint64_t addr, uint32_t data)
{
	fz.msis++;
	for (unsigned i = 0; i < NR_VP; i++) {
		struct pci_device *d = fz.pdev[1 + i];
		uint16_t ctrl = msix_ctrl(d);

		if (!(ctrl & MSIX_ENABLE) || (ctrl & MSIX_FMASK))
			continue;
		for (unsigned v = 0; v < pci_msix_nr_vectors(d); v++)
			if (pci_msix_table_read(d, 16 * v, 8) == addr &&
			    pci_msix_table_read(d, 16 * v + 8, 4) == data &&
			    !(pci_msix_table_read(d, 16 * v + 12, 4) & 1))
				return;
	}
	CHECK(false, "MSI 0x%llx/0x%x from no live, unmasked vector", (unsigned long long)addr,
	      data);
}

/* ---- invariants ----------------------------------------------------------- */

static void check_function(unsigned k)
{
	struct pci_device *d = fz.pdev[k];
	uint16_t cmd = pci_get_command(d);
	bool status_int = d->cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT;

	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		uint8_t fixed = (uint8_t)~d->wmask[i];

		if (i == PCI_STATUS)
			fixed &= (uint8_t)~PCI_STATUS_INTERRUPT; /* the device's own */
		CHECK(!((d->cfg[i] ^ fz.ro[k][i]) & fixed),
		      "%s: read-only config byte 0x%x changed", d->name, i);
	}
	CHECK(fz.intx[d->slot] == (status_int && !(cmd & PCI_COMMAND_INTX_DISABLE)),
	      "%s: INTx line %d, status 0x%x, command 0x%x", d->name, fz.intx[d->slot],
	      d->cfg[PCI_STATUS], cmd);
	if (k == 0)
		return;
	CHECK(status_int == (!pci_msix_enabled(d) && virtio_isr_get(fz.vdev[k - 1]) != 0),
	      "%s: INTx status %d, ISR %u", d->name, status_int, virtio_isr_get(fz.vdev[k - 1]));
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		const struct pci_bar *bar = &d->bars[b];
		const struct bus_range *r;
		uint32_t a;

		if (!bar->mapped)
			continue;
		memcpy(&a, d->cfg + PCI_BASE_ADDRESS_0 + 4 * b, 4);
		r = bus_lookup(&fz.mmio, bar->addr);
		CHECK((cmd & PCI_COMMAND_MEMORY) && bar->addr == (a & ~0xfu), "%s: BAR %u stale",
		      d->name, b);
		CHECK(r && r->base == bar->addr && r->len == bar->size && r->opaque == bar->opaque,
		      "%s: BAR %u not on the bus as mapped", d->name, b);
	}
	if (pci_msix_enabled(d) && !(msix_ctrl(d) & MSIX_FMASK))
		for (unsigned v = 0; v < pci_msix_nr_vectors(d); v++)
			CHECK((pci_msix_table_read(d, 16 * v + 12, 4) & 1) ||
			              !((pci_msix_pba_read(d, v / 64 * 8, 8) >> (v % 64)) & 1),
			      "%s: vector %u unmasked and live but still pending", d->name, v);
}

void check_all(void)
{
	unsigned mapped = 0;

	check_i8042();
	CHECK(fz.resets == fz.expected_resets, "%u resets, expected %u", fz.resets,
	      fz.expected_resets);
	for (unsigned k = 0; k < 1 + NR_VP; k++) {
		check_function(k);
		for (unsigned b = 0; b < PCI_NUM_BARS; b++)
			mapped += fz.pdev[k]->bars[b].mapped;
	}
	CHECK(fz.mmio.nr == mapped, "%u memory ranges for %u mapped BARs", fz.mmio.nr, mapped);
	CHECK(fz.pio.nr == 5, "%u port ranges", fz.pio.nr); /* i8042 x2, RTC, 0xCF8, 0xCFC */
}
