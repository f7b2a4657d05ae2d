/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the machine-state loader (src/vm/state.c, registry.c and
 * every device's load): a state file or a migration peer is hostile input.
 * Each input builds afresh a machine like the riscv64 board's, entered in a
 * registry under the board's names: a hart ("cpu0", interpreter), a CLINT, a
 * PLIC, a 16550 on a fake chardev, and virtio-mmio transports with virtio-blk
 * (in-memory disk), virtio-console (fake chardev) and virtio-rng, on 64 KiB of
 * guest RAM between guard pages. The stream goes in through a memfd, as a file
 * would: vm_state_read_start(), the saved configuration through
 * vm_config_apply_saved(), then vm_registry_load().
 *
 * Input: byte 0 picks the form.
 *   even  the rest is the stream itself (header parsing, record framing);
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
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/uart16550.h"
#include "vm/main/config.h"
#include "vm/mem.h"
#include "vm/registry.h"
#include "vm/state.h"
#include "vm/virtio/devices.h"
#include "vm/virtio/transport-mmio.h"
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

struct machine {
	struct bus bus;
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

/* ---- the machine ---------------------------------------------------------------- */

static void build(struct machine *m)
{
	struct vk_error err = {0};
	struct irq_line ctx[2], msip, mtip, line = {.set = line_set};
	struct rv_cpu_config cc = {.mem = &fz.mem, .max_satp_mode = RV_SATP_MODE_SV39};

	memset(m, 0, sizeof(*m));
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
	int r = vm_registry_add(&m->reg, "cpu0", &hart_ops, m->cpu, &err);

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
	r = vm_state_write_header(out, "riscv64", "virt", config_json, strlen(config_json),
	                          RAM_SIZE, &err);
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
static int load_stream(const uint8_t *data, size_t len, uint8_t **saved, size_t *saved_len,
                       struct vk_error *err)
{
	struct machine m;
	struct vm_state_header h;
	struct vm_config cfg = {0};
	struct vm_state_in *in;
	char *config = NULL;
	int fd = memfd_with(data, len), r;

	build(&m);
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
	/* The template: a few RAM pages that are not zero, a hart in S-mode. */
	build(&m);
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
	} else {
		unsigned count;
		uint8_t flags;

		(void)fz_get8(&r); /* the form */
		count = fz_get8(&r) % (MAX_EDITS + 1);
		buf = malloc(fz.tmpl_len);
		CHECK(buf, "out of memory");
		memcpy(buf, fz.tmpl, fz.tmpl_len);
		len = fz.tmpl_len;
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
	ret = load_stream(buf, len, &again, &again_len, &err);
	CHECK(ret == 0 || (ret < 0 && err.msg[0]), "refused (%d) without a message", ret);
	if (ret == 0) {
		/* What loaded saves again, and that loads again. */
		vk_error_clear(&err);
		ret = load_stream(again, again_len, &third, &third_len, &err);
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

const struct vk_fuzz_input vk_fuzz_builtin[] = {
        {builtin0, sizeof(builtin0)}, {builtin1, sizeof(builtin1)}, {builtin2, sizeof(builtin2)},
        {builtin3, sizeof(builtin3)}, {builtin4, sizeof(builtin4)},
};
const unsigned vk_fuzz_nr_builtin = sizeof(vk_fuzz_builtin) / sizeof(vk_fuzz_builtin[0]);
const char vk_fuzz_name[] = "state";
