/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the daemon's pure pieces: the cgroup counters of a process on
 * cgroup v1, v2 and hybrid hosts, read from fixture trees laid out as the
 * kernel does (mountinfo, /proc/PID/cgroup and the controllers' files), and
 * sizes written for people that parse back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "daemon/drivers/cgroup-stats.h"
#include "daemon/proc.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], dir[512], *slash;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_replace(path, text, 0644), 0);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/vk-cgtest.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	rm_rf(root);
	return 0;
}

#define CG "/virtkit/0b8e7e3c"

static void test_v2(void **state)
{
	static const char mountinfo[] =
	        "22 1 0:5 / / rw - ext4 /dev/vda1 rw\n"
	        "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
	struct cg_stats s;

	put("/sys/fs/cgroup" CG "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	put("/sys/fs/cgroup" CG "/memory.current", "4096\n");
	put("/sys/fs/cgroup" CG "/memory.peak", "8192\n");
	put("/sys/fs/cgroup" CG "/pids.current", "3\n");
	put("/sys/fs/cgroup" CG "/io.stat",
	    "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
	    "8:16 rbytes=10 wbytes=20 rios=3 wios=4 dbytes=0 dios=0\n");
	assert_int_equal(cg_stats_parse("0::" CG "\n", mountinfo, root, &s, NULL), 0);
	assert_string_equal(s.version, "v2");
	assert_string_equal(s.path, CG);
	assert_true(s.have_cpu && s.have_cpu_split);
	assert_int_equal(s.cpu_ns, 1500000);
	assert_int_equal(s.cpu_user_ns, 1000000);
	assert_int_equal(s.cpu_system_ns, 500000);
	assert_int_equal(s.memory_bytes, 4096);
	assert_true(s.have_memory_peak);
	assert_int_equal(s.memory_peak_bytes, 8192);
	assert_int_equal(s.pids, 3);
	assert_true(s.have_io);
	assert_int_equal(s.io_read_bytes, 110);
	assert_int_equal(s.io_write_bytes, 220);
	assert_int_equal(s.io_read_ops, 4);
	assert_int_equal(s.io_write_ops, 6);
}

/* An older v2 kernel without memory.peak: the counter is left out, not zero. */
static void test_v2_without_peak(void **state)
{
	static const char mountinfo[] = "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	struct cg_stats s;

	put("/sys/fs/cgroup" CG "/memory.current", "4096\n");
	assert_int_equal(cg_stats_parse("0::" CG "\n", mountinfo, root, &s, NULL), 0);
	assert_true(s.have_memory);
	assert_false(s.have_memory_peak);
	assert_false(s.have_cpu);
}

static const char v1_mountinfo[] =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
static const char v1_cgroup[] =
        "5:pids:" CG "\n4:blkio:" CG "\n3:memory:" CG "\n2:cpu,cpuacct:" CG "\n1:name=systemd:/\n";

static void put_v1(void)
{
	put("/sys/fs/cgroup/cpu,cpuacct" CG "/cpuacct.usage", "123456789\n");
	put("/sys/fs/cgroup/cpu,cpuacct" CG "/cpuacct.stat", "user 10\nsystem 5\n");
	put("/sys/fs/cgroup/memory" CG "/memory.usage_in_bytes", "1048576\n");
	put("/sys/fs/cgroup/memory" CG "/memory.max_usage_in_bytes", "2097152\n");
	put("/sys/fs/cgroup/pids" CG "/pids.current", "5\n");
	put("/sys/fs/cgroup/blkio" CG "/blkio.throttle.io_service_bytes",
	    "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 0\n8:0 Total 12288\n"
	    "Total 12288\n");
	put("/sys/fs/cgroup/blkio" CG "/blkio.throttle.io_serviced",
	    "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n");
}

static void test_v1(void **state)
{
	long hz = sysconf(_SC_CLK_TCK);
	struct cg_stats s;

	put_v1();
	assert_int_equal(cg_stats_parse(v1_cgroup, v1_mountinfo, root, &s, NULL), 0);
	assert_string_equal(s.version, "v1");
	assert_int_equal(s.cpu_ns, 123456789);
	assert_int_equal(s.cpu_user_ns, 10 * (1000000000 / hz));
	assert_int_equal(s.cpu_system_ns, 5 * (1000000000 / hz));
	assert_int_equal(s.memory_bytes, 1048576);
	assert_int_equal(s.memory_peak_bytes, 2097152);
	assert_int_equal(s.pids, 5);
	/* Per device, without the Total lines. */
	assert_int_equal(s.io_read_bytes, 4096);
	assert_int_equal(s.io_write_bytes, 8192);
	assert_int_equal(s.io_read_ops, 1);
	assert_int_equal(s.io_write_ops, 2);
}

/* Hybrid: v1 controllers hold the counters although a unified hierarchy is mounted too. */
static void test_hybrid(void **state)
{
	char mountinfo[1024];
	struct cg_stats s;

	put_v1();
	put("/sys/fs/cgroup/unified" CG "/memory.current", "999\n"); /* must not be read */
	snprintf(mountinfo, sizeof(mountinfo), "%s%s", v1_mountinfo,
	         "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	assert_int_equal(cg_stats_parse("0::" CG "\n5:pids:" CG "\n4:blkio:" CG "\n3:memory:" CG
	                                "\n2:cpu,cpuacct:" CG "\n",
	                                mountinfo, root, &s, NULL),
	                 0);
	assert_string_equal(s.version, "hybrid");
	assert_int_equal(s.memory_bytes, 1048576);
	assert_int_equal(s.cpu_ns, 123456789);
}

/* A mount that shows a sub-tree (a daemon in a container): paths are taken relative to it. */
static void test_mount_root(void **state)
{
	static const char mountinfo[] =
	        "30 22 0:26 /machine /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	struct cg_stats s;

	put("/sys/fs/cgroup" CG "/pids.current", "7\n");
	assert_int_equal(cg_stats_parse("0::/machine" CG "\n", mountinfo, root, &s, NULL), 0);
	assert_int_equal(s.pids, 7);
	/* A cgroup outside what the mount shows is not read from a wrong place. */
	assert_int_equal(cg_stats_parse("0::/other" CG "\n", mountinfo, root, &s, NULL), 0);
	assert_false(s.have_pids);
}

static void test_no_cgroup(void **state)
{
	struct vk_error err = {0};
	struct cg_stats s;

	assert_int_equal(
	        cg_stats_parse("", "22 1 0:5 / / rw - ext4 /dev/vda1 rw\n", root, &s, &err),
	        -ENOENT);
	assert_non_null(strstr(err.msg, "no cgroup"));
}

static void test_sizes(void **state)
{
	static const uint64_t sizes[] = {0,         1,          1023,        1024,
	                                 268435456, 1536 << 10, 64ull << 30, (1ull << 40) + 1};
	char buf[VK_SIZE_STR_MAX];
	uint64_t back;

	assert_string_equal(vk_format_size(256 << 20, buf, sizeof(buf)), "256 MiB");
	assert_string_equal(vk_format_size(1536 << 10, buf, sizeof(buf)), "1536 KiB");
	assert_string_equal(vk_format_size(100, buf, sizeof(buf)), "100 bytes");
	assert_string_equal(vk_format_size_approx(25276182528ull, buf, sizeof(buf)), "23.5 GiB");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vk_format_size(sizes[i], buf, sizeof(buf));
		assert_int_equal(vk_parse_size(buf, &back, NULL), 0);
		assert_int_equal(back, sizes[i]);
	}
	assert_int_equal(vk_parse_size("256MiB", &back, NULL), 0);
	assert_int_equal(back, 256 << 20);
	assert_int_not_equal(vk_parse_size("256 QiB", &back, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_v2_without_peak, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mount_root, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_cgroup, setup, teardown),
	        cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
