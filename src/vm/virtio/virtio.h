/* SPDX-License-Identifier: MIT */
/*
 * The virtio device core: the contract between virtio devices (blk, net,
 * console, rng), the transports (virtio-mmio, virtio-pci) and the virtqueues.
 *
 *   device  --ops table-->  core  <--calls--  transport (registers)
 *   device  --virtq API-->  core  --transport callbacks--> interrupt
 *
 * A device embeds a struct virtio_dev, fills a static const struct
 * virtio_dev_ops and calls virtio_dev_init(). It sees guest memory only
 * through the virtqueue API (which uses vm_mem_translate()) and never sees an
 * interrupt: virtq_notify() and virtio_dev_config_changed() set the ISR bits
 * and call the transport, which raises a level line (mmio: InterruptStatus /
 * InterruptACK), an INTx pin or an MSI-X vector (pci). No device knows which
 * transport or CPU backend is behind it.
 *
 * Threading: every call here, in either direction, runs under the machine
 * lock (see loop.h). The guest is not bound by that lock: vCPU threads (KVM)
 * write rings concurrently, so the virtqueue code reads and writes ring
 * indices with acquire/release atomics and copies each descriptor once before
 * looking at it.
 *
 * Trust: every value the driver writes (registers, rings, descriptors) is
 * hostile. What the core does with each kind of malformed input is documented
 * in virtqueue.c and summarised at virtq_pop() below. The VMM never crashes,
 * never touches memory outside guest RAM, and logs at most once per device.
 */
#ifndef VK_VM_VIRTIO_H
#define VK_VM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/compiler.h"
#include "vm/mem.h"
#include "vm/virtio/virtio-spec.h"

#define VIRTIO_MAX_QUEUES 8
/* Largest queue_max_size a device may offer; also the longest chain accepted. */
#define VIRTQ_MAX_SIZE 1024

/* Offered by every device, in addition to its own feature bits. */
#define VIRTIO_CORE_FEATURES                                                \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX) | \
	 (1ull << VIRTIO_F_INDIRECT_DESC))

struct virtio_dev;
struct vm_state_buf;
struct vm_state_rd;

/* ---- the device side: one static const table per device type ---------- */

struct virtio_dev_ops {
	const char *name;        /* "virtio-blk", for messages */
	uint32_t device_id;      /* VIRTIO_ID_* */
	unsigned num_queues;     /* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_max_size; /* power of two, <= VIRTQ_MAX_SIZE */
	/*
	 * Device-specific feature bits always offered. The constructor may add
	 * option-dependent bits to dev->host_features after virtio_dev_init()
	 * and before a transport is attached.
	 */
	uint64_t features;
	uint32_t config_size; /* bytes of device configuration space */

	/* Copy config bytes [offset, offset+len); the core checked the bounds. */
	void (*config_read)(struct virtio_dev *dev, uint32_t offset, void *buf, uint32_t len);
	/* Optional: a driver write to config space (bounds checked). */
	void (*config_write)(struct virtio_dev *dev, uint32_t offset, const void *buf,
	                     uint32_t len);
	/*
	 * The driver notified queue q. Only called while DRIVER_OK is set, q is
	 * ready and the device does not need a reset. Also called once for
	 * every ready queue when DRIVER_OK becomes set (kicks sent earlier).
	 */
	void (*queue_notify)(struct virtio_dev *dev, unsigned q);
	/* Optional: forget device-specific state; the core state is already reset. */
	void (*reset)(struct virtio_dev *dev);
	/* Free the device and its backend (virtio_dev_destroy()). */
	void (*destroy)(struct virtio_dev *dev);

	/*
	 * Saving and restoring (virtio-state.c), all optional. quiesce: finish every
	 * request in flight (pushed to the used ring) before the state is taken.
	 * save/load: the device's own state after the core's, in version
	 * state_version (load refuses a newer one). post_load: once guest RAM is
	 * back, take up again the chains the device held (virtq_elem_reload()).
	 */
	uint32_t state_version;
	void (*quiesce)(struct virtio_dev *dev);
	void (*save)(struct virtio_dev *dev, struct vm_state_buf *b);
	int (*load)(struct virtio_dev *dev, struct vm_state_rd *r, uint32_t version,
	            struct vk_error *err);
	int (*post_load)(struct virtio_dev *dev, struct vk_error *err);
	/* Optional: a migration's switchover: let go of (take false) or take (take true) the
	 * host resources the other machine process needs, such as a disk image's lock. */
	int (*handover)(struct virtio_dev *dev, bool take, struct vk_error *err);
	/* Optional (disks): put a new qcow2 image at path over the disk's image, which the
	 * guest writes no more (registry.h, disk_overlay). Machine lock held, CPUs stopped. */
	int (*disk_overlay)(struct virtio_dev *dev, const char *path, struct vk_error *err);
};

/* ---- the transport side: how the core raises interrupts --------------- */

struct virtio_transport_ops {
	/*
	 * A used buffer was added to queue q and the driver asked to hear about
	 * it. The core has already set VIRTIO_ISR_QUEUE in dev->isr. mmio: raise
	 * the line; pci: send the queue's MSI-X vector, or raise INTx.
	 */
	void (*notify_queue)(void *opaque, struct virtio_dev *dev, unsigned q);
	/*
	 * The configuration changed (or DEVICE_NEEDS_RESET was set). The core has
	 * already bumped the generation and set VIRTIO_ISR_CONFIG.
	 */
	void (*notify_config)(void *opaque, struct virtio_dev *dev);
	/*
	 * Optional: the device was reset (the driver wrote status 0, or the
	 * board called virtio_reset()); the ISR is 0 now. Lower the interrupt
	 * and forget transport-only registers (feature selects, ...).
	 */
	void (*reset)(void *opaque, struct virtio_dev *dev);
};

/* The driver's three areas of a split virtqueue. */
enum virtq_area {
	VIRTQ_AREA_DESC,   /* descriptor table */
	VIRTQ_AREA_DRIVER, /* available ring */
	VIRTQ_AREA_DEVICE, /* used ring */
};

struct virtq {
	struct virtio_dev *dev;
	unsigned index;

	/* Configured by the driver through the transport while !ready. */
	uint16_t num_max; /* what the device offers (QueueNumMax) */
	uint16_t num;     /* what the driver chose (QueueNum), defaults to num_max */
	bool ready;
	uint64_t addr[3]; /* guest-physical, indexed by enum virtq_area */
	uint16_t vector;  /* MSI-X vector (pci), VIRTIO_MSI_NO_VECTOR by default */

	/* Valid while ready: host views of the areas, translated once. */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail_idx; /* next avail ring entry the device reads */
	uint16_t used_idx;       /* host copy of used->idx (the guest may scribble on it) */
	uint16_t signalled_used; /* used_idx at the last interrupt decision */
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct vm_mem *mem;

	uint64_t host_features;   /* offered: VIRTIO_CORE_FEATURES | ops->features | options */
	uint64_t driver_features; /* written by the driver; frozen once FEATURES_OK is set */
	uint8_t status;           /* VIRTIO_STATUS_* */
	uint8_t isr;              /* VIRTIO_ISR_* bits pending */
	uint32_t config_generation;
	uint16_t config_vector; /* MSI-X vector for config changes (pci) */
	uint16_t queue_sel;     /* QueueSel / queue_select, kept here for both transports */
	bool broken;            /* DEVICE_NEEDS_RESET set: no queue runs until reset */
	bool logged;            /* vk_log_once flag: one guest-caused line per device */

	const struct virtio_transport_ops *transport;
	void *transport_opaque;

	struct virtq vqs[VIRTIO_MAX_QUEUES];
};

/* ---- device lifecycle and device-facing calls -------------------------- */

/* Fill dev from ops (features, queue sizes) in reset state. */
void virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
                     const struct vm_mem *mem);
/* ops->destroy(dev); NULL is accepted. The transport must be gone first. */
void virtio_dev_destroy(struct virtio_dev *dev);

static inline const char *virtio_dev_name(const struct virtio_dev *dev)
{
	return dev->ops->name;
}

/* Was feature bit `bit` negotiated (offered and accepted)? */
static inline bool virtio_dev_has_feature(const struct virtio_dev *dev, unsigned bit)
{
	return bit < 64 && (dev->driver_features & dev->host_features & (1ull << bit));
}

static inline bool virtio_dev_driver_ok(const struct virtio_dev *dev)
{
	return (dev->status & VIRTIO_STATUS_DRIVER_OK) && !dev->broken;
}

/* Queue q, or NULL when the device has no such queue. */
struct virtq *virtio_dev_queue(struct virtio_dev *dev, unsigned q);

/* The device changed its configuration: bump the generation, interrupt. */
void virtio_dev_config_changed(struct virtio_dev *dev);

/*
 * The driver broke the protocol badly enough that the device cannot go on
 * (2.1.1): set DEVICE_NEEDS_RESET, stop every queue (virtq_pop() returns
 * -EIO) and, if DRIVER_OK was set, send a config-change interrupt. Logs the
 * reason once per device. Only a reset (status 0) clears it.
 */
void virtio_dev_needs_reset(struct virtio_dev *dev, const char *fmt, ...) VK_PRINTF(2, 3);

/* Log a guest-caused problem, at most once per device (warning level). */
void virtio_dev_guest_error(struct virtio_dev *dev, const char *fmt, ...) VK_PRINTF(2, 3);

/* ---- transport-facing calls (register reads and writes) ---------------- */

void virtio_dev_attach_transport(struct virtio_dev *dev, const struct virtio_transport_ops *ops,
                                 void *opaque);

/* Feature windows: sel 0 is bits 0-31, sel 1 bits 32-63, others read 0. */
uint32_t virtio_read_device_features(const struct virtio_dev *dev, uint32_t sel);
uint32_t virtio_read_driver_features(const struct virtio_dev *dev, uint32_t sel);
/* Ignored once FEATURES_OK is set (3.1.1). */
void virtio_write_driver_features(struct virtio_dev *dev, uint32_t sel, uint32_t value);

/*
 * Device status. Writing 0 resets the device (queues, features, ISR, vectors,
 * then ops->reset); the transport lowers its interrupt afterwards. Setting
 * FEATURES_OK keeps it only when the driver's features are a subset of the
 * offered ones and include VIRTIO_F_VERSION_1 (the driver reads it back).
 * Bits cannot be cleared except by reset; DEVICE_NEEDS_RESET is device-owned.
 * Setting DRIVER_OK calls ops->queue_notify for each ready queue.
 */
uint8_t virtio_get_status(const struct virtio_dev *dev);
void virtio_set_status(struct virtio_dev *dev, uint8_t status);
void virtio_reset(struct virtio_dev *dev);

/*
 * Queue configuration by index (transports pass dev->queue_sel). An index
 * the device does not have reads 0 and ignores writes. num, addresses and
 * vector writes are ignored while the queue is ready (the driver must not
 * change a live queue). virtio_queue_set_ready(true) validates the layout
 * (num a power of two <= num_max; each area aligned and entirely in RAM);
 * when it is invalid the queue stays not ready and the device needs a reset.
 */
uint16_t virtio_queue_num_max(const struct virtio_dev *dev, unsigned q);
uint16_t virtio_queue_get_num(const struct virtio_dev *dev, unsigned q);
void virtio_queue_set_num(struct virtio_dev *dev, unsigned q, uint16_t num);
bool virtio_queue_get_ready(const struct virtio_dev *dev, unsigned q);
void virtio_queue_set_ready(struct virtio_dev *dev, unsigned q, bool ready);
uint64_t virtio_queue_get_addr(const struct virtio_dev *dev, unsigned q, enum virtq_area area);
void virtio_queue_set_addr(struct virtio_dev *dev, unsigned q, enum virtq_area area, uint64_t addr);
/* 32-bit halves, for registers such as QueueDescLow/High. */
uint32_t virtio_queue_read_addr32(const struct virtio_dev *dev, unsigned q, enum virtq_area area,
                                  bool high);
void virtio_queue_write_addr32(struct virtio_dev *dev, unsigned q, enum virtq_area area, bool high,
                               uint32_t value);
/* MSI-X vectors, only stored (pci). */
uint16_t virtio_queue_get_vector(const struct virtio_dev *dev, unsigned q);
void virtio_queue_set_vector(struct virtio_dev *dev, unsigned q, uint16_t vector);

/*
 * The driver notified queue q (QueueNotify write, or an ioeventfd handler).
 * Out-of-range or not-ready queues and notifications before DRIVER_OK are
 * ignored.
 */
void virtio_queue_notify(struct virtio_dev *dev, unsigned q);

/*
 * Device configuration space, little-endian, size 1, 2, 4 or 8. Accesses
 * outside config_size read 0 and are ignored.
 */
uint64_t virtio_config_read(struct virtio_dev *dev, uint32_t offset, unsigned size);
void virtio_config_write(struct virtio_dev *dev, uint32_t offset, unsigned size, uint64_t value);
uint32_t virtio_config_generation(const struct virtio_dev *dev);

/* ISR: pci reads and clears it; mmio reads InterruptStatus and writes InterruptACK. */
uint8_t virtio_isr_read_clear(struct virtio_dev *dev);
void virtio_isr_ack(struct virtio_dev *dev, uint8_t bits);
static inline uint8_t virtio_isr_get(const struct virtio_dev *dev)
{
	return dev->isr;
}

/* ---- the virtqueue API devices use ------------------------------------- */

/*
 * One available descriptor chain, as host iovecs. The device-readable part
 * comes first (rd[0..rd_num)), the device-writable part after it
 * (wr[0..wr_num)), both pointing into guest RAM. Zero-length descriptors are
 * left out. Large (16 KiB): devices keep one in their state, not on the stack.
 */
struct virtq_elem {
	uint16_t head; /* what virtq_push() hands back to the driver */
	/*
	 * 0, or -errno when the chain was malformed (see virtq_pop()). Then
	 * rd/wr hold only the descriptors that were valid; the device must fail
	 * the request and push it (blk: status IOERR through tail_writable).
	 */
	int error;
	/* The chain's last descriptor is device-writable, in RAM, non-empty,
	 * and is wr[wr_num - 1]: its last byte can carry a status. */
	bool tail_writable;
	unsigned rd_num, wr_num;
	uint32_t rd_len, wr_len; /* total bytes of each part */
	struct iovec *rd, *wr;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/*
 * Take the next available chain.
 * Returns 1 with *elem filled, 0 when the ring is empty (or the queue is not
 * running), -EIO when the device needs a reset (stop using the queue).
 *
 * Rules for a hostile driver:
 *   avail idx ahead of the device by more than num, head index >= num
 *     -> DEVICE_NEEDS_RESET (there is no chain one could complete), -EIO.
 *   a chain that loops or is longer than num (or its indirect table),
 *   next index >= num, an indirect descriptor inside an indirect table or
 *   together with NEXT in one, an indirect table that is empty, not a
 *   multiple of 16 bytes, longer than VIRTQ_MAX_SIZE entries or not in RAM,
 *   a buffer not entirely in RAM, a readable descriptor after a writable one,
 *   part lengths whose sum exceeds 32 bits
 *     -> returns 1 with elem->error set: the request fails, the queue goes on.
 * Each case logs once per device.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem) VK_MUST_CHECK;

/* Complete a chain: used element {head, len}, then publish used->idx. */
void virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t len);

/*
 * Interrupt the driver if it wants to hear about the buffers pushed since
 * the last interrupt: honours VIRTIO_F_RING_EVENT_IDX (used_event) or else
 * VIRTQ_AVAIL_F_NO_INTERRUPT. Call after one or several virtq_push().
 */
void virtq_notify(struct virtq *vq);

/* True when the driver has made a chain available that was not popped yet. */
bool virtq_has_avail(struct virtq *vq);

/* Write status into the chain's last byte (tail_writable); bytes written: 1 or 0. */
uint32_t virtq_elem_set_status(const struct virtq_elem *elem, uint8_t status);

/*
 * The chain at head again, as virtq_pop() took it (a restored device takes up
 * a chain it held when the state was saved; guest RAM is back). -EINVAL when
 * the queue is not running or head is out of range; elem->error as for pop.
 */
int virtq_elem_reload(struct virtq *vq, uint16_t head, struct virtq_elem *elem) VK_MUST_CHECK;

/* ---- saving and restoring (virtio-state.c) --------------------------------- */

/* ops->quiesce: every request in flight finished; the transport's registry quiesce op
 * calls it (before any record is saved), then sees the interrupts delivered. */
void virtio_dev_quiesce(struct virtio_dev *dev);
/*
 * The core's state (features, status, ISR, config generation, vectors, every
 * queue's layout and indexes) and then the device's own (ops->save).
 * Transports call these inside their registry record.
 */
void virtio_dev_save(struct virtio_dev *dev, struct vm_state_buf *b);
/* Refuses a state of another device type, other offered features, a ready queue
 * whose layout is not valid in this machine's RAM. */
int virtio_dev_load(struct virtio_dev *dev, struct vm_state_rd *r,
                    struct vk_error *err) VK_MUST_CHECK;
/* ops->post_load, then every running queue is looked at once (a kick the guest
 * sent just before the save may have gone to the old process). */
int virtio_dev_post_load(struct virtio_dev *dev, struct vk_error *err) VK_MUST_CHECK;

#endif
