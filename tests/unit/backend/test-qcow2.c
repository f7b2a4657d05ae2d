/* SPDX-License-Identifier: MIT */
/*
 * The block layer against the real thing: qcow2 images made by Debian's
 * qemu-img (versions 2 and 3, cluster sizes from 512 bytes to 2 MiB, refcount
 * widths from 1 to 64 bits, backing chains, compressed clusters) and by us,
 * driven through random writes, discards, write-zeroes and reads that are
 * mirrored into a raw file; afterwards `qemu-img check` must find no
 * corruption and no leak and `qemu-img compare` must find the image equal to
 * the mirror. Then what must be refused: malformed headers, a raw disk with a
 * qcow2 header opened without a format, a second writer of a locked image.
 * Skips (with the reason) where qemu-img is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/backend/block.h"

static char dir[64];
static bool have_qemu_img;

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Run a shell command; its exit status. */
static int sh(const char *fmt, ...) VK_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *in_dir(const char *name)
{
	static char paths[8][256];
	static unsigned k;
	char *p = paths[k++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static struct block_backend *open_img(const char *path, enum block_format f, bool ro)
{
	struct block_open_opts o = {.readonly = ro, .format = f};
	struct vk_error err = {0};
	struct block_backend *be = block_open(path, &o, &err);

	if (!be)
		fail_msg("cannot open %s: %s", path, err.msg);
	return be;
}

/* Random I/O through be, mirrored into the raw file mirror (same size). */
static void torture(struct block_backend *be, const char *mirror, unsigned ops)
{
	int mfd = open(mirror, O_RDWR);
	uint64_t sectors = be->size / 512;
	uint8_t *buf = malloc(1 << 20), *ref = malloc(1 << 20);

	assert_true(mfd >= 0);
	assert_non_null(buf);
	assert_non_null(ref);
	for (unsigned i = 0; i < ops; i++) {
		unsigned kind = (unsigned)(next() % 10);
		uint64_t max = VK_MIN(sectors, 2048); /* up to 1 MiB */
		uint64_t n = 1 + next() % (kind < 2 ? max : 16);
		uint64_t s = next() % (sectors - n + 1);
		uint64_t off = s * 512, len = n * 512;
		struct iovec v[3];

		if (kind < 5) { /* write, split over three iovecs */
			for (uint64_t b = 0; b < len; b++)
				buf[b] = (uint8_t)(next() >> 3);
			uint64_t a = (next() % n) * 512, c = a + (next() % (n - a / 512 + 1)) * 512;
			v[0] = (struct iovec){buf, a};
			v[1] = (struct iovec){buf + a, c - a};
			v[2] = (struct iovec){buf + c, len - c};
			assert_int_equal(block_writev(be, v, 3, off), 0);
			assert_int_equal(pwrite(mfd, buf, len, (off_t)off), (ssize_t)len);
		} else if (kind == 5) {
			assert_int_equal(block_write_zeroes(be, off, len), 0);
			memset(buf, 0, len);
			assert_int_equal(pwrite(mfd, buf, len, (off_t)off), (ssize_t)len);
		} else if (kind == 6) {
			/* A discard may leave anything: read what it left into the mirror. */
			assert_int_equal(block_discard(be, off, len), 0);
			v[0] = (struct iovec){buf, len};
			assert_int_equal(block_readv(be, v, 1, off), 0);
			assert_int_equal(pwrite(mfd, buf, len, (off_t)off), (ssize_t)len);
		} else { /* read and compare */
			v[0] = (struct iovec){buf, len};
			assert_int_equal(block_readv(be, v, 1, off), 0);
			assert_int_equal(pread(mfd, ref, len, (off_t)off), (ssize_t)len);
			if (memcmp(buf, ref, len))
				fail_msg("read at %llu+%llu differs from the mirror",
				         (unsigned long long)off, (unsigned long long)len);
		}
	}
	assert_int_equal(block_flush(be), 0);
	close(mfd);
	free(buf);
	free(ref);
}

/* qemu-img check finds nothing wrong, and compare finds the image equal to the mirror. */
static void verify(const char *img, const char *mirror)
{
	assert_int_equal(sh("qemu-img check -q %s", img), 0);
	assert_int_equal(sh("qemu-img compare -q -f qcow2 -F raw %s %s", img, mirror), 0);
}

static void check_qemu_img(void)
{
	if (!have_qemu_img)
		skip();
}

/* Images qemu-img makes, every cluster size and refcount width, both versions. */
static void test_qemu_img_images(void **state)
{
	static const struct {
		const char *opts;
	} kinds[] = {
	        {"compat=1.1,cluster_size=65536"},
	        {"compat=0.10,cluster_size=65536"},
	        {"compat=1.1,cluster_size=512"},
	        {"compat=1.1,cluster_size=4096,refcount_bits=1"},
	        {"compat=1.1,cluster_size=16384,refcount_bits=8"},
	        {"compat=1.1,cluster_size=2097152,refcount_bits=64"},
	        {"compat=1.1,cluster_size=65536,refcount_bits=32"},
	};

	check_qemu_img();
	for (unsigned k = 0; k < ARRAY_SIZE(kinds); k++) {
		const char *img = in_dir("q.qcow2"), *mirror = in_dir("q.raw");
		struct block_backend *be;

		unlink(img);
		assert_int_equal(sh("qemu-img create -q -f qcow2 -o %s %s 64M", kinds[k].opts, img),
		                 0);
		assert_int_equal(sh("truncate -s 0 %s && truncate -s 64M %s", mirror, mirror), 0);
		be = open_img(img, BLOCK_FORMAT_QCOW2, false);
		assert_int_equal(be->size, 64 << 20);
		torture(be, mirror, 400);
		block_close(be);
		verify(img, mirror);
	}
}

/* Our own images, blank and as overlays of raw and qcow2 bases; the bases stay untouched. */
static void test_our_images_and_backing(void **state)
{
	const char *base = in_dir("base.raw"), *mid = in_dir("mid.qcow2");
	const char *top = in_dir("top.qcow2"), *mirror = in_dir("m.raw");
	struct vk_error err = {0};
	struct block_backend *be;

	check_qemu_img();
	unlink(mid);
	unlink(top);
	/* a raw base with content, a qcow2 overlay written by us, then an overlay of that */
	assert_int_equal(sh("head -c 32M /dev/urandom > %s && cp %s %s", base, base, mirror), 0);
	assert_int_equal(block_qcow2_create(mid, 32 << 20, "base.raw", BLOCK_FORMAT_RAW, &err), 0);
	be = open_img(mid, BLOCK_FORMAT_QCOW2, false);
	torture(be, mirror, 300);
	block_close(be);
	assert_int_equal(block_qcow2_create(top, 32 << 20, "mid.qcow2", BLOCK_FORMAT_QCOW2, &err),
	                 0);
	be = open_img(top, BLOCK_FORMAT_QCOW2, false);
	torture(be, mirror, 300);
	block_close(be);
	assert_int_equal(sh("qemu-img check -q %s && qemu-img check -q %s", mid, top), 0);
	assert_int_equal(sh("qemu-img compare -q %s %s", top, mirror), 0);
	/* qemu-img agrees about what we made */
	assert_int_equal(sh("qemu-img info %s | grep -q 'backing file: mid.qcow2'", top), 0);
	assert_int_equal(sh("qemu-img info %s | grep -q 'backing file format: qcow2'", top), 0);
	/* and the overlay written by us refuses to exist twice */
	assert_int_not_equal(block_qcow2_create(top, 1 << 20, NULL, BLOCK_FORMAT_RAW, &err), 0);
	assert_int_equal(err.code, EEXIST);
}

/* Compressed clusters (qemu-img convert -c): read, and rewritten when written. */
static void test_compressed(void **state)
{
	const char *src = in_dir("c.raw"), *img = in_dir("c.qcow2"), *mirror = in_dir("cm.raw");
	struct block_backend *be;

	check_qemu_img();
	unlink(img);
	/* compressible content: repeated text with some noise */
	assert_int_equal(sh("(for i in $(seq 1 200000); do echo \"line $i of the compressed "
	                    "test image\"; done) | head -c 16M > %s; truncate -s 16M %s; cp %s %s",
	                    src, src, src, mirror),
	                 0);
	assert_int_equal(sh("qemu-img convert -q -c -O qcow2 %s %s", src, img), 0);
	assert_int_equal(
	        sh("qemu-img check %s | grep -q '[1-9][0-9.]*%% compressed clusters'", img), 0);
	be = open_img(img, BLOCK_FORMAT_QCOW2, false);
	torture(be, mirror, 300);
	block_close(be);
	verify(img, mirror);
}

/* A file with a qcow2 header is never read as qcow2 unless asked, never as raw silently. */
static void test_probing(void **state)
{
	const char *raw = in_dir("guest.raw");
	struct block_open_opts o = {.format = BLOCK_FORMAT_AUTO};
	struct vk_error err = {0};
	struct block_backend *be;
	uint8_t head[4];
	struct iovec v = {head, 4};

	check_qemu_img();
	/* a raw disk whose guest wrote a qcow2 header naming a host file as its backing */
	unlink(raw);
	assert_int_equal(
	        sh("qemu-img create -q -f qcow2 -F raw -b /etc/passwd %s 8M && truncate -s "
	           "8M %s",
	           raw, raw),
	        0);
	assert_null(block_open(raw, &o, &err));
	assert_non_null(strstr(err.msg, "format=qcow2"));
	be = open_img(raw, BLOCK_FORMAT_RAW, true);
	assert_int_equal(block_readv(be, &v, 1, 0), 0);
	assert_memory_equal(head, "QFI\xfb", 4);
	block_close(be);
	/* a qcow2 image's backing file with no recorded format that looks like qcow2 (qemu-img
	 * no longer writes such images: turn the format extension into an unknown one) */
	unlink(in_dir("inner.qcow2"));
	unlink(in_dir("outer.qcow2"));
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 8M && qemu-img create -q -f qcow2 -F "
	                    "qcow2 -b inner.qcow2 %s 8M",
	                    in_dir("inner.qcow2"), in_dir("outer.qcow2")),
	                 0);
	{
		uint8_t hdr[4096];
		int fd = open(in_dir("outer.qcow2"), O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
		uint8_t *ext = memmem(hdr, sizeof(hdr), "\xe2\x79\x2a\xca", 4);
		assert_non_null(ext);
		memcpy(ext, "\x00\x00\x00\x01", 4);
		assert_int_equal(pwrite(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
		close(fd);
	}
	o.format = BLOCK_FORMAT_QCOW2;
	assert_null(block_open(in_dir("outer.qcow2"), &o, &err));
	assert_non_null(strstr(err.msg, "no recorded format"));
}

/* Malformed images: a clear error, never a crash. */
static void test_malformed(void **state)
{
	static const struct {
		unsigned off, len;
		uint64_t value;
		const char *want;
	} cases[] = {
	        {0, 4, 0x514649fa, "no qcow2 header"},
	        {4, 4, 4, "version"},
	        {20, 4, 30, "cluster size"},
	        {32, 4, 1, "encrypted"},
	        {36, 4, 0x7fffffff, "L1 table too large"},
	        {40, 8, 0xffffffffff0000ull, "L1 table offset"},
	        {48, 8, 1234, "refcount table offset"},
	        {60, 4, 1, "snapshot"},
	        {72, 8, 1ull << 5, "features"},
	        {72, 8, 2, "corrupt"},
	        {24, 8, 1000, "multiple of 512"},
	};
	const char *img = in_dir("bad.qcow2");
	struct block_open_opts o = {.format = BLOCK_FORMAT_QCOW2};

	check_qemu_img();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vk_error err = {0};
		uint8_t b[8];
		int fd;

		unlink(img);
		assert_int_equal(sh("qemu-img create -q -f qcow2 %s 16M", img), 0);
		for (unsigned k = 0; k < cases[i].len; k++)
			b[k] = (uint8_t)(cases[i].value >> (8 * (cases[i].len - 1 - k)));
		fd = open(img, O_WRONLY);
		assert_int_equal(pwrite(fd, b, cases[i].len, cases[i].off), (ssize_t)cases[i].len);
		close(fd);
		assert_null(block_open(img, &o, &err));
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %u: '%s' does not say '%s'", i, err.msg, cases[i].want);
	}
	/* truncated: only the header survives */
	unlink(img);
	assert_int_equal(sh("qemu-img create -q -f qcow2 %s 16M && truncate -s 1024 %s", img, img),
	                 0);
	{
		struct vk_error err = {0};
		assert_null(block_open(img, &o, &err));
		assert_non_null(strstr(err.msg, "out of the file"));
	}
}

/* One writer per image; readers share. */
static void test_locking(void **state)
{
	const char *img = in_dir("lock.raw");
	struct block_open_opts rw = {.format = BLOCK_FORMAT_RAW};
	struct block_open_opts ro = {.format = BLOCK_FORMAT_RAW, .readonly = true};
	struct vk_error err = {0};
	struct block_backend *a, *b;

	assert_int_equal(sh("truncate -s 1M %s", img), 0);
	a = block_open(img, &rw, &err);
	assert_non_null(a);
	assert_null(block_open(img, &rw, &err));
	assert_int_equal(err.code, EBUSY);
	assert_non_null(strstr(err.msg, img));
	assert_null(block_open(img, &ro, &err)); /* a writer excludes readers too */
	block_close(a);
	a = block_open(img, &ro, &err);
	b = block_open(img, &ro, &err);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(block_open(img, &rw, &err));
	block_close(a);
	block_close(b);
	/* another process holding it: its pid is named */
	if (fork() == 0) {
		struct block_backend *c = block_open(img, &rw, NULL);
		if (!c)
			_exit(1);
		sleep(2);
		_exit(0);
	}
	usleep(300000);
	assert_null(block_open(img, &rw, &err));
	assert_non_null(strstr(err.msg, "pid"));
	wait(NULL);
	a = block_open(img, &rw, &err);
	assert_non_null(a);
	block_close(a);
}

/* What `virtkit-vm image` does: create (cluster sizes, overlays), describe, grow. */
static void test_image_tools(void **state)
{
	const char *img = in_dir("tool.qcow2"), *mirror = in_dir("tool.raw");
	const char *over = in_dir("tool-over.qcow2"), *raw = in_dir("tool-new.raw");
	struct block_create_opts o = {
	        .format = BLOCK_FORMAT_QCOW2, .size = 8 << 20, .cluster_bits = 12};
	struct vk_error err = {0};
	struct block_backend *be;
	struct block_info info;

	check_qemu_img();
	unlink(img);
	unlink(over);
	unlink(raw);
	/* 4 KiB clusters: one L2 table maps 2 MiB, so growing to 3 GiB needs a larger L1. */
	assert_int_equal(block_create(img, &o, &err), 0);
	assert_int_equal(sh("truncate -s 0 %s && truncate -s 8M %s", mirror, mirror), 0);
	be = open_img(img, BLOCK_FORMAT_QCOW2, false);
	torture(be, mirror, 200);
	block_close(be);
	assert_int_equal(block_resize(img, BLOCK_FORMAT_QCOW2, 3ull << 30, &err), 0);
	assert_int_equal(sh("truncate -s 3G %s", mirror), 0);
	be = open_img(img, BLOCK_FORMAT_QCOW2, false);
	assert_int_equal(be->size, 3ull << 30);
	torture(be, mirror, 200); /* all over the grown disk, the old data read back */
	block_close(be);
	verify(img, mirror);
	assert_int_equal(sh("qemu-img info %s | grep -q 'cluster_size: 4096'", img), 0);
	/* shrinking is refused and changes nothing */
	assert_int_not_equal(block_resize(img, BLOCK_FORMAT_QCOW2, 1 << 20, &err), 0);
	assert_non_null(strstr(err.msg, "shrink"));
	assert_int_equal(sh("qemu-img info %s | grep -q '3 GiB'", img), 0);

	/* an overlay takes the base's size; its format must be said */
	o = (struct block_create_opts){.format = BLOCK_FORMAT_QCOW2, .backing = "tool.qcow2"};
	assert_int_not_equal(block_create(over, &o, &err), 0);
	assert_non_null(strstr(err.msg, "never guessed"));
	assert_int_equal(access(over, F_OK), -1);
	o.backing_format = BLOCK_FORMAT_QCOW2;
	assert_int_equal(block_create(over, &o, &err), 0);
	assert_int_equal(block_get_info(over, BLOCK_FORMAT_QCOW2, &info, &err), 0);
	assert_int_equal(info.format, BLOCK_FORMAT_QCOW2);
	assert_int_equal(info.virtual_size, 3ull << 30);
	assert_int_equal(info.cluster_size, 65536);
	assert_string_equal(info.backing, "tool.qcow2");
	assert_string_equal(info.backing_full, img);
	assert_int_equal(info.backing_format, BLOCK_FORMAT_QCOW2);
	assert_false(info.dirty);
	block_info_free(&info);
	assert_int_equal(sh("qemu-img compare -q %s %s", over, mirror), 0);
	/* info does not need the image's lock: it works while a machine writes it */
	be = open_img(over, BLOCK_FORMAT_QCOW2, false);
	assert_int_equal(block_get_info(over, BLOCK_FORMAT_QCOW2, &info, &err), 0);
	block_info_free(&info);
	assert_int_not_equal(block_resize(over, BLOCK_FORMAT_QCOW2, 4ull << 30, &err), 0);
	assert_int_equal(err.code, EBUSY);
	block_close(be);

	/* raw: created sparse, grown; a missing base or a bad size leaves no file */
	o = (struct block_create_opts){.format = BLOCK_FORMAT_RAW, .size = 1 << 20};
	assert_int_equal(block_create(raw, &o, &err), 0);
	assert_int_equal(block_resize(raw, BLOCK_FORMAT_RAW, 2 << 20, &err), 0);
	assert_int_equal(block_get_info(raw, BLOCK_FORMAT_RAW, &info, &err), 0);
	assert_int_equal(info.virtual_size, 2 << 20);
	assert_int_equal(info.cluster_size, 0);
	assert_null(info.backing);
	block_info_free(&info);
	unlink(over);
	o = (struct block_create_opts){.format = BLOCK_FORMAT_QCOW2,
	                               .backing = "nope.qcow2",
	                               .backing_format = BLOCK_FORMAT_QCOW2};
	assert_int_not_equal(block_create(over, &o, &err), 0);
	assert_non_null(strstr(err.msg, "nope.qcow2"));
	o = (struct block_create_opts){.format = BLOCK_FORMAT_QCOW2, .size = 1000};
	assert_int_not_equal(block_create(over, &o, &err), 0);
	o = (struct block_create_opts){
	        .format = BLOCK_FORMAT_QCOW2, .size = 1 << 20, .cluster_bits = 9};
	assert_int_not_equal(block_create(over, &o, &err), 0);
	assert_int_equal(access(over, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_qemu_img_images),
	        cmocka_unit_test(test_our_images_and_backing),
	        cmocka_unit_test(test_compressed),
	        cmocka_unit_test(test_probing),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_locking),
	        cmocka_unit_test(test_image_tools),
	};
	int r;

	snprintf(dir, sizeof(dir), "/tmp/vk-qcow2.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	have_qemu_img = system("qemu-img --version >/dev/null 2>&1") == 0;
	if (!have_qemu_img)
		printf("# qemu-img not found (package qemu-utils): its interop tests skip\n");
	r = cmocka_run_group_tests(tests, NULL, NULL);
	sh("rm -rf %s", dir);
	return r;
}
