/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of virtio-rng (buffers filled from getrandom) and virtio-console
 * (one port on a fake chardev: output, back-pressure on output,
 * flow-controlled input, emerg_wr; multiport: control messages, a named
 * port whose input waits for the guest to open it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-chardev.h"
#include "vdriver.h"
#include "vm/virtio/devices.h"

#define CONSOLE_F_EMERG_WRITE 2

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_rng_fills_buffers(void **state)
{
	struct vdriver d;
	struct vd_buf b[2];
	uint64_t a, big;
	uint32_t id, len;
	uint8_t first[164];

	vd_init(&d);
	vd_attach(&d, virtio_dev_from_spec(VIRTIO_SPEC_RNG, "", &d.mem, NULL, NULL));
	assert_int_equal(vd_rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	vd_bringup(&d, 0, 1, 8);
	a = vd_alloc(&d, 164, 16);
	b[0] = (struct vd_buf){a, 64, true};
	b[1] = (struct vd_buf){a + 64, 100, true};
	vd_chain(&d, 0, b, 2);
	vd_kick(&d, 0);
	assert_true(vd_used(&d, 0, &id, &len));
	assert_int_equal(len, 164);
	assert_false(all_zero(vd_ptr(&d, a), 64));
	assert_false(all_zero(vd_ptr(&d, a + 64), 100));
	assert_true(d.irq_level);
	memcpy(first, vd_ptr(&d, a), sizeof(first));
	vd_chain(&d, 0, b, 2);
	vd_kick(&d, 0);
	assert_true(vd_used(&d, 0, &id, &len));
	assert_memory_not_equal(first, vd_ptr(&d, a), sizeof(first));
	/* A huge request gets at most 64 KiB, and says so. */
	big = vd_alloc(&d, 1 << 20, 16);
	b[0] = (struct vd_buf){big, 1 << 20, true};
	vd_chain(&d, 0, b, 1);
	vd_kick(&d, 0);
	assert_true(vd_used(&d, 0, &id, &len));
	assert_int_equal(len, 64 * 1024);
	assert_true(all_zero((uint8_t *)vd_ptr(&d, big) + 64 * 1024, 1024));
	vd_fini(&d);
}

struct cfix {
	struct vdriver d;
};

static struct cfix *console(void)
{
	struct cfix *f = calloc(1, sizeof(*f));
	struct vk_error err = {0};
	struct virtio_dev *dev;

	vd_init(&f->d);
	dev = virtio_dev_from_spec(VIRTIO_SPEC_CONSOLE, "fake", &f->d.mem, NULL, &err);
	assert_non_null(dev);
	vd_attach(&f->d, dev);
	return f;
}

static void test_console_output(void **state)
{
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();
	uint64_t a;
	struct vd_buf b[2];
	uint32_t id, len;

	assert_int_equal(vd_rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	vd_bringup(&f->d, 0, 2, 16);
	a = vd_alloc(&f->d, 16, 16);
	memcpy(vd_ptr(&f->d, a), "hello, world", 12);
	b[0] = (struct vd_buf){a, 5, false};
	b[1] = (struct vd_buf){a + 5, 7, false};
	vd_chain(&f->d, 1, b, 2);
	vd_kick(&f->d, 1);
	assert_true(vd_used(&f->d, 1, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(c->out_len, 12);
	assert_memory_equal(c->out, "hello, world", 12);
	/* A writable transmit buffer is refused and not written out. */
	b[0].write = true;
	vd_chain(&f->d, 1, b, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_used(&f->d, 1, &id, &len));
	assert_int_equal(c->out_len, 12);
	vd_fini(&f->d);
	free(f);
}

/* Queue one transmit chain of the given parts (read-only buffers) on queue 1. */
static void tx_chain(struct cfix *f, const char *const *parts, unsigned n)
{
	struct vd_buf b[4];

	for (unsigned i = 0; i < n; i++) {
		uint32_t len = (uint32_t)strlen(parts[i]);
		uint64_t a = vd_alloc(&f->d, len, 16);

		memcpy(vd_ptr(&f->d, a), parts[i], len);
		b[i] = (struct vd_buf){a, len, false};
	}
	vd_chain(&f->d, 1, b, n);
}

static unsigned tx_used(struct cfix *f)
{
	unsigned n = 0;
	uint32_t id, len;

	while (vd_used(&f->d, 1, &id, &len))
		n++;
	return n;
}

static void test_console_output_backpressure(void **state)
{
	static const char *const c1[] = {"0123456789", "abcdef"};
	static const char *const c2[] = {"ghij"};
	static const char *const c3[] = {"klm", "nop", "qrs"};
	static const char want[] = "0123456789abcdefghijklmnopqrs";
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();
	unsigned writes;

	vd_bringup(&f->d, 0, 2, 16);
	/* The host side takes 12 bytes, then its queue is full. */
	c->limited = true;
	c->room = 12;
	tx_chain(f, c1, 2);
	tx_chain(f, c2, 1);
	tx_chain(f, c3, 3);
	vd_kick(&f->d, 1);
	assert_int_equal(c->out_len, 12);
	assert_memory_equal(c->out, want, 12);
	/* Nothing is completed: the guest's transmit queue stays full. */
	assert_int_equal(tx_used(f), 0);
	assert_true(c->blocked);
	/* More kicks while the chardev is full do not write (nor lose) anything. */
	writes = c->writes;
	vd_kick(&f->d, 1);
	assert_int_equal(c->writes, writes);
	assert_int_equal(c->out_len, 12);
	assert_int_equal(tx_used(f), 0);
	/* Room for 6 more: the first chain completes, the second is half out. */
	fake_chardev_give_room(c, 6);
	assert_int_equal(c->out_len, 18);
	assert_memory_equal(c->out, want, 18);
	assert_int_equal(tx_used(f), 1);
	assert_true(f->d.irq_level);
	/* Room for everything: the rest comes out in order, nothing lost or doubled. */
	fake_chardev_give_room(c, 1000);
	assert_int_equal(c->out_len, strlen(want));
	assert_memory_equal(c->out, want, strlen(want));
	assert_int_equal(tx_used(f), 2);
	assert_false(c->blocked);
	/* And the queue keeps going afterwards. */
	tx_chain(f, c2, 1);
	vd_kick(&f->d, 1);
	assert_int_equal(c->out_len, strlen(want) + 4);
	assert_int_equal(tx_used(f), 1);
	vd_fini(&f->d);
	free(f);
}

static void test_console_write_ready_reentry(void **state)
{
	static const char *const c1[] = {"hello", "world"};
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();

	vd_bringup(&f->d, 0, 2, 16);
	/*
	 * The chardev is full, and its reader goes away during the write: it
	 * calls write_ready from inside chardev_write(). The device must retry,
	 * not wait for a write_ready that already came.
	 */
	c->limited = true;
	c->room = 0;
	c->reenter = true;
	tx_chain(f, c1, 2);
	vd_kick(&f->d, 1);
	assert_false(c->reenter);
	assert_int_equal(c->out_len, 10);
	assert_memory_equal(c->out, "helloworld", 10);
	assert_int_equal(tx_used(f), 1);
	vd_fini(&f->d);
	free(f);
}

static void test_console_reset_while_blocked(void **state)
{
	static const char *const c1[] = {"stale-data"};
	static const char *const c2[] = {"fresh"};
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();

	vd_bringup(&f->d, 0, 2, 16);
	c->limited = true;
	c->room = 3;
	tx_chain(f, c1, 1);
	vd_kick(&f->d, 1);
	assert_int_equal(c->out_len, 3);
	/* A reset drops the half-written chain; room later must not resurrect it. */
	vd_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	fake_chardev_give_room(c, 0); /* write_ready while the device is stopped */
	assert_int_equal(c->out_len, 3);
	vd_bringup(&f->d, 0, 2, 16);
	tx_chain(f, c2, 1);
	vd_kick(&f->d, 1);
	assert_int_equal(c->out_len, 3); /* still no room */
	fake_chardev_give_room(c, 100);
	assert_int_equal(c->out_len, 8);
	assert_memory_equal(c->out, "stafresh", 8);
	assert_int_equal(tx_used(f), 1);
	vd_fini(&f->d);
	free(f);
}

static void test_console_input_flow_control(void **state)
{
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();
	struct vd_buf b;
	uint64_t a1, a2;
	uint32_t id, len;
	unsigned accepts;

	vd_bringup(&f->d, 0, 2, 16);
	/* No receive buffers: no room. */
	assert_int_equal(fake_chardev_input(c, "abcdefghij", 10), 0);
	accepts = c->accept_calls;
	a1 = vd_alloc(&f->d, 8, 16);
	b = (struct vd_buf){a1, 8, true};
	vd_chain(&f->d, 0, &b, 1);
	vd_kick(&f->d, 0);
	/* The guest added a buffer: the device asks the chardev for input. */
	assert_true(c->accept_calls > accepts);
	assert_int_equal(fake_chardev_input(c, "abcdefghij", 10), 8);
	assert_true(vd_used(&f->d, 0, &id, &len));
	assert_int_equal(len, 8);
	assert_memory_equal(vd_ptr(&f->d, a1), "abcdefgh", 8);
	assert_true(f->d.irq_level);
	assert_int_equal(fake_chardev_input(c, "ij", 2), 0);
	a2 = vd_alloc(&f->d, 64, 16);
	b = (struct vd_buf){a2, 64, true};
	vd_chain(&f->d, 0, &b, 1);
	vd_kick(&f->d, 0);
	assert_int_equal(fake_chardev_input(c, "ij", 2), 2);
	assert_true(vd_used(&f->d, 0, &id, &len));
	assert_int_equal(len, 2);
	assert_memory_equal(vd_ptr(&f->d, a2), "ij", 2);
	/* After a reset, no stale buffer is used. */
	vd_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fake_chardev_input(c, "x", 1), 0);
	vd_fini(&f->d);
	free(f);
}

static void test_console_emerg_write(void **state)
{
	struct cfix *f = console();
	struct chardev *c = fake_chardev_last();

	assert_true(virtio_read_device_features(f->d.dev, 0) & (1u << CONSOLE_F_EMERG_WRITE));
	/* Not negotiated: ignored. */
	vd_bringup(&f->d, 0, 2, 16);
	assert_true(bus_write(&f->d.bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 8, 4, 'A'));
	assert_int_equal(c->out_len, 0);
	vd_bringup(&f->d, 1ull << CONSOLE_F_EMERG_WRITE, 2, 16);
	assert_true(bus_write(&f->d.bus, VD_MMIO_BASE + VIRTIO_MMIO_CONFIG + 8, 4, 'Z'));
	assert_int_equal(c->out_len, 1);
	assert_int_equal(c->out[0], 'Z');
	vd_fini(&f->d);
	free(f);
}

/* ---- multiport: control messages, a named port, input only once the guest opens it ---- */

#define CONSOLE_F_MULTIPORT 1
#define CTRL_RXQ            2
#define CTRL_TXQ            3

static void ctrl_to_device(struct vdriver *d, uint32_t id, uint16_t event, uint16_t value)
{
	uint64_t a = vd_alloc(d, 8, 8);
	struct vd_buf b = {a, 8, false};
	uint8_t *p = vd_ptr(d, a);

	memcpy(p, &id, 4);
	memcpy(p + 4, &event, 2);
	memcpy(p + 6, &value, 2);
	vd_chain(d, CTRL_TXQ, &b, 1);
	vd_kick(d, CTRL_TXQ);
}

/* The device's next control message: id, event, value and what follows (a name). */
static bool ctrl_from_device(struct vdriver *d, const uint64_t *bufs, uint32_t *id, uint16_t *event,
                             uint16_t *value, char *name, size_t name_max)
{
	uint32_t head, len;
	const uint8_t *p;

	if (!vd_used(d, CTRL_RXQ, &head, &len) || len < 8)
		return false;
	p = vd_ptr(d, bufs[head]);
	memcpy(id, p, 4);
	memcpy(event, p + 4, 2);
	memcpy(value, p + 6, 2);
	snprintf(name, name_max, "%.*s", (int)(len - 8), (const char *)p + 8);
	return true;
}

static void test_console_multiport(void **state)
{
	struct vdriver d;
	struct vk_error err = {0};
	struct virtio_console_port port = {.id = 1, .name = "org.qemu.guest_agent.0"};
	struct chardev *c;
	uint64_t bufs[16], a;
	struct vd_buf b;
	uint32_t id, len;
	uint16_t ev, val;
	char name[80];

	vd_init(&d);
	port.chr = chardev_open(NULL, "fake", &err);
	c = port.chr;
	vd_attach(&d, virtio_console_create_ports(&d.mem, &port, 1, &err));
	assert_true(virtio_read_device_features(d.dev, 0) & (1u << CONSOLE_F_MULTIPORT));
	assert_int_equal(vd_rd(&d, VIRTIO_MMIO_CONFIG + 4), 2); /* max_nr_ports */
	vd_bringup(&d, 1ull << CONSOLE_F_MULTIPORT, 6, 16);
	/* Control receive buffers; descriptor i is buffer i (a fresh queue hands them in order). */
	for (unsigned i = 0; i < 8; i++) {
		bufs[i] = vd_alloc(&d, 96, 8);
		b = (struct vd_buf){bufs[i], 96, true};
		vd_chain(&d, CTRL_RXQ, &b, 1);
	}
	vd_kick(&d, CTRL_RXQ);
	assert_false(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));

	ctrl_to_device(&d, 0, 0 /* DEVICE_READY */, 1);
	assert_true(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));
	assert_int_equal(id, 1);
	assert_int_equal(ev, 1 /* DEVICE_ADD */);
	assert_false(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));

	ctrl_to_device(&d, 1, 3 /* PORT_READY */, 1);
	assert_true(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));
	assert_int_equal(ev, 7 /* PORT_NAME */);
	assert_string_equal(name, "org.qemu.guest_agent.0");
	assert_true(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));
	assert_int_equal(id, 1);
	assert_int_equal(ev, 6 /* PORT_OPEN: the host end is connected */);
	assert_int_equal(val, 1);
	/* A port the device does not have gets nothing. */
	ctrl_to_device(&d, 5, 3, 1);
	assert_false(ctrl_from_device(&d, bufs, &id, &ev, &val, name, sizeof(name)));

	/* Port 1's receiveq is 4: input waits until a program in the guest opens the port. */
	a = vd_alloc(&d, 32, 8);
	b = (struct vd_buf){a, 32, true};
	vd_chain(&d, 4, &b, 1);
	vd_kick(&d, 4);
	assert_int_equal(fake_chardev_input(c, "ping\n", 5), 0);
	ctrl_to_device(&d, 1, 6 /* PORT_OPEN */, 1);
	assert_int_equal(fake_chardev_input(c, "ping\n", 5), 5);
	assert_true(vd_used(&d, 4, &id, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(vd_ptr(&d, a), "ping\n", 5);

	/* Its transmitq is 5. */
	a = vd_alloc(&d, 8, 8);
	memcpy(vd_ptr(&d, a), "pong\n", 5);
	b = (struct vd_buf){a, 5, false};
	vd_chain(&d, 5, &b, 1);
	vd_kick(&d, 5);
	assert_true(vd_used(&d, 5, &id, &len));
	assert_int_equal(c->out_len, 5);
	assert_memory_equal(c->out, "pong\n", 5);

	/* Closed again: input waits again. */
	ctrl_to_device(&d, 1, 6, 0);
	vd_chain(&d, 4, &b, 1);
	vd_kick(&d, 4);
	assert_int_equal(fake_chardev_input(c, "x", 1), 0);
	vd_fini(&d);
}

static void test_console_multiport_errors(void **state)
{
	struct vk_error err = {0};
	struct vm_mem mem;
	struct virtio_console_port p[2] = {
	        {.id = 1, .name = "a", .chr = chardev_open(NULL, "fake", &err)},
	        {.id = 1, .name = "b", .chr = chardev_open(NULL, "fake", &err)},
	};

	vm_mem_init(&mem);
	assert_null(virtio_console_create_ports(&mem, p, 2, &err));
	assert_non_null(strstr(err.msg, "port 1 given twice"));
	p[0] = (struct virtio_console_port){
	        .id = 9, .name = "a", .chr = chardev_open(NULL, "fake", &err)};
	assert_null(virtio_console_create_ports(&mem, p, 1, &err));
	assert_non_null(strstr(err.msg, "port 9"));
	vm_mem_destroy(&mem);
}

static void test_console_spec_error(void **state)
{
	struct vm_mem mem;
	struct vk_error err = {0};

	vm_mem_init(&mem);
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_CONSOLE, "nonsense", &mem, NULL, &err));
	assert_non_null(strstr(err.msg, "nonsense"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rng_fills_buffers),
	        cmocka_unit_test(test_console_output),
	        cmocka_unit_test(test_console_output_backpressure),
	        cmocka_unit_test(test_console_write_ready_reentry),
	        cmocka_unit_test(test_console_reset_while_blocked),
	        cmocka_unit_test(test_console_input_flow_control),
	        cmocka_unit_test(test_console_emerg_write),
	        cmocka_unit_test(test_console_spec_error),
	        cmocka_unit_test(test_console_multiport),
	        cmocka_unit_test(test_console_multiport_errors),
	};

	return cmocka_run_group_tests_name("virtio-misc", tests, NULL, NULL);
}
