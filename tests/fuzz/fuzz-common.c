/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fuzz harnesses (see fuzz-common.h). */
#include "fuzz-common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/compiler.h"

uint8_t fz_get8(struct fz_reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

uint16_t fz_get16(struct fz_reader *r)
{
	uint16_t v = fz_get8(r);

	return (uint16_t)(v | fz_get8(r) << 8);
}

uint32_t fz_get32(struct fz_reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fz_get8(r) << (8 * i);
	return v;
}

uint64_t fz_get64(struct fz_reader *r)
{
	uint64_t v = fz_get32(r);

	return v | (uint64_t)fz_get32(r) << 32;
}

uint8_t *fz_guarded_ram(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *map;

	map = mmap(NULL, size + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + page, size, PROT_READ | PROT_WRITE))
		abort();
	return map + page;
}

static int disk_rw(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off,
                   bool write)
{
	struct fz_disk *d = container_of(be, struct fz_disk, be);

	for (unsigned i = 0; i < n; i++) {
		if (off > FZ_DISK_SIZE || iov[i].iov_len > FZ_DISK_SIZE - off)
			abort(); /* the device must have checked the range */
		if (write)
			memcpy(d->data + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, d->data + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return 0;
}

static int disk_readv(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off)
{
	return disk_rw(be, iov, n, off, false);
}

static int disk_writev(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t off)
{
	return disk_rw(be, iov, n, off, true);
}

static int disk_flush(struct block_backend *be)
{
	return 0;
}

static void disk_close(struct block_backend *be)
{
}

static const struct block_backend_ops disk_ops = {
        .readv = disk_readv,
        .writev = disk_writev,
        .flush = disk_flush,
        .close = disk_close,
};

void fz_disk_init(struct fz_disk *d)
{
	d->be = (struct block_backend){.ops = &disk_ops, .path = "fuzz", .size = FZ_DISK_SIZE};
}
