/* SPDX-License-Identifier: MIT */
/*
 * vkdisk: the disk workloads of bench/disk-riscv64, run inside the guest on
 * a block device with O_DIRECT (no guest page cache):
 *   vkdisk DEV seqwrite|seqread MIB          1 MiB requests, one at a time
 *   vkdisk DEV randwrite|randread COUNT QD   4 KiB requests at random
 *                                            aligned offsets, QD threads
 * Prints "vkdisk OP seconds=S bytes=B ios=N". Random offsets come from a
 * fixed seed per thread, so every machine gets the same requests.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

static int fd;
static uint64_t disk_size;
static long per_thread;
static int writing;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *random_io(void *arg)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1), blocks = disk_size / 4096;
	void *buf;

	if (posix_memalign(&buf, 4096, 4096))
		exit(1);
	memset(buf, 0x5a, 4096);
	for (long i = 0; i < per_thread; i++) {
		off_t off;
		ssize_t n;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		off = (off_t)(x % blocks) * 4096;
		n = writing ? pwrite(fd, buf, 4096, off) : pread(fd, buf, 4096, off);
		if (n != 4096) {
			perror("vkdisk: random I/O");
			exit(1);
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	double t0, t;
	uint64_t bytes = 0, ios = 0;

	if (argc < 4) {
		fprintf(stderr,
		        "usage: vkdisk DEV seqwrite|seqread MIB | randwrite|randread COUNT QD\n");
		return 2;
	}
	writing = strstr(argv[2], "write") != NULL;
	fd = open(argv[1], (writing ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &disk_size) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (!strncmp(argv[2], "seq", 3)) {
		long mib = atol(argv[3]);
		void *buf;

		if (posix_memalign(&buf, 4096, 1 << 20))
			return 1;
		memset(buf, 0xa5, 1 << 20);
		t0 = now();
		for (long i = 0; i < mib; i++) {
			off_t off = (off_t)(((uint64_t)i << 20) % disk_size);
			ssize_t n = writing ? pwrite(fd, buf, 1 << 20, off)
			                    : pread(fd, buf, 1 << 20, off);
			if (n != 1 << 20) {
				perror("vkdisk: sequential I/O");
				return 1;
			}
		}
		if (writing)
			fdatasync(fd);
		t = now() - t0;
		bytes = (uint64_t)mib << 20;
		ios = (uint64_t)mib;
	} else {
		long count = atol(argv[3]);
		int qd = argc > 4 ? atoi(argv[4]) : 1;
		pthread_t th[64];

		if (qd < 1 || qd > 64)
			return 2;
		per_thread = count / qd;
		t0 = now();
		for (int i = 0; i < qd; i++)
			pthread_create(&th[i], NULL, random_io, (void *)(uintptr_t)i);
		for (int i = 0; i < qd; i++)
			pthread_join(th[i], NULL);
		if (writing)
			fdatasync(fd);
		t = now() - t0;
		ios = (uint64_t)per_thread * qd;
		bytes = ios * 4096;
	}
	printf("vkdisk %s seconds=%.4f bytes=%llu ios=%llu\n", argv[2], t,
	       (unsigned long long)bytes, (unsigned long long)ios);
	return 0;
}
