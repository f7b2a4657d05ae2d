/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the CMOS RTC's interrupts, driven through ports 0x70/0x71
 * with a real event loop behind its timer: the periodic interrupt (PF),
 * update-ended (UF), the alarm (AF, with "any" bytes and an exact second),
 * SET inhibiting updates, IRQF following the enables, register C clearing
 * the flags and the line, and no flags at all when no line is wired. Every
 * wait is for an event, bounded by a timeout; nothing checks durations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "vm/bus.h"
#include "vm/hw/rtc.h"
#include "vm/loop.h"

#define REG_B_PIE  0x40
#define REG_B_AIE  0x20
#define REG_B_UIE  0x10
#define REG_B_24H  0x02
#define REG_C_IRQF 0x80
#define REG_C_PF   0x40
#define REG_C_AF   0x20
#define REG_C_UF   0x10

static struct bus pio;
static struct vm_loop *loop;
static struct {
	bool level;
	unsigned rises;
} line;

static void irq_record(void *opaque, unsigned n, bool level)
{
	assert_int_equal(n, 8);
	if (level && !line.level)
		line.rises++;
	line.level = level;
}

static int setup(void **state)
{
	bus_init(&pio, "pio");
	loop = vm_loop_new();
	memset(&line, 0, sizeof(line));
	return loop ? 0 : -1;
}

static int teardown(void **state)
{
	vm_loop_free(loop);
	bus_destroy(&pio);
	return 0;
}

static uint8_t get(uint8_t reg)
{
	uint64_t v = 0;

	assert_true(bus_write(&pio, 0x70, 1, reg));
	assert_true(bus_read(&pio, 0x71, 1, &v));
	return (uint8_t)v;
}

static void put(uint8_t reg, uint8_t v)
{
	assert_true(bus_write(&pio, 0x70, 1, reg));
	assert_true(bus_write(&pio, 0x71, 1, v));
}

/* Run the loop until the line rises (true) or timeout_ms pass (false). */
static bool wait_rise(unsigned timeout_ms)
{
	unsigned before = line.rises;
	uint64_t end = vk_now_ns() + timeout_ms * 1000000ull;

	while (line.rises == before && vk_now_ns() < end)
		vm_loop_poll(loop, 10 * 1000000);
	return line.rises != before;
}

static struct rtc *make(void)
{
	struct vk_error err = {0};
	struct rtc *r = rtc_create(&pio, &err);

	assert_non_null(r);
	assert_int_equal(rtc_set_irq(r, loop, (struct irq_line){.set = irq_record, .n = 8}, &err),
	                 0);
	assert_int_equal(rtc_set_irq(r, loop, (struct irq_line){0}, &err), -EBUSY);
	return r;
}

static void test_periodic(void **state)
{
	struct rtc *r = make();
	uint8_t c;

	/* Register A: 32.768 kHz divider, rate 15 (2 Hz); the flag rises without PIE. */
	put(0x0a, 0x2f);
	get(0x0c);
	assert_false(line.level);
	put(0x0b, REG_B_24H | REG_B_PIE);
	assert_true(wait_rise(3000));
	c = get(0x0c);
	assert_int_equal(c & (REG_C_IRQF | REG_C_PF), REG_C_IRQF | REG_C_PF);
	assert_false(line.level); /* reading C lowers the line */
	assert_int_equal(get(0x0c) & REG_C_PF, 0);
	/* It keeps coming; 1024 Hz (rate 6) too. */
	assert_true(wait_rise(3000));
	get(0x0c);
	put(0x0a, 0x26);
	assert_true(wait_rise(1000));
	assert_true(get(0x0c) & REG_C_PF);
	/* PIE off: the line stays low, and a pending PF no longer makes IRQF. */
	put(0x0b, REG_B_24H);
	assert_false(wait_rise(50));
	c = get(0x0c);
	assert_int_equal(c & REG_C_IRQF, 0);
	assert_true(c & REG_C_PF);
	/* Rate 0 or a stopped divider: no periodic flag at all. */
	put(0x0a, 0x20);
	get(0x0c);
	put(0x0b, REG_B_24H | REG_B_PIE);
	assert_false(wait_rise(50));
	put(0x0a, 0x76);
	assert_false(wait_rise(50));
	assert_int_equal(get(0x0c) & REG_C_PF, 0);
	rtc_destroy(r);
}

static void test_update_and_alarm(void **state)
{
	struct rtc *r = make();
	uint8_t c, sec;

	put(0x0a, 0x20); /* no periodic flag in the way */
	/* Update-ended, once a second; the alarm with every byte "any" matches each update. */
	put(0x01, 0xc0);
	put(0x03, 0xff);
	put(0x05, 0xc0);
	get(0x0c);
	put(0x0b, REG_B_24H | REG_B_UIE);
	assert_true(wait_rise(2500));
	c = get(0x0c);
	assert_int_equal(c & (REG_C_IRQF | REG_C_UF | REG_C_AF), REG_C_IRQF | REG_C_UF | REG_C_AF);
	assert_int_equal(c & REG_C_PF, 0);

	/* An exact second: the one before now does not match the next update; two ahead does. */
	put(0x0b, REG_B_24H | REG_B_AIE);
	get(0x0c);
	sec = (uint8_t)((get(0x00) >> 4) * 10 + (get(0x00) & 0xf));
	put(0x01, (uint8_t)(((sec + 59) % 60 / 10) << 4 | (sec + 59) % 60 % 10));
	put(0x03, 0xc0);
	assert_false(wait_rise(1300)); /* an update came, no alarm */
	c = get(0x0c);
	assert_int_equal(c & (REG_C_UF | REG_C_AF | REG_C_IRQF), REG_C_UF);
	sec = (uint8_t)((get(0x00) >> 4) * 10 + (get(0x00) & 0xf));
	put(0x01, (uint8_t)(((sec + 2) % 60 / 10) << 4 | (sec + 2) % 60 % 10));
	assert_true(wait_rise(3500));
	c = get(0x0c);
	assert_int_equal(c & (REG_C_IRQF | REG_C_AF), REG_C_IRQF | REG_C_AF);

	/* SET stops the update cycle: no UF while it is on. */
	put(0x0b, REG_B_24H | REG_B_UIE | 0x80);
	get(0x0c);
	assert_false(wait_rise(1300));
	assert_int_equal(get(0x0c) & REG_C_UF, 0);
	rtc_destroy(r);
}

static void test_unwired(void **state)
{
	struct vk_error err = {0};
	struct rtc *r = rtc_create(&pio, &err);

	/* Without a line the device is the plain clock of before: C reads 0. */
	put(0x0a, 0x26);
	put(0x0b, REG_B_24H | REG_B_PIE | REG_B_UIE);
	vm_loop_poll(loop, 5 * 1000000);
	assert_int_equal(get(0x0c), 0);
	assert_int_equal(line.rises, 0);
	rtc_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_update_and_alarm, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unwired, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
