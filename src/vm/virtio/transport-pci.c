/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci transport: capabilities, the BAR 0 register windows
 * mapped onto the device core, MSI-X / INTx interrupts, and ioeventfd
 * notifications that follow BAR 0.
 */
#include "vm/virtio/transport-pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/loop.h"
#include "vm/registry.h"

struct virtio_pci {
	struct pci_device pci;
	struct virtio_dev *dev;
	uint32_t dfselect, gfselect;
	unsigned nr_vectors;
	unsigned nr_queues;
	uint8_t cfg_cap; /* offset of the PCI configuration access capability */
	int notify_fd[VIRTIO_MAX_QUEUES];
	bool ioeventfd_on;
	uint64_t ioeventfd_base; /* BAR 0 address the ioeventfds are assigned at */
};

/* ---- interrupts ---- */

static void vp_update_intx(struct virtio_pci *vp)
{
	pci_set_irq(&vp->pci, !pci_msix_enabled(&vp->pci) && virtio_isr_get(vp->dev) != 0);
}

static void vp_notify_vector(struct virtio_pci *vp, uint16_t vector)
{
	if (pci_msix_enabled(&vp->pci)) {
		/* With MSI-X on, NO_VECTOR means the driver wants no interrupt (4.1.5.1.2). */
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&vp->pci, vector);
		return;
	}
	vp_update_intx(vp);
}

static void vp_notify_queue(void *opaque, struct virtio_dev *dev, unsigned q)
{
	vp_notify_vector(opaque, virtio_queue_get_vector(dev, q));
}

static void vp_notify_config(void *opaque, struct virtio_dev *dev)
{
	vp_notify_vector(opaque, dev->config_vector);
}

static const struct virtio_transport_ops vp_transport_ops = {
        .notify_queue = vp_notify_queue,
        .notify_config = vp_notify_config,
};

/* ---- common configuration ---- */

static void put_le(uint8_t *b, unsigned off, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t vp_common_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
	struct virtio_dev *dev = vp->dev;
	unsigned q = dev->queue_sel;
	uint8_t img[VIRTIO_PCI_COMMON_SIZE];
	uint64_t v = 0;

	if (off >= sizeof(img) || sizeof(img) - off < size)
		return 0;
	memset(img, 0, sizeof(img));
	put_le(img, VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect, 4);
	put_le(img, VIRTIO_PCI_COMMON_DF, virtio_read_device_features(dev, vp->dfselect), 4);
	put_le(img, VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect, 4);
	put_le(img, VIRTIO_PCI_COMMON_GF, virtio_read_driver_features(dev, vp->gfselect), 4);
	put_le(img, VIRTIO_PCI_COMMON_MSIX, dev->config_vector, 2);
	put_le(img, VIRTIO_PCI_COMMON_NUMQ, vp->nr_queues, 2);
	img[VIRTIO_PCI_COMMON_STATUS] = virtio_get_status(dev);
	img[VIRTIO_PCI_COMMON_CFGGEN] = (uint8_t)virtio_config_generation(dev);
	put_le(img, VIRTIO_PCI_COMMON_Q_SELECT, dev->queue_sel, 2);
	if (q < vp->nr_queues) {
		put_le(img, VIRTIO_PCI_COMMON_Q_SIZE, virtio_queue_get_num(dev, q), 2);
		put_le(img, VIRTIO_PCI_COMMON_Q_MSIX, virtio_queue_get_vector(dev, q), 2);
		put_le(img, VIRTIO_PCI_COMMON_Q_ENABLE, virtio_queue_get_ready(dev, q), 2);
		put_le(img, VIRTIO_PCI_COMMON_Q_NOFF, q, 2);
		put_le(img, VIRTIO_PCI_COMMON_Q_DESCLO,
		       virtio_queue_get_addr(dev, q, VIRTQ_AREA_DESC), 8);
		put_le(img, VIRTIO_PCI_COMMON_Q_AVAILLO,
		       virtio_queue_get_addr(dev, q, VIRTQ_AREA_DRIVER), 8);
		put_le(img, VIRTIO_PCI_COMMON_Q_USEDLO,
		       virtio_queue_get_addr(dev, q, VIRTQ_AREA_DEVICE), 8);
	} else {
		put_le(img, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	}
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)img[off + i] << (8 * i);
	return v;
}

static uint16_t vp_check_vector(struct virtio_pci *vp, uint64_t v)
{
	/* An unsupported vector reads back as NO_VECTOR, which tells the driver (4.1.5.1.2). */
	return v < vp->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void vp_write_addr(struct virtio_dev *dev, unsigned q, uint64_t off, uint64_t v,
                          unsigned size)
{
	enum virtq_area area = off < VIRTIO_PCI_COMMON_Q_AVAILLO  ? VIRTQ_AREA_DESC
	                       : off < VIRTIO_PCI_COMMON_Q_USEDLO ? VIRTQ_AREA_DRIVER
	                                                          : VIRTQ_AREA_DEVICE;

	if (size == 8 && !(off & 7))
		virtio_queue_set_addr(dev, q, area, v);
	else if (size == 4)
		virtio_queue_write_addr32(dev, q, area, off & 4, (uint32_t)v);
}

static void vp_common_write(struct virtio_pci *vp, uint64_t off, uint64_t v, unsigned size)
{
	struct virtio_dev *dev = vp->dev;
	unsigned q = dev->queue_sel;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (size == 4)
			vp->dfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (size == 4)
			vp->gfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (size == 4)
			virtio_write_driver_features(dev, vp->gfselect, (uint32_t)v);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (size == 2)
			dev->config_vector = vp_check_vector(vp, v);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (size != 1)
			return;
		virtio_set_status(dev, (uint8_t)v);
		if (v == 0) {
			vp->dfselect = vp->gfselect = 0;
			vp_update_intx(vp);
		}
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (size == 2)
			dev->queue_sel = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (size == 2)
			virtio_queue_set_num(dev, q, (uint16_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (size == 2 && q < vp->nr_queues)
			virtio_queue_set_vector(dev, q, vp_check_vector(vp, v));
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* Only 1 may be written (4.1.4.3.2); a reset disables queues. */
		if (size == 2 && v == 1)
			virtio_queue_set_ready(dev, q, true);
		return;
	default:
		if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_SIZE)
			vp_write_addr(dev, q, off, v, size);
		return; /* read-only fields */
	}
}

/* ---- BAR 0 and BAR 2 ---- */

static uint64_t vp_bar0_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;
	uint64_t v;

	if (off < VIRTIO_PCI_ISR_OFF)
		return vp_common_read(vp, off - VIRTIO_PCI_COMMON_OFF, size);
	if (off < VIRTIO_PCI_DEVICE_OFF) {
		if (off != VIRTIO_PCI_ISR_OFF)
			return 0;
		/* Reading the ISR clears it and deasserts INTx (4.1.4.5). */
		v = virtio_isr_read_clear(vp->dev);
		vp_update_intx(vp);
		return v;
	}
	if (off < VIRTIO_PCI_NOTIFY_OFF)
		return virtio_config_read(vp->dev, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF), size);
	return 0;
}

static void vp_bar0_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct virtio_pci *vp = opaque;

	if (off < VIRTIO_PCI_ISR_OFF) {
		vp_common_write(vp, off - VIRTIO_PCI_COMMON_OFF, v, size);
	} else if (off < VIRTIO_PCI_DEVICE_OFF) {
		/* the ISR is read-only */
	} else if (off < VIRTIO_PCI_NOTIFY_OFF) {
		virtio_config_write(vp->dev, (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF), size, v);
	} else {
		uint64_t n = off - VIRTIO_PCI_NOTIFY_OFF;

		/* Without an ioeventfd (or for odd sizes) the write lands here. */
		if (n % VIRTIO_PCI_NOTIFY_MULT == 0 && n / VIRTIO_PCI_NOTIFY_MULT < vp->nr_queues)
			virtio_queue_notify(vp->dev, (unsigned)(n / VIRTIO_PCI_NOTIFY_MULT));
	}
}

static uint64_t vp_msix_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;

	if (off >= VIRTIO_PCI_MSIX_PBA_OFF)
		return pci_msix_pba_read(&vp->pci, off - VIRTIO_PCI_MSIX_PBA_OFF, size);
	return pci_msix_table_read(&vp->pci, off, size);
}

static void vp_msix_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct virtio_pci *vp = opaque;

	if (off < VIRTIO_PCI_MSIX_PBA_OFF)
		pci_msix_table_write(&vp->pci, off, v, size);
}

static const struct bus_ops vp_bar0_ops = {.read = vp_bar0_read, .write = vp_bar0_write};
static const struct bus_ops vp_msix_ops = {.read = vp_msix_read, .write = vp_msix_write};

/* ---- the PCI configuration access capability (4.1.4.9) ---- */

#define CFGCAP_BAR    4
#define CFGCAP_OFFSET 8
#define CFGCAP_LENGTH 12
#define CFGCAP_DATA   16

static bool vp_cfgcap_window(struct virtio_pci *vp, uint64_t *off, unsigned *len)
{
	const uint8_t *c = vp->pci.cfg + vp->cfg_cap;
	uint32_t o, l;

	memcpy(&o, c + CFGCAP_OFFSET, 4);
	memcpy(&l, c + CFGCAP_LENGTH, 4);
	if (c[CFGCAP_BAR] != 0 || (l != 1 && l != 2 && l != 4) || o >= VIRTIO_PCI_BAR_SIZE ||
	    VIRTIO_PCI_BAR_SIZE - o < l)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool vp_cfg_read(struct pci_device *d, uint32_t offset, unsigned size, uint32_t *value)
{
	struct virtio_pci *vp = d->opaque;
	uint32_t data = vp->cfg_cap + CFGCAP_DATA;
	uint64_t off;
	unsigned len;

	if (!vp->cfg_cap || offset != data || !vp_cfgcap_window(vp, &off, &len))
		return false;
	*value = (uint32_t)vp_bar0_read(vp, off, len);
	(void)size;
	return true;
}

static void vp_cfg_written(struct pci_device *d, uint32_t offset, unsigned size)
{
	struct virtio_pci *vp = d->opaque;
	uint32_t data = vp->cfg_cap + CFGCAP_DATA, v;
	uint64_t off;
	unsigned len;

	/* Enabling MSI-X takes the interrupt off INTx (and disabling it puts it back). */
	vp_update_intx(vp);
	if (!vp->cfg_cap || offset != data || !vp_cfgcap_window(vp, &off, &len))
		return;
	memcpy(&v, d->cfg + data, 4);
	/* The window's length says how much of the data field is the access (4.1.4.9). */
	if (len < 4)
		v &= (1u << (8 * len)) - 1;
	vp_bar0_write(vp, off, v, len);
}

/* ---- ioeventfds ---- */

static void vp_notify_fd(void *opaque, int fd, short revents)
{
	struct virtio_pci *vp = opaque;
	uint64_t cnt;

	if (read(fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	for (unsigned q = 0; q < vp->nr_queues; q++)
		if (vp->notify_fd[q] == fd)
			virtio_queue_notify(vp->dev, q);
}

static void vp_ioeventfd_assign(struct virtio_pci *vp, bool assign)
{
	const struct pci_platform *p = &vp->pci.host->platform;
	uint64_t base = assign ? vp->pci.bars[0].addr : vp->ioeventfd_base;

	if (!p->ioeventfd || vp->ioeventfd_on == assign)
		return;
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		uint64_t a = base + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;

		if (vp->notify_fd[q] >= 0 &&
		    p->ioeventfd(p->opaque, a, 2, vp->notify_fd[q], assign) < 0)
			vk_warn("%s: cannot %s the notification ioeventfd of queue %u",
			        vp->pci.name, assign ? "assign" : "remove", q);
	}
	vp->ioeventfd_on = assign;
	vp->ioeventfd_base = base;
}

/* Stop watching the queue notification eventfds and close them. */
static void vp_close_notify_fds(struct virtio_pci *vp, struct pci_host *h)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vp->notify_fd[q] < 0)
			continue;
		if (h->platform.loop)
			vm_loop_del_fd(h->platform.loop, vp->notify_fd[q]);
		close(vp->notify_fd[q]);
		vp->notify_fd[q] = -1;
	}
}

static void vp_bar_mapped(struct pci_device *d, unsigned bar)
{
	struct virtio_pci *vp = d->opaque;

	if (bar != 0)
		return;
	vp_ioeventfd_assign(vp, false);
	if (d->bars[0].mapped)
		vp_ioeventfd_assign(vp, true);
}

/* ---- construction ---- */

static uint32_t vp_class_of(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* mass storage, SCSI (what QEMU reports) */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	default:
		return 0xff0000; /* unclassified */
	}
}

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
                      unsigned extra, const uint8_t *wmask)
{
	uint8_t cap[20] = {PCI_CAP_ID_VNDR, 0, (uint8_t)(16 + extra), type, 0};

	memcpy(cap + 8, &off, 4);
	memcpy(cap + 12, &len, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put_le(cap, 16, VIRTIO_PCI_NOTIFY_MULT, 4);
	return pci_device_add_cap(&vp->pci, cap, 16 + extra, wmask);
}

static int vp_setup_caps(struct virtio_pci *vp, struct vk_error *err)
{
	static const uint8_t cfg_wmask[20] =
	        {
	                [CFGCAP_BAR] = 0xff,        [CFGCAP_OFFSET] = 0xff,
	                [CFGCAP_OFFSET + 1] = 0xff, [CFGCAP_OFFSET + 2] = 0xff,
	                [CFGCAP_OFFSET + 3] = 0xff, [CFGCAP_LENGTH] = 0xff,
	                [CFGCAP_LENGTH + 1] = 0xff, [CFGCAP_LENGTH + 2] = 0xff,
	                [CFGCAP_LENGTH + 3] = 0xff, [CFGCAP_DATA] = 0xff,
	                [CFGCAP_DATA + 1] = 0xff,   [CFGCAP_DATA + 2] = 0xff,
	                [CFGCAP_DATA + 3] = 0xff,
	        };
	int r;

	if (vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE,
	               0, NULL) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
	               vp->nr_queues * VIRTIO_PCI_NOTIFY_MULT, 4, NULL) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, 0, NULL) < 0 ||
	    (vp->dev->ops->config_size &&
	     vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
	                vp->dev->ops->config_size, 0, NULL) < 0))
		return vk_error_set(err, ENOSPC, "%s: no room for the virtio capabilities",
		                    vp->pci.name);
	r = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 4, cfg_wmask);
	if (r < 0)
		return vk_error_set(err, ENOSPC, "%s: no room for the virtio capabilities",
		                    vp->pci.name);
	vp->cfg_cap = (uint8_t)r;
	return 0;
}

struct virtio_pci *virtio_pci_create(struct pci_host *host, struct virtio_dev *dev,
                                     struct vk_error *err)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	uint32_t id = dev->ops->device_id;
	struct pci_device *d;
	int r;

	if (!vp) {
		vk_error_errno(err, ENOMEM, "%s: virtio-pci transport", virtio_dev_name(dev));
		return NULL;
	}
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->notify_fd[q] = -1;
	vp->dev = dev;
	vp->nr_queues = dev->ops->num_queues;
	vp->nr_vectors = vp->nr_queues + 1;
	d = &vp->pci;
	pci_device_init(d, virtio_dev_name(dev), VIRTIO_PCI_VENDOR,
	                (uint16_t)(VIRTIO_PCI_DEVICE_BASE + id), vp_class_of(id), 1,
	                VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + id));
	d->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA */
	d->opaque = vp;
	d->bar_mapped = vp_bar_mapped;
	d->cfg_read = vp_cfg_read;
	d->cfg_written = vp_cfg_written;
	if (pci_device_set_bar(d, 0, PCI_BAR_MEM32, VIRTIO_PCI_BAR_SIZE, &vp_bar0_ops, vp) < 0 ||
	    pci_device_set_bar(d, VIRTIO_PCI_MSIX_BAR, PCI_BAR_MEM32, VIRTIO_PCI_MSIX_BAR_SIZE,
	                       &vp_msix_ops, vp) < 0) {
		vk_error_set(err, EINVAL, "%s: cannot declare the BARs", d->name);
		goto fail;
	}
	if (vp_setup_caps(vp, err) < 0 || pci_msix_init(d, vp->nr_vectors, VIRTIO_PCI_MSIX_BAR, 0,
	                                                VIRTIO_PCI_MSIX_PBA_OFF, err) < 0)
		goto fail;
	if (host->platform.ioeventfd && host->platform.loop) {
		for (unsigned q = 0; q < vp->nr_queues; q++) {
			vp->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (vp->notify_fd[q] < 0 ||
			    vm_loop_add_fd(host->platform.loop, vp->notify_fd[q], POLLIN,
			                   vp_notify_fd, vp) < 0) {
				vk_error_errno(err, errno ? errno : EIO,
				               "%s: cannot set up queue notifications", d->name);
				goto fail;
			}
		}
	}
	virtio_dev_attach_transport(dev, &vp_transport_ops, vp);
	r = pci_host_add_device(host, d, err);
	if (r < 0) {
		virtio_dev_attach_transport(dev, NULL, NULL);
		goto fail;
	}
	return vp;
fail:
	d->host = host;
	pci_msix_destroy(d);
	vp_close_notify_fds(vp, host);
	free(vp);
	return NULL;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	struct pci_host *h;

	if (!vp)
		return;
	h = vp->pci.host;
	vp_ioeventfd_assign(vp, false);
	pci_set_irq(&vp->pci, false);
	pci_msix_destroy(&vp->pci);
	pci_host_remove_device(h, &vp->pci);
	virtio_dev_attach_transport(vp->dev, NULL, NULL);
	vp_close_notify_fds(vp, h);
	free(vp);
}

struct pci_device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->pci;
}

/* ---- the registry's record: the feature selects, the PCI function, then the device ---- */

static void vp_state_reset(void *opaque)
{
	struct virtio_pci *vp = opaque;

	virtio_reset(vp->dev);
	vp->dfselect = vp->gfselect = 0;
	vp_update_intx(vp);
}

/* The device's last completions raise MSI-X messages: see them reach the CPUs. */
static void vp_state_quiesce(void *opaque)
{
	struct virtio_pci *vp = opaque;

	virtio_dev_quiesce(vp->dev);
	pci_msix_flush(&vp->pci);
}

static void vp_state_save(void *opaque, struct vm_state_buf *b)
{
	struct virtio_pci *vp = opaque;

	vm_state_put_u32(b, vp->dfselect);
	vm_state_put_u32(b, vp->gfselect);
	pci_device_save(&vp->pci, b);
	virtio_dev_save(vp->dev, b);
}

static int vp_state_load(void *opaque, struct vm_state_rd *r, uint32_t version,
                         struct vk_error *err)
{
	struct virtio_pci *vp = opaque;
	int ret;

	vp->dfselect = vm_state_get_u32(r);
	vp->gfselect = vm_state_get_u32(r);
	ret = pci_device_load(&vp->pci, r, err);
	if (ret < 0 || r->bad)
		return ret;
	ret = virtio_dev_load(vp->dev, r, err);
	if (ret < 0 || r->bad)
		return ret;
	/* The vectors the driver chose must exist on this function (vp_check_vector()). */
	if (vp->dev->config_vector != VIRTIO_MSI_NO_VECTOR &&
	    vp->dev->config_vector >= vp->nr_vectors)
		return vk_error_set(err, EINVAL, "%s: configuration vector %u of %u", vp->pci.name,
		                    vp->dev->config_vector, vp->nr_vectors);
	for (unsigned q = 0; q < vp->nr_queues; q++) {
		uint16_t v = virtio_queue_get_vector(vp->dev, q);

		if (v != VIRTIO_MSI_NO_VECTOR && v >= vp->nr_vectors)
			return vk_error_set(err, EINVAL, "%s: queue %u vector %u of %u",
			                    vp->pci.name, q, v, vp->nr_vectors);
	}
	return 0;
}

static int vp_state_post_load(void *opaque, struct vk_error *err)
{
	struct virtio_pci *vp = opaque;

	vp_update_intx(vp);
	return virtio_dev_post_load(vp->dev, err);
}

static int vp_state_handover(void *opaque, bool take, struct vk_error *err)
{
	struct virtio_pci *vp = opaque;

	return vp->dev->ops->handover ? vp->dev->ops->handover(vp->dev, take, err) : 0;
}

static int vp_state_disk_overlay(void *opaque, const char *path, struct vk_error *err)
{
	struct virtio_pci *vp = opaque;

	return vp->dev->ops->disk_overlay(vp->dev, path, err);
}

static const struct vm_device_ops vp_state_ops = {
        .kind = "virtio-pci",
        .version = 1,
        .reset = vp_state_reset,
        .quiesce = vp_state_quiesce,
        .save = vp_state_save,
        .load = vp_state_load,
        .post_load = vp_state_post_load,
        .handover = vp_state_handover,
};

/* The same for a disk: the registry counts disks by disk_overlay (registry.h). */
static const struct vm_device_ops vp_disk_state_ops = {
        .kind = "virtio-pci",
        .version = 1,
        .reset = vp_state_reset,
        .quiesce = vp_state_quiesce,
        .save = vp_state_save,
        .load = vp_state_load,
        .post_load = vp_state_post_load,
        .handover = vp_state_handover,
        .disk_overlay = vp_state_disk_overlay,
};

int virtio_pci_register(struct virtio_pci *vp, struct vm_registry *reg, const char *name,
                        struct vk_error *err)
{
	return vm_registry_add(reg, name,
	                       vp->dev->ops->disk_overlay ? &vp_disk_state_ops : &vp_state_ops, vp,
	                       err);
}
