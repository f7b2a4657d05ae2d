/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the machine-state format and the registry (src/vm/state.c,
 * registry.c): payload cursors, a stream written and read back through a
 * memfd (a fake device, guest RAM with a few non-zero pages), and the
 * reader's refusals: every truncation, every flipped byte the format covers,
 * a missing device, RAM outside the machine; every device settles (quiesce)
 * before the first record is written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/mem.h"
#include "vm/registry.h"
#include "vm/state.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64u << 10)

static const char config[] = "{\"arch\":\"riscv64\"}";

/* A device whose state is a counter and a name. */
struct fake {
	uint32_t counter;
	char name[16];
};

static void fake_save(void *opaque, struct vm_state_buf *b)
{
	struct fake *f = opaque;

	vm_state_put_u32(b, f->counter);
	vm_state_put_bytes(b, f->name, sizeof(f->name));
}

static int fake_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	struct fake *f = opaque;

	f->counter = vm_state_get_u32(r);
	vm_state_get_bytes(r, f->name, sizeof(f->name));
	return 0;
}

static const struct vm_device_ops fake_ops = {
        .kind = "fake",
        .version = 2,
        .save = fake_save,
        .load = fake_load,
};

struct machine {
	struct vm_mem mem;
	struct vm_registry reg;
	struct fake dev;
};

static void machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	vm_mem_init(&m->mem);
	assert_int_equal(vm_mem_add_ram(&m->mem, RAM_BASE, RAM_SIZE, NULL), 0);
	vm_registry_init(&m->reg, &m->mem, "riscv64", "virt");
	assert_int_equal(vm_registry_add(&m->reg, "fake", &fake_ops, &m->dev, NULL), 0);
}

/* The machine saved to a malloc'ed buffer (*len bytes), with what `extra` adds before END. */
static uint8_t *save(struct machine *m, size_t *len,
                     int (*extra)(struct vm_state_out *o, struct vk_error *err))
{
	struct vk_error err = {0};
	int fd = memfd_create("state-test", MFD_CLOEXEC);
	struct vm_state_out *o = vm_state_out_new(fd);
	uint64_t pages = 0;
	uint8_t *buf;
	off_t end;

	assert_true(fd >= 0 && o);
	assert_int_equal(
	        vm_state_write_header(o, "riscv64", "virt", config, strlen(config), RAM_SIZE, &err),
	        0);
	assert_int_equal(vm_registry_save(&m->reg, o, &err), 0);
	assert_int_equal(vm_registry_save_ram(&m->reg, o, NULL, &pages, &err), 0);
	if (extra)
		assert_int_equal(extra(o, &err), 0);
	assert_int_equal(vm_state_write_record(o, VM_STATE_END, "end", 1, NULL, 0, &err), 0);
	assert_int_equal(vm_state_flush(o, &err), 0);
	vm_state_out_free(o);
	end = lseek(fd, 0, SEEK_END);
	buf = malloc((size_t)end);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
	close(fd);
	*len = (size_t)end;
	return buf;
}

/* Load len bytes of p into m: 0 or -errno with err set. */
static int load(struct machine *m, const uint8_t *p, size_t len, struct vk_error *err)
{
	int fd = memfd_create("state-test", MFD_CLOEXEC), r;
	struct vm_state_in *in;
	struct vm_state_header h;
	char *cfg = NULL;

	assert_true(fd >= 0);
	assert_true(len == 0 || write(fd, p, len) == (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	in = vm_state_in_new(fd);
	assert_non_null(in);
	r = vm_state_read_start(in, &h, &cfg, err);
	/* The header's names are checked by the caller against the configuration and the
	 * boards there are (main/config-saved.c), as here. */
	if (r == 0 && (strcmp(h.arch, "riscv64") || strcmp(h.board, "virt")))
		r = vk_error_set(err, EINVAL, "the header names another machine");
	if (r == 0) {
		assert_string_equal(cfg, config);
		r = vm_registry_load(&m->reg, in, NULL, err);
	}
	free(cfg);
	vm_state_in_free(in);
	close(fd);
	return r;
}

static void test_payload_cursor(void **state)
{
	struct vm_state_buf b = {0};
	struct vm_state_rd r;
	struct vk_error err = {0};
	uint8_t bytes[3];

	vm_state_put_u8(&b, 0xab);
	vm_state_put_u16(&b, 0x1234);
	vm_state_put_u32(&b, 0xdeadbeef);
	vm_state_put_u64(&b, 0x0102030405060708ull);
	vm_state_put_bool(&b, true);
	vm_state_put_bytes(&b, "xyz", 3);
	assert_false(b.oom);
	assert_int_equal(b.len, 1 + 2 + 4 + 8 + 1 + 3);
	assert_int_equal(b.data[1], 0x34); /* little-endian */

	vm_state_rd_init(&r, b.data, b.len);
	assert_int_equal(vm_state_get_u8(&r), 0xab);
	assert_int_equal(vm_state_get_u16(&r), 0x1234);
	assert_int_equal(vm_state_get_u32(&r), 0xdeadbeef);
	assert_true(vm_state_get_u64(&r) == 0x0102030405060708ull);
	assert_true(vm_state_get_bool(&r));
	assert_true(vm_state_get_bytes(&r, bytes, 3));
	assert_memory_equal(bytes, "xyz", 3);
	assert_int_equal(vm_state_rd_finish(&r, "test", &err), 0);
	/* Past the end: zero, and the reader stays bad. */
	assert_int_equal(vm_state_get_u32(&r), 0);
	assert_int_equal(vm_state_rd_finish(&r, "test", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));

	/* Bytes left over, and a bool that is neither 0 nor 1. */
	vm_state_rd_init(&r, b.data, b.len);
	(void)vm_state_get_u8(&r);
	assert_int_equal(vm_state_rd_finish(&r, "dev", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bytes too many"));
	vm_state_rd_init(&r, b.data, 1); /* 0xab as a bool */
	(void)vm_state_get_bool(&r);
	assert_true(r.bad);
	vm_state_buf_free(&b);
}

static void test_roundtrip(void **state)
{
	struct machine a, b;
	struct vk_error err = {0};
	uint8_t *s;
	size_t len;

	machine_init(&a);
	a.dev.counter = 42;
	strcpy(a.dev.name, "hello");
	memset(vm_mem_translate(&a.mem, RAM_BASE + 0x1000, 0x2000), 0x5a, 0x2000);
	memcpy(vm_mem_translate(&a.mem, RAM_BASE + RAM_SIZE - 8, 8), "lastpage", 8);
	s = save(&a, &len, NULL);
	/* Only the three pages that are not zero: far less than the 64 KiB of RAM. */
	assert_true(len < 3 * 4096 + 1024);

	machine_init(&b);
	memset(vm_mem_translate(&b.mem, RAM_BASE, RAM_SIZE), 0, RAM_SIZE);
	assert_int_equal(load(&b, s, len, &err), 0);
	assert_int_equal(b.dev.counter, 42);
	assert_string_equal(b.dev.name, "hello");
	assert_memory_equal(vm_mem_translate(&a.mem, RAM_BASE, RAM_SIZE),
	                    vm_mem_translate(&b.mem, RAM_BASE, RAM_SIZE), RAM_SIZE);
	free(s);
	vm_mem_destroy(&a.mem);
	vm_mem_destroy(&b.mem);
}

static void test_every_truncation(void **state)
{
	struct machine a, b;
	uint8_t *s;
	size_t len;

	machine_init(&a);
	a.dev.counter = 7;
	memset(vm_mem_translate(&a.mem, RAM_BASE, 4096), 1, 4096);
	s = save(&a, &len, NULL);
	machine_init(&b);
	for (size_t cut = 0; cut < len; cut++) {
		struct vk_error err = {0};

		assert_int_equal(load(&b, s, cut, &err), -EINVAL);
		assert_true(strstr(err.msg, "ends early") || strstr(err.msg, "not a virtkit"));
	}
	free(s);
	vm_mem_destroy(&a.mem);
	vm_mem_destroy(&b.mem);
}

static void test_every_flipped_byte(void **state)
{
	struct machine a, b;
	uint8_t *s;
	size_t len;

	machine_init(&a);
	a.dev.counter = 9;
	memset(vm_mem_translate(&a.mem, RAM_BASE + 0x3000, 4096), 3, 4096);
	s = save(&a, &len, NULL);
	machine_init(&b);
	for (size_t i = 0; i < len; i++) {
		struct vk_error err = {0};

		/* Not covered by the format itself: the NUL padding after the arch and board
		 * names, and the RAM size (run.c checks it against the configuration). */
		if ((i >= 16 + strlen("riscv64") && i < 32) ||
		    (i >= 32 + strlen("virt") && i < 48) || (i >= 56 && i < 64))
			continue;
		s[i] ^= 0x01;
		if (load(&b, s, len, &err) == 0)
			fail_msg("a flip of byte %zu went unnoticed", i);
		assert_true(err.msg[0] != '\0');
		s[i] ^= 0x01;
	}
	free(s);
	vm_mem_destroy(&a.mem);
	vm_mem_destroy(&b.mem);
}

static int ram_outside(struct vm_state_out *o, struct vk_error *err)
{
	static uint8_t page[4096];

	return vm_state_write_ram(o, RAM_BASE + RAM_SIZE, page, 1, false, err);
}

static void test_ram_outside_and_missing_device(void **state)
{
	struct machine a, b;
	struct vk_error err = {0};
	struct fake other = {0};
	uint8_t *s;
	size_t len;

	machine_init(&a);
	s = save(&a, &len, ram_outside);
	machine_init(&b);
	assert_int_equal(load(&b, s, len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "outside its memory"));
	free(s);

	/* A machine with a second device the state does not have. */
	s = save(&a, &len, NULL);
	assert_int_equal(vm_registry_add(&b.reg, "other", &fake_ops, &other, NULL), 0);
	assert_int_equal(load(&b, s, len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no state for device 'other'"));
	/* ... and one that has a device this machine lacks. */
	assert_int_equal(vm_registry_add(&a.reg, "extra", &fake_ops, &other, NULL), 0);
	free(s);
	s = save(&a, &len, NULL);
	vm_mem_destroy(&b.mem);
	machine_init(&b);
	assert_int_equal(load(&b, s, len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "device 'extra' this machine does not have"));
	free(s);
	vm_mem_destroy(&a.mem);
	vm_mem_destroy(&b.mem);
}

/* A disk whose last request, finished by quiesce, raises an interrupt in "fake" (an
 * interrupt controller registered before it, as the CPUs are). */
struct disk {
	struct fake *irqchip;
	uint32_t inflight;
};

static void disk_quiesce(void *opaque)
{
	struct disk *d = opaque;

	if (d->inflight) {
		d->inflight = 0;
		d->irqchip->counter++;
	}
}

static void disk_save(void *opaque, struct vm_state_buf *b)
{
	vm_state_put_u32(b, ((struct disk *)opaque)->inflight);
}

static int disk_load(void *opaque, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	((struct disk *)opaque)->inflight = vm_state_get_u32(r);
	return 0;
}

static const struct vm_device_ops disk_ops = {
        .kind = "disk",
        .version = 1,
        .quiesce = disk_quiesce,
        .save = disk_save,
        .load = disk_load,
};

static void test_quiesce_before_any_record(void **state)
{
	struct machine a, b;
	struct disk da = {0}, db = {0};
	struct vk_error err = {0};
	uint8_t *s;
	size_t len;

	machine_init(&a);
	machine_init(&b);
	da.irqchip = &a.dev;
	db.irqchip = &b.dev;
	da.inflight = 1;
	assert_int_equal(vm_registry_add(&a.reg, "disk", &disk_ops, &da, NULL), 0);
	assert_int_equal(vm_registry_add(&b.reg, "disk", &disk_ops, &db, NULL), 0);
	s = save(&a, &len, NULL);
	assert_int_equal(load(&b, s, len, &err), 0);
	/* The interrupt the last request raised is in the saved controller, not lost. */
	assert_int_equal(b.dev.counter, 1);
	assert_int_equal(db.inflight, 0);
	free(s);
	vm_mem_destroy(&a.mem);
	vm_mem_destroy(&b.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_payload_cursor),
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_every_truncation),
	        cmocka_unit_test(test_every_flipped_byte),
	        cmocka_unit_test(test_ram_outside_and_missing_device),
	        cmocka_unit_test(test_quiesce_before_any_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
