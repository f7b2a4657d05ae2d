/* SPDX-License-Identifier: MIT */
/*
 * Conventional PCI on one bus: a host bridge reached through configuration
 * mechanism #1 (ports 0xCF8 address / 0xCFC data), 256-byte configuration
 * spaces with write masks, BARs that map into the board's MMIO or port bus
 * when the guest enables decoding, a capability list, INTx and MSI-X.
 *
 * The VMM assigns every BAR an address when a device is added (as kvmtool
 * and Cloud Hypervisor do; there is no firmware to do it) and enables
 * decoding; a guest may move BARs, and the mapping follows.
 *
 * Trust: configuration writes and BAR accesses come from the guest. Offsets
 * are bounds-checked, read-only bits stay read-only, BARs that would overlap
 * another range or wrap stay unmapped (logged once per device).
 *
 * All calls run under the machine lock (loop.h).
 */
#ifndef VK_VM_HW_PCI_H
#define VK_VM_HW_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "vm/bus.h"
#include "vm/irq.h"

#define PCI_CFG_SIZE    256
#define PCI_MAX_SLOTS   32
#define PCI_NUM_BARS    6
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc

/* Configuration header offsets and bits (PCI Local Bus 3.0, chapter 6). */
#define PCI_VENDOR_ID            0x00
#define PCI_DEVICE_ID            0x02
#define PCI_COMMAND              0x04
#define PCI_COMMAND_IO           0x1
#define PCI_COMMAND_MEMORY       0x2
#define PCI_COMMAND_MASTER       0x4
#define PCI_COMMAND_SERR         0x100
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS               0x06
#define PCI_STATUS_INTERRUPT     0x8
#define PCI_STATUS_CAP_LIST      0x10
#define PCI_REVISION_ID          0x08
#define PCI_CLASS_PROG           0x09
#define PCI_HEADER_TYPE          0x0e
#define PCI_BASE_ADDRESS_0       0x10
#define PCI_SUBSYSTEM_VENDOR_ID  0x2c
#define PCI_SUBSYSTEM_ID         0x2e
#define PCI_CAPABILITY_LIST      0x34
#define PCI_INTERRUPT_LINE       0x3c
#define PCI_INTERRUPT_PIN        0x3d
#define PCI_CAP_ID_VNDR          0x09
#define PCI_CAP_ID_MSIX          0x11

enum pci_bar_type {
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* takes two BAR slots */
	PCI_BAR_IO,
};

struct pci_device;
struct pci_msix;
struct vm_loop;

struct pci_bar {
	uint64_t size; /* power of two; 0: unused slot */
	enum pci_bar_type type;
	const struct bus_ops *ops; /* offsets relative to the BAR */
	void *opaque;
	bool mapped;
	uint64_t addr; /* where it is mapped, when mapped */
};

/*
 * What the board offers PCI devices beyond the buses: plain MSI delivery,
 * and optionally KVM's shortcuts (NULL members: not available).
 */
struct pci_platform {
	struct msi_target msi;
	struct vm_loop *loop; /* for eventfd handlers */
	int (*ioeventfd)(void *opaque, uint64_t addr, unsigned len, int fd, bool assign);
	int (*msi_route_add)(void *opaque, uint64_t addr, uint32_t data);
	int (*msi_route_update)(void *opaque, unsigned gsi, uint64_t addr, uint32_t data);
	void (*msi_route_del)(void *opaque, unsigned gsi);
	int (*irqfd)(void *opaque, unsigned gsi, int fd, bool assign);
	void *opaque;
};

struct pci_host {
	struct bus *pio, *mmio;
	struct pci_platform platform;
	struct pci_device *devs[PCI_MAX_SLOTS];
	uint32_t config_address;      /* the 0xCF8 register */
	uint64_t mmio_next, mmio_end; /* BAR allocation window */
	uint32_t io_next, io_end;
	/* INTx: a device in slot s, pin INTA..INTD (0-3), gets intx_line(s, pin). */
	struct irq_line (*intx_line)(void *opaque, unsigned slot, unsigned pin);
	void *intx_opaque;
	struct pci_device *bridge;
	/* Optional: the guest wrote RST_CPU to the reset control register (0xCF9). */
	void (*reset)(void *opaque);
	void *reset_opaque;
};

struct pci_device {
	char name[32];
	struct pci_host *host;
	unsigned slot;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may change */
	uint8_t cap_end;             /* next free byte for a capability */
	uint8_t last_cap;            /* offset of the last capability, 0: none */
	struct pci_bar bars[PCI_NUM_BARS];
	struct irq_line intx;
	bool intx_level; /* what the device asks for; masked by INTX_DISABLE */
	bool logged;
	struct pci_msix *msix;
	/* Optional hooks for the device that owns this function. */
	void (*bar_mapped)(struct pci_device *d, unsigned bar); /* mapped, moved or unmapped */
	void (*cfg_written)(struct pci_device *d, uint32_t offset, unsigned size);
	/* Optional: override reads of [offset, offset+size); return false to use cfg[]. */
	bool (*cfg_read)(struct pci_device *d, uint32_t offset, unsigned size, uint32_t *value);
	void *opaque;
};

/*
 * Register the configuration ports on pio and add the host bridge at 00.0.
 * BARs are allocated in [mmio_base, mmio_base + mmio_size) and
 * [io_base, io_base + io_size).
 */
int pci_host_init(struct pci_host *h, struct bus *pio, struct bus *mmio, uint64_t mmio_base,
                  uint64_t mmio_size, uint32_t io_base, uint32_t io_size,
                  struct vk_error *err) VK_MUST_CHECK;
/* Unmap every BAR, unregister the ports. Devices other than the bridge are their owners'. */
void pci_host_destroy(struct pci_host *h);

/* Fill the header of a type-0 function (vendor, device, class = base<<16|sub<<8|progif). */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
                     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
                     uint16_t subsys_id);

/* Declare BAR `bar` (size a power of two >= 16, or >= 4 for I/O). */
int pci_device_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_type type, uint64_t size,
                       const struct bus_ops *ops, void *opaque) VK_MUST_CHECK;

/*
 * Append a capability: body[0] is the capability id; body[1] (next) is
 * filled in. Returns its offset in configuration space, or -ENOSPC. Bytes of
 * the body are read-only unless wmask says otherwise (NULL: all read-only).
 */
int pci_device_add_cap(struct pci_device *d, const uint8_t *body, unsigned len,
                       const uint8_t *wmask) VK_MUST_CHECK;

/*
 * Put d in the first free slot: assign its BARs, wire INTA (when the pin
 * register says it has one), enable decoding. Returns the slot or -errno.
 */
int pci_host_add_device(struct pci_host *h, struct pci_device *d,
                        struct vk_error *err) VK_MUST_CHECK;
/* Unmap d's BARs and free its slot. */
void pci_host_remove_device(struct pci_host *h, struct pci_device *d);

/* Configuration space access as the guest does it (little-endian, size 1, 2 or 4). */
uint32_t pci_cfg_read(struct pci_device *d, uint32_t offset, unsigned size);
void pci_cfg_write(struct pci_device *d, uint32_t offset, uint32_t value, unsigned size);

/* The device's interrupt condition (INTx): asserted unless the guest disabled INTx. */
void pci_set_irq(struct pci_device *d, bool level);

static inline uint16_t pci_get_command(const struct pci_device *d)
{
	return (uint16_t)(d->cfg[PCI_COMMAND] | d->cfg[PCI_COMMAND + 1] << 8);
}

/* ---- saving and restoring ---- */

struct vm_state_buf;
struct vm_state_rd;
struct vm_registry;

/*
 * A function's configuration space, its INTx condition and its MSI-X table and
 * PBA. Load refuses a space whose read-only bytes differ from this function's
 * (another device, or a forged file), takes the writable bits, and maps the
 * BARs and sets INTx as the loaded registers say.
 */
void pci_device_save(struct pci_device *d, struct vm_state_buf *b);
int pci_device_load(struct pci_device *d, struct vm_state_rd *r,
                    struct vk_error *err) VK_MUST_CHECK;
/* The host bridge's own state (the 0xCF8 register) in a machine object (registry.h). */
int pci_host_register(struct pci_host *h, struct vm_registry *reg, const char *name,
                      struct vk_error *err) VK_MUST_CHECK;

/* ---- MSI-X (pci-msix.c) ---- */

/*
 * Give d an MSI-X capability with nr vectors, the table at table_off and the
 * PBA at pba_off inside BAR `bar` (which the caller declares and whose
 * handler forwards those ranges to pci_msix_mmio_read/write).
 */
int pci_msix_init(struct pci_device *d, unsigned nr, unsigned bar, uint32_t table_off,
                  uint32_t pba_off, struct vk_error *err) VK_MUST_CHECK;
void pci_msix_destroy(struct pci_device *d);
bool pci_msix_enabled(const struct pci_device *d);
unsigned pci_msix_nr_vectors(const struct pci_device *d);
/* Signal vector v (or mark it pending while masked). False when MSI-X is off or v invalid. */
bool pci_msix_notify(struct pci_device *d, unsigned v);
/* Table and PBA accesses; offsets relative to the table / PBA start. */
uint64_t pci_msix_table_read(struct pci_device *d, uint64_t offset, unsigned size);
void pci_msix_table_write(struct pci_device *d, uint64_t offset, uint64_t value, unsigned size);
uint64_t pci_msix_pba_read(struct pci_device *d, uint64_t offset, unsigned size);
/* The capability's control word was written: re-evaluate masks. */
void pci_msix_cfg_written(struct pci_device *d);
/*
 * Return once every message signalled so far reached the interrupt controller.
 * An irqfd's message is injected by the kernel, possibly later from a worker:
 * taking the irqfd off waits for that, and it is put back at once. Before a save.
 */
void pci_msix_flush(struct pci_device *d);
/* The table and the PBA (pci_device_save/load call these). */
void pci_msix_save(struct pci_device *d, struct vm_state_buf *b);
int pci_msix_load(struct pci_device *d, struct vm_state_rd *r, struct vk_error *err) VK_MUST_CHECK;

#endif
