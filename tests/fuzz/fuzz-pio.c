/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the port-I/O side of the x86 PC board: an i8042 at
 * 0x60/0x64, the CMOS RTC at 0x70/0x71, the PCI host bridge with
 * configuration mechanism #1 at 0xCF8/0xCFC (and reset control at 0xCF9),
 * and two virtio-pci functions (virtio-blk on an in-memory disk, virtio-rng)
 * with their BARs on a memory bus, capabilities, MSI-X and INTx, on 64 KiB of
 * guest RAM between guard pages. No KVM: messages take the plain path
 * (pci_platform.msi), notifications are BAR writes. Each input builds the
 * machine afresh.
 *
 * Input: a script of steps (see run_step()): port reads and writes (the
 * devices' ports or any port), configuration reads and writes through
 * 0xCF8/0xCFC to any bus/slot/function/register, BAR accesses at wherever
 * the BARs are now, virtio bring-up and requests through BAR 0, MSI-X table
 * programming and enabling, RAM pokes, and Ctrl-Alt-Del typed by the board.
 *
 * After every step the harness checks, and aborts when something does not hold:
 *   i8042   the keyboard/aux lines are high exactly when the output buffer
 *           holds a byte from that port and the command byte enables its
 *           interrupt; the status SYS bit follows the command byte; a reset
 *           exactly for command 0xF0-0xFF with bit 0 clear or an output-port
 *           write with bit 0 clear.
 *   RTC     the index port reads 0xFF; plain CMOS bytes read back what was
 *           written (A without UIP, C and D fixed); time registers read valid
 *           BCD or binary values in their field's range, in the mode that
 *           register B selects.
 *   PCI     0xCF8 reads back its address bits; an absent function reads all
 *           ones; a present one reads its configuration bytes; bits outside
 *           the write masks never change; 0xCF9 with RST_CPU resets; a mapped
 *           BAR sits on the bus at the address its register and the command
 *           register give, with its size, and no other memory range exists.
 *   INTx    the line is high exactly when the status interrupt bit is set and
 *           INTX_DISABLE is clear; for virtio, that bit is set exactly when
 *           MSI-X is off and the ISR is non-zero; reading the ISR clears it.
 *   MSI-X   every message comes from an enabled, unmasked function and
 *           vector whose table entry holds that address and data; a live
 *           unmasked vector has no pending bit.
 *   virtio  num_queues is right; vectors read back valid or NO_VECTOR.
 * ASan, UBSan and the guard pages catch the rest.
 */
#include <string.h>

#include "common/log.h"
#include "fuzz-pio.h"
#include "fuzz.h"
#include "vm/virtio/devices.h"

#define MAX_OPS 256

struct pio_fuzz fz;

/* ---- plumbing: lines, messages, resets ----------------------------------- */

static void kbd_set(void *opaque, unsigned n, bool level)
{
	fz.kbd_line = level;
}

static void aux_set(void *opaque, unsigned n, bool level)
{
	fz.aux_line = level;
}

static void intx_set(void *opaque, unsigned n, bool level)
{
	fz.intx[n] = level;
}

static struct irq_line intx_line(void *opaque, unsigned slot, unsigned pin)
{
	return (struct irq_line){.set = intx_set, .n = slot};
}

static void msi_sent(void *opaque, uint64_t addr, uint32_t data)
{
	check_msi(addr, data);
}

static void board_reset(void *opaque)
{
	fz.resets++;
}

/* ---- the guest's drivers ------------------------------------------------- */

static void cfg_write(unsigned slot, uint32_t reg, uint32_t v, unsigned size)
{
	pio_access(PCI_CONFIG_ADDR, 4, true, 0x80000000u | slot << 11 | (reg & 0xfc));
	pio_access((uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, true, v);
}

/* Where BAR b of virtio function i is now (0 when not mapped). */
static uint64_t bar_addr(unsigned i, unsigned b)
{
	const struct pci_bar *bar = &fz.pdev[1 + i]->bars[b];

	return bar->mapped ? bar->addr : 0;
}

static void common_wr(unsigned i, unsigned off, uint64_t v, unsigned size)
{
	uint64_t a = bar_addr(i, 0);

	if (a)
		mmio_access(a + VIRTIO_PCI_COMMON_OFF + off, size, true, v);
}

/* The driver of function i brings its device up; queue 0 at i * 0x400 in RAM. */
static void virtio_bringup(unsigned i, uint8_t choice)
{
	uint64_t q = i * 0x400ull;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | ((choice & 1) ? 1ull << 29 : 0) |
	                ((choice & 2) ? 1ull << 28 : 0);
	uint16_t vec = (choice >> 4) & 3;

	common_wr(i, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	common_wr(i, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	common_wr(i, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	common_wr(i, VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	common_wr(i, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	common_wr(i, VIRTIO_PCI_COMMON_GF, (uint32_t)(want >> 32), 4);
	common_wr(i, VIRTIO_PCI_COMMON_STATUS,
	          VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
	common_wr(i, VIRTIO_PCI_COMMON_MSIX, (choice & 0x40) ? VIRTIO_MSI_NO_VECTOR : 2, 2);
	common_wr(i, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	common_wr(i, VIRTIO_PCI_COMMON_Q_SIZE, (choice & 0x80) ? 8 : 16, 2);
	common_wr(i, VIRTIO_PCI_COMMON_Q_MSIX, (choice & 8) ? VIRTIO_MSI_NO_VECTOR : vec, 2);
	common_wr(i, VIRTIO_PCI_COMMON_Q_DESCLO, q, 8);
	common_wr(i, VIRTIO_PCI_COMMON_Q_AVAILLO, q + 0x100, 8);
	common_wr(i, VIRTIO_PCI_COMMON_Q_USEDLO, q + 0x200, 8);
	common_wr(i, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	common_wr(i, VIRTIO_PCI_COMMON_STATUS,
	          VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	                  VIRTIO_STATUS_DRIVER_OK,
	          1);
}

/* The driver publishes head in queue 0's avail ring and notifies through BAR 0. */
static void virtio_push(unsigned i, uint16_t head)
{
	uint8_t *avail = fz.ram + i * 0x400 + 0x100;
	uint16_t idx, num = virtio_queue_get_num(fz.vdev[i], 0);
	uint64_t a = bar_addr(i, 0);

	num = num && num <= 16 ? num : 16;
	memcpy(&idx, avail + 2, 2);
	memcpy(avail + 4 + 2 * (idx % num), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(void *)(avail + 2), idx, __ATOMIC_RELEASE);
	if (a)
		mmio_access(a + VIRTIO_PCI_NOTIFY_OFF, 2, true, 0);
}

/* Program MSI-X vector v of function i, and the function's enable and mask bits. */
static void msix_program(unsigned i, uint8_t v, uint8_t flags, uint8_t dest, uint8_t data)
{
	struct pci_device *d = fz.pdev[1 + i];
	uint64_t t = bar_addr(i, VIRTIO_PCI_MSIX_BAR) + 16ull * (v % 4);
	unsigned cap = d->cfg[PCI_CAPABILITY_LIST];

	if (bar_addr(i, VIRTIO_PCI_MSIX_BAR)) {
		mmio_access(t, 4, true, 0xfee00000u | (uint32_t)dest << 12);
		mmio_access(t + 4, 4, true, 0);
		mmio_access(t + 8, 4, true, data);
		mmio_access(t + 12, 4, true, flags & 1);
	}
	for (unsigned n = 0; cap && n < 48 && d->cfg[cap] != PCI_CAP_ID_MSIX; n++)
		cap = d->cfg[cap + 1];
	if (cap && (flags & 2))
		cfg_write(d->slot, cap + 2, (uint32_t)(flags & 0xc0) << 8, 2);
}

/* ---- the script ---------------------------------------------------------- */

static uint16_t pick_port(struct fz_reader *r)
{
	static const uint16_t ports[] = {0x60,  0x64,  0x70,  0x71,  0xcf8, 0xcf9, 0xcfa,
	                                 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x61,  IO_WIN};
	uint8_t p = fz_get8(r);

	return p % 16 < sizeof(ports) / sizeof(ports[0]) ? ports[p % 16] : fz_get16(r);
}

static void run_step(struct fz_reader *r)
{
	uint8_t op = fz_get8(r), a, b;
	unsigned size;

	switch (op % 10) {
	case 0: /* port write */
	case 1: /* port read */ {
		uint16_t port = pick_port(r);

		size = 1u << (fz_get8(r) % 3);
		pio_access(port, size, !(op % 10), op % 10 ? 0 : fz_get32(r));
		break;
	}
	case 2: /* configuration write through 0xCF8/0xCFC, to any function */
	case 3: /* configuration read */ {
		uint32_t addr;

		a = fz_get8(r); /* bits 0-4 slot, 5 function 1, 6 bus 1, 7 disabled */
		b = fz_get8(r); /* register */
		size = 1u << (fz_get8(r) % 3);
		addr = (a & 0x80 ? 0 : 0x80000000u) | (a & 0x40 ? 1u << 16 : 0) |
		       (a & 0x20 ? 1u << 8 : 0) | (a & 0x1fu) << 11 | (b & 0xfcu);
		pio_access(PCI_CONFIG_ADDR, 4, true, addr);
		pio_access((uint16_t)(PCI_CONFIG_DATA + (b & 3)), size, op % 10 == 2,
		           op % 10 == 2 ? fz_get32(r) : 0);
		break;
	}
	case 4: { /* a BAR access, wherever the BAR is now */
		unsigned i, bar;
		uint16_t off;

		a = fz_get8(r);
		i = a % NR_VP;
		bar = (a & 2) ? VIRTIO_PCI_MSIX_BAR : 0;
		off = fz_get16(r);
		b = fz_get8(r);
		size = 1u << (b & 3);
		if (bar_addr(i, bar))
			mmio_access(bar_addr(i, bar) + off % fz.pdev[1 + i]->bars[bar].size, size,
			            b & 4, (b & 4) ? fz_get64(r) : 0);
		break;
	}
	case 5:
		a = fz_get8(r);
		virtio_bringup(a % NR_VP, fz_get8(r));
		break;
	case 6:
		a = fz_get8(r);
		virtio_push(a % NR_VP, fz_get8(r));
		break;
	case 7: { /* the guest writes RAM (descriptors, buffers) */
		uint16_t off = fz_get16(r);
		unsigned len = fz_get8(r) % 33;

		for (unsigned i = 0; i < len; i++)
			fz.ram[(off + i) % RAM_SIZE] = fz_get8(r);
		break;
	}
	case 8: {
		uint8_t v, flags, dest;

		a = fz_get8(r);
		v = fz_get8(r);
		flags = fz_get8(r);
		dest = fz_get8(r);
		msix_program(a % NR_VP, v, flags, dest, fz_get8(r));
		break;
	}
	default: /* the board asks the guest to shut down */
		i8042_send_ctrl_alt_del(fz.kbd);
		break;
	}
}

static void setup_once(void)
{
	vk_log_set_level(VK_LOG_ERROR); /* guest errors are warnings: keep the fuzzer quiet */
	fz.ram = fz_guarded_ram(RAM_SIZE);
	vm_mem_init(&fz.mem);
	fz.mem.nr = 1;
	fz.mem.regions[0] = (struct vm_mem_region){.gpa = 0, .size = RAM_SIZE, .host = fz.ram};
	bus_init(&fz.pio, "pio");
	bus_init(&fz.mmio, "mmio");
	fz.ready = true;
}

static void build(void)
{
	fz.kbd = i8042_create(&fz.pio, (struct irq_line){.set = kbd_set, .n = 1},
	                      (struct irq_line){.set = aux_set, .n = 12}, board_reset, NULL, NULL);
	fz.rtc = rtc_create(&fz.pio, NULL);
	if (!fz.kbd || !fz.rtc ||
	    pci_host_init(&fz.host, &fz.pio, &fz.mmio, MMIO_WIN, MMIO_WIN_SIZE, IO_WIN, IO_WIN_SIZE,
	                  NULL) < 0)
		abort();
	fz.host.platform.msi = (struct msi_target){.send = msi_sent};
	fz.host.intx_line = intx_line;
	fz.host.reset = board_reset;
	fz_disk_init(&fz.disk);
	fz.vdev[0] = virtio_blk_create(&fz.mem, &fz.disk.be, "fuzz", NULL);
	fz.vdev[1] = virtio_rng_create(&fz.mem, NULL);
	fz.pdev[0] = fz.host.bridge;
	for (unsigned i = 0; i < NR_VP; i++) {
		if (!fz.vdev[i] || !(fz.vp[i] = virtio_pci_create(&fz.host, fz.vdev[i], NULL)))
			abort();
		fz.pdev[1 + i] = virtio_pci_device(fz.vp[i]);
	}
	for (unsigned k = 0; k < 1 + NR_VP; k++)
		memcpy(fz.ro[k], fz.pdev[k]->cfg, PCI_CFG_SIZE);
	model_init();
}

static void teardown(void)
{
	for (unsigned i = 0; i < NR_VP; i++) {
		virtio_pci_destroy(fz.vp[i]);
		virtio_dev_destroy(fz.vdev[i]);
	}
	pci_host_destroy(&fz.host);
	rtc_destroy(fz.rtc);
	i8042_destroy(fz.kbd);
	CHECK(fz.pio.nr == 0 && fz.mmio.nr == 0, "%u port and %u memory ranges left", fz.pio.nr,
	      fz.mmio.nr);
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};

	if (!fz.ready)
		setup_once();
	memset(fz.ram, 0, RAM_SIZE);
	memset(&fz.disk, 0, sizeof(fz.disk));
	fz.kbd_line = fz.aux_line = false;
	memset(fz.intx, 0, sizeof(fz.intx));
	fz.resets = fz.msis = 0;
	build();
	check_all();
	for (unsigned n = 0; n < MAX_OPS && r.left; n++) {
		run_step(&r);
		check_all();
	}
	teardown();
	return 0;
}

/* A few inputs of our own, so the harness runs even without a corpus (tests/fuzz/corpus/pio). */
static const uint8_t builtin0[] = {0};
/* Read the bridge's ID, the keyboard controller's self test, the RTC seconds. */
static const uint8_t builtin1[] = {3, 0, 0, 2, 0, 1, 2, 0xaa, 0, 0, 1,
                                   0, 0, 0, 2, 0, 0, 0, 0,    1, 3, 0};

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)},
        {builtin1, sizeof(builtin1)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "pio";
