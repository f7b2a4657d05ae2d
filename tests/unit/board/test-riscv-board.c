/* SPDX-License-Identifier: MIT */
/* Unit tests of the riscv virt board's own devices: PLIC, CLINT, test finisher, device tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "vm/board/riscv-virt.h"
#include "vm/bus.h"
#include "vm/hw/clint.h"
#include "vm/hw/plic.h"
#include "vm/hw/sifive-test.h"

#define PLIC 0x0c000000ull

static bool lines[8];
static unsigned line_changes;

static void record_line(void *opaque, unsigned n, bool level)
{
	lines[n] = level;
	line_changes++;
}

static uint32_t rd32(struct bus *bus, uint64_t addr)
{
	uint64_t v = 0;
	assert_true(bus_read(bus, addr, 4, &v));
	return (uint32_t)v;
}

static void wr32(struct bus *bus, uint64_t addr, uint32_t v)
{
	assert_true(bus_write(bus, addr, 4, v));
}

static struct plic *make_plic(struct bus *bus, unsigned contexts)
{
	struct irq_line out[4];

	memset(lines, 0, sizeof(lines));
	for (unsigned i = 0; i < contexts; i++)
		out[i] = (struct irq_line){.set = record_line, .n = i};
	return plic_create(bus, PLIC, 96, contexts, out, NULL);
}

static void test_plic_claim_complete(void **state)
{
	struct bus bus;
	struct plic *plic;
	struct irq_line src10, src3;

	bus_init(&bus, "mmio");
	plic = make_plic(&bus, 2);
	assert_non_null(plic);
	src10 = plic_input(plic, 10);
	src3 = plic_input(plic, 3);

	/* Priority 0 never interrupts; an enabled source with priority 1 does. */
	wr32(&bus, PLIC + 0x2080, (1u << 10) | (1u << 3)); /* context 1 enables */
	irq_raise(&src10);
	assert_false(lines[1]);
	assert_int_equal(rd32(&bus, PLIC + 0x1000) & (1u << 10), 1u << 10); /* pending */
	wr32(&bus, PLIC + 4 * 10, 1);
	assert_true(lines[1]);
	assert_false(lines[0]); /* context 0 did not enable it */

	/* Threshold masks priorities at or below it. */
	wr32(&bus, PLIC + 0x201000, 1);
	assert_false(lines[1]);
	wr32(&bus, PLIC + 0x201000, 0);
	assert_true(lines[1]);

	/* Higher priority wins; equal priority goes to the lower id. */
	wr32(&bus, PLIC + 4 * 3, 5);
	irq_raise(&src3);
	assert_int_equal(rd32(&bus, PLIC + 0x201004), 3);
	/* Source 3 is in service: a second claim gets 10. */
	assert_int_equal(rd32(&bus, PLIC + 0x201004), 10);
	assert_false(lines[1]);
	assert_int_equal(rd32(&bus, PLIC + 0x201004), 0);

	/* Completing a source whose line is still high makes it pending again. */
	wr32(&bus, PLIC + 0x201004, 3);
	assert_true(lines[1]);
	irq_lower(&src3);
	assert_false(lines[1]); /* dropped before the claim: no longer pending */
	irq_lower(&src10);
	wr32(&bus, PLIC + 0x201004, 10);
	assert_false(lines[1]);
	assert_int_equal(rd32(&bus, PLIC + 0x1000), 0);

	/* Bogus registers and completions are ignored, never crash. */
	wr32(&bus, PLIC + 0x201004, 12345);
	wr32(&bus, PLIC + 0x5ff000, 1);
	assert_int_equal(rd32(&bus, PLIC + 0x4000), 0);
	wr32(&bus, PLIC + 0x2000, 1); /* source 0 cannot be enabled */
	assert_int_equal(rd32(&bus, PLIC + 0x2000), 0);
	plic_destroy(plic);
	bus_destroy(&bus);
}

static uint64_t fake_time;
static uint64_t get_fake_time(void *opaque)
{
	return fake_time;
}

static void test_clint_timer_and_ipi(void **state)
{
	struct irq_line msip[2], mtip[2];
	struct clint *clint;
	struct bus bus;
	uint64_t v;

	memset(lines, 0, sizeof(lines));
	for (unsigned i = 0; i < 2; i++) {
		msip[i] = (struct irq_line){.set = record_line, .n = i};
		mtip[i] = (struct irq_line){.set = record_line, .n = 2 + i};
	}
	bus_init(&bus, "mmio");
	fake_time = 1000;
	clint = clint_create(&bus, 0x2000000, 2, msip, mtip, get_fake_time, NULL, NULL);
	assert_non_null(clint);
	assert_true(bus_read(&bus, 0x200bff8, 8, &v));
	assert_int_equal(v, 1000);
	/* No timer armed at reset. */
	clint_update(clint);
	assert_false(lines[2]);
	assert_int_equal(clint_ticks_to_deadline(clint), UINT64_MAX);
	/* mtimecmp of hart 1 in two 32-bit halves. */
	assert_true(bus_write(&bus, 0x2004008, 4, 1500));
	assert_true(bus_write(&bus, 0x200400c, 4, 0));
	assert_false(lines[3]);
	assert_int_equal(clint_ticks_to_deadline(clint), 500);
	fake_time = 1499;
	clint_update(clint);
	assert_false(lines[3]);
	fake_time = 1500;
	/* The deadline passed since the last clint_update(): the board must not sleep. */
	assert_int_equal(clint_ticks_to_deadline(clint), 0);
	clint_update(clint);
	assert_true(lines[3]);
	assert_false(lines[2]);
	/* Moving mtimecmp into the future lowers MTIP at once. */
	assert_true(bus_write(&bus, 0x2004008, 8, 5000));
	assert_false(lines[3]);
	/* What hart threads read without the machine lock. */
	assert_int_equal(clint_mtime(clint), 1500);
	assert_int_equal(clint_mtimecmp(clint, 1), 5000);
	assert_int_equal(clint_mtimecmp(clint, 0), UINT64_MAX);
	assert_int_equal(clint_mtimecmp(clint, 2), UINT64_MAX);
	/* msip: bit 0 only. */
	assert_true(bus_write(&bus, 0x2000004, 4, 0xffffffff));
	assert_true(lines[1]);
	assert_true(bus_read(&bus, 0x2000004, 4, &v));
	assert_int_equal(v, 1);
	assert_true(bus_write(&bus, 0x2000004, 4, 0));
	assert_false(lines[1]);
	/* The guest may write any mtime: the offset wraps like mtime itself. */
	assert_true(bus_write(&bus, 0x200bff8, 8, 1ull << 62));
	assert_true(bus_write(&bus, 0x200bff8, 8, 1ull << 63));
	assert_true(bus_write(&bus, 0x200bff8, 8, UINT64_MAX - 10));
	assert_true(bus_read(&bus, 0x200bff8, 8, &v));
	assert_int_equal(v, UINT64_MAX - 10);
	assert_true(bus_write(&bus, 0x2004008, 8, UINT64_MAX - 4));
	assert_false(lines[3]);
	assert_int_equal(clint_ticks_to_deadline(clint), 6);
	fake_time += 6;
	clint_update(clint);
	assert_true(lines[3]);
	/* Hart 0's all-ones mtimecmp means disarmed: nothing to wake for. */
	assert_int_equal(clint_ticks_to_deadline(clint), UINT64_MAX);
	/* Writes to a hart that does not exist are ignored. */
	assert_true(bus_write(&bus, 0x2000008, 4, 1));
	assert_true(bus_write(&bus, 0x2004010, 8, 1));
	assert_false(lines[4]);
	clint_destroy(clint);
	bus_destroy(&bus);
}

static int test_events[3];
static uint32_t last_code;
static void on_test_event(void *opaque, enum sifive_test_event ev, uint32_t code)
{
	test_events[ev]++;
	last_code = code;
}

static void test_finisher(void **state)
{
	struct sifive_test *t;
	struct bus bus;

	bus_init(&bus, "mmio");
	t = sifive_test_create(&bus, 0x100000, on_test_event, NULL, NULL);
	assert_non_null(t);
	wr32(&bus, 0x100000, 0x1234);
	assert_int_equal(test_events[0] + test_events[1] + test_events[2], 0);
	wr32(&bus, 0x100000, 0x5555);
	assert_int_equal(test_events[SIFIVE_TEST_POWEROFF], 1);
	wr32(&bus, 0x100000, (7u << 16) | 0x3333);
	assert_int_equal(test_events[SIFIVE_TEST_FAIL], 1);
	assert_int_equal(last_code, 7);
	wr32(&bus, 0x100000, 0x7777);
	assert_int_equal(test_events[SIFIVE_TEST_RESET], 1);
	sifive_test_destroy(t);
	bus_destroy(&bus);
}

static void test_fdt(void **state)
{
	static uint8_t buf[VIRT_FDT_MAX_SIZE];
	struct riscv_fdt_params p = {
	        .ram_base = 0x80000000,
	        .ram_size = 256 << 20,
	        .nr_harts = 2,
	        .isa = "rv64imafdc_zicsr_zifencei",
	        .mmu_type = "riscv,sv48",
	        .bootargs = "console=ttyS0",
	        .initrd_start = 0x88000000,
	        .initrd_end = 0x88100000,
	        .nr_virtio = 3,
	};
	const fdt64_t *reg;
	const fdt32_t *irqs;
	const char *s;
	int node, len;

	assert_int_equal(riscv_fdt_build(&p, buf, sizeof(buf), NULL), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	/* Room left for firmware fixups. */
	assert_true(fdt_totalsize(buf) == sizeof(buf));
	node = fdt_path_offset(buf, "/chosen");
	assert_true(node >= 0);
	s = fdt_getprop(buf, node, "bootargs", NULL);
	assert_string_equal(s, "console=ttyS0");
	assert_string_equal(fdt_getprop(buf, node, "stdout-path", NULL), "/soc/serial@10000000");
	reg = fdt_getprop(buf, node, "linux,initrd-start", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt64_ld(reg), 0x88000000); /* properties are only 4-byte aligned */
	node = fdt_path_offset(buf, "/memory@80000000");
	reg = fdt_getprop(buf, node, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt64_ld(reg + 1), 256 << 20);
	assert_true(fdt_path_offset(buf, "/cpus/cpu@1/interrupt-controller") >= 0);
	/* U-Boot's timer driver and Linux read the timebase from /cpus. */
	node = fdt_path_offset(buf, "/cpus");
	irqs = fdt_getprop(buf, node, "timebase-frequency", &len);
	assert_int_equal(len, 4);
	assert_int_equal(fdt32_to_cpu(*irqs), VIRT_TIMEBASE_HZ);
	/* stdout-path names a node that exists (U-Boot picks its console by it). */
	assert_true(fdt_path_offset(buf, "/soc/serial@10000000") >= 0);
	assert_true(fdt_path_offset(buf, "/cpus/cpu@2") < 0);
	/* Slot n is at 0x10001000 + n * 0x1000 with IRQ 1 + n. */
	node = fdt_path_offset(buf, "/soc/virtio_mmio@10003000");
	assert_true(node >= 0);
	irqs = fdt_getprop(buf, node, "interrupts", &len);
	assert_int_equal(fdt32_to_cpu(*irqs), 3);
	assert_true(fdt_path_offset(buf, "/soc/virtio_mmio@10004000") < 0);
	/* The PLIC has an M and an S context per hart. */
	node = fdt_path_offset(buf, "/soc/plic@c000000");
	irqs = fdt_getprop(buf, node, "interrupts-extended", &len);
	assert_int_equal(len, 2 * 4 * 4);
	assert_int_equal(fdt32_to_cpu(irqs[1]), 11);
	assert_int_equal(fdt32_to_cpu(irqs[3]), 9);
	/* Too small a buffer is an error, not an overflow. */
	assert_int_equal(riscv_fdt_build(&p, buf, 256, NULL), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_plic_claim_complete),
	        cmocka_unit_test(test_clint_timer_and_ipi),
	        cmocka_unit_test(test_finisher),
	        cmocka_unit_test(test_fdt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
