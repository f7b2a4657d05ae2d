/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng: 64 bytes of entropy, over virtio-pci with MSI-X, or over
 * virtio-mmio when the VMM put virtio_mmio.device=SIZE@BASE:IRQ on the command
 * line (then the interrupt comes through the IOAPIC, level-triggered as the
 * MP table says).
 */
#include "pvh.h"
#include "virtio.h"

#define VEC 0x40

static struct vq q0 __attribute__((aligned(4096)));
static uint8_t entropy[64];

void guest_main(void)
{
	struct vbuf b = {entropy, sizeof(entropy), true};
	const char *p = strstr(guest_cmdline, "virtio_mmio.device=");
	unsigned irq = 0, v, distinct = 0;
	uint32_t id, len;
	struct vdev d;

	idt_init();
	lapic_init();
	if (p) {
		uint64_t base;

		parse_dec(p + 19, &p); /* size */
		CHECK(*p == '@', "malformed virtio_mmio.device= parameter");
		base = parse_hex(p + 1, &p);
		CHECK(*p == ':', "malformed virtio_mmio.device= parameter");
		irq = (unsigned)parse_dec(p + 1, 0);
		printf("virtio-mmio device at %lx, irq %u\n", base, irq);
		vdev_mmio_init(&d, base, 4, 0);
		ioapic_route(irq, VEC, true);
	} else {
		int slot = pci_find(0x1af4, 0x1044);

		CHECK(slot >= 0, "no virtio-rng PCI function (1af4:1044)");
		printf("virtio-rng in slot %d\n", slot);
		vdev_pci_init(&d, (unsigned)slot, 0, VEC);
	}
	vdev_setup_queue(&d, 0, &q0);
	vdev_driver_ok(&d);
	vq_submit(&d, 0, &b, 1);
	v = wait_irq_timeout(2000, "the virtio-rng completion");
	CHECK(v == VEC, "interrupt vector %u, want %u", v, VEC);
	if (irq)
		CHECK(vdev_ack_interrupt(&d) & 1, "InterruptStatus lacks the used-buffer bit");
	lapic_eoi();
	CHECK(vq_used(&d, 0, &id, &len), "interrupt without a used buffer");
	CHECK(len == sizeof(entropy), "got %u bytes of entropy, asked %u", len,
	      (unsigned)sizeof(entropy));
	for (unsigned i = 0; i < sizeof(entropy); i++)
		if (entropy[i] != entropy[0])
			distinct++;
	CHECK(distinct > 0, "the entropy bytes are all equal");
	printf("virtio-rng: %u bytes over %s: %02x%02x%02x%02x...\n", len,
	       irq ? "virtio-mmio" : "virtio-pci", entropy[0], entropy[1], entropy[2], entropy[3]);
}
