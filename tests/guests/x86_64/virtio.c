/* SPDX-License-Identifier: MIT */
/* A minimal virtio 1.x driver (modern PCI and MMIO v2) for the test guests. */
#include "virtio.h"

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8

/* common configuration offsets */
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_MSIX     0x10
#define C_NUMQ     0x12
#define C_STATUS   0x14
#define C_QSELECT  0x16
#define C_QSIZE    0x18
#define C_QMSIX    0x1a
#define C_QENABLE  0x1c
#define C_QNOFF    0x1e
#define C_QDESC    0x20
#define C_QAVAIL   0x28
#define C_QUSED    0x30

/* mmio registers */
#define M_MAGIC     0x000
#define M_VERSION   0x004
#define M_DEVICE_ID 0x008
#define M_DF        0x010
#define M_DFSEL     0x014
#define M_GF        0x020
#define M_GFSEL     0x024
#define M_QSEL      0x030
#define M_QNUMMAX   0x034
#define M_QNUM      0x038
#define M_QREADY    0x044
#define M_QNOTIFY   0x050
#define M_ISR       0x060
#define M_ACK       0x064
#define M_STATUS    0x070
#define M_QDESC     0x080
#define M_QDRIVER   0x090
#define M_QDEVICE   0x0a0
#define M_CONFIG    0x100

static void set_status(struct vdev *d, uint8_t s)
{
	if (d->mmio)
		mmio_write32(d->base + M_STATUS, s);
	else
		mmio_write8(d->common + C_STATUS, s);
}

uint8_t vdev_status(struct vdev *d)
{
	return d->mmio ? (uint8_t)mmio_read32(d->base + M_STATUS)
	               : mmio_read8(d->common + C_STATUS);
}

static void negotiate(struct vdev *d, uint32_t features)
{
	uint32_t have_lo, have_hi;

	set_status(d, 0);
	CHECK(vdev_status(d) == 0, "device status not 0 after reset");
	set_status(d, ST_ACK);
	set_status(d, ST_ACK | ST_DRIVER);
	if (d->mmio) {
		mmio_write32(d->base + M_DFSEL, 0);
		have_lo = mmio_read32(d->base + M_DF);
		mmio_write32(d->base + M_DFSEL, 1);
		have_hi = mmio_read32(d->base + M_DF);
	} else {
		mmio_write32(d->common + C_DFSELECT, 0);
		have_lo = mmio_read32(d->common + C_DF);
		mmio_write32(d->common + C_DFSELECT, 1);
		have_hi = mmio_read32(d->common + C_DF);
	}
	CHECK(have_hi & 1, "device does not offer VIRTIO_F_VERSION_1 (features %x:%x)", have_hi,
	      have_lo);
	CHECK((have_lo & features) == features, "device lacks features %x (offers %x)", features,
	      have_lo);
	if (d->mmio) {
		mmio_write32(d->base + M_GFSEL, 0);
		mmio_write32(d->base + M_GF, features);
		mmio_write32(d->base + M_GFSEL, 1);
		mmio_write32(d->base + M_GF, 1);
	} else {
		mmio_write32(d->common + C_GFSELECT, 0);
		mmio_write32(d->common + C_GF, features);
		mmio_write32(d->common + C_GFSELECT, 1);
		mmio_write32(d->common + C_GF, 1);
	}
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	CHECK(vdev_status(d) & ST_FEATURES_OK, "device refused FEATURES_OK");
}

void vdev_pci_init(struct vdev *d, unsigned slot, uint32_t features, uint8_t msix_vector_base)
{
	uint8_t cap;

	memset(d, 0, sizeof(*d));
	d->slot = slot;
	CHECK(pci_read16(slot, 0x06) & 0x10, "slot %u has no capability list", slot);
	for (cap = pci_read8(slot, 0x34); cap; cap = pci_read8(slot, cap + 1)) {
		uint8_t id = pci_read8(slot, cap);

		if (id == 0x09) {
			uint8_t type = pci_read8(slot, cap + 3), bar = pci_read8(slot, cap + 4);
			uint64_t a = pci_bar(slot, bar) + pci_read32(slot, cap + 8);

			if (type == 1)
				d->common = a;
			else if (type == 2) {
				d->notify = a;
				d->notify_mult = pci_read32(slot, cap + 16);
			} else if (type == 3)
				d->isr = a;
			else if (type == 4)
				d->device = a;
		} else if (id == 0x11) {
			uint32_t t = pci_read32(slot, cap + 4);
			d->msix_cap = cap;
			d->msix_table = pci_bar(slot, t & 7) + (t & ~7u);
		}
	}
	CHECK(d->common && d->notify && d->isr, "slot %u lacks virtio capabilities", slot);
	/* Bus mastering on: the device writes used rings and buffers. */
	pci_write16(slot, 0x04, pci_read16(slot, 0x04) | 0x6);
	negotiate(d, features);
	if (msix_vector_base) {
		unsigned n = (pci_read16(slot, d->msix_cap + 2) & 0x7ff) + 1;

		CHECK(d->msix_cap, "slot %u has no MSI-X capability", slot);
		/* Enable with the function masked, program, then unmask. */
		pci_write16(slot, d->msix_cap + 2, 0xc000);
		for (unsigned v = 0; v < n; v++) {
			uint64_t e = d->msix_table + 16 * v;
			mmio_write32(e + 0, 0xfee00000); /* APIC 0, physical */
			mmio_write32(e + 4, 0);
			mmio_write32(e + 8, msix_vector_base + v); /* fixed, edge */
			mmio_write32(e + 12, 0);                   /* unmasked */
		}
		pci_write16(slot, d->msix_cap + 2, 0x8000);
		mmio_write16(d->common + C_MSIX, 0xffff); /* no config interrupt */
	}
}

void vdev_mmio_init(struct vdev *d, uint64_t base, uint32_t device_id, uint32_t features)
{
	memset(d, 0, sizeof(*d));
	d->mmio = true;
	d->base = base;
	CHECK(mmio_read32(base + M_MAGIC) == 0x74726976, "no virtio-mmio magic at %lx", base);
	CHECK(mmio_read32(base + M_VERSION) == 2, "virtio-mmio version %u, want 2",
	      mmio_read32(base + M_VERSION));
	CHECK(mmio_read32(base + M_DEVICE_ID) == device_id, "virtio-mmio device %u, want %u",
	      mmio_read32(base + M_DEVICE_ID), device_id);
	negotiate(d, features);
}

void vdev_setup_queue(struct vdev *d, unsigned q, struct vq *vq)
{
	memset(vq, 0, sizeof(*vq));
	d->vq[q] = vq;
	if (d->mmio) {
		mmio_write32(d->base + M_QSEL, q);
		CHECK(mmio_read32(d->base + M_QNUMMAX) >= VQ_SIZE, "queue %u too small", q);
		mmio_write32(d->base + M_QNUM, VQ_SIZE);
		mmio_write32(d->base + M_QDESC, (uint32_t)(uint64_t)vq->desc);
		mmio_write32(d->base + M_QDESC + 4, 0);
		mmio_write32(d->base + M_QDRIVER, (uint32_t)(uint64_t)&vq->avail);
		mmio_write32(d->base + M_QDRIVER + 4, 0);
		mmio_write32(d->base + M_QDEVICE, (uint32_t)(uint64_t)&vq->used);
		mmio_write32(d->base + M_QDEVICE + 4, 0);
		mmio_write32(d->base + M_QREADY, 1);
		return;
	}
	mmio_write16(d->common + C_QSELECT, (uint16_t)q);
	CHECK(mmio_read16(d->common + C_QSIZE) >= VQ_SIZE, "queue %u too small", q);
	mmio_write16(d->common + C_QSIZE, VQ_SIZE);
	if (d->msix_cap) {
		mmio_write16(d->common + C_QMSIX, (uint16_t)q);
		CHECK(mmio_read16(d->common + C_QMSIX) == q, "queue %u refused MSI-X vector", q);
	}
	mmio_write32(d->common + C_QDESC, (uint32_t)(uint64_t)vq->desc);
	mmio_write32(d->common + C_QDESC + 4, 0);
	mmio_write32(d->common + C_QAVAIL, (uint32_t)(uint64_t)&vq->avail);
	mmio_write32(d->common + C_QAVAIL + 4, 0);
	mmio_write32(d->common + C_QUSED, (uint32_t)(uint64_t)&vq->used);
	mmio_write32(d->common + C_QUSED + 4, 0);
	vq->notify_off = mmio_read16(d->common + C_QNOFF);
	mmio_write16(d->common + C_QENABLE, 1);
}

void vdev_driver_ok(struct vdev *d)
{
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	CHECK(vdev_status(d) & ST_DRIVER_OK, "device refused DRIVER_OK (status %x)",
	      vdev_status(d));
}

uint8_t vdev_cfg8(struct vdev *d, unsigned off)
{
	return mmio_read8((d->mmio ? d->base + M_CONFIG : d->device) + off);
}

uint32_t vdev_cfg32(struct vdev *d, unsigned off)
{
	return mmio_read32((d->mmio ? d->base + M_CONFIG : d->device) + off);
}

uint16_t vq_submit(struct vdev *d, unsigned q, const struct vbuf *bufs, unsigned n)
{
	struct vq *vq = d->vq[q];
	uint16_t head = vq->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VQ_SIZE);

		vq->desc[idx].addr = (uint64_t)bufs[i].addr;
		vq->desc[idx].len = bufs[i].len;
		vq->desc[idx].flags = (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
		                                 (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		vq->desc[idx].next = (uint16_t)((idx + 1) % VQ_SIZE);
	}
	vq->next_desc = (uint16_t)((head + n) % VQ_SIZE);
	vq->avail.ring[vq->avail.idx % VQ_SIZE] = head;
	barrier();
	vq->avail.idx++;
	barrier();
	if (d->mmio)
		mmio_write32(d->base + M_QNOTIFY, q);
	else
		mmio_write16(d->notify + (uint64_t)vq->notify_off * d->notify_mult, (uint16_t)q);
	return head;
}

bool vq_used(struct vdev *d, unsigned q, uint32_t *id, uint32_t *len)
{
	struct vq *vq = d->vq[q];
	volatile uint16_t *idx = &vq->used.idx;

	if (*idx == vq->last_used)
		return false;
	barrier();
	*id = vq->used.ring[vq->last_used % VQ_SIZE].id;
	*len = vq->used.ring[vq->last_used % VQ_SIZE].len;
	vq->last_used++;
	return true;
}

uint32_t vdev_ack_interrupt(struct vdev *d)
{
	uint32_t isr;

	if (!d->mmio)
		return mmio_read8(d->isr);
	isr = mmio_read32(d->base + M_ISR);
	mmio_write32(d->base + M_ACK, isr);
	return isr;
}
