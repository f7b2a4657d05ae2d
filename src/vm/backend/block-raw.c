/* SPDX-License-Identifier: MIT */
/*
 * The raw image block backend: a regular file (or block device) read and
 * written in place. Discard punches a hole (the file keeps its size), write
 * zeroes asks the file system for a zeroed range and writes zeros where it
 * cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "vm/backend/block.h"

struct block_raw {
	struct block_backend be;
	int fd;
	char *path;
};

static struct block_raw *to_raw(struct block_backend *be)
{
	return container_of(be, struct block_raw, be);
}

/*
 * preadv/pwritev until the whole iovec list moved. The list is the guest's:
 * copy it (at most IOV_MAX entries per call) so partial transfers can advance it.
 */
static int raw_rw_fd(struct block_raw *r, int fd, const struct iovec *iov, unsigned n,
                     uint64_t offset, bool write)
{
	struct iovec local[64];
	unsigned i = 0;
	size_t skip = 0; /* bytes of iov[i] already done */

	while (i < n) {
		unsigned cnt = 0;
		ssize_t got;

		if (iov[i].iov_len == skip) {
			i++;
			skip = 0;
			continue;
		}
		for (unsigned j = i; j < n && cnt < ARRAY_SIZE(local); j++, cnt++) {
			local[cnt] = iov[j];
			if (j == i) {
				local[cnt].iov_base = (char *)local[cnt].iov_base + skip;
				local[cnt].iov_len -= skip;
			}
		}
		if (offset > (uint64_t)INT64_MAX)
			return -EINVAL;
		do {
			got = write ? pwritev(fd, local, (int)cnt, (off_t)offset)
			            : preadv(fd, local, (int)cnt, (off_t)offset);
		} while (got < 0 && errno == EINTR);
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO; /* end of file: the image shrank under us */
		offset += (uint64_t)got;
		while (i < n && (size_t)got >= iov[i].iov_len - skip) {
			got -= (ssize_t)(iov[i].iov_len - skip);
			skip = 0;
			i++;
		}
		skip += (size_t)got;
	}
	return 0;
}

/* Guest data: through the O_DIRECT descriptor when it suits (cache=none). */
static int raw_rw(struct block_raw *r, const struct iovec *iov, unsigned n, uint64_t offset,
                  bool write)
{
	int fd = block_data_fd(&r->be, r->fd, iov, n, offset);
	int e = raw_rw_fd(r, fd, iov, n, offset, write);

	if (e == -EINVAL && fd != r->fd) /* the file system wants more alignment */
		e = raw_rw_fd(r, r->fd, iov, n, offset, write);
	return e;
}

static int raw_readv(struct block_backend *be, const struct iovec *iov, unsigned n, uint64_t offset)
{
	return raw_rw(to_raw(be), iov, n, offset, false);
}

static int raw_writev(struct block_backend *be, const struct iovec *iov, unsigned n,
                      uint64_t offset)
{
	if (be->readonly)
		return -EROFS;
	return raw_rw(to_raw(be), iov, n, offset, true);
}

static int raw_flush(struct block_backend *be)
{
	if (be->readonly)
		return 0;
	return fdatasync(to_raw(be)->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct block_backend *be, uint64_t offset, uint64_t len)
{
	struct block_raw *r = to_raw(be);

	/* Advisory: a file system that cannot punch holes keeps the bytes. */
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
	              (off_t)len) < 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	return 0;
}

static int raw_write_zeroes(struct block_backend *be, uint64_t offset, uint64_t len)
{
	static const uint8_t zeros[64 << 10];
	struct block_raw *r = to_raw(be);

	if (fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
	              (off_t)len) == 0)
		return 0;
	while (len) {
		struct iovec v = {.iov_base = (void *)zeros, .iov_len = VK_MIN(len, sizeof(zeros))};
		int e = raw_rw(r, &v, 1, offset, true);
		if (e < 0)
			return e;
		offset += v.iov_len;
		len -= v.iov_len;
	}
	return 0;
}

static void raw_close(struct block_backend *be)
{
	struct block_raw *r = to_raw(be);

	close(r->fd);
	free(r->path);
	free(r);
}

static const struct block_backend_ops raw_ops = {
        .readv = raw_readv,
        .writev = raw_writev,
        .flush = raw_flush,
        .discard = raw_discard,
        .write_zeroes = raw_write_zeroes,
        .close = raw_close,
};

int block_raw_fd(const struct block_backend *be)
{
	return be->ops == &raw_ops ? container_of(be, struct block_raw, be)->fd : -1;
}

struct block_backend *block_raw_open_fd(int fd, const char *path, bool readonly,
                                        struct vk_error *err)
{
	struct block_raw *r;
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0) {
		vk_error_errno(err, errno, "cannot stat disk image '%s'", path);
		goto fail_fd;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end < 0) {
			vk_error_errno(err, errno, "cannot find the size of disk '%s'", path);
			goto fail_fd;
		}
		size = (uint64_t)end;
	} else {
		vk_error_set(err, EINVAL, "disk image '%s' is not a regular file or block device",
		             path);
		goto fail_fd;
	}
	if (size % 512) {
		vk_error_set(
		        err, EINVAL,
		        "disk image '%s' is %llu bytes, not a multiple of 512 (the sector size)",
		        path, (unsigned long long)size);
		goto fail_fd;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		vk_error_errno(err, ENOMEM, "cannot open disk image '%s'", path);
		goto fail_fd;
	}
	r->fd = fd;
	r->be.direct_fd = -1;
	r->be.ops = &raw_ops;
	r->be.path = r->path;
	r->be.size = size;
	r->be.readonly = readonly;
	return &r->be;

fail_fd:
	close(fd);
	return NULL;
}
