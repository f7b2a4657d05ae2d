/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the machine-state loader (src/vm/state.c, registry.c and
 * every device's load): a state file or a migration peer is hostile input.
 * Each input builds afresh a machine like the riscv64 board's, entered in a
 * registry under the board's names: a hart ("cpu0", interpreter), a CLINT, a
 * PLIC, a 16550 on a fake chardev, and virtio-mmio transports with virtio-blk
 * (in-memory disk), virtio-console (fake chardev) and virtio-rng, on 64 KiB of
 * guest RAM between guard pages; or one like the x86 pc board's devices
 * without KVM (whose vCPU and irqchip records need a VM): "uart" on ports,
 * "i8042", "rtc", "acpi", the PCI host "pci" and the same three virtio devices
 * on virtio-pci transports ("virtio-pci.N", MSI-X). The stream goes in through a memfd, as a file
 * would: vm_state_read_start(), the saved configuration through
 * vm_config_apply_saved(), then vm_registry_load().
 *
 * Input: byte 0 picks the form (bit 0) and, for edits, the machine (bit 1: x86).
 *   even  the rest is the stream itself (header parsing, record framing); its
 *         header's arch picks the machine (x86_64: the x86 one);
 *   odd   the rest edits a valid stream (the harness's own machine saved once,
 *         with some RAM pages and a device configured): u8 count, then
 *         count x (u16 offset, u8 xor mask), then u8 flags: bit 0 recompute
 *         every record's CRC (so edits reach the devices' loaders), bit 1
 *         truncate at a u16 offset read next.
 *
 * Checked (abort when it does not hold): a refusal carries a message; a
 * stream that loaded saves again, and that saved stream loads again into a
 * fresh machine (what the loader accepts, the saver can write). ASan (leaks
 * included), UBSan and the guard pages catch the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "common/log.h"
#include "common/util.h"
#include "fuzz-common.h"
#include "fuzz.h"
#include "vm/backend/chardev-internal.h"
#include "vm/bus.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/hw/acpi-pm.h"
#include "vm/hw/clint.h"
#include "vm/hw/i8042.h"
#include "vm/hw/pci.h"
#include "vm/hw/plic.h"
#include "vm/hw/rtc.h"
#include "vm/hw/uart16550.h"
#include "vm/main/config.h"
#include "vm/mem.h"
#include "vm/registry.h"
#include "vm/state.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"
#include "vm/virtio/transport-pci.h"
#include "vm/virtio/virtio.h"

#define CHECK(cond, ...)                                             \
	do {                                                         \
		if (!(cond)) {                                       \
			fprintf(stderr, "fuzz-state: " __VA_ARGS__); \
			fputc('\n', stderr);                         \
			abort();                                     \
		}                                                    \
	} while (0)

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  (64u << 10)
#define NR_VIRTIO 3
#define MAX_EDITS 32

static const char config_json[] =
        "{\"arch\":\"riscv64\",\"accel\":\"emu\",\"memory\":1048576,\"cpus\":1,"
        "\"boot\":\"kernel\",\"kernel\":\"Image\",\"initrd\":null,\"cmdline\":\"console=ttyS0\","
        "\"firmware\":null,\"disks\":[\"disk.img\"],\"nets\":[],\"rng\":true,"
        "\"console\":\"stdio\",\"virtio_console\":\"null\",\"agent\":false,"
        "\"on_reset\":\"exit\",\"virtio_mmio\":true,\"jit\":false,\"jit_cache\":0}";

static const char config_json_x86[] =
        "{\"arch\":\"x86_64\",\"accel\":\"kvm\",\"memory\":1048576,\"cpus\":1,"
        "\"boot\":\"kernel\",\"kernel\":\"bzImage\",\"initrd\":null,\"cmdline\":\"console=ttyS0\","
        "\"firmware\":null,\"disks\":[\"disk.img\"],\"nets\":[],\"rng\":true,"
        "\"console\":\"stdio\",\"virtio_console\":\"null\",\"agent\":false,"
        "\"on_reset\":\"exit\",\"virtio_mmio\":false,\"jit\":false,\"jit_cache\":0}";

struct machine {
	bool x86;
	struct bus bus;
	/* x86: ports, the PCI host and the platform devices */
	struct bus pio;
	struct pci_host pci;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct acpi_pm *acpi;
	struct virtio_pci *vpci[NR_VIRTIO];
	struct rv_cpu *cpu;
	struct clint *clint;
	struct plic *plic;
	struct uart16550 *uart;
	struct fz_disk disk;
	struct virtio_dev *vdev[NR_VIRTIO];
	struct virtio_mmio *vmmio[NR_VIRTIO];
	struct vm_registry reg;
};

static struct {
	bool ready;
	uint8_t *ram;
	struct vm_mem mem;
	uint8_t *tmpl; /* the valid stream the odd inputs edit */
	size_t tmpl_len;
	uint8_t *tmpl_x86; /* the same for the x86 machine */
	size_t tmpl_x86_len;
} fz;

/* ---- plumbing ------------------------------------------------------------------ */

static size_t null_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	return len;
}

static void null_close(struct chardev *c)
{
	free(c);
}

static const struct chardev_ops null_ops = {
        .name = "fuzz",
        .write = null_write,
        .close = null_close,
};

static struct chardev *null_chardev(void)
{
	struct chardev *c = calloc(1, sizeof(*c));

	CHECK(c, "out of memory");
	c->ops = &null_ops;
	return c;
}

static void line_set(void *opaque, unsigned n, bool level)
{
}

static uint64_t zero_time(void *opaque)
{
	return 0;
}

static void msi_drop(void *opaque, uint64_t addr, uint32_t data)
{
}

static struct irq_line intx_line(void *opaque, unsigned slot, unsigned pin)
{
	return (struct irq_line){.set = line_set, .n = slot};
}

/* ---- the machine ---------------------------------------------------------------- */

/* The x86 machine: the pc board's devices on ports and PCI, without KVM. */
static void build_x86(struct machine *m)
{
	struct vk_error err = {0};
	struct irq_line line = {.set = line_set};

	bus_init(&m->pio, "pio");
	CHECK(pci_host_init(&m->pci, &m->pio, &m->bus, 0xe0000000ull, 0x1000000, 0xc000, 0x4000,
	                    &err) == 0,
	      "%s", err.msg);
	m->pci.platform.msi.send = msi_drop;
	m->pci.intx_line = intx_line;
	m->uart = uart16550_create(&m->pio, 0x3f8, 0, line, null_chardev(), &err);
	m->i8042 = i8042_create(&m->pio, line, line, NULL, NULL, &err);
	m->rtc = rtc_create(&m->pio, &err);
	m->acpi = acpi_pm_create(&m->pio, 0x600, 5, line, NULL, NULL, &err);
	fz_disk_init(&m->disk);
	m->vdev[0] = virtio_blk_create(&fz.mem, &m->disk.be, "fuzz", &err);
	m->vdev[1] = virtio_console_create(&fz.mem, null_chardev(), &err);
	m->vdev[2] = virtio_rng_create(&fz.mem, &err);
	CHECK(m->uart && m->i8042 && m->rtc && m->acpi && m->vdev[0] && m->vdev[1] && m->vdev[2],
	      "cannot build the x86 machine: %s", err.msg);
	vm_registry_init(&m->reg, &fz.mem, "x86_64", "pc");
	for (unsigned d = 0; d < NR_VIRTIO; d++) {
		m->vpci[d] = virtio_pci_create(&m->pci, m->vdev[d], &err);
		CHECK(m->vpci[d], "%s", err.msg);
	}
}

static void build(struct machine *m, bool x86)
{
	struct vk_error err = {0};
	struct irq_line ctx[2], msip, mtip, line = {.set = line_set};
	struct rv_cpu_config cc = {.mem = &fz.mem, .max_satp_mode = RV_SATP_MODE_SV39};

	memset(m, 0, sizeof(*m));
	m->x86 = x86;
	if (x86) {
		bus_init(&m->bus, "mmio");
		build_x86(m);
		return;
	}
	bus_init(&m->bus, "mmio");
	for (unsigned i = 0; i < 2; i++)
		ctx[i] = (struct irq_line){.set = line_set, .n = i};
	msip = mtip = line;
	cc.mmio = &m->bus;
	m->cpu = rv_cpu_new(&cc, &err);
	m->plic = plic_create(&m->bus, 0x0c000000, 16, 2, ctx, &err);
	m->clint = clint_create(&m->bus, 0x02000000, 1, &msip, &mtip, zero_time, NULL, &err);
	m->uart = uart16550_create(&m->bus, 0x10000000, 0, line, null_chardev(), &err);
	fz_disk_init(&m->disk);
	m->vdev[0] = virtio_blk_create(&fz.mem, &m->disk.be, "fuzz", &err);
	m->vdev[1] = virtio_console_create(&fz.mem, null_chardev(), &err);
	m->vdev[2] = virtio_rng_create(&fz.mem, &err);
	CHECK(m->cpu && m->plic && m->clint && m->uart && m->vdev[0] && m->vdev[1] && m->vdev[2],
	      "cannot build the machine: %s", err.msg);
	vm_registry_init(&m->reg, &fz.mem, "riscv64", "virt");
	for (unsigned d = 0; d < NR_VIRTIO; d++) {
		m->vmmio[d] = virtio_mmio_create(&m->bus, 0x10001000 + d * 0x1000ull, line,
		                                 m->vdev[d], &err);
		CHECK(m->vmmio[d], "%s", err.msg);
	}
}

static void hart_save(void *opaque, struct vm_state_buf *b)
{
	rv_cpu_save(opaque, b);
}

static int hart_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	return rv_cpu_load(opaque, r, version, err);
}

static const struct vm_device_ops hart_ops = {
        .kind = "riscv64 hart",
        .version = RV_CPU_STATE_VERSION,
        .save = hart_save,
        .load = hart_load,
};

static void enter(struct machine *m)
{
	struct vk_error err = {0};
	char name[32];
	int r;

	if (m->x86) {
		r = uart16550_register(m->uart, &m->reg, "uart", &err);
		if (r == 0)
			r = i8042_register(m->i8042, &m->reg, "i8042", &err);
		if (r == 0)
			r = rtc_register(m->rtc, &m->reg, "rtc", &err);
		if (r == 0)
			r = acpi_pm_register(m->acpi, &m->reg, "acpi", &err);
		if (r == 0)
			r = pci_host_register(&m->pci, &m->reg, "pci", &err);
		for (unsigned d = 0; r == 0 && d < NR_VIRTIO; d++) {
			snprintf(name, sizeof(name), "virtio-pci.%u", d);
			r = virtio_pci_register(m->vpci[d], &m->reg, name, &err);
		}
		CHECK(r == 0, "cannot enter the x86 devices: %s", err.msg);
		return;
	}
	r = vm_registry_add(&m->reg, "cpu0", &hart_ops, m->cpu, &err);

	if (r == 0)
		r = clint_register(m->clint, &m->reg, "clint", &err);
	if (r == 0)
		r = plic_register(m->plic, &m->reg, "plic", &err);
	if (r == 0)
		r = uart16550_register(m->uart, &m->reg, "uart", &err);
	for (unsigned d = 0; r == 0 && d < NR_VIRTIO; d++) {
		snprintf(name, sizeof(name), "virtio-mmio.%u", d);
		r = virtio_mmio_register(m->vmmio[d], &m->reg, name, &err);
	}
	CHECK(r == 0, "cannot enter the devices: %s", err.msg);
}

static void teardown(struct machine *m)
{
	if (m->x86) {
		for (unsigned d = 0; d < NR_VIRTIO; d++) {
			virtio_pci_destroy(m->vpci[d]);
			virtio_dev_destroy(m->vdev[d]);
		}
		pci_host_destroy(&m->pci);
		uart16550_destroy(m->uart);
		i8042_destroy(m->i8042);
		rtc_destroy(m->rtc);
		acpi_pm_destroy(m->acpi);
		CHECK(m->bus.nr == 0 && m->pio.nr == 0, "%u+%u ranges left on the buses", m->bus.nr,
		      m->pio.nr);
		bus_destroy(&m->pio);
		bus_destroy(&m->bus);
		return;
	}
	for (unsigned d = 0; d < NR_VIRTIO; d++) {
		virtio_mmio_destroy(m->vmmio[d]);
		virtio_dev_destroy(m->vdev[d]);
	}
	uart16550_destroy(m->uart);
	clint_destroy(m->clint);
	plic_destroy(m->plic);
	rv_cpu_free(m->cpu);
	CHECK(m->bus.nr == 0, "%u ranges left on the bus", m->bus.nr);
	bus_destroy(&m->bus);
}

/* ---- streams through a memfd ------------------------------------------------------ */

static int memfd_with(const uint8_t *data, size_t len)
{
	int fd = memfd_create("fuzz-state", MFD_CLOEXEC);

	CHECK(fd >= 0, "memfd_create failed");
	CHECK(len == 0 || write(fd, data, len) == (ssize_t)len, "cannot fill the memfd");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek failed");
	return fd;
}

/* The machine m saved as a stream: a malloc'ed buffer of *len bytes. */
static uint8_t *save_machine(struct machine *m, size_t *len)
{
	struct vk_error err = {0};
	int fd = memfd_create("fuzz-state-out", MFD_CLOEXEC);
	struct vm_state_out *out = vm_state_out_new(fd);
	uint8_t *buf;
	off_t end;
	int r;

	CHECK(fd >= 0 && out, "cannot set up saving");
	const char *cfg = m->x86 ? config_json_x86 : config_json;

	r = vm_state_write_header(out, m->reg.arch, m->reg.board, cfg, strlen(cfg), RAM_SIZE, &err);
	if (r == 0)
		r = vm_registry_save(&m->reg, out, &err);
	if (r == 0)
		r = vm_registry_save_ram(&m->reg, out, NULL, NULL, &err);
	if (r == 0)
		r = vm_state_write_record(out, VM_STATE_END, "end", 1, NULL, 0, &err);
	if (r == 0)
		r = vm_state_flush(out, &err);
	CHECK(r == 0, "cannot save the machine: %s", err.msg);
	vm_state_out_free(out);
	end = lseek(fd, 0, SEEK_END);
	CHECK(end > 0, "nothing saved");
	buf = malloc((size_t)end);
	CHECK(buf && pread(fd, buf, (size_t)end, 0) == end, "cannot read the saved stream");
	close(fd);
	*len = (size_t)end;
	return buf;
}

/* Load a stream into a fresh machine; on success, *saved (may be NULL) gets it saved again. */
static int load_stream(const uint8_t *data, size_t len, bool x86, uint8_t **saved,
                       size_t *saved_len, struct vk_error *err)
{
	struct machine m;
	struct vm_state_header h;
	struct vm_config cfg = {0};
	struct vm_state_in *in;
	char *config = NULL;
	int fd = memfd_with(data, len), r;

	build(&m, x86);
	enter(&m);
	memset(fz.ram, 0, RAM_SIZE);
	in = vm_state_in_new(fd);
	CHECK(in, "out of memory");
	r = vm_state_read_start(in, &h, &config, err);
	if (r == 0)
		r = vm_config_apply_saved(&cfg, config, h.arch, h.board, err);
	if (r == 0)
		r = vm_registry_load(&m.reg, in, NULL, err);
	if (r == 0 && saved)
		*saved = save_machine(&m, saved_len);
	free(config);
	vm_config_release(&cfg);
	vm_state_in_free(in);
	close(fd);
	teardown(&m);
	return r;
}

/* ---- inputs ------------------------------------------------------------------------ */

/* Walk the records after the header and set each one's CRC, as long as they frame. */
static void fix_crcs(uint8_t *p, size_t len)
{
	size_t off = VM_STATE_HEADER_SIZE;

	while (off + 17 <= len) {
		uint64_t plen = 0;
		size_t end;
		uint32_t crc;

		for (unsigned i = 0; i < 8; i++)
			plen |= (uint64_t)p[off + 8 + i] << (8 * i);
		if (plen > len || off + 17 + p[off + 16] + plen + 4 > len)
			return;
		end = off + 17 + p[off + 16] + (size_t)plen;
		crc = (uint32_t)crc32(0, p + off, (uInt)(end - off));
		for (unsigned i = 0; i < 4; i++)
			p[end + i] = (uint8_t)(crc >> (8 * i));
		off = end + 4;
	}
}

static void setup_once(void)
{
	struct machine m;

	vk_log_set_level(VK_LOG_ERROR);
	fz.ram = fz_guarded_ram(RAM_SIZE);
	vm_mem_init(&fz.mem);
	fz.mem.nr = 1;
	fz.mem.regions[0] =
	        (struct vm_mem_region){.gpa = RAM_BASE, .size = RAM_SIZE, .host = fz.ram};
	/* The templates: a few RAM pages that are not zero; a hart in S-mode, or the guest
	 * having programmed an MSI-X vector and the RTC. */
	build(&m, true);
	enter(&m);
	memset(fz.ram, 0, RAM_SIZE);
	memset(fz.ram + 0x1000, 0x5a, 0x1000);
	pci_cfg_write(virtio_pci_device(m.vpci[2]), PCI_COMMAND, 0x6, 2);
	pci_msix_table_write(virtio_pci_device(m.vpci[2]), 0, 0xfee00000, 4);
	pci_msix_table_write(virtio_pci_device(m.vpci[2]), 8, 0x41, 4);
	m.pci.config_address = 0x80001000;
	fz.tmpl_x86 = save_machine(&m, &fz.tmpl_x86_len);
	teardown(&m);
	build(&m, false);
	enter(&m);
	memset(fz.ram, 0, RAM_SIZE);
	memset(fz.ram + 0x1000, 0xa5, 0x2000);
	memcpy(fz.ram + 0x8000, "virtkit", 7);
	rv_cpu_reset(m.cpu, RAM_BASE);
	rv_cpu_set_reg(m.cpu, 10, 0x1234);
	fz.tmpl = save_machine(&m, &fz.tmpl_len);
	teardown(&m);
	fz.ready = true;
}

int vk_fuzz_one(const uint8_t *data, size_t size)
{
	struct fz_reader r = {data, size};
	struct vk_error err = {0};
	uint8_t *buf, *again = NULL, *third = NULL;
	size_t len, again_len = 0, third_len = 0;
	bool x86;
	int ret;

	if (!fz.ready)
		setup_once();
	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		buf = malloc(size);
		CHECK(buf, "out of memory");
		memcpy(buf, data + 1, size - 1);
		len = size - 1;
		/* The header's arch (bytes 16-31) picks the machine. */
		x86 = len >= 32 && !memcmp(buf + 16, "x86_64", 7);
	} else {
		const uint8_t *tmpl = (data[0] & 2) ? fz.tmpl_x86 : fz.tmpl;
		size_t tmpl_len = (data[0] & 2) ? fz.tmpl_x86_len : fz.tmpl_len;
		unsigned count;
		uint8_t flags;

		(void)fz_get8(&r); /* the form */
		count = fz_get8(&r) % (MAX_EDITS + 1);
		x86 = (data[0] & 2) != 0;
		buf = malloc(tmpl_len);
		CHECK(buf, "out of memory");
		memcpy(buf, tmpl, tmpl_len);
		len = tmpl_len;
		for (unsigned i = 0; i < count; i++) {
			uint16_t off = fz_get16(&r);
			uint8_t x = fz_get8(&r);

			buf[off % len] ^= x;
		}
		flags = fz_get8(&r);
		if (flags & 1)
			fix_crcs(buf, len);
		if (flags & 2)
			len = fz_get16(&r) % (len + 1);
	}
	ret = load_stream(buf, len, x86, &again, &again_len, &err);
	CHECK(ret == 0 || (ret < 0 && err.msg[0]), "refused (%d) without a message", ret);
	if (ret == 0) {
		/* What loaded saves again, and that loads again. */
		vk_error_clear(&err);
		ret = load_stream(again, again_len, x86, &third, &third_len, &err);
		CHECK(ret == 0, "a stream saved from a loaded machine does not load: %s", err.msg);
		free(third);
	}
	free(again);
	free(buf);
	return 0;
}

/* The template as it is, with its CRCs recomputed, and truncated in its middle. */
static const uint8_t builtin0[] = {1, 0, 0};
static const uint8_t builtin1[] = {1, 0, 1};
static const uint8_t builtin2[] = {1, 0, 2, 0x00, 0x08};
/* A flipped byte in the configuration, CRCs fixed: the configuration's digest refuses it. */
static const uint8_t builtin3[] = {1, 1, 0x60, 0x00, 0x01, 1};
/* The raw form: a header alone. */
static const uint8_t builtin4[] = {0, 'V', 'K', 'S', 'T', 'A', 'T', 'E', '\n', 1, 0, 0, 0};
/* The x86 template as it is, with its CRCs recomputed, and truncated in its middle. */
static const uint8_t builtin5[] = {3, 0, 0};
static const uint8_t builtin6[] = {3, 0, 1};
static const uint8_t builtin7[] = {3, 0, 2, 0x00, 0x08};

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)}, {builtin1, sizeof(builtin1)}, {builtin2, sizeof(builtin2)},
        {builtin3, sizeof(builtin3)}, {builtin4, sizeof(builtin4)}, {builtin5, sizeof(builtin5)},
        {builtin6, sizeof(builtin6)}, {builtin7, sizeof(builtin7)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "state";
