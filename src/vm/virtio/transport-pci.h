/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci transport, modern only (virtio 1.x, 4.1): one PCI function
 * per device (vendor 0x1af4, device 0x1040 + virtio id, revision 1) with
 *   BAR 0 (16 KiB memory)  common config at 0x0000, ISR at 0x1000, device
 *                          config at 0x2000, notifications at 0x3000 (4 bytes
 *                          per queue: notify_off_multiplier 4, queue q at 4q)
 *   BAR 2 (4 KiB memory)   the MSI-X table at 0x000 and its PBA at 0x800,
 *                          one vector per queue plus one for config changes
 * and the vendor capabilities that describe them (common, notify, ISR,
 * device, and the PCI configuration access window), plus INTx (INTA) for
 * drivers that do not enable MSI-X.
 *
 * With KVM (pci_platform.ioeventfd) each queue's notification address is an
 * ioeventfd: the guest's write does not leave the kernel, and the event loop
 * calls the device. The addresses follow the BAR when the guest moves it.
 *
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_VIRTIO_TRANSPORT_PCI_H
#define VK_VM_VIRTIO_TRANSPORT_PCI_H

#include "common/error.h"
#include "vm/hw/pci.h"
#include "vm/virtio/virtio.h"

#define VIRTIO_PCI_VENDOR        0x1af4
#define VIRTIO_PCI_DEVICE_BASE   0x1040

#define VIRTIO_PCI_BAR_SIZE      0x4000
#define VIRTIO_PCI_COMMON_OFF    0x0000
#define VIRTIO_PCI_ISR_OFF       0x1000
#define VIRTIO_PCI_DEVICE_OFF    0x2000
#define VIRTIO_PCI_NOTIFY_OFF    0x3000
#define VIRTIO_PCI_NOTIFY_MULT   4
#define VIRTIO_PCI_MSIX_BAR      2
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_PBA_OFF  0x800

/* Capability types (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* struct virtio_pci_common_cfg offsets (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34
#define VIRTIO_PCI_COMMON_SIZE      0x38

struct virtio_pci;

/*
 * Put dev on host's bus in the next free slot. The transport does not own
 * dev: destroy the transport first, then the device.
 */
struct virtio_pci *virtio_pci_create(struct pci_host *host, struct virtio_dev *dev,
                                     struct vk_error *err);
void virtio_pci_destroy(struct virtio_pci *vp);

/* The PCI function (for the board's interrupt routing tables and tests). */
struct pci_device *virtio_pci_device(struct virtio_pci *vp);

struct vm_registry;

/*
 * Enter the transport in a machine object (registry.h) under name: its record
 * holds the feature selects, the PCI function (configuration space, MSI-X
 * table and PBA) and the virtio device (virtio-state.c).
 */
int virtio_pci_register(struct virtio_pci *vp, struct vm_registry *reg, const char *name,
                        struct vk_error *err) VK_MUST_CHECK;

#endif
