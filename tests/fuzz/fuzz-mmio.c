/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the MMIO register interfaces of the riscv virt board's
 * devices: one struct bus with a PLIC, a CLINT on a fake clock, the sifive
 * test finisher, a 16550 UART on a fake chardev that can push back, and two
 * virtio-mmio transports (virtio-blk on an in-memory disk, virtio-rng) on
 * 64 KiB of guest RAM between guard pages. Each input builds them afresh.
 *
 * Input: byte 0 picks the PLIC's source count (2 + b % 127), byte 1 its
 * context count (1 + b % 8) and the CLINT's harts (1 + (b >> 3) % 4); then a
 * script of steps (see run_step()): guest accesses (address, size, read or
 * write, value) by device and register area or near any range's edges, time
 * passing, interrupt lines toggling, PLIC claim/complete, virtio bring-up and
 * requests, RAM pokes, and the UART's host side (input, break, output room).
 *
 * After every step the harness checks what must always hold, with its own
 * model of the state the guest can infer, and aborts when it does not:
 *   PLIC    a claim returns the highest-priority source that is pending,
 *           enabled and above the threshold (lowest id on ties), or 0; each
 *           context's output line is high exactly when such a source exists;
 *           a source not in service is pending exactly while its line is
 *           high, one in service is not pending; no bits beyond the sources.
 *   CLINT   mtime is the fake clock plus what the guest's mtime writes moved
 *           it by; MSIP lines follow msip; MTIP is high exactly when
 *           mtime >= mtimecmp; next_deadline points at the earliest timer.
 *   UART    the chardev receives exactly the bytes written to THR, in order,
 *           less those a full transmitter refused, with the chardev pushing
 *           back (a model of the TX FIFO); LSR.THRE/TEMT say whether bytes
 *           wait; IIR reports an interrupt exactly when the line is high; the
 *           plain registers read back what was written.
 *   test    a power-off, failure or reset event exactly for the writes that
 *           ask for one, with the right code.
 *   virtio  the line is high exactly when InterruptStatus is non-zero; the
 *           identification registers read their constants.
 * ASan, UBSan and the guard pages catch the rest (no host access outside
 * RAM); every device leaves the bus when destroyed.
 */
#include <string.h>

#include "common/log.h"
#include "fuzz-mmio.h"
#include "fuzz.h"
#include "vm/virtio/devices.h"

#define MAX_OPS 256

struct mmio_fuzz fz;
const uint64_t vio_base[2] = {BLK_BASE, RNG_BASE};
const unsigned vio_irq[2] = {IRQ_BLK, IRQ_RNG};

/* ---- plumbing: lines, clock, chardev ------------------------------------ */

static void dev_line_set(void *opaque, unsigned n, bool level)
{
	struct irq_line in = plic_input(fz.plic, n);

	if (n < PLIC_MAX_SOURCES)
		fz.level[n] = level;
	fz.plic_dirty = true;
	irq_set(&in, level);
}

static void ctx_line_set(void *opaque, unsigned n, bool level)
{
	fz.ctx_line[n] = level;
}

static void msip_set(void *opaque, unsigned n, bool level)
{
	fz.msip_line[n] = level;
}

static void mtip_set(void *opaque, unsigned n, bool level)
{
	fz.mtip_line[n] = level;
}

static uint64_t fake_time(void *opaque)
{
	return fz.now;
}

static void test_event(void *opaque, enum sifive_test_event ev, uint32_t code)
{
	fz.events++;
	fz.last_event = ev;
	fz.last_code = code;
}

static size_t fake_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	struct fake_chr *f = container_of(c, struct fake_chr, chr);
	size_t n = f->limited ? VK_MIN(len, f->room) : len;

	CHECK(f->out_len + n <= OUT_MAX, "UART wrote more than its FIFO holds");
	memcpy(f->out + f->out_len, buf, n);
	f->out_len += n;
	if (f->limited)
		f->room -= n;
	if (n < len)
		f->blocked = true;
	return n;
}

static void fake_accept_input(struct chardev *c)
{
}

static void fake_close(struct chardev *c)
{
	free(container_of(c, struct fake_chr, chr));
}

static const struct chardev_ops fake_ops = {
        .name = "fuzz",
        .write = fake_write,
        .accept_input = fake_accept_input,
        .close = fake_close,
};

/* Queue 0 of device d: descriptors at d * 0x400, avail ring +0x100, used ring +0x200. */
static void virtio_bringup(unsigned d, uint8_t choice)
{
	uint64_t b = vio_base[d], q = RAM_BASE + d * 0x400ull;
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) | ((choice & 1) ? 1ull << 29 : 0) |
	                ((choice & 2) ? 1ull << 28 : 0) | ((choice >> 2) & 0x3f);

	fz_wr(b + VIRTIO_MMIO_STATUS, 4, 0);
	fz_wr(b + VIRTIO_MMIO_STATUS, 4, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	fz_wr(b + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
	fz_wr(b + VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)want);
	fz_wr(b + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
	fz_wr(b + VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)(want >> 32));
	fz_wr(b + VIRTIO_MMIO_STATUS, 4,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	fz_wr(b + VIRTIO_MMIO_QUEUE_SEL, 4, 0);
	fz_wr(b + VIRTIO_MMIO_QUEUE_NUM, 4, (choice & 0x80) ? 8 : 16);
	fz_wr(b + VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)q);
	fz_wr(b + VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, (uint32_t)(q + 0x100));
	fz_wr(b + VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, (uint32_t)(q + 0x200));
	fz_wr(b + VIRTIO_MMIO_QUEUE_READY, 4, 1);
	fz_wr(b + VIRTIO_MMIO_STATUS, 4,
	      fz_rd(b + VIRTIO_MMIO_STATUS, 4) | VIRTIO_STATUS_DRIVER_OK);
}

/* The driver publishes head in queue 0's avail ring and kicks. */
static void virtio_push(unsigned d, uint16_t head)
{
	uint8_t *avail = fz.ram + d * 0x400 + 0x100;
	uint16_t idx, num = (uint16_t)fz_rd(vio_base[d] + VIRTIO_MMIO_QUEUE_NUM_MAX, 4);

	num = num > 16 ? 16 : num ? num : 16;
	memcpy(&idx, avail + 2, 2);
	memcpy(avail + 4 + 2 * (idx % num), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(void *)(avail + 2), idx, __ATOMIC_RELEASE);
	fz_wr(vio_base[d] + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
}

/* An address in a device's register area, from a target byte and 16 offset bits. */
static uint64_t target_addr(uint8_t t, uint16_t o)
{
	switch (t % 6) {
	case 0: /* PLIC: priorities, pending, enables, or a context's threshold/claim */
		switch (o >> 14) {
		case 0:
			return PLIC_BASE + (o & 0x3ff);
		case 1:
			return PLIC_BASE + P_PENDING + (o & 0x3f);
		case 2:
			return PLIC_BASE + P_ENABLE + (o & 0x7ff);
		default:
			return PLIC_BASE + P_CONTEXT + ((o >> 4) & 0xf) * P_CSTRIDE + (o & 0xf);
		}
	case 1: /* CLINT: msip, mtimecmp, mtime, or anywhere */
		switch (o >> 14) {
		case 0:
			return CLINT_BASE + (o & 0x3f);
		case 1:
			return CLINT_BASE + C_MTIMECMP + (o & 0x7f);
		case 2:
			return CLINT_BASE + C_MTIME + (o & 7);
		default:
			return CLINT_BASE + (uint64_t)(o & 0x3fff) * 4;
		}
	case 2:
		return TEST_BASE + (o & 0xfff);
	case 3:
		return UART_BASE + (o & 7);
	case 4:
		return BLK_BASE + o % VIRTIO_MMIO_SIZE;
	default:
		return RNG_BASE + o % VIRTIO_MMIO_SIZE;
	}
}

/* Near the start or the end of a range (or of RAM, which is not on the bus). */
static uint64_t edge_addr(uint8_t which, int8_t delta)
{
	static const uint64_t edges[][2] = {
	        {TEST_BASE, SIFIVE_TEST_SIZE}, {CLINT_BASE, CLINT_SIZE},
	        {PLIC_BASE, PLIC_SIZE},        {UART_BASE, 8},
	        {BLK_BASE, VIRTIO_MMIO_SIZE},  {RNG_BASE, VIRTIO_MMIO_SIZE},
	        {RAM_BASE, RAM_SIZE},          {0, 0},
	};
	const uint64_t *e = edges[(which >> 1) % 8];

	return e[0] + ((which & 1) ? e[1] : 0) + (uint64_t)(int64_t)delta;
}

/* ---- the script ---------------------------------------------------------- */

static void uart_host(struct fz_reader *r)
{
	struct fake_chr *f = fz.chr;
	uint8_t k = fz_get8(r), buf[16];
	size_t len, n;

	switch (k % 5) {
	case 0: /* input, as much as the UART takes */
		len = fz_get8(r) % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = fz_get8(r);
		n = chardev_can_receive(&f->chr);
		chardev_deliver(&f->chr, buf, VK_MIN(n, len));
		break;
	case 1:
		chardev_deliver_break(&f->chr);
		break;
	case 2: /* the reader slows down: only so many more bytes fit */
		f->limited = fz.um.limited = true;
		f->room = fz.um.room = fz_get8(r) % 24;
		break;
	case 3: /* the reader catches up a little */
		uart_give_room(fz_get8(r) % 24, false);
		break;
	default: /* the reader catches up */
		uart_give_room(0, true);
		break;
	}
}

static void run_step(struct fz_reader *r)
{
	uint8_t op = fz_get8(r), a, b;
	uint16_t o;
	unsigned size;

	switch (op % 10) {
	case 0: /* write a device register */
	case 1: /* read one */
		a = fz_get8(r);
		o = fz_get16(r);
		size = 1u << (fz_get8(r) & 3);
		guest_access(target_addr(a, o), size, !(op % 10), op % 10 ? 0 : fz_get64(r));
		break;
	case 2: /* any access near the edge of a range */
		a = fz_get8(r);
		b = fz_get8(r);
		size = 1u << (b & 3);
		guest_access(edge_addr(a, (int8_t)fz_get8(r)), size, b & 4,
		             (b & 4) ? fz_get64(r) : 0);
		break;
	case 3: /* time passes */
		a = fz_get8(r);
		fz.now += (uint64_t)fz_get16(r) << (a % 56);
		clint_update(fz.clint);
		break;
	case 4: { /* an interrupt line no device drives goes up or down */
		unsigned s;

		a = fz_get8(r);
		s = (a >> 1) % PLIC_MAX_SOURCES;
		if (s != IRQ_BLK && s != IRQ_RNG && s != IRQ_UART)
			dev_line_set(NULL, s, a & 1);
		break;
	}
	case 5: { /* a hart takes an interrupt: claim, maybe complete (here or elsewhere) */
		uint64_t claim, done, id;

		a = fz_get8(r);
		claim = PLIC_BASE + P_CONTEXT + ((a >> 3) % fz.nr_ctx) * P_CSTRIDE + 4;
		id = guest_access(claim, 4, false, 0);
		if (!(a & 1))
			break;
		done = (a & 4) ? PLIC_BASE + P_CONTEXT + (fz_get8(r) % fz.nr_ctx) * P_CSTRIDE + 4
		               : claim;
		if (a & 2)
			id = fz_get8(r);
		guest_access(done, 4, true, id);
		break;
	}
	case 6: /* a virtio driver brings its device up */
		a = fz_get8(r);
		virtio_bringup(a & 1, fz_get8(r));
		break;
	case 7: /* a virtio driver makes a chain available and kicks */
		a = fz_get8(r);
		virtio_push(a & 1, fz_get8(r));
		break;
	case 8: { /* the guest writes RAM (descriptors, buffers) */
		uint16_t off = fz_get16(r);
		unsigned len = fz_get8(r) % 33;

		for (unsigned i = 0; i < len; i++)
			fz.ram[(off + i) % RAM_SIZE] = fz_get8(r);
		break;
	}
	default:
		uart_host(r);
		break;
	}
}

static void setup_once(void)
{
	vk_log_set_level(VK_LOG_ERROR); /* guest errors are warnings: keep the fuzzer quiet */
	fz.ram = fz_guarded_ram(RAM_SIZE);
	vm_mem_init(&fz.mem);
	fz.mem.nr = 1;
	fz.mem.regions[0] =
	        (struct vm_mem_region){.gpa = RAM_BASE, .size = RAM_SIZE, .host = fz.ram};
	bus_init(&fz.bus, "mmio");
	fz.ready = true;
}

static void build(uint8_t sizes, uint8_t ctx_harts)
{
	struct irq_line ctx[MAX_CTX], msip[MAX_HARTS], mtip[MAX_HARTS];

	fz.nr_sources = 2 + sizes % (PLIC_MAX_SOURCES - 1);
	fz.nr_ctx = 1 + ctx_harts % MAX_CTX;
	fz.nr_harts = 1 + (ctx_harts >> 3) % MAX_HARTS;
	for (unsigned i = 0; i < MAX_CTX; i++)
		ctx[i] = (struct irq_line){.set = ctx_line_set, .n = i};
	for (unsigned i = 0; i < MAX_HARTS; i++) {
		msip[i] = (struct irq_line){.set = msip_set, .n = i};
		mtip[i] = (struct irq_line){.set = mtip_set, .n = i};
	}
	fz.plic = plic_create(&fz.bus, PLIC_BASE, fz.nr_sources, fz.nr_ctx, ctx, NULL);
	fz.clint =
	        clint_create(&fz.bus, CLINT_BASE, fz.nr_harts, msip, mtip, fake_time, NULL, NULL);
	fz.test = sifive_test_create(&fz.bus, TEST_BASE, test_event, NULL, NULL);
	fz.chr = calloc(1, sizeof(*fz.chr));
	if (!fz.plic || !fz.clint || !fz.test || !fz.chr)
		abort();
	fz.chr->chr.ops = &fake_ops; /* no loop: the character timeout is immediate */
	fz.uart = uart16550_create(&fz.bus, UART_BASE, 0,
	                           (struct irq_line){.set = dev_line_set, .n = IRQ_UART},
	                           &fz.chr->chr, NULL);
	fz_disk_init(&fz.disk);
	fz.vdev[0] = virtio_blk_create(&fz.mem, &fz.disk.be, "fuzz", NULL);
	fz.vdev[1] = virtio_rng_create(&fz.mem, NULL);
	if (!fz.uart || !fz.vdev[0] || !fz.vdev[1])
		abort();
	for (unsigned d = 0; d < 2; d++) {
		struct irq_line line = {.set = dev_line_set, .n = vio_irq[d]};

		fz.vmmio[d] = virtio_mmio_create(&fz.bus, vio_base[d], line, fz.vdev[d], NULL);
		if (!fz.vmmio[d])
			abort();
	}
	fz.um.dll = 1; /* the UART's reset divisor */
	fz.plic_dirty = true;
}

static void teardown(void)
{
	for (unsigned d = 0; d < 2; d++) {
		virtio_mmio_destroy(fz.vmmio[d]);
		virtio_dev_destroy(fz.vdev[d]);
	}
	uart16550_destroy(fz.uart); /* closes the fake chardev */
	sifive_test_destroy(fz.test);
	clint_destroy(fz.clint);
	plic_destroy(fz.plic);
	CHECK(fz.bus.nr == 0, "%u ranges left on the bus", fz.bus.nr);
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};
	uint8_t sizes, ctx_harts;

	if (!fz.ready)
		setup_once();
	/* Everything but the long-lived RAM, memory map and bus starts from zero. */
	memset(fz.ram, 0, RAM_SIZE);
	memset(&fz.disk, 0, sizeof(fz.disk));
	memset(fz.level, 0, sizeof(fz.level));
	memset(fz.ctx_line, 0, sizeof(fz.ctx_line));
	memset(fz.msip_line, 0, sizeof(fz.msip_line));
	memset(fz.mtip_line, 0, sizeof(fz.mtip_line));
	memset(fz.in_service, 0, sizeof(fz.in_service));
	memset(&fz.um, 0, sizeof(fz.um));
	fz.events = 0;
	fz.now = fz.mtime_offset = 0;
	sizes = fz_get8(&r);
	ctx_harts = fz_get8(&r);
	build(sizes, ctx_harts);
	check_all();
	for (unsigned n = 0; n < MAX_OPS && r.left; n++) {
		run_step(&r);
		check_all();
	}
	teardown();
	return 0;
}

/* A few inputs of our own, so the harness runs even without a corpus (tests/fuzz/corpus/mmio). */
static const uint8_t builtin0[] = {0};
/* Time passes, a line goes up, a hart claims and completes, the UART's reader stalls. */
static const uint8_t builtin1[] = {30, 9, 3, 0, 1, 0, 4, 11, 5, 1, 9, 2, 0, 9, 4};

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)},
        {builtin1, sizeof(builtin1)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "mmio";
