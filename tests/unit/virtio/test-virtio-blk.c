/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of virtio-blk and the raw block backend: real IN/OUT/FLUSH/
 * GET_ID/DISCARD/WRITE_ZEROES requests against a temporary image through the
 * mmio transport, bounds and read-only errors, image errors, the --disk spec
 * parser; and with an event loop, asynchronous completion (the notify returns
 * before the I/O is done; completions come from the loop) and a reset while
 * requests are in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdriver.h"
#include "vm/backend/block.h"
#include "vm/loop.h"
#include "vm/virtio/devices.h"

#define BLK_SECTORS 128
#define BLK_F_RO    5
#define S_OK        0
#define S_IOERR     1
#define S_UNSUPP    2
#define F_DISCARD   13
#define F_WZEROES   14
#define T_DISCARD   11
#define T_WZEROES   13

struct fixture {
	struct vdriver d;
};

static struct fixture *make(bool readonly, uint16_t qsize)
{
	struct fixture *f = calloc(1, sizeof(*f));

	vd_init_blk(&f->d, BLK_SECTORS, readonly, "test-serial");
	vd_bringup(&f->d, 0, 1, qsize);
	return f;
}

static int setup(void **state)
{
	*state = make(false, 16);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vd_fini(&f->d);
	free(f);
	return 0;
}

/* Submit, kick, and return the status byte; *len gets the used length. */
static uint8_t run(struct vdriver *d, struct vd_blkreq *r, uint32_t type, uint64_t sector,
                   uint32_t data_len, uint32_t *len)
{
	uint32_t id;

	vd_blk_submit(d, r, type, sector, data_len, false);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, len));
	assert_int_equal(id, r->head);
	return *(uint8_t *)vd_ptr(d, r->status);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	struct vd_blkreq r;
	uint32_t len;
	const uint8_t *p;

	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 10, 4096, &len), S_OK);
	assert_int_equal(len, 4097);
	p = vd_ptr(&f->d, r.data);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(p[i], vd_image_byte(10 * 512 + i));
	/* The last sector of the disk. */
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, BLK_SECTORS - 1, 512, &len), S_OK);
	assert_int_equal(len, 513);
}

static void test_write_and_flush(void **state)
{
	struct fixture *f = *state;
	struct vd_blkreq r;
	uint8_t back[1024];
	uint32_t len;
	int fd;

	vd_blk_submit(&f->d, &r, VD_BLK_T_OUT, 20, 1024, false);
	memset(vd_ptr(&f->d, r.data), 0xa5, 1024);
	vd_kick(&f->d, 0);
	assert_true(vd_used(&f->d, 0, &(uint32_t){0}, &len));
	assert_int_equal(len, 1);
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r.status), S_OK);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_FLUSH, 0, 0, &len), S_OK);
	assert_int_equal(len, 1);
	/* On disk, and read back through the device. */
	fd = open(f->d.blk_path, O_RDONLY);
	assert_int_equal(pread(fd, back, sizeof(back), 20 * 512), sizeof(back));
	close(fd);
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0xa5);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 19, 2048, &len), S_OK);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[511], vd_image_byte(19 * 512 + 511));
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[512], 0xa5);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[1535], 0xa5);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[1536], vd_image_byte(22 * 512));
}

static void test_get_id(void **state)
{
	struct fixture *f = *state;
	struct vd_blkreq r;
	uint32_t len;
	char id[20] = "test-serial";

	assert_int_equal(run(&f->d, &r, VD_BLK_T_GET_ID, 0, 20, &len), S_OK);
	assert_int_equal(len, 21);
	assert_memory_equal(vd_ptr(&f->d, r.data), id, 20);
}

static void test_unsupported_and_bounds(void **state)
{
	struct fixture *f = *state;
	struct vd_blkreq r;
	uint32_t len;

	assert_int_equal(run(&f->d, &r, 11 /* DISCARD */, 0, 512, &len), S_UNSUPP);
	assert_int_equal(run(&f->d, &r, 0x7fffffff, 0, 0, &len), S_UNSUPP);
	/* Past the end, across the end, overflowing, not whole sectors. */
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, BLK_SECTORS, 512, &len), S_IOERR);
	assert_int_equal(len, 1);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, BLK_SECTORS - 1, 1024, &len), S_IOERR);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_OUT, BLK_SECTORS - 1, 1024, &len), S_IOERR);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 1ull << 63, 512, &len), S_IOERR);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, UINT64_MAX, 512, &len), S_IOERR);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 0, 100, &len), S_IOERR);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_OUT, 0, 100, &len), S_IOERR);
	/* The device is still fine. */
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 0, 512, &len), S_OK);
}

static void test_many_segments(void **state)
{
	struct fixture *f = make(false, 128);
	struct vd_buf bufs[103];
	uint64_t hdr = vd_alloc(&f->d, 16, 16), st = vd_alloc(&f->d, 1, 1);
	uint64_t data = vd_alloc(&f->d, 100 * 512, 16);
	uint32_t id, len, *h = vd_ptr(&f->d, hdr);
	const uint8_t *p = vd_ptr(&f->d, data);

	/* 101 data segments of odd sizes (more than one preadv batch), 100 sectors. */
	h[0] = VD_BLK_T_IN;
	h[1] = h[2] = h[3] = 0;
	bufs[0] = (struct vd_buf){hdr, 16, false};
	bufs[1] = (struct vd_buf){data, 300, true};
	for (unsigned i = 0; i < 99; i++)
		bufs[2 + i] = (struct vd_buf){data + 300 + 512 * i, 512, true};
	bufs[101] = (struct vd_buf){data + 300 + 512 * 99, 212, true};
	bufs[102] = (struct vd_buf){st, 1, true};
	vd_chain(&f->d, 0, bufs, 103);
	vd_kick(&f->d, 0);
	assert_true(vd_used(&f->d, 0, &id, &len));
	assert_int_equal(len, 100 * 512 + 1);
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, st), S_OK);
	for (unsigned i = 0; i < 100 * 512; i++)
		assert_int_equal(p[i], vd_image_byte(i));
	teardown((void **)&f);
}

static void test_readonly(void **state)
{
	struct fixture *f = make(true, 16);
	struct vd_blkreq r;
	uint32_t len, feat;
	uint8_t back[512];
	int fd;

	vd_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	feat = vd_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(feat & (1u << BLK_F_RO));
	vd_blk_submit(&f->d, &r, VD_BLK_T_OUT, 0, 512, false);
	memset(vd_ptr(&f->d, r.data), 0, 512);
	vd_kick(&f->d, 0);
	assert_true(vd_used(&f->d, 0, &(uint32_t){0}, &len));
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r.status), S_IOERR);
	fd = open(f->d.blk_path, O_RDONLY);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
	close(fd);
	assert_int_equal(back[1], vd_image_byte(1));
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 0, 512, &len), S_OK);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_FLUSH, 0, 0, &len), S_OK);
	teardown((void **)&f);
}

/* A DISCARD or WRITE_ZEROES chain: header, one 16-byte segment, status. */
static uint8_t range_req(struct vdriver *d, uint32_t type, uint64_t sector, uint32_t n,
                         uint32_t flags)
{
	uint64_t hdr = vd_alloc(d, 16, 16), seg = vd_alloc(d, 16, 16), st = vd_alloc(d, 1, 1);
	uint32_t *h = vd_ptr(d, hdr), *g = vd_ptr(d, seg), id, len;
	struct vd_buf bufs[3] = {{hdr, 16, false}, {seg, 16, false}, {st, 1, true}};

	h[0] = type;
	h[1] = h[2] = h[3] = 0;
	memcpy(g, &sector, 8);
	g[2] = n;
	g[3] = flags;
	*(uint8_t *)vd_ptr(d, st) = 0xee;
	vd_chain(d, 0, bufs, 3);
	vd_kick(d, 0);
	assert_true(vd_used(d, 0, &id, &len));
	return *(uint8_t *)vd_ptr(d, st);
}

static void test_discard_write_zeroes(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vd_blkreq r;
	uint32_t len, feat;
	const uint8_t *p;

	vd_init_blk(&f->d, BLK_SECTORS, false, "z");
	vd_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	feat = vd_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(feat & (1u << F_DISCARD));
	assert_true(feat & (1u << F_WZEROES));
	vd_bringup(&f->d, (1ull << F_DISCARD) | (1ull << F_WZEROES), 1, 16);
	assert_int_equal(range_req(&f->d, T_WZEROES, 2, 3, 0), S_OK);
	assert_int_equal(range_req(&f->d, T_WZEROES, 8, 1, 1 /* UNMAP */), S_OK);
	assert_int_equal(range_req(&f->d, T_DISCARD, 20, 4, 0), S_OK);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 0, 10 * 512, &len), S_OK);
	p = vd_ptr(&f->d, r.data);
	for (unsigned i = 0; i < 10 * 512; i++) {
		bool zero = (i >= 2 * 512 && i < 5 * 512) || (i >= 8 * 512 && i < 9 * 512);
		assert_int_equal(p[i], zero ? 0 : vd_image_byte(i));
	}
	/* Out of range, unknown flags, a discard with flags: refused, nothing changed. */
	assert_int_equal(range_req(&f->d, T_WZEROES, BLK_SECTORS - 1, 2, 0), S_UNSUPP);
	assert_int_equal(range_req(&f->d, T_WZEROES, 0, 1, 2), S_UNSUPP);
	assert_int_equal(range_req(&f->d, T_DISCARD, 0, 1, 1), S_UNSUPP);
	assert_int_equal(run(&f->d, &r, VD_BLK_T_IN, 0, 512, &len), S_OK);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r.data))[0], vd_image_byte(0));
	teardown((void **)&f);

	/* A read-only disk offers neither. */
	f = make(true, 16);
	vd_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	feat = vd_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_false(feat & ((1u << F_DISCARD) | (1u << F_WZEROES)));
	teardown((void **)&f);
}

/* The device on an event loop: I/O through block-aio. */
static struct fixture *make_async(struct vm_loop *loop)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vk_error err = {0};

	vd_init_blk(&f->d, BLK_SECTORS, false, "async");
	assert_int_equal(virtio_blk_set_loop(f->d.dev, loop, &err), 0);
	vd_bringup(&f->d, 0, 1, 64);
	return f;
}

/* Run the loop until want requests are used (or rounds of 1 ms passed): how many were. */
static unsigned poll_used_for(struct vdriver *d, struct vm_loop *loop, unsigned want, uint32_t *ids,
                              int rounds)
{
	unsigned got = 0;

	for (int i = 0; got < want && i < rounds; i++) {
		uint32_t id, len;

		vm_loop_poll(loop, 1000000);
		while (got < want && vd_used(d, 0, &id, &len))
			ids[got++] = id;
	}
	return got;
}

static unsigned poll_used(struct vdriver *d, struct vm_loop *loop, unsigned want, uint32_t *ids)
{
	return poll_used_for(d, loop, want, ids, 10000);
}

static void test_async(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct fixture *f = make_async(loop);
	struct vd_blkreq r[20];
	uint32_t ids[20];

	/* Writes of different sizes in one kick (60 of the 64 descriptors); the notify
	 * returns with none complete. */
	for (unsigned i = 0; i < 20; i++) {
		uint32_t len = 512u * (1 + i % 4);
		vd_blk_submit(&f->d, &r[i], VD_BLK_T_OUT, i * 4, len, false);
		memset(vd_ptr(&f->d, r[i].data), (int)(0x10 + i), len);
	}
	vd_kick(&f->d, 0);
	assert_false(vd_used(&f->d, 0, &ids[0], &(uint32_t){0}));
	assert_int_equal(poll_used(&f->d, loop, 20, ids), 20);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r[i].status), S_OK);
	/* Read back through the device, asynchronously as well. */
	for (unsigned i = 0; i < 20; i++)
		vd_blk_submit(&f->d, &r[i], VD_BLK_T_IN, i * 4, 512u * (1 + i % 4), false);
	vd_kick(&f->d, 0);
	assert_int_equal(poll_used(&f->d, loop, 20, ids), 20);
	for (unsigned i = 0; i < 20; i++) {
		const uint8_t *p = vd_ptr(&f->d, r[i].data);
		assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r[i].status), S_OK);
		for (unsigned k = 0; k < r[i].data_len; k++)
			assert_int_equal(p[k], 0x10 + i);
	}
	teardown((void **)&f);
	vm_loop_free(loop);
}

/* A reset while requests are in flight: their I/O ends before the reset returns, and
 * nothing is pushed into the queue the driver sets up afterwards. */
static void test_async_reset(void **state)
{
	struct vm_loop *loop = vm_loop_new();
	struct fixture *f = make_async(loop);
	struct vd_blkreq r[16];
	uint32_t ids[16];

	for (unsigned i = 0; i < 16; i++)
		vd_blk_submit(&f->d, &r[i], VD_BLK_T_IN, i, 4096, false);
	vd_kick(&f->d, 0);
	vd_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vd_rd(&f->d, VIRTIO_MMIO_STATUS), 0);
	vd_bringup(&f->d, 0, 1, 64);
	/* the old requests went nowhere (their completions ran: the drain ended their I/O) */
	assert_int_equal(poll_used_for(&f->d, loop, 1, ids, 100), 0);
	assert_int_equal(vd_used_idx(&f->d, 0), 0);
	/* and the device works */
	vd_blk_submit(&f->d, &r[0], VD_BLK_T_IN, 3, 512, false);
	vd_kick(&f->d, 0);
	assert_int_equal(poll_used(&f->d, loop, 1, ids), 1);
	assert_int_equal(*(uint8_t *)vd_ptr(&f->d, r[0].status), S_OK);
	assert_int_equal(((uint8_t *)vd_ptr(&f->d, r[0].data))[7], vd_image_byte(3 * 512 + 7));
	/* Destroyed with requests in flight: no crash, no leak (ASan). */
	for (unsigned i = 0; i < 16; i++)
		vd_blk_submit(&f->d, &r[i], VD_BLK_T_IN, i, 4096, false);
	vd_kick(&f->d, 0);
	teardown((void **)&f);
	vm_loop_free(loop);
}

static void test_image_errors(void **state)
{
	struct vk_error err = {0};
	char path[] = "/tmp/vk-test-odd-XXXXXX";
	int fd;

	assert_null(block_raw_open("/nonexistent/disk.img", false, &err));
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg,
	                    "cannot open disk image '/nonexistent/disk.img': No such file or "
	                    "directory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_null(block_raw_open(path, false, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "not a multiple of 512"));
	unlink(path);
	assert_null(block_raw_open("/tmp", true, &err));
	assert_non_null(strstr(err.msg, "'/tmp'"));
}

static void test_disk_spec(void **state)
{
	struct vdriver d;
	struct vk_error err = {0};
	struct virtio_dev *dev;
	char path[64], spec[128];

	vd_blk_image(path, 8);
	vd_init(&d);
	snprintf(spec, sizeof(spec), "%s,readonly,serial=abc", path);
	dev = virtio_dev_from_spec(VIRTIO_SPEC_DISK, spec, &d.mem, NULL, &err);
	assert_non_null(dev);
	assert_true(virtio_read_device_features(dev, 0) & (1u << BLK_F_RO));
	vd_attach(&d, dev);
	snprintf(spec, sizeof(spec), "%s,speed=fast", path);
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_DISK, spec, &d.mem, NULL, &err));
	assert_non_null(strstr(err.msg, "unknown option 'speed=fast'"));
	snprintf(spec, sizeof(spec), "%s,cache=unsafe", path);
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_DISK, spec, &d.mem, NULL, &err));
	assert_non_null(strstr(err.msg, "'unsafe' is not none or writeback"));
	snprintf(spec, sizeof(spec), "%s,serial=123456789012345678901", path);
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_DISK, spec, &d.mem, NULL, &err));
	assert_non_null(strstr(err.msg, "longer than 20"));
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_DISK, "", &d.mem, NULL, &err));
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_DISK, "/no/such.img", &d.mem, NULL, &err));
	assert_non_null(strstr(err.msg, "'/no/such.img'"));
	assert_null(virtio_dev_from_spec(VIRTIO_SPEC_RNG, "fast", &d.mem, NULL, &err));
	assert_non_null(strstr(err.msg, "unknown option 'fast'"));
	vd_fini(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_write_and_flush, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_get_id, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unsupported_and_bounds, setup, teardown),
	        cmocka_unit_test(test_many_segments),
	        cmocka_unit_test(test_discard_write_zeroes),
	        cmocka_unit_test(test_async),
	        cmocka_unit_test(test_async_reset),
	        cmocka_unit_test(test_readonly),
	        cmocka_unit_test(test_image_errors),
	        cmocka_unit_test(test_disk_spec),
	};

	return cmocka_run_group_tests_name("virtio-blk", tests, NULL, NULL);
}
