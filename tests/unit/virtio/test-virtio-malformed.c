/* SPDX-License-Identifier: MIT */
/*
 * A hostile driver: every malformed-descriptor case virtqueue.c lists, played
 * against virtio-blk (and virtio-rng for buffer direction). For each case:
 * the VMM survives, no guest memory outside the used ring and the request's
 * status byte changes, the request fails (used length 0, or status IOERR when
 * the chain ends in a valid status byte) or the device sets
 * DEVICE_NEEDS_RESET, and at most one line is logged however often the guest
 * repeats it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdriver.h"
#include "vm/backend/block.h"
#include "vm/virtio/devices.h"

#define F(bit)  (1ull << (bit))
#define QSIZE   8
#define R       0
#define W       VIRTQ_DESC_F_WRITE
#define N       VIRTQ_DESC_F_NEXT
#define IND     VIRTQ_DESC_F_INDIRECT
#define S_OK    0
#define S_IOERR 1

enum outcome {
	FAIL_LEN0,   /* completed with used length 0, status byte untouched */
	FAIL_IOERR,  /* completed with status IOERR, used length 1 */
	NEEDS_RESET, /* DEVICE_NEEDS_RESET and a config interrupt */
};

struct fixture {
	struct vdriver d;
	uint64_t hdr, data, status; /* a read of sector 0: header, 512 bytes, status */
	uint64_t big;               /* guest-physical base of the optional big region */
};

typedef enum outcome (*build_fn)(struct fixture *f);

static struct fixture *make(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint32_t *h;

	vd_init_blk(&f->d, 16, false, NULL);
	vd_bringup(&f->d, F(VIRTIO_F_INDIRECT_DESC), 1, QSIZE);
	f->hdr = vd_alloc(&f->d, 16, 16);
	f->data = vd_alloc(&f->d, 512, 16);
	f->status = vd_alloc(&f->d, 1, 1);
	h = vd_ptr(&f->d, f->hdr);
	memset(h, 0, 16); /* VIRTIO_BLK_T_IN, sector 0 */
	return f;
}

static void destroy(struct fixture *f)
{
	vd_fini(&f->d);
	free(f);
}

static void desc(struct fixture *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
	vd_set_desc(&f->d, 0, i, addr, len, flags, next);
}

/* An indirect table in RAM with the given entries; returns its address. */
static uint64_t table(struct fixture *f, const struct virtq_desc *t, unsigned n)
{
	uint64_t a = vd_alloc(&f->d, 16ull * n, 16);

	memcpy(vd_ptr(&f->d, a), t, 16ull * n);
	return a;
}

/* A well-formed read must still work. */
static void check_good_request(struct fixture *f)
{
	struct vd_blkreq r;
	uint32_t id, len;

	vd_blk_submit(&f->d, &r, VD_BLK_T_IN, 1, 512, false);
	vd_kick(&f->d, 0);
	assert_true(vd_used(&f->d, 0, &id, &len));
	assert_int_equal(id, r.head);
	assert_int_equal(len, 513);
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r.status), S_OK);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[7], vd_image_byte(512 + 7));
}

static void run_case(build_fn build, const char *why)
{
	struct fixture *f = make();
	struct vdriver *d = &f->d;
	struct vd_range allowed[2];
	enum outcome want = FAIL_LEN0;

	allowed[0] = (struct vd_range){d->q[0].used, virtq_used_size(QSIZE)};
	allowed[1] = (struct vd_range){f->status, 1};
	/* The guest tries twice: the second time must not log again. */
	for (int round = 0; round < 2; round++) {
		uint32_t id, len;

		d->q[0].next_desc = 0;
		*(uint8_t *)vd_ptr(d, f->status) = 0xee;
		want = build(f);
		vd_snapshot(d);
		vd_kick(d, 0);
		assert_int_equal(vd_changed_outside(d, allowed, 2), 0);
		if (want == NEEDS_RESET) {
			assert_true(vd_rd(d, VIRTIO_MMIO_STATUS) &
			            VIRTIO_STATUS_DEVICE_NEEDS_RESET);
			assert_true(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);
			assert_true(d->irq_level);
			assert_false(vd_used(d, 0, &id, &len));
			/* Stopped until reset: further kicks do nothing. */
			vd_kick(d, 0);
			assert_false(vd_used(d, 0, &id, &len));
			break;
		}
		assert_true(vd_used(d, 0, &id, &len));
		assert_int_equal(id, 0);
		if (want == FAIL_IOERR) {
			assert_int_equal(len, 1);
			assert_int_equal(*(uint8_t *)vd_ptr(d, f->status), S_IOERR);
		} else {
			assert_int_equal(len, 0);
			assert_int_equal(*(uint8_t *)vd_ptr(d, f->status), 0xee);
		}
		assert_false(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	}
	assert_true(d->dev->logged);
	assert_int_equal(vd_log_lines(d), 1);
	if (!vd_log_contains(d, why))
		fail_msg("expected a log line with '%s'", why);
	if (want == NEEDS_RESET) {
		vd_wr(d, VIRTIO_MMIO_STATUS, 0);
		assert_false(d->irq_level);
		vd_bringup(d, F(VIRTIO_F_INDIRECT_DESC), 1, QSIZE);
	}
	check_good_request(f);
	destroy(f);
}

/* ---- chain structure ---- */

static enum outcome build_loop(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->data, 512, W | N, 2);
	desc(f, 2, f->status, 1, W | N, 1); /* back to the data buffer */
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_self_loop(struct fixture *f)
{
	desc(f, 0, f->status, 1, W | N, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

/* Every slot chained, the last back into the middle: longer than the queue. */
static enum outcome build_longer_than_queue(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	for (uint16_t i = 1; i < QSIZE; i++)
		desc(f, i, f->status, 1, W | N, i + 1 < QSIZE ? i + 1 : 3);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_next_out_of_range(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, QSIZE);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

/* ---- indirect tables ---- */

static enum outcome build_indirect_loop(struct fixture *f)
{
	struct virtq_desc t[3] = {
	        {f->hdr, 16, R | N, 1},
	        {f->data, 512, W | N, 2},
	        {f->status, 1, W | N, 0},
	};

	desc(f, 0, table(f, t, 3), 48, IND, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_indirect_nested(struct fixture *f)
{
	struct virtq_desc inner[1] = {{f->status, 1, W, 0}};
	struct virtq_desc t[2] = {
	        {f->hdr, 16, R | N, 1},
	        {0, 16, IND, 0},
	};

	t[1].addr = table(f, inner, 1);
	desc(f, 0, table(f, t, 2), 32, IND, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_indirect_with_next_inside(struct fixture *f)
{
	struct virtq_desc inner[1] = {{f->status, 1, W, 0}};
	struct virtq_desc t[2] = {
	        {0, 16, IND | N, 1},
	        {f->status, 1, W, 0},
	};

	t[0].addr = table(f, inner, 1);
	desc(f, 0, table(f, t, 2), 32, IND, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_indirect_with_next(struct fixture *f)
{
	struct virtq_desc t[2] = {
	        {f->hdr, 16, R | N, 1},
	        {f->data, 512, W, 0},
	};

	desc(f, 0, table(f, t, 2), 32, IND | N, 1);
	desc(f, 1, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome indirect_len(struct fixture *f, uint64_t addr, uint32_t len)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, addr, len, IND, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_indirect_len_not_16(struct fixture *f)
{
	struct virtq_desc t[2] = {{f->data, 512, W | N, 1}, {f->status, 1, W, 0}};

	return indirect_len(f, table(f, t, 2), 24);
}

static enum outcome build_indirect_empty(struct fixture *f)
{
	struct virtq_desc t[1] = {{f->status, 1, W, 0}};

	return indirect_len(f, table(f, t, 1), 0);
}

static enum outcome build_indirect_too_long(struct fixture *f)
{
	/* More entries than VIRTQ_MAX_SIZE (the table itself is in RAM). */
	return indirect_len(f, VD_RAM_BASE + 0x100000, 16 * (VIRTQ_MAX_SIZE + 1));
}

static enum outcome build_indirect_outside_ram(struct fixture *f)
{
	return indirect_len(f, 0x1000, 32);
}

static enum outcome build_indirect_wraps(struct fixture *f)
{
	return indirect_len(f, 0xfffffffffffffff0ull, 32);
}

/* Direct descriptors plus an indirect table: more than VIRTQ_MAX_SIZE in all. */
static enum outcome build_total_too_long(struct fixture *f)
{
	uint64_t t = vd_alloc(&f->d, 16ull * VIRTQ_MAX_SIZE, 16);
	struct virtq_desc *e = vd_ptr(&f->d, t);

	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		e[i] = (struct virtq_desc){f->status, 1, W | (i + 1 < VIRTQ_MAX_SIZE ? N : 0),
		                           (uint16_t)(i + 1)};
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->hdr, 16, R | N, 2);
	desc(f, 2, t, 16 * VIRTQ_MAX_SIZE, IND, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

/* ---- buffers ---- */

static enum outcome data_at(struct fixture *f, uint64_t addr, uint32_t len)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, addr, len, W | N, 2);
	desc(f, 2, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR; /* the status byte is valid: it says IOERR */
}

static enum outcome build_buffer_below_ram(struct fixture *f)
{
	return data_at(f, 0x1000, 512);
}

static enum outcome build_buffer_past_ram(struct fixture *f)
{
	return data_at(f, VD_RAM_BASE + VD_RAM_SIZE - 256, 512);
}

static enum outcome build_buffer_wraps(struct fixture *f)
{
	return data_at(f, 0xffffffffffffff00ull, 512);
}

static enum outcome build_status_outside_ram(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->data, 512, W | N, 2);
	desc(f, 2, VD_RAM_BASE + VD_RAM_SIZE, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

static enum outcome build_length_overflow(struct fixture *f)
{
	/* Two 4 GiB-ish writable buffers (in RAM): their sum needs 33 bits. */
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->big, 0xfffff000u, W | N, 2);
	desc(f, 2, f->big, 0xfffff000u, W | N, 3);
	desc(f, 3, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR;
}

static enum outcome build_readable_after_writable(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->data, 512, W | N, 2);
	desc(f, 2, f->hdr, 16, R | N, 3);
	desc(f, 3, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR;
}

/* ---- buffer direction the device needs ---- */

static enum outcome build_header_writable(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, W | N, 1);
	desc(f, 1, f->data, 512, W | N, 2);
	desc(f, 2, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR;
}

static enum outcome build_read_into_readonly(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->data, 512, R | N, 2); /* IN needs a writable buffer */
	desc(f, 2, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR;
}

static enum outcome build_write_from_writable(struct fixture *f)
{
	uint32_t *h = vd_ptr(&f->d, f->hdr);

	h[0] = VD_BLK_T_OUT;
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->data, 512, W | N, 2); /* OUT needs a readable buffer */
	desc(f, 2, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_IOERR;
}

static enum outcome build_status_readable(struct fixture *f)
{
	desc(f, 0, f->hdr, 16, R | N, 1);
	desc(f, 1, f->status, 1, R, 0);
	vd_avail_push(&f->d, 0, 0);
	return FAIL_LEN0;
}

/* ---- the rings themselves ---- */

static enum outcome build_avail_jump(struct fixture *f)
{
	struct virtq_avail *avail = vd_ptr(&f->d, f->d.q[0].avail);

	avail->idx = (uint16_t)(avail->idx + QSIZE + 1);
	return NEEDS_RESET;
}

static enum outcome build_avail_backwards(struct fixture *f)
{
	struct virtq_avail *avail = vd_ptr(&f->d, f->d.q[0].avail);

	avail->idx = (uint16_t)(avail->idx - 1);
	return NEEDS_RESET;
}

static enum outcome build_head_out_of_range(struct fixture *f)
{
	desc(f, 0, f->status, 1, W, 0);
	vd_avail_push(&f->d, 0, QSIZE);
	return NEEDS_RESET;
}

static enum outcome build_head_max(struct fixture *f)
{
	vd_avail_push(&f->d, 0, 0xffff);
	return NEEDS_RESET;
}

#define CASE(name, why)                       \
	static void test_##name(void **state) \
	{                                     \
		run_case(build_##name, why);  \
	}
CASE(loop, "loops or is longer")
CASE(self_loop, "loops or is longer")
CASE(longer_than_queue, "loops or is longer")
CASE(next_out_of_range, "next index is out of range")
CASE(indirect_loop, "loops or is longer")
CASE(indirect_nested, "indirect table inside an indirect table")
CASE(indirect_with_next_inside, "indirect table inside an indirect table")
CASE(indirect_with_next, "INDIRECT together with NEXT")
CASE(indirect_len_not_16, "indirect table length is invalid")
CASE(indirect_empty, "indirect table length is invalid")
CASE(indirect_too_long, "indirect table length is invalid")
CASE(indirect_outside_ram, "indirect table is not in guest RAM")
CASE(indirect_wraps, "indirect table is not in guest RAM")
CASE(total_too_long, "more than 1024 descriptors")
CASE(buffer_below_ram, "buffer is not in guest RAM")
CASE(buffer_past_ram, "buffer is not in guest RAM")
CASE(buffer_wraps, "buffer is not in guest RAM")
CASE(status_outside_ram, "buffer is not in guest RAM")
CASE(readable_after_writable, "readable buffer after a writable")
CASE(header_writable, "header is not 16 readable bytes")
CASE(read_into_readonly, "read request has readable data")
CASE(write_from_writable, "write request has writable data")
CASE(status_readable, "without a writable status byte")
CASE(avail_jump, "available index moved")
CASE(avail_backwards, "available index moved")
CASE(head_out_of_range, "names head")
CASE(head_max, "names head")

/* Needs a second, 4 GiB RAM region (reserved, never touched). */
static void test_length_overflow(void **state)
{
	struct fixture *f = make();
	struct vd_range allowed[2] = {{f->d.q[0].used, virtq_used_size(QSIZE)}, {f->status, 1}};
	uint32_t id, len;

	f->big = 0x100000000ull;
	assert_int_equal(vm_mem_add_ram(&f->d.mem, f->big, 1ull << 32, NULL), 0);
	*(uint8_t *)vd_ptr(&f->d, f->status) = 0xee;
	build_length_overflow(f);
	vd_snapshot(&f->d);
	vd_kick(&f->d, 0);
	assert_int_equal(vd_changed_outside(&f->d, allowed, 2), 0);
	assert_true(vd_used(&f->d, 0, &id, &len));
	assert_int_equal(len, 1);
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, f->status), S_IOERR);
	assert_int_equal(vd_log_lines(&f->d), 1);
	assert_true(vd_log_contains(&f->d, "more than 4 GiB"));
	check_good_request(f);
	destroy(f);
}

/* virtio-rng needs writable buffers: a readable one fails and is not written. */
static void test_rng_readable_buffer(void **state)
{
	struct vdriver d;
	struct vd_buf b[2];
	uint64_t buf;
	uint32_t id, len;
	uint8_t zero[64] = {0};

	vd_init(&d);
	vd_attach(&d, virtio_rng_create(&d.mem, NULL));
	vd_bringup(&d, 0, 1, 8);
	buf = vd_alloc(&d, 64, 16);
	b[0] = (struct vd_buf){buf, 32, false};
	b[1] = (struct vd_buf){buf + 32, 32, true};
	vd_chain(&d, 0, b, 2);
	vd_kick(&d, 0);
	assert_true(vd_used(&d, 0, &id, &len));
	assert_int_equal(len, 0);
	assert_memory_equal(vd_ptr(&d, buf), zero, 64);
	assert_int_equal(vd_log_lines(&d), 1);
	assert_true(vd_log_contains(&d, "device-readable"));
	vd_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_loop),
	        cmocka_unit_test(test_self_loop),
	        cmocka_unit_test(test_longer_than_queue),
	        cmocka_unit_test(test_next_out_of_range),
	        cmocka_unit_test(test_indirect_loop),
	        cmocka_unit_test(test_indirect_nested),
	        cmocka_unit_test(test_indirect_with_next_inside),
	        cmocka_unit_test(test_indirect_with_next),
	        cmocka_unit_test(test_indirect_len_not_16),
	        cmocka_unit_test(test_indirect_empty),
	        cmocka_unit_test(test_indirect_too_long),
	        cmocka_unit_test(test_indirect_outside_ram),
	        cmocka_unit_test(test_indirect_wraps),
	        cmocka_unit_test(test_total_too_long),
	        cmocka_unit_test(test_buffer_below_ram),
	        cmocka_unit_test(test_buffer_past_ram),
	        cmocka_unit_test(test_buffer_wraps),
	        cmocka_unit_test(test_status_outside_ram),
	        cmocka_unit_test(test_length_overflow),
	        cmocka_unit_test(test_readable_after_writable),
	        cmocka_unit_test(test_header_writable),
	        cmocka_unit_test(test_read_into_readonly),
	        cmocka_unit_test(test_write_from_writable),
	        cmocka_unit_test(test_status_readable),
	        cmocka_unit_test(test_avail_jump),
	        cmocka_unit_test(test_avail_backwards),
	        cmocka_unit_test(test_head_out_of_range),
	        cmocka_unit_test(test_head_max),
	        cmocka_unit_test(test_rng_readable_buffer),
	};

	return cmocka_run_group_tests_name("virtio-malformed", tests, NULL, NULL);
}
