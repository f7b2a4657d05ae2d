/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over virtio-pci with MSI-X: read sector 0 (the host test wrote a
 * marker there), write sector 1, read it back, flush. Every completion must
 * arrive as the queue's MSI-X interrupt. The host test then checks sector 1 of
 * the image file. Last, an i8042 self-test answers on IRQ 1 through the IOAPIC:
 * the VMM replaced KVM's GSI routing table for the MSI-X irqfds, and the
 * legacy routes must have survived that.
 */
#include "pvh.h"
#include "virtio.h"

#define VIRTIO_BLK_F_FLUSH 9
#define T_IN               0
#define T_OUT              1
#define T_FLUSH            4
#define VEC                0x40

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct vq q0 __attribute__((aligned(4096)));
static struct blk_req req;
static uint8_t buf[512], status;

static void request(struct vdev *d, uint32_t type, uint64_t sector, bool with_data)
{
	struct vbuf b[3] = {{&req, sizeof(req), false}};
	unsigned n = 1, v;
	uint32_t id, len;

	req = (struct blk_req){type, 0, sector};
	status = 0xff;
	if (with_data)
		b[n++] = (struct vbuf){buf, sizeof(buf), type == T_IN};
	b[n++] = (struct vbuf){&status, 1, true};
	vq_submit(d, 0, b, n);
	v = wait_irq_timeout(2000, "a virtio-blk completion");
	CHECK(v == VEC, "interrupt vector %u, want the queue's MSI-X vector %u", v, VEC);
	lapic_eoi();
	CHECK(vq_used(d, 0, &id, &len), "interrupt without a used buffer");
	CHECK(status == 0, "request type %u sector %lu: status %u", type, sector, status);
}

void guest_main(void)
{
	static const char marker[] = "VIRTKIT-DISK-SECTOR-0";
	static const char text[] = "written by the x86_64 test guest";
	struct vdev d;
	int slot;

	idt_init();
	lapic_init();
	slot = pci_find(0x1af4, 0x1042);
	CHECK(slot >= 0, "no virtio-blk PCI function (1af4:1042)");
	vdev_pci_init(&d, (unsigned)slot, 1u << VIRTIO_BLK_F_FLUSH, VEC);
	printf("virtio-blk in slot %d, capacity %u sectors\n", slot, vdev_cfg32(&d, 0));
	vdev_setup_queue(&d, 0, &q0);
	vdev_driver_ok(&d);

	request(&d, T_IN, 0, true);
	CHECK(!memcmp(buf, marker, sizeof(marker) - 1), "sector 0 does not hold the marker");
	printf("sector 0: %s\n", (const char *)buf);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	memcpy(buf, text, sizeof(text));
	request(&d, T_OUT, 1, true);
	memset(buf, 0, sizeof(buf));
	request(&d, T_IN, 1, true);
	CHECK(!memcmp(buf, text, sizeof(text)), "sector 1 read back differs");
	for (unsigned i = sizeof(text); i < sizeof(buf); i++)
		CHECK(buf[i] == (uint8_t)i, "sector 1 byte %u differs", i);
	request(&d, T_FLUSH, 0, false);
	puts_serial("virtio-blk: write, read back and flush done with MSI-X\n");

	ioapic_route(1, 0x31, false);
	outb(0x64, 0xaa); /* controller self-test: 0x55 arrives with IRQ 1 */
	CHECK(wait_irq_timeout(2000, "the i8042 on IRQ 1") == 0x31, "wrong vector for IRQ 1");
	CHECK(inb(0x60) == 0x55, "i8042 self-test failed");
	lapic_eoi();
	puts_serial("IRQ 1 through the IOAPIC still works next to MSI-X routes\n");
}
