/* SPDX-License-Identifier: MIT */
/*
 * The PCI host bridge and configuration space: mechanism #1 ports, the
 * reset control register at 0xCF9, configuration reads and masked writes,
 * BAR allocation and (re)mapping on the buses, capabilities, INTx.
 */
#include "vm/hw/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vm/registry.h"

#define CF8_ENABLE         0x80000000u
#define CF9_RST_CPU        0x04
#define PCI_BAR_IO_FLAG    0x1
#define PCI_BAR_FLAG_MEM64 0x4

static uint32_t cfg_get(const uint8_t *b, uint32_t off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)b[off + i] << (8 * i);
	return v;
}

static void cfg_put(uint8_t *b, uint32_t off, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
                     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
                     uint16_t subsys_id)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	cfg_put(d->cfg, PCI_VENDOR_ID, vendor, 2);
	cfg_put(d->cfg, PCI_DEVICE_ID, device, 2);
	d->cfg[PCI_REVISION_ID] = revision;
	cfg_put(d->cfg, PCI_CLASS_PROG, class_code, 3);
	d->cfg[PCI_HEADER_TYPE] = 0;
	cfg_put(d->cfg, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor, 2);
	cfg_put(d->cfg, PCI_SUBSYSTEM_ID, subsys_id, 2);
	cfg_put(d->wmask, PCI_COMMAND,
	        PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR |
	                PCI_COMMAND_INTX_DISABLE,
	        2);
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cap_end = 0x40;
}

int pci_device_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type, uint64_t size,
                       const struct bus_ops *ops, void *opaque)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t mask = ~(size - 1);

	if (bar >= PCI_NUM_BARS || (type == PCI_BAR_MEM64 && bar + 1 >= PCI_NUM_BARS) ||
	    size == 0 || (size & (size - 1)) || size < (type == PCI_BAR_IO ? 4 : 16) ||
	    (type == PCI_BAR_IO && size > 0x10000) ||
	    (type == PCI_BAR_MEM32 && size > (1ull << 31)))
		return -EINVAL;
	d->bars[bar] = (struct pci_bar){.size = size, .type = type, .ops = ops, .opaque = opaque};
	switch (type) {
	case PCI_BAR_IO:
		cfg_put(d->cfg, off, PCI_BAR_IO_FLAG, 4);
		cfg_put(d->wmask, off, (uint32_t)mask & 0xfffc, 4);
		break;
	case PCI_BAR_MEM32:
		cfg_put(d->cfg, off, 0, 4);
		cfg_put(d->wmask, off, (uint32_t)mask & ~0xfu, 4);
		break;
	case PCI_BAR_MEM64:
		cfg_put(d->cfg, off, PCI_BAR_FLAG_MEM64, 4);
		cfg_put(d->wmask, off, (uint32_t)mask & ~0xfu, 4);
		cfg_put(d->wmask, off + 4, (uint32_t)(mask >> 32), 4);
		break;
	}
	return 0;
}

int pci_device_add_cap(struct pci_device *d, const uint8_t *body, unsigned len,
                       const uint8_t *wmask)
{
	unsigned off = (d->cap_end + 3u) & ~3u;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(d->cfg + off, body, len);
	d->cfg[off + 1] = 0;
	if (wmask)
		memcpy(d->wmask + off, wmask, len);
	d->wmask[off] = d->wmask[off + 1] = 0;
	if (d->last_cap)
		d->cfg[d->last_cap + 1] = (uint8_t)off;
	else
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	d->last_cap = (uint8_t)off;
	d->cap_end = (uint8_t)VK_MIN(off + len, 0xffu);
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return (int)off;
}

static uint64_t pci_bar_address(const struct pci_device *d, unsigned i)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * i;
	uint64_t a = cfg_get(d->cfg, off, 4);

	if (d->bars[i].type == PCI_BAR_IO)
		return a & ~0x3ull;
	a &= ~0xfull;
	if (d->bars[i].type == PCI_BAR_MEM64)
		a |= (uint64_t)cfg_get(d->cfg, off + 4, 4) << 32;
	return a;
}

/* Map, move or unmap each BAR to follow the command register and BAR values. */
static void pci_update_bars(struct pci_device *d)
{
	uint16_t cmd = pci_get_command(d);

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		bool io = b->type == PCI_BAR_IO;
		struct bus *bus = io ? d->host->pio : d->host->mmio;
		uint64_t addr = pci_bar_address(d, i), end;
		uint64_t limit =
		        io ? 0x10000 : (b->type == PCI_BAR_MEM32 ? 1ull << 32 : 1ull << 52);
		bool want, changed = false;

		if (!b->size)
			continue;
		want = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && addr != 0 &&
		       !vk_add_overflow(addr, b->size, &end) && end <= limit;
		if (b->mapped && (!want || b->addr != addr)) {
			bus_unregister(bus, b->addr);
			b->mapped = false;
			changed = true;
		}
		if (want && !b->mapped) {
			if (bus_register(bus, addr, b->size, b->ops, b->opaque, d->name) == 0) {
				b->mapped = true;
				b->addr = addr;
				changed = true;
			} else {
				vk_log_once(&d->logged, VK_LOG_WARN,
				            "%s: BAR %u at 0x%llx overlaps another range; left "
				            "unmapped",
				            d->name, i, (unsigned long long)addr);
			}
		}
		if (changed && d->bar_mapped)
			d->bar_mapped(d, i);
	}
}

static void pci_update_intx(struct pci_device *d)
{
	bool on = d->intx_level && !(pci_get_command(d) & PCI_COMMAND_INTX_DISABLE);

	if (d->intx_level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	irq_set(&d->intx, on);
}

void pci_set_irq(struct pci_device *d, bool level)
{
	d->intx_level = level;
	pci_update_intx(d);
}

uint32_t pci_cfg_read(struct pci_device *d, uint32_t offset, unsigned size)
{
	uint32_t v;

	if ((size != 1 && size != 2 && size != 4) || offset >= PCI_CFG_SIZE ||
	    PCI_CFG_SIZE - offset < size)
		return UINT32_MAX;
	if (d->cfg_read && d->cfg_read(d, offset, size, &v))
		return v;
	return cfg_get(d->cfg, offset, size);
}

static bool overlaps(uint32_t off, unsigned size, uint32_t start, uint32_t len)
{
	return off < start + len && start < off + size;
}

void pci_cfg_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || offset >= PCI_CFG_SIZE ||
	    PCI_CFG_SIZE - offset < size)
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = d->wmask[offset + i];
		uint8_t b = (uint8_t)(value >> (8 * i));

		d->cfg[offset + i] = (uint8_t)((d->cfg[offset + i] & ~m) | (b & m));
	}
	if (overlaps(offset, size, PCI_COMMAND, 2)) {
		pci_update_intx(d);
		pci_update_bars(d);
	} else if (overlaps(offset, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS)) {
		pci_update_bars(d);
	}
	if (d->msix)
		pci_msix_cfg_written(d);
	if (d->cfg_written)
		d->cfg_written(d, offset, size);
}

/* ---- the host bridge and its ports ---- */

static struct pci_device *pci_host_target(struct pci_host *h, uint32_t *reg)
{
	uint32_t a = h->config_address;
	unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 0x7;

	if (!(a & CF8_ENABLE) || bus != 0 || fn != 0)
		return NULL;
	*reg = a & 0xfc;
	return h->devs[slot];
}

static uint64_t pci_addr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_host *h = opaque;

	if (offset == 0 && size == 4)
		return h->config_address;
	return offset == 1 && size == 1 ? 0 : UINT64_MAX;
}

static void pci_addr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_host *h = opaque;

	if (offset == 0 && size == 4)
		h->config_address = (uint32_t)value & 0x80fffffc;
	else if (offset == 1 && size == 1 && (value & CF9_RST_CPU) && h->reset)
		h->reset(h->reset_opaque);
}

static uint64_t pci_data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pci_host *h = opaque;
	struct pci_device *d;
	uint32_t reg;

	if (size > 4 || offset + size > 4)
		return UINT64_MAX;
	d = pci_host_target(h, &reg);
	if (!d)
		return (1ull << (8 * size)) - 1;
	return pci_cfg_read(d, reg + (uint32_t)offset, size);
}

static void pci_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pci_host *h = opaque;
	struct pci_device *d;
	uint32_t reg;

	if (size > 4 || offset + size > 4)
		return;
	d = pci_host_target(h, &reg);
	if (d)
		pci_cfg_write(d, reg + (uint32_t)offset, (uint32_t)value, size);
}

static const struct bus_ops pci_addr_ops = {.read = pci_addr_read, .write = pci_addr_write};
static const struct bus_ops pci_data_ops = {.read = pci_data_read, .write = pci_data_write};

int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio, uint64_t mmio_base,
                  uint64_t mmio_size, uint32_t io_base, uint32_t io_size, struct vk_error *err)
{
	struct pci_device *br;
	int r;

	memset(h, 0, sizeof(*h));
	h->pio = pio;
	h->mmio = mmio;
	h->mmio_next = mmio_base;
	h->mmio_end = mmio_base + mmio_size;
	h->io_next = io_base;
	h->io_end = io_base + io_size;
	if (bus_register(pio, PCI_CONFIG_ADDR, 4, &pci_addr_ops, h, "pci-config-address") < 0)
		return vk_error_set(err, EEXIST, "PCI configuration ports are taken");
	if (bus_register(pio, PCI_CONFIG_DATA, 4, &pci_data_ops, h, "pci-config-data") < 0) {
		bus_unregister(pio, PCI_CONFIG_ADDR);
		return vk_error_set(err, EEXIST, "PCI configuration ports are taken");
	}
	br = calloc(1, sizeof(*br));
	if (!br) {
		pci_host_destroy(h);
		return vk_error_errno(err, ENOMEM, "PCI host bridge");
	}
	/* Red Hat's generic host bridge ID; class 06.00 passes Linux's sanity check. */
	pci_device_init(br, "pci-host-bridge", 0x1b36, 0x0008, 0x060000, 0, 0x1af4, 0x1100);
	h->bridge = br;
	r = pci_host_add_device(h, br, err);
	if (r < 0) {
		pci_host_destroy(h);
		return r;
	}
	return 0;
}

static int pci_alloc_bar(struct pci_host *h, struct pci_device *d, unsigned i, struct vk_error *err)
{
	struct pci_bar *b = &d->bars[i];
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * i;
	uint64_t a;

	if (b->type == PCI_BAR_IO) {
		a = ((uint64_t)h->io_next + b->size - 1) & ~(b->size - 1);
		if (a + b->size > h->io_end)
			return vk_error_set(err, ENOSPC, "%s: no room for a %llu-byte I/O BAR",
			                    d->name, (unsigned long long)b->size);
		h->io_next = (uint32_t)(a + b->size);
		cfg_put(d->cfg, off, (uint32_t)a | PCI_BAR_IO_FLAG, 4);
		return 0;
	}
	a = (h->mmio_next + b->size - 1) & ~(b->size - 1);
	if (a < h->mmio_next || a + b->size > h->mmio_end)
		return vk_error_set(err, ENOSPC, "%s: no room for a %llu KiB memory BAR", d->name,
		                    (unsigned long long)(b->size >> 10));
	h->mmio_next = a + b->size;
	cfg_put(d->cfg, off, (uint32_t)a | (b->type == PCI_BAR_MEM64 ? PCI_BAR_FLAG_MEM64 : 0), 4);
	if (b->type == PCI_BAR_MEM64)
		cfg_put(d->cfg, off + 4, (uint32_t)(a >> 32), 4);
	return 0;
}

int pci_host_add_device(struct pci_host *h, struct pci_device *d, struct vk_error *err)
{
	unsigned slot;
	uint16_t cmd = 0;
	int r;

	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (!h->devs[slot])
			break;
	if (slot == PCI_MAX_SLOTS)
		return vk_error_set(err, ENOSPC, "no free PCI slot for %s", d->name);
	d->host = h;
	d->slot = slot;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (!d->bars[i].size)
			continue;
		r = pci_alloc_bar(h, d, i, err);
		if (r < 0)
			return r;
		cmd |= d->bars[i].type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	if (d->cfg[PCI_INTERRUPT_PIN] && h->intx_line) {
		d->intx = h->intx_line(h->intx_opaque, slot, d->cfg[PCI_INTERRUPT_PIN] - 1u);
		d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)d->intx.n;
	}
	h->devs[slot] = d;
	/* Decoding on, as firmware would leave it; the bus-master bit is the driver's. */
	pci_cfg_write(d, PCI_COMMAND, cmd, 2);
	return (int)slot;
}

void pci_host_remove_device(struct pci_host *h, struct pci_device *d)
{
	if (!d || d->host != h || h->devs[d->slot] != d)
		return;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];

		if (b->mapped) {
			bus_unregister(b->type == PCI_BAR_IO ? h->pio : h->mmio, b->addr);
			b->mapped = false;
		}
	}
	if (d->intx_level)
		irq_set(&d->intx, false);
	h->devs[d->slot] = NULL;
}

void pci_host_destroy(struct pci_host *h)
{
	if (h->bridge) {
		pci_host_remove_device(h, h->bridge);
		free(h->bridge);
		h->bridge = NULL;
	}
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		if (h->devs[s])
			pci_host_remove_device(h, h->devs[s]);
	if (h->pio) {
		bus_unregister(h->pio, PCI_CONFIG_ADDR);
		bus_unregister(h->pio, PCI_CONFIG_DATA);
	}
}

/* ---- saving and restoring ---- */

void pci_device_save(struct pci_device *d, struct vm_state_buf *b)
{
	vm_state_put_bytes(b, d->cfg, sizeof(d->cfg));
	vm_state_put_bool(b, d->intx_level);
	vm_state_put_bool(b, d->msix != NULL);
	if (d->msix)
		pci_msix_save(d, b);
}

int pci_device_load(struct pci_device *d, struct vm_state_rd *r, struct vk_error *err)
{
	uint8_t cfg[PCI_CFG_SIZE];
	bool level, msix;

	vm_state_get_bytes(r, cfg, sizeof(cfg));
	level = vm_state_get_bool(r);
	msix = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (msix != (d->msix != NULL))
		return vk_error_set(err, EINVAL, "%s: the saved function %s MSI-X", d->name,
		                    msix ? "has" : "lacks");
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		/* The status register's bits follow the device (interrupt status). */
		if (i == PCI_STATUS || i == PCI_STATUS + 1)
			continue;
		if ((cfg[i] ^ d->cfg[i]) & ~d->wmask[i])
			return vk_error_set(
			        err, EINVAL,
			        "%s: read-only configuration byte 0x%x is 0x%02x in the "
			        "saved function, 0x%02x here: another device",
			        d->name, i, cfg[i], d->cfg[i]);
	}
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		d->cfg[i] = (uint8_t)((d->cfg[i] & ~d->wmask[i]) | (cfg[i] & d->wmask[i]));
	if (d->msix) {
		int ret = pci_msix_load(d, r, err);
		if (ret < 0)
			return ret;
	}
	d->intx_level = level;
	pci_update_intx(d);
	pci_update_bars(d);
	return 0;
}

static void host_state_save(void *opaque, struct vm_state_buf *b)
{
	struct pci_host *h = opaque;

	vm_state_put_u32(b, h->config_address);
}

static int host_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                           struct vk_error *err)
{
	struct pci_host *h = opaque;

	/* What pci_addr_write() keeps of any value. */
	h->config_address = vm_state_get_u32(r) & 0x80fffffc;
	return 0;
}

static const struct vm_device_ops host_state_ops = {
        .kind = "pci host",
        .version = 1,
        .save = host_state_save,
        .load = host_state_load,
};

int pci_host_register(struct pci_host *h, struct vm_registry *reg, const char *name,
                      struct vk_error *err)
{
	return vm_registry_add(reg, name, &host_state_ops, h, err);
}
