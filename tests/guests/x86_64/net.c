/* SPDX-License-Identifier: MIT */
/*
 * virtio-net over virtio-pci with MSI-X against the `echo` backend: one frame
 * out on the transmit queue, the same frame back (MAC addresses swapped) on
 * the receive queue.
 */
#include "pvh.h"
#include "virtio.h"

#define VIRTIO_NET_F_MAC 5
#define VEC              0x40
#define HDR              12 /* struct virtio_net_hdr with VERSION_1 */

static struct vq rxq __attribute__((aligned(4096)));
static struct vq txq __attribute__((aligned(4096)));
static uint8_t rxbuf[HDR + 1514], txbuf[HDR + 64];

void guest_main(void)
{
	static const uint8_t peer[6] = {0x02, 0x00, 0x00, 0xee, 0xee, 0x01};
	static const char payload[] = "virtkit echo test frame";
	struct vbuf rx = {rxbuf, sizeof(rxbuf), true}, tx = {txbuf, sizeof(txbuf), false};
	bool got_rx = false, got_tx = false;
	uint8_t mac[6];
	struct vdev d;
	int slot;

	idt_init();
	lapic_init();
	slot = pci_find(0x1af4, 0x1041);
	CHECK(slot >= 0, "no virtio-net PCI function (1af4:1041)");
	vdev_pci_init(&d, (unsigned)slot, 1u << VIRTIO_NET_F_MAC, VEC);
	for (unsigned i = 0; i < 6; i++)
		mac[i] = vdev_cfg8(&d, i);
	printf("virtio-net in slot %d, mac %02x:%02x:%02x:%02x:%02x:%02x\n", slot, mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5]);
	vdev_setup_queue(&d, 0, &rxq);
	vdev_setup_queue(&d, 1, &txq);
	vdev_driver_ok(&d);

	vq_submit(&d, 0, &rx, 1);
	memset(txbuf, 0, sizeof(txbuf));
	memcpy(txbuf + HDR, peer, 6);
	memcpy(txbuf + HDR + 6, mac, 6);
	txbuf[HDR + 12] = 0x88; /* local experimental ethertype */
	txbuf[HDR + 13] = 0xb5;
	memcpy(txbuf + HDR + 14, payload, sizeof(payload));
	vq_submit(&d, 1, &tx, 1);

	while (!got_rx || !got_tx) {
		unsigned v = wait_irq_timeout(2000, "a virtio-net interrupt");
		uint32_t id, len;

		lapic_eoi();
		CHECK(v == VEC || v == VEC + 1, "unexpected vector %u", v);
		while (vq_used(&d, 1, &id, &len))
			got_tx = true;
		while (vq_used(&d, 0, &id, &len)) {
			CHECK(len == sizeof(txbuf), "received %u bytes, sent %u", len,
			      (unsigned)sizeof(txbuf));
			CHECK(!memcmp(rxbuf + HDR, mac, 6) && !memcmp(rxbuf + HDR + 6, peer, 6),
			      "echoed frame has the wrong addresses");
			CHECK(!memcmp(rxbuf + HDR + 14, payload, sizeof(payload)),
			      "echoed payload differs");
			got_rx = true;
		}
	}
	puts_serial("virtio-net: frame sent and echoed back with MSI-X\n");
}
