/* SPDX-License-Identifier: MIT */
/*
 * rv-run: a minimal riscv64 machine around the software CPU, for the ISA
 * tests and for measuring the interpreter, independent of the virt board.
 *
 *   rv-run [-c HARTS] [-m MIB] [-t SECONDS] [-n INSNS] [-v] [--jit on|off] TEST.elf
 *       Bare-metal ELF with a `tohost` symbol (HTIF): exits 0 when the program
 *       writes 1 to tohost, 1 when it writes (n << 1) | 1 (test n failed), 2
 *       on timeout, 3 on a fatal CPU condition, 4 on a hang (all harts in
 *       wfi with no timer armed), 5 on bad usage or images. Time is virtual
 *       (10 instructions per mtime tick) and jumps ahead when every hart
 *       waits, so runs are deterministic and never sleep.
 *   rv-run --boot FIRMWARE --kernel IMAGE [--initrd FILE] [--append CMDLINE] ...
 *       Boot smoke test: OpenSBI fw_dynamic + a Linux Image on RAM, CLINT,
 *       PLIC, a 16550 stub (output only) and the sifive,test1 finisher, with
 *       the board's device tree. Real time; exits with the finisher's code.
 *
 * --jit on runs the harts on the binary translator, off (the default) on the
 * interpreter; VK_RV_JIT=on|off in the environment sets the default.
 *
 * Memory map as QEMU virt: RAM at 0x8000_0000, CLINT 0x0200_0000, PLIC
 * 0x0c00_0000, UART 0x1000_0000, finisher 0x0010_0000.
 */
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "vm/board/riscv-virt.h"
#include "vm/boot/elf.h"
#include "vm/bus.h"
#include "vm/emu/riscv64/cpu.h"
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/sifive-test.h"
#include "vm/mem.h"

#define MAX_HARTS 8
#define SLICE     20000

struct machine {
	struct vm_mem mem;
	struct bus mmio;
	struct rv_cpu *harts[MAX_HARTS];
	bool asleep[MAX_HARTS];
	unsigned nr_harts;
	struct clint *clint;
	struct plic *plic;
	struct sifive_test *finisher;
	struct rv_jit *jit;
	bool real_time;
	uint64_t start_ns, time_skip;
	uint8_t uart[8], uart_dll, uart_dlm;
	bool uart_thre; /* transmitter-empty interrupt pending */
	struct irq_line uart_irq;
	bool powered_off;
	int exit_code;
	int htif_code;         /* what the program reported: 0 pass, n: test n failed */
	FILE *out;             /* guest console: stdout, or stderr when stdout speaks TAP */
	char console[1 << 16]; /* the last console output, for --expect */
	size_t console_len;
};

static uint64_t total_instret(const struct machine *m)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->nr_harts; i++)
		n += rv_cpu_instret(m->harts[i]);
	return n;
}

/* mtime: 10 MHz. */
static uint64_t machine_time(void *opaque)
{
	struct machine *m = opaque;

	if (m->real_time)
		return (vk_now_ns() - m->start_ns) / 100 + m->time_skip;
	return total_instret(m) / 10 + m->time_skip;
}

static void line_msip(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;
	rv_cpu_set_irq(m->harts[n], RV_MIP_MSIP, level);
}

static void line_mtip(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;
	rv_cpu_set_irq(m->harts[n], RV_MIP_MTIP, level);
}

static void line_plic(void *opaque, unsigned n, bool level)
{
	struct machine *m = opaque;
	rv_cpu_set_irq(m->harts[n / 2], (n & 1) ? RV_MIP_SEIP : RV_MIP_MEIP, level);
}

/*
 * A 16550 that only transmits (instantly): enough for OpenSBI and Linux's
 * console, with the transmitter-empty interrupt the tty layer waits for.
 */
static void uart_update_irq(struct machine *m)
{
	irq_set(&m->uart_irq, m->uart_thre && (m->uart[1] & 0x02));
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
	struct machine *m = opaque;
	bool dlab = m->uart[3] & 0x80;
	uint64_t v;

	switch (off) {
	case 0:
		return dlab ? m->uart_dll : 0;
	case 1:
		return dlab ? m->uart_dlm : m->uart[1];
	case 2:
		v = (m->uart[2] & 1) ? 0xc0 : 0;
		if (m->uart_thre && (m->uart[1] & 0x02)) {
			m->uart_thre = false; /* reading IIR clears a THRE interrupt */
			uart_update_irq(m);
			return v | 0x02;
		}
		return v | 0x01;
	case 5:
		return 0x60; /* transmitter empty */
	default:
		return off < 8 ? m->uart[off] : 0;
	}
}

static void uart_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
	struct machine *m = opaque;
	bool dlab = m->uart[3] & 0x80;

	if (off == 0 && !dlab) {
		if (m->console_len == sizeof(m->console) - 1) {
			memmove(m->console, m->console + sizeof(m->console) / 2,
			        sizeof(m->console) / 2);
			m->console_len -= sizeof(m->console) / 2;
		}
		m->console[m->console_len++] = (char)value;
		m->console[m->console_len] = '\0';
		fputc((int)(value & 0xff), m->out);
		if ((value & 0xff) == '\n')
			fflush(m->out);
		m->uart_thre = true; /* sent at once */
		uart_update_irq(m);
	} else if (off == 0) {
		m->uart_dll = (uint8_t)value;
	} else if (off == 1 && dlab) {
		m->uart_dlm = (uint8_t)value;
	} else if (off < 8) {
		if (off == 1 && (value & 0x02) && !(m->uart[1] & 0x02))
			m->uart_thre = true; /* enabling ETBEI with THR empty interrupts at once */
		m->uart[off] = (uint8_t)value;
		uart_update_irq(m);
	}
}

static const struct bus_ops uart_ops = {.read = uart_read, .write = uart_write};

static void finisher_event(void *opaque, enum sifive_test_event ev, uint32_t code)
{
	struct machine *m = opaque;

	m->powered_off = true;
	m->exit_code = ev == SIFIVE_TEST_POWEROFF ? 0 : ev == SIFIVE_TEST_FAIL ? (int)code : 0;
	for (unsigned i = 0; i < m->nr_harts; i++)
		rv_cpu_request_exit(m->harts[i]);
}

static int machine_init(struct machine *m, unsigned nr_harts, uint64_t ram, bool jit,
                        struct vk_error *err)
{
	struct irq_line msip[MAX_HARTS], mtip[MAX_HARTS], plic_out[2 * MAX_HARTS];
	int r;

	vm_mem_init(&m->mem);
	bus_init(&m->mmio, "mmio");
	m->nr_harts = nr_harts;
	m->start_ns = vk_now_ns();
	r = vm_mem_add_ram(&m->mem, VIRT_DRAM_BASE, ram, err);
	if (r)
		return r;
	if (jit) {
		m->jit = rv_jit_new(&m->mem, 0, err);
		if (!m->jit)
			return -EINVAL;
		m->mem.write_hook = rv_jit_mem_write_hook;
		m->mem.write_hook_opaque = m->jit;
	}
	for (unsigned i = 0; i < nr_harts; i++) {
		struct rv_cpu_config cfg = {.hartid = i,
		                            .jit = m->jit,
		                            .mem = &m->mem,
		                            .mmio = &m->mmio,
		                            .rdtime = machine_time,
		                            .opaque = m,
		                            .share_decode_cache_with = i ? m->harts[0] : NULL};
		m->harts[i] = rv_cpu_new(&cfg, err);
		if (!m->harts[i])
			return -ENOMEM;
		msip[i] = (struct irq_line){.set = line_msip, .opaque = m, .n = i};
		mtip[i] = (struct irq_line){.set = line_mtip, .opaque = m, .n = i};
		plic_out[2 * i] = (struct irq_line){.set = line_plic, .opaque = m, .n = 2 * i};
		plic_out[2 * i + 1] =
		        (struct irq_line){.set = line_plic, .opaque = m, .n = 2 * i + 1};
	}
	m->clint =
	        clint_create(&m->mmio, VIRT_CLINT_BASE, nr_harts, msip, mtip, machine_time, m, err);
	if (!m->clint)
		return -EINVAL;
	m->plic = plic_create(&m->mmio, VIRT_PLIC_BASE, VIRT_PLIC_SOURCES, 2 * nr_harts, plic_out,
	                      err);
	if (!m->plic)
		return -EINVAL;
	m->finisher = sifive_test_create(&m->mmio, VIRT_TEST_BASE, finisher_event, m, err);
	if (!m->finisher)
		return -EINVAL;
	m->uart_irq = plic_input(m->plic, VIRT_UART0_IRQ);
	r = bus_register(&m->mmio, VIRT_UART0_BASE, 0x100, &uart_ops, m, "uart");
	if (r)
		return vk_error_errno(err, -r, "cannot map the UART");
	return 0;
}

static void machine_destroy(struct machine *m)
{
	for (unsigned i = 0; i < m->nr_harts; i++)
		rv_cpu_free(m->harts[i]);
	if (m->finisher)
		sifive_test_destroy(m->finisher);
	if (m->plic)
		plic_destroy(m->plic);
	if (m->clint)
		clint_destroy(m->clint);
	rv_jit_free(m->jit);
	bus_destroy(&m->mmio);
	vm_mem_destroy(&m->mem);
}

/* HTIF: returns true when the program exited, with *code (0 = pass). */
static bool htif_poll(struct machine *m, uint64_t tohost, uint64_t fromhost, int *code)
{
	uint64_t *th = vm_mem_translate(&m->mem, tohost, 8);
	uint64_t *fh = fromhost ? vm_mem_translate(&m->mem, fromhost, 8) : NULL;
	uint64_t v = th ? *th : 0;
	unsigned dev = (unsigned)(v >> 56), cmd = (unsigned)(v >> 48) & 0xff;

	if (!v)
		return false;
	*th = 0;
	if (dev == 0 && cmd == 0 && (v & 1)) {
		*code = (int)((v & 0xffffffffffffull) >> 1);
		return true;
	}
	if (dev == 1 && cmd == 1) { /* console putchar */
		fputc((int)(v & 0xff), m->out);
		if (fh)
			*fh = (1ull << 56) | (1ull << 48);
		return false;
	}
	if (dev == 0 && cmd == 0) { /* syscall: v points to {which, a0, a1, a2, ...} */
		uint64_t *args = vm_mem_translate(&m->mem, v, 8 * 8);
		if (args && args[0] == 64 && args[1] == 1) { /* write(1, buf, len) */
			uint8_t *buf = vm_mem_translate(&m->mem, args[2], args[3]);
			if (buf)
				fwrite(buf, 1, args[3], m->out);
			args[0] = buf ? args[3] : (uint64_t)-14;
		} else if (args && args[0] == 93) { /* exit(code) */
			*code = (int)args[1];
			return true;
		}
		if (fh)
			*fh = 1;
	}
	return false;
}

struct opts {
	unsigned harts;
	uint64_t ram_mib, max_insns;
	double timeout_s;
	bool verbose, jit;
	const char *boot_fw, *kernel, *initrd, *append, *expect, *tap;
};

/* Run the harts round-robin until done; returns the process exit code. */
static int run(struct machine *m, const struct opts *o, uint64_t tohost, uint64_t fromhost)
{
	uint64_t t0 = vk_now_ns(), deadline = t0 + (uint64_t)(o->timeout_s * 1e9);
	int code = 0;

	for (;;) {
		bool all_asleep = true;

		for (unsigned i = 0; i < m->nr_harts; i++) {
			struct rv_cpu *h = m->harts[i];
			enum rv_exit ex;

			if (m->asleep[i] && !rv_cpu_interrupt_pending(h))
				continue;
			m->asleep[i] = false;
			ex = rv_cpu_run(h, SLICE);
			if (ex == RV_EXIT_FATAL) {
				fprintf(stderr, "rv-run: %s\n", rv_cpu_fatal_reason(h));
				return 3;
			}
			if (ex == RV_EXIT_WFI)
				m->asleep[i] = true;
			else
				all_asleep = false;
		}
		clint_update(m->clint);
		if (m->powered_off)
			return m->exit_code;
		if (tohost && htif_poll(m, tohost, fromhost, &code)) {
			fflush(stdout);
			m->htif_code = code;
			if (code)
				fprintf(stderr, "rv-run: test %d failed\n", code);
			return code == 0 ? 0 : 1;
		}
		if (all_asleep) {
			uint64_t ticks = clint_ticks_to_deadline(m->clint), now = machine_time(m);
			uint64_t next = ticks == UINT64_MAX         ? UINT64_MAX
			                : ticks >= UINT64_MAX - now ? UINT64_MAX - 1
			                                            : now + ticks;
			bool any_pending = false;
			for (unsigned i = 0; i < m->nr_harts; i++)
				any_pending |= rv_cpu_interrupt_pending(m->harts[i]);
			if (!any_pending && next == UINT64_MAX) {
				fprintf(stderr,
				        "rv-run: every hart waits in wfi and no timer is armed\n");
				return 4;
			}
			if (!any_pending && next > now) {
				if (m->real_time) {
					uint64_t ns = VK_MIN((next - now) * 100, 10000000ull);
					nanosleep(&(struct timespec){.tv_nsec = (long)ns}, NULL);
				} else {
					m->time_skip += next - now;
				}
				clint_update(m->clint);
			}
		}
		if (vk_now_ns() > deadline || total_instret(m) > o->max_insns) {
			fprintf(stderr, "rv-run: timeout after %llu instructions (pc 0x%llx)\n",
			        (unsigned long long)total_instret(m),
			        (unsigned long long)rv_cpu_get_pc(m->harts[0]));
			return 2;
		}
	}
}

static int load_file(const char *path, uint64_t gpa, struct machine *m, size_t *len_out,
                     struct vk_error *err)
{
	uint8_t *buf;
	size_t len;
	int r = vk_read_file(path, 1u << 30, &buf, &len, err);

	if (r)
		return r;
	if (vm_mem_write(&m->mem, gpa, buf, len)) {
		free(buf);
		return vk_error_set(err, EFBIG, "'%s' does not fit in RAM at 0x%llx", path,
		                    (unsigned long long)gpa);
	}
	free(buf);
	if (len_out)
		*len_out = len;
	return 0;
}

static int setup_boot(struct machine *m, const struct opts *o, struct vk_error *err)
{
	uint64_t ram = o->ram_mib << 20, kernel = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;
	uint64_t initrd = VIRT_DRAM_BASE + VK_MIN(ram / 2, 128ull << 20), fdt, info;
	size_t initrd_len = 0;
	uint8_t *fdt_buf;
	int r;

	r = load_file(o->boot_fw, VIRT_DRAM_BASE, m, NULL, err);
	if (!r)
		r = load_file(o->kernel, kernel, m, NULL, err);
	if (!r && o->initrd)
		r = load_file(o->initrd, initrd, m, &initrd_len, err);
	if (r)
		return r;
	fdt = (VIRT_DRAM_BASE + ram - (2ull << 20)) & ~((2ull << 20) - 1);
	info = fdt + VIRT_FDT_MAX_SIZE;
	struct riscv_fdt_params p = {
	        .ram_base = VIRT_DRAM_BASE,
	        .ram_size = ram,
	        .nr_harts = m->nr_harts,
	        .isa = "rv64imafdc_zicsr_zifencei",
	        .mmu_type = "riscv,sv48",
	        .bootargs = o->append,
	        .initrd_start = initrd_len ? initrd : 0,
	        .initrd_end = initrd_len ? initrd + initrd_len : 0,
	};
	fdt_buf = vm_mem_translate(&m->mem, fdt, VIRT_FDT_MAX_SIZE);
	r = riscv_fdt_build(&p, fdt_buf, VIRT_FDT_MAX_SIZE, err);
	if (r)
		return r;
	/* struct fw_dynamic_info: magic, version, next_addr, next_mode (S), options, boot_hart */
	uint64_t di[6] = {0x4942534f, 2, kernel, 1, 0, 0};
	if (vm_mem_write(&m->mem, info, di, sizeof(di)))
		return vk_error_set(err, EFBIG, "no room for fw_dynamic_info");
	for (unsigned i = 0; i < m->nr_harts; i++) {
		rv_cpu_reset(m->harts[i], VIRT_DRAM_BASE);
		rv_cpu_set_reg(m->harts[i], 10, i);
		rv_cpu_set_reg(m->harts[i], 11, fdt);
		rv_cpu_set_reg(m->harts[i], 12, info);
	}
	return 0;
}

static int setup_elf(struct machine *m, const char *path, uint64_t *tohost, uint64_t *fromhost,
                     struct vk_error *err)
{
	struct elf_info info;
	uint8_t *buf;
	size_t len;
	int r = vk_read_file(path, 1u << 30, &buf, &len, err);

	if (r)
		return r;
	r = elf_load(path, buf, len, EM_RISCV, &m->mem, &info, err);
	if (!r)
		r = elf_find_symbol(path, buf, len, "tohost", tohost, err);
	if (!r && elf_find_symbol(path, buf, len, "fromhost", fromhost, NULL))
		*fromhost = 0;
	free(buf);
	if (r)
		return r;
	for (unsigned i = 0; i < m->nr_harts; i++) {
		rv_cpu_reset(m->harts[i], info.entry);
		rv_cpu_set_reg(m->harts[i], 10, i);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: rv-run [-c HARTS] [-m MIB] [-t SECONDS] [-n INSNS] [-v] [--jit on|off] "
	        "TEST.elf\n"
	        "       rv-run --boot FW --kernel IMAGE [--initrd F] [--append S] ...\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"boot", required_argument, NULL, 'B'},
	        {"kernel", required_argument, NULL, 'K'},
	        {"initrd", required_argument, NULL, 'I'},
	        {"append", required_argument, NULL, 'A'},
	        {"expect", required_argument, NULL, 'E'},
	        {"tap", required_argument, NULL, 'T'},
	        {"tap-skip", required_argument, NULL, 'S'},
	        {"jit", required_argument, NULL, 'J'},
	        {NULL, 0, NULL, 0},
	};
	struct opts o = {.harts = 1, .ram_mib = 64, .max_insns = UINT64_MAX, .timeout_s = 20};
	struct machine m = {0};
	struct vk_error err = {0};
	uint64_t tohost = 0, fromhost = 0, t0;
	int c, code;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("VK_RV_JIT"))
		o.jit = strcmp(getenv("VK_RV_JIT"), "on") == 0;
	while ((c = getopt_long(argc, argv, "c:m:t:n:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.harts = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			o.ram_mib = strtoull(optarg, NULL, 0);
			break;
		case 't':
			o.timeout_s = strtod(optarg, NULL);
			break;
		case 'n':
			o.max_insns = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'B':
			o.boot_fw = optarg;
			break;
		case 'K':
			o.kernel = optarg;
			break;
		case 'I':
			o.initrd = optarg;
			break;
		case 'A':
			o.append = optarg;
			break;
		case 'E':
			o.expect = optarg;
			break;
		case 'T':
			o.tap = optarg;
			break;
		case 'J':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				usage();
				return 5;
			}
			o.jit = strcmp(optarg, "on") == 0;
			break;
		case 'S': /* --tap-skip NAME REASON: this test cannot run here */
			printf("1..1\nok 1 - %s # SKIP %s\n", optarg,
			       optind < argc ? argv[optind] : "");
			return 0;
		default:
			usage();
			return 5;
		}
	}
	if (o.harts == 0 || o.harts > MAX_HARTS || o.ram_mib < 4 || o.ram_mib > 4096 ||
	    (o.boot_fw ? (!o.kernel || optind != argc) : optind != argc - 1)) {
		usage();
		return 5;
	}
	m.out = stdout;
	if (o.tap) {
		printf("1..1\n");
		m.out = stderr;
	}
	if (machine_init(&m, o.harts, o.ram_mib << 20, o.jit, &err) ||
	    (o.boot_fw ? setup_boot(&m, &o, &err)
	               : setup_elf(&m, argv[optind], &tohost, &fromhost, &err))) {
		fprintf(stderr, "rv-run: %s\n", err.msg);
		if (o.tap)
			printf("not ok 1 - %s: %s\n", o.tap, err.msg);
		machine_destroy(&m);
		return 5;
	}
	m.real_time = o.boot_fw != NULL;
	t0 = vk_now_ns();
	code = run(&m, &o, tohost, fromhost);
	if (code == 0 && o.expect && !strstr(m.console, o.expect)) {
		fprintf(stderr, "rv-run: the console never printed '%s'\n", o.expect);
		code = 6;
	}
	fflush(stdout);
	if (o.tap) {
		if (code == 0)
			printf("\nok 1 - %s\n", o.tap);
		else
			printf("\nnot ok 1 - %s: exit code %d (failing test %d)\n", o.tap, code,
			       m.htif_code);
	}
	if (o.verbose && code) {
		char desc[2048];
		for (unsigned i = 0; i < m.nr_harts; i++) {
			rv_cpu_describe(m.harts[i], desc, sizeof(desc));
			fprintf(stderr, "%s", desc);
		}
	}
	if (o.verbose) {
		double s = (double)(vk_now_ns() - t0) / 1e9;
		fprintf(stderr, "rv-run: exit %d, %llu instructions in %.3f s: %.1f MIPS\n", code,
		        (unsigned long long)total_instret(&m), s,
		        (double)total_instret(&m) / s / 1e6);
		if (m.jit) {
			struct rv_jit_stats st;
			rv_jit_get_stats(m.jit, &st);
			fprintf(stderr,
			        "rv-run: jit: %llu blocks (%llu instructions, %llu bytes of code), "
			        "%llu chained, %llu look-ups (%llu in the jump cache), %llu "
			        "invalidated, %llu flushes\n",
			        (unsigned long long)st.blocks, (unsigned long long)st.guest_insns,
			        (unsigned long long)st.code_bytes, (unsigned long long)st.chained,
			        (unsigned long long)st.lookups, (unsigned long long)st.jc_hits,
			        (unsigned long long)st.invalidated, (unsigned long long)st.flushes);
		}
	}
	machine_destroy(&m);
	return code;
}
