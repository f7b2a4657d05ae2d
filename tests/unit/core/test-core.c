/* SPDX-License-Identifier: MIT */
/* Unit tests of the device core: guest memory, the bus, the event loop, utilities. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "vm/bus.h"
#include "vm/loop.h"
#include "vm/mem.h"

static void test_mem_translate_bounds(void **state)
{
	struct vm_mem mem;
	uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t out[8];

	vm_mem_init(&mem);
	assert_int_equal(vm_mem_add_ram(&mem, 0x80000000, 1 << 20, NULL), 0);
	assert_non_null(vm_mem_translate(&mem, 0x80000000, 1 << 20));
	assert_non_null(vm_mem_translate(&mem, 0x800ffff8, 8));
	/* One byte past the end, below the start, and a wrapping length. */
	assert_null(vm_mem_translate(&mem, 0x800ffff9, 8));
	assert_null(vm_mem_translate(&mem, 0x7fffffff, 1));
	assert_null(vm_mem_translate(&mem, 0x80000010, UINT64_MAX));
	assert_null(vm_mem_translate(&mem, UINT64_MAX, 2));
	assert_int_equal(vm_mem_write(&mem, 0x80000100, buf, sizeof(buf)), 0);
	assert_int_equal(vm_mem_read(&mem, 0x80000100, out, sizeof(out)), 0);
	assert_memory_equal(buf, out, sizeof(buf));
	assert_int_equal(vm_mem_read(&mem, 0x100, out, 1), -EFAULT);
	assert_int_equal(vm_mem_total(&mem), 1 << 20);
	vm_mem_destroy(&mem);
}

static void test_mem_regions(void **state)
{
	struct vm_mem mem;
	struct vk_error err = {0};

	vm_mem_init(&mem);
	assert_int_equal(vm_mem_add_ram(&mem, 0, 1 << 20, NULL), 0);
	assert_int_equal(vm_mem_add_ram(&mem, 1 << 21, 1 << 20, NULL), 0);
	/* Overlap, unaligned, empty and wrapping regions are refused with a reason. */
	assert_int_equal(vm_mem_add_ram(&mem, 1 << 19, 1 << 20, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "overlaps"));
	assert_int_equal(vm_mem_add_ram(&mem, 123, 4096, NULL), -EINVAL);
	assert_int_equal(vm_mem_add_ram(&mem, 1 << 24, 0, NULL), -EINVAL);
	assert_int_equal(vm_mem_add_ram(&mem, UINT64_MAX - 4095, 8192, NULL), -EINVAL);
	/* A range spanning both regions (with a hole between) is not RAM. */
	assert_null(vm_mem_translate(&mem, (1 << 20) - 4, 8));
	assert_null(vm_mem_translate(&mem, (1 << 21) - 4, 8));
	assert_non_null(vm_mem_translate(&mem, 1 << 21, 4));
	vm_mem_destroy(&mem);
}

struct fake_dev {
	uint64_t last_off, last_val;
	unsigned last_size, reads, writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_dev *d = opaque;
	d->reads++;
	d->last_off = off;
	d->last_size = size;
	return 0x1122334455667788ull >> (8 * (8 - size));
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct fake_dev *d = opaque;
	d->writes++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static const struct bus_ops fake_ops = {.read = fake_read, .write = fake_write};

static void test_bus_dispatch(void **state)
{
	struct fake_dev a = {0}, b = {0};
	struct bus bus;
	uint64_t v;

	bus_init(&bus, "mmio");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, &fake_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x3000, 0x100, &fake_ops, &b, "b"), 0);
	assert_true(bus_write(&bus, 0x1010, 4, 0xdeadbeef));
	assert_int_equal(a.last_off, 0x10);
	assert_int_equal(a.last_val, 0xdeadbeef);
	assert_int_equal(a.last_size, 4);
	/* Handlers see only the bytes of the access. */
	assert_true(bus_write(&bus, 0x1010, 2, 0x123456789abcdef0ull));
	assert_int_equal(a.last_val, 0xdef0);
	assert_true(bus_write(&bus, 0x1010, 1, 0x1ff));
	assert_int_equal(a.last_val, 0xff);
	assert_true(bus_read(&bus, 0x30f8, 8, &v));
	assert_int_equal(b.last_off, 0xf8);
	assert_int_equal(v, 0x1122334455667788ull);
	for (unsigned size = 1; size <= 8; size <<= 1) {
		assert_true(bus_read(&bus, 0x1000, size, &v));
		assert_int_equal(a.last_size, size);
	}
	/* Holes, straddling accesses and odd sizes find no device. */
	assert_false(bus_read(&bus, 0x2000, 4, &v));
	assert_false(bus_read(&bus, 0x10fe, 4, &v));
	assert_false(bus_read(&bus, 0x1000, 3, &v));
	assert_false(bus_write(&bus, 0x0fff, 1, 0));
	assert_int_equal(b.writes, 0);
	bus_destroy(&bus);
}

static void test_bus_overlap_and_removal(void **state)
{
	struct fake_dev a = {0};
	struct bus bus;
	uint64_t v;

	bus_init(&bus, "pio");
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &fake_ops, &a, "uart"), 0);
	assert_int_equal(bus_register(&bus, 0x3f0, 9, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x3ff, 1, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &fake_ops, &a, "x"), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x3f0, 8, &fake_ops, &a, "below"), 0);
	assert_int_equal(bus_register(&bus, 0x400, 8, &fake_ops, &a, "above"), 0);
	assert_int_equal(bus_register(&bus, 0, 0, &fake_ops, &a, "empty"), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, &fake_ops, &a, "wrap"), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 1, &fake_ops, &a, "last"), 0);
	assert_string_equal(bus_lookup(&bus, 0x3fc)->name, "uart");
	assert_string_equal(bus_lookup(&bus, 0x3f7)->name, "below");
	assert_int_equal(bus_unregister(&bus, 0x3f8), 0);
	assert_int_equal(bus_unregister(&bus, 0x3f8), -ENOENT);
	assert_false(bus_read(&bus, 0x3f8, 1, &v));
	assert_true(bus_read(&bus, 0x400, 1, &v));
	/* Many ranges keep the array sorted. */
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(
		        bus_register(&bus, 0x10000 + (99 - i) * 0x10, 0x10, &fake_ops, &a, "many"),
		        0);
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(bus_lookup(&bus, 0x10000 + i * 0x10 + 5)->base,
		                 0x10000 + i * 0x10);
	bus_destroy(&bus);
}

static int timer_hits;
static void on_timer(void *opaque)
{
	timer_hits++;
}

static int fd_hits;
static void on_fd(void *opaque, int fd, short revents)
{
	char c;
	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	fd_hits++;
	vm_loop_del_fd(opaque, fd);
}

static void test_loop_timers_and_fds(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct vm_timer *t;
	uint64_t start;
	int p[2];

	assert_non_null(loop);
	t = vm_timer_new(loop, on_timer, NULL);
	start = vk_now_ns();
	vm_timer_mod(t, start + 20 * 1000000);
	assert_int_equal(vm_loop_next_deadline(loop), start + 20 * 1000000);
	while (timer_hits == 0)
		assert_true(vm_loop_poll(loop, -1) >= 0);
	/* The timer must not fire early. */
	assert_true(vk_now_ns() - start >= 20 * 1000000);
	assert_false(vm_timer_pending(t));
	assert_int_equal(vm_loop_next_deadline(loop), UINT64_MAX);
	/* A timer far beyond INT64_MAX ns does not turn a bounded wait into an endless one. */
	vm_timer_mod(t, UINT64_MAX - 1);
	alarm(10);             /* SIGALRM ends the test instead of a hang */
	vm_loop_poll(loop, 0); /* consumes the wakeup vm_timer_mod() sent */
	assert_int_equal(vm_loop_poll(loop, 1000000), 0);
	alarm(0);
	vm_timer_del(t);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(vm_loop_add_fd(loop, p[0], POLLIN, on_fd, loop), 0);
	assert_int_equal(vm_loop_add_fd(loop, p[0], POLLIN, on_fd, loop), -EEXIST);
	assert_int_equal(vm_loop_poll(loop, 0), 0);
	assert_int_equal(write(p[1], "xy", 2), 2);
	assert_true(vm_loop_poll(loop, 1000000000) >= 1);
	assert_int_equal(fd_hits, 1);
	/* Deleted from inside its own callback: a second byte is not delivered. */
	vm_loop_poll(loop, 0);
	assert_int_equal(fd_hits, 1);
	close(p[0]);
	close(p[1]);
	vm_timer_free(t);
	vm_loop_free(loop);
}

static void test_parse_size(void **state)
{
	struct vk_error err = {0};
	uint64_t v;

	assert_int_equal(vk_parse_size("256M", &v, NULL), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(vk_parse_size("1G", &v, NULL), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(vk_parse_size("64k", &v, NULL), 0);
	assert_int_equal(v, 64ull << 10);
	assert_int_equal(vk_parse_size("2GiB", &v, NULL), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(vk_parse_size("4096", &v, NULL), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(vk_parse_size("12Q", &v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "12Q"));
	assert_int_equal(vk_parse_size("", &v, NULL), -EINVAL);
	assert_int_equal(vk_parse_size("-1M", &v, NULL), -EINVAL);
	assert_int_equal(vk_parse_size("99999999999999999999", &v, NULL), -ERANGE);
	assert_int_equal(vk_parse_size("99999999999T", &v, NULL), -ERANGE);
}

static void test_iov_copy(void **state)
{
	char a[3] = "abc", b[1] = "d", c[4] = "efgh", out[16] = {0};
	struct iovec iov[] = {{a, 3}, {NULL, 0}, {b, 1}, {c, 4}};
	struct iovec huge[] = {{a, SIZE_MAX}, {b, 1}};

	/* Gather from an offset inside the list, across an empty entry. */
	assert_int_equal(vk_iov_to_buf(iov, 4, 2, out, 4), 4);
	assert_memory_equal(out, "cdef", 4);
	/* The list ends first: fewer bytes than asked. */
	assert_int_equal(vk_iov_to_buf(iov, 4, 5, out, sizeof(out)), 3);
	assert_memory_equal(out, "fgh", 3);
	assert_int_equal(vk_iov_to_buf(iov, 4, 8, out, sizeof(out)), 0);
	/* Scatter the other way. */
	assert_int_equal(vk_iov_from_buf(iov, 4, 1, "XYZW", 4), 4);
	assert_memory_equal(a, "aXY", 3);
	assert_memory_equal(b, "Z", 1);
	assert_memory_equal(c, "Wfgh", 4);
	assert_int_equal(vk_iov_size(iov, 4), 8);
	assert_int_equal(vk_iov_size(huge, 2), SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mem_translate_bounds),
	        cmocka_unit_test(test_mem_regions),
	        cmocka_unit_test(test_bus_dispatch),
	        cmocka_unit_test(test_bus_overlap_and_removal),
	        cmocka_unit_test(test_loop_timers_and_fds),
	        cmocka_unit_test(test_parse_size),
	        cmocka_unit_test(test_iov_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
