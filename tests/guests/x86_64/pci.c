/* SPDX-License-Identifier: MIT */
/*
 * PCI enumeration through configuration mechanism #1: the host bridge at
 * 00.0, every virtio function with its capabilities, BAR sizing, moving a BAR
 * (the registers must follow it), and the virtio PCI configuration access
 * capability.
 */
#include "pvh.h"

static void check_virtio(unsigned s)
{
	unsigned types = 0;
	bool msix = false;
	uint32_t bar0 = pci_read32(s, 0x10), size, moved;
	uint64_t common = 0;
	uint8_t cfgcap = 0;
	uint16_t numq;

	for (uint8_t cap = pci_read8(s, 0x34); cap; cap = pci_read8(s, cap + 1)) {
		uint8_t id = pci_read8(s, cap);

		if (id == 0x11)
			msix = true;
		if (id != 0x09)
			continue;
		types |= 1u << pci_read8(s, cap + 3);
		if (pci_read8(s, cap + 3) == 1)
			common = pci_bar(s, pci_read8(s, cap + 4)) + pci_read32(s, cap + 8);
		if (pci_read8(s, cap + 3) == 5)
			cfgcap = cap;
	}
	printf("  virtio capabilities %x, MSI-X %s, interrupt pin %u line %u\n", types,
	       msix ? "yes" : "no", pci_read8(s, 0x3d), pci_read8(s, 0x3c));
	CHECK((types & 0x2e) == 0x2e, "slot %u lacks common/notify/ISR/PCI-config caps", s);
	CHECK(msix, "slot %u has no MSI-X capability", s);
	CHECK(pci_read8(s, 0x3d) == 1 && pci_read8(s, 0x3c) >= 16, "slot %u INTx wiring", s);
	CHECK(pci_read16(s, 0x04) & 0x2, "slot %u: memory decoding is off", s);
	numq = mmio_read16(common + 0x12);
	CHECK(numq >= 1 && numq <= 8, "slot %u: num_queues %u", s, numq);

	/* Size BAR 0 with decoding off, as Linux does. */
	pci_write16(s, 0x04, 0);
	pci_write32(s, 0x10, 0xffffffff);
	size = ~(pci_read32(s, 0x10) & ~0xfu) + 1;
	pci_write32(s, 0x10, bar0);
	pci_write16(s, 0x04, 0x2);
	printf("  BAR0 %x, %u KiB\n", bar0, size >> 10);
	CHECK(size == 0x4000, "slot %u: BAR 0 sizes as %x", s, size);
	CHECK(mmio_read16(common + 0x12) == numq, "slot %u: BAR 0 lost after sizing", s);

	/* Move BAR 0 up by 16 MiB: the old address goes dead, the new one answers. */
	moved = bar0 + 0x1000000;
	pci_write32(s, 0x10, moved);
	CHECK(mmio_read16(moved + 0x12) == numq, "slot %u: moved BAR 0 does not answer", s);
	CHECK(mmio_read32(common) == 0xffffffff, "slot %u: old BAR 0 address still answers", s);
	pci_write32(s, 0x10, bar0);
	CHECK(mmio_read16(common + 0x12) == numq, "slot %u: BAR 0 did not move back", s);

	/* The configuration access window reads num_queues through config space. */
	if (cfgcap) {
		pci_write32(s, cfgcap + 4, 0);    /* bar 0 */
		pci_write32(s, cfgcap + 8, 0x12); /* offset of num_queues */
		pci_write32(s, cfgcap + 12, 2);   /* length */
		CHECK((pci_read32(s, cfgcap + 16) & 0xffff) == numq,
		      "slot %u: PCI config access window reads %x", s, pci_read32(s, cfgcap + 16));
	}
}

void guest_main(void)
{
	unsigned n = 0, virtio = 0;

	for (unsigned s = 0; s < 32; s++) {
		uint32_t id = pci_read32(s, 0), cls;

		if ((id & 0xffff) == 0xffff)
			continue;
		cls = pci_read32(s, 0x08) >> 8;
		printf("pci 00:%02x.0 %04x:%04x class %06x\n", s, id & 0xffff, id >> 16, cls);
		n++;
		if (s == 0)
			CHECK(cls >> 8 == 0x0600, "00.0 is not a host bridge (class %x)", cls);
		if ((id & 0xffff) == 0x1af4) {
			CHECK((id >> 16) >= 0x1040, "virtio device %x is not a modern one",
			      id >> 16);
			CHECK(pci_read8(s, 0x08) >= 1, "modern virtio revision is 0");
			check_virtio(s);
			virtio++;
		}
	}
	CHECK(pci_read32(0, 0) != 0xffffffff, "no host bridge");
	/* Function 1 and bus 1 do not exist. */
	outl(0xcf8, 0x80000100);
	CHECK(inl(0xcfc) == 0xffffffff, "function 00.1 answers");
	outl(0xcf8, 0x80010000);
	CHECK(inl(0xcfc) == 0xffffffff, "bus 1 answers");
	printf("%u functions, %u virtio\n", n, virtio);

	{
		const char *p = strstr(guest_cmdline, "vk.virtio=");
		if (p)
			CHECK(virtio == parse_dec(p + 10, 0), "found %u virtio functions, want %s",
			      virtio, p + 10);
	}
}
