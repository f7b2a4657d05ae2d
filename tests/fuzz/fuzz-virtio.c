/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the virtio core: split virtqueues, the mmio transport
 * and the blk / net (echo) / console / rng devices, driven by a hostile
 * guest whose RAM and register writes come from the fuzz input.
 *
 * Guest RAM is one region at guest-physical 0, mapped between two
 * PROT_NONE guard pages so that any host access outside it faults at once.
 */
#include "fuzz-virtio.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../unit/virtio/fake-chardev.h"
#include "common/log.h"
#include "vm/backend/block.h"
#include "vm/backend/net.h"
#include "vm/bus.h"
#include "vm/mem.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/virtio.h"

#define DISK_SIZE    (64 * 512)
#define MAX_OPS      512
#define QUEUE_STRIDE 0x400 /* queue q: desc at q*0x400, avail +0x100, used +0x200 */

struct mem_disk {
	struct block_backend be;
	uint8_t data[DISK_SIZE];
};

static struct {
	bool ready;
	struct vm_mem mem;
	struct bus bus;
	uint8_t *ram;
	struct mem_disk disk;
} fz;

/* ---- an in-memory block backend: no file I/O while fuzzing ---- */

static int disk_rw(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off,
                   bool write)
{
	struct mem_disk *d = container_of(be, struct mem_disk, be);

	for (unsigned i = 0; i < n; i++) {
		if (off > DISK_SIZE || iov[i].iov_len > DISK_SIZE - off)
			abort(); /* the device must have checked the range */
		if (write)
			memcpy(d->data + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, d->data + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return 0;
}

static int disk_readv(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off)
{
	return disk_rw(be, iov, n, off, false);
}

static int disk_writev(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off)
{
	return disk_rw(be, iov, n, off, true);
}

static int disk_flush(struct block_backend *be)
{
	return 0;
}

static void disk_close(struct block_backend *be)
{
}

static const struct block_backend_ops disk_ops = {
        .readv = disk_readv,
        .writev = disk_writev,
        .flush = disk_flush,
        .close = disk_close,
};

static void setup_once(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *map;

	vk_log_set_level(VK_LOG_ERROR); /* guest errors are warnings: keep the fuzzer quiet */
	map = mmap(NULL, FUZZ_RAM_SIZE + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + page, FUZZ_RAM_SIZE, PROT_READ | PROT_WRITE))
		abort();
	fz.ram = map + page;
	vm_mem_init(&fz.mem);
	fz.mem.nr = 1;
	fz.mem.regions[0] = (struct vm_mem_region){.gpa = 0, .size = FUZZ_RAM_SIZE, .host = fz.ram};
	bus_init(&fz.bus, "mmio");
	fz.disk.be = (struct block_backend){.ops = &disk_ops, .path = "fuzz", .size = DISK_SIZE};
	fz.ready = true;
}

/* ---- the input reader ---- */

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t get8(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static uint32_t get32(struct reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)get8(r) << (8 * i);
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	bus_write(&fz.bus, FUZZ_MMIO_BASE + off, 4, v);
}

static uint32_t rd32(uint64_t off)
{
	uint64_t v = 0;

	bus_read(&fz.bus, FUZZ_MMIO_BASE + off, 4, &v);
	return (uint32_t)v;
}

static struct virtio_dev *make_device(unsigned kind)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	switch (kind) {
	case 0:
		fz.disk.be.readonly = false;
		return virtio_blk_create(&fz.mem, &fz.disk.be, "fuzz", NULL);
	case 1:
		return virtio_net_create(&fz.mem, net_echo_open(NULL), mac, NULL);
	case 2:
		return virtio_console_create(&fz.mem, chardev_open(NULL, "fake", NULL), NULL);
	default:
		return virtio_rng_create(&fz.mem, NULL);
	}
}

/* The usual driver bring-up, with features and queue sizes from the input. */
static void bringup(struct virtio_dev *dev, uint8_t choice)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1);
	uint16_t num = (choice & 0x80) ? 8 : 16;

	if (choice & 1)
		want |= 1ull << VIRTIO_F_RING_EVENT_IDX;
	if (choice & 2)
		want |= 1ull << VIRTIO_F_INDIRECT_DESC;
	/* Device-specific bits: any offered ones, by a mask from the input. */
	want |= dev->host_features & 0xffffffull & ((uint64_t)(choice >> 2) * 0x041041ull);
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
	wr32(VIRTIO_MMIO_STATUS,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < dev->ops->num_queues; q++) {
		uint64_t base = (uint64_t)q * QUEUE_STRIDE;

		wr32(VIRTIO_MMIO_QUEUE_SEL, q);
		wr32(VIRTIO_MMIO_QUEUE_NUM, num);
		wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
		wr32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + 0x100));
		wr32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + 0x200));
		wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr32(VIRTIO_MMIO_STATUS, rd32(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* Driver-side: publish head in queue q's avail ring and bump its index. */
static void push_avail(unsigned q, uint16_t num, uint16_t head)
{
	uint8_t *avail = fz.ram + (uint64_t)q * QUEUE_STRIDE + 0x100;
	uint16_t idx;

	memcpy(&idx, avail + 2, 2);
	memcpy(avail + 4 + 2 * (idx % num), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(void *)(avail + 2), idx, __ATOMIC_RELEASE);
}

static void run_script(struct reader *r, struct virtio_dev *dev, unsigned kind, uint16_t num)
{
	for (unsigned n = 0; n < MAX_OPS && r->left; n++) {
		uint8_t op = get8(r);

		switch (op % 8) {
		case 0: { /* register or config write, any size and offset */
			uint8_t a = get8(r), b = get8(r);
			uint64_t off = ((uint64_t)(a & 1) << 8 | b) % VIRTIO_MMIO_SIZE;

			bus_write(&fz.bus, FUZZ_MMIO_BASE + off, 1u << ((a >> 1) & 3), get32(r));
			break;
		}
		case 1: { /* register or config read */
			uint8_t a = get8(r), b = get8(r);
			uint64_t v;

			bus_read(&fz.bus, FUZZ_MMIO_BASE + (((uint64_t)(a & 1) << 8 | b)),
			         1u << ((a >> 1) & 3), &v);
			break;
		}
		case 2: /* kick */
			wr32(VIRTIO_MMIO_QUEUE_NOTIFY, get8(r) % 3);
			break;
		case 3: { /* poke guest memory */
			uint16_t off = (uint16_t)(get8(r) | get8(r) << 8);
			unsigned len = get8(r) % 17;

			for (unsigned i = 0; i < len; i++)
				fz.ram[(off + i) % FUZZ_RAM_SIZE] = get8(r);
			break;
		}
		case 4: { /* a driver pushes a head and kicks */
			uint8_t q = get8(r) % 2;

			push_avail(q, num, get8(r));
			wr32(VIRTIO_MMIO_QUEUE_NOTIFY, q);
			break;
		}
		case 5: /* acknowledge interrupts */
			wr32(VIRTIO_MMIO_INTERRUPT_ACK, get8(r));
			break;
		case 6: { /* console input, or the host side of console output */
			uint8_t buf[32];
			uint8_t a = get8(r);
			unsigned len = a % sizeof(buf);
			struct chardev *c = kind == 2 ? fake_chardev_last() : NULL;

			if (a & 0x80) {
				/* The reader drains what it got and lets (a & 0x3f) * 8
				 * more bytes in (0: none, a full queue), maybe
				 * disconnecting in the middle of the next write. */
				if (c) {
					c->out_len = 0;
					c->limited = true;
					c->reenter = a & 0x40;
					fake_chardev_give_room(c, (a & 0x3fu) * 8);
				}
				break;
			}
			for (unsigned i = 0; i < len; i++)
				buf[i] = get8(r);
			if (c)
				fake_chardev_input(c, buf, len);
			break;
		}
		default: { /* reset, and maybe bring up again (same queue size) */
			uint8_t again = get8(r);

			wr32(VIRTIO_MMIO_STATUS, 0);
			if (again & 1)
				bringup(dev, (uint8_t)((again & 0x7e) | (num == 8 ? 0x80 : 0)));
			break;
		}
		}
	}
}

int vk_fuzz_virtio_one(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	struct virtio_dev *dev;
	struct virtio_mmio *mmio;
	unsigned kind;
	uint8_t choice;
	size_t len;

	if (!fz.ready)
		setup_once();
	kind = get8(&r) % 4;
	choice = get8(&r);
	len = get8(&r);
	len |= (size_t)get8(&r) << 8;
	len = VK_MIN(len, r.left);
	memset(fz.ram, 0, FUZZ_RAM_SIZE);
	memcpy(fz.ram, r.p, len);
	r.p += len;
	r.left -= len;

	dev = make_device(kind);
	if (!dev)
		abort();
	mmio = virtio_mmio_create(&fz.bus, FUZZ_MMIO_BASE, (struct irq_line){0}, dev, NULL);
	if (!mmio)
		abort();
	bringup(dev, choice);
	run_script(&r, dev, kind, (choice & 0x80) ? 8 : 16);
	virtio_mmio_destroy(mmio);
	virtio_dev_destroy(dev);
	return 0;
}
