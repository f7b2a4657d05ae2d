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

#include "../unit/virtio/fake-chardev.h"
#include "common/log.h"
#include "fuzz-common.h"
#include "fuzz.h"
#include "vm/backend/net.h"
#include "vm/bus.h"
#include "vm/mem.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/virtio.h"

#define MAX_OPS      512
#define QUEUE_STRIDE 0x400 /* queue q: desc at q*0x400, avail +0x100, used +0x200 */

static struct {
	bool ready;
	struct vm_mem mem;
	struct bus bus;
	uint8_t *ram;
	struct fz_disk disk;
} fz;

static void setup_once(void)
{
	vk_log_set_level(VK_LOG_ERROR); /* guest errors are warnings: keep the fuzzer quiet */
	fz.ram = fz_guarded_ram(FUZZ_RAM_SIZE);
	vm_mem_init(&fz.mem);
	fz.mem.nr = 1;
	fz.mem.regions[0] = (struct vm_mem_region){.gpa = 0, .size = FUZZ_RAM_SIZE, .host = fz.ram};
	bus_init(&fz.bus, "mmio");
	fz_disk_init(&fz.disk);
	fz.ready = true;
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

static void run_script(struct fz_reader *r, struct virtio_dev *dev, unsigned kind, uint16_t num)
{
	for (unsigned n = 0; n < MAX_OPS && r->left; n++) {
		uint8_t op = fz_get8(r);

		switch (op % 8) {
		case 0: { /* register or config write, any size and offset */
			uint8_t a = fz_get8(r), b = fz_get8(r);
			uint64_t off = ((uint64_t)(a & 1) << 8 | b) % VIRTIO_MMIO_SIZE;

			bus_write(&fz.bus, FUZZ_MMIO_BASE + off, 1u << ((a >> 1) & 3), fz_get32(r));
			break;
		}
		case 1: { /* register or config read */
			uint8_t a = fz_get8(r), b = fz_get8(r);
			uint64_t v;

			bus_read(&fz.bus, FUZZ_MMIO_BASE + (((uint64_t)(a & 1) << 8 | b)),
			         1u << ((a >> 1) & 3), &v);
			break;
		}
		case 2: /* kick */
			wr32(VIRTIO_MMIO_QUEUE_NOTIFY, fz_get8(r) % 3);
			break;
		case 3: { /* poke guest memory */
			uint16_t off = (uint16_t)(fz_get8(r) | fz_get8(r) << 8);
			unsigned len = fz_get8(r) % 17;

			for (unsigned i = 0; i < len; i++)
				fz.ram[(off + i) % FUZZ_RAM_SIZE] = fz_get8(r);
			break;
		}
		case 4: { /* a driver pushes a head and kicks */
			uint8_t q = fz_get8(r) % 2;

			push_avail(q, num, fz_get8(r));
			wr32(VIRTIO_MMIO_QUEUE_NOTIFY, q);
			break;
		}
		case 5: /* acknowledge interrupts */
			wr32(VIRTIO_MMIO_INTERRUPT_ACK, fz_get8(r));
			break;
		case 6: { /* console input, or the host side of console output */
			uint8_t buf[32];
			uint8_t a = fz_get8(r);
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
				buf[i] = fz_get8(r);
			if (c)
				fake_chardev_input(c, buf, len);
			break;
		}
		default: { /* reset, and maybe bring up again (same queue size) */
			uint8_t again = fz_get8(r);

			wr32(VIRTIO_MMIO_STATUS, 0);
			if (again & 1)
				bringup(dev, (uint8_t)((again & 0x7e) | (num == 8 ? 0x80 : 0)));
			break;
		}
		}
	}
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};
	struct virtio_dev *dev;
	struct virtio_mmio *mmio;
	unsigned kind;
	uint8_t choice;
	size_t len;

	if (!fz.ready)
		setup_once();
	kind = fz_get8(&r) % 4;
	choice = fz_get8(&r);
	len = fz_get8(&r);
	len |= (size_t)fz_get8(&r) << 8;
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

/* A few inputs of our own, so the harness runs even without a corpus. */
static const uint8_t builtin0[] = {0};
static const uint8_t builtin1[] = {1, 3, 0, 0, 2, 0, 2, 1};
static const uint8_t builtin2[] = {2, 0xff, 0, 0, 6, 5, 'a'};
static const uint8_t builtin3[] = {3, 1, 0, 0, 7, 1, 2, 0};

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)},
        {builtin1, sizeof(builtin1)},
        {builtin2, sizeof(builtin2)},
        {builtin3, sizeof(builtin3)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "virtio";
