/* SPDX-License-Identifier: MIT */
/*
 * Block backends: where a virtual disk's bytes live. Devices (virtio-blk)
 * call these and never read(2) an image themselves. For now one format: a
 * raw image file (block-raw.c); qcow2 and io_uring come later behind the
 * same calls.
 *
 * I/O is synchronous and called under the machine lock. Offsets and lengths
 * are checked against the size by the caller (the device); the backend only
 * reports what the host says (short transfers are -EIO).
 */
#ifndef VK_VM_BACKEND_BLOCK_H
#define VK_VM_BACKEND_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/compiler.h"
#include "common/error.h"

struct block_backend;

struct block_backend_ops {
	/* Transfer exactly the iovec total at offset: 0 or -errno. */
	int (*readv)(struct block_backend *be, const struct iovec *iov, unsigned n,
	             uint64_t offset);
	int (*writev)(struct block_backend *be, const struct iovec *iov, unsigned n,
	              uint64_t offset);
	int (*flush)(struct block_backend *be);
	void (*close)(struct block_backend *be);
};

struct block_backend {
	const struct block_backend_ops *ops;
	const char *path; /* for messages */
	uint64_t size;    /* bytes, a multiple of 512 */
	bool readonly;
};

/*
 * Open a raw image. The size must be a multiple of 512 bytes; a read-only
 * backend refuses writes with -EROFS. NULL with a sentence in err on failure
 * ("cannot open disk image 'a.img': No such file or directory").
 */
struct block_backend *block_raw_open(const char *path, bool readonly, struct vk_error *err);

static inline int block_readv(struct block_backend *be, const struct iovec *iov, unsigned n,
                              uint64_t offset)
{
	return be->ops->readv(be, iov, n, offset);
}

static inline int block_writev(struct block_backend *be, const struct iovec *iov, unsigned n,
                               uint64_t offset)
{
	return be->ops->writev(be, iov, n, offset);
}

static inline int block_flush(struct block_backend *be)
{
	return be->ops->flush(be);
}

/* NULL is accepted. */
static inline void block_close(struct block_backend *be)
{
	if (be)
		be->ops->close(be);
}

#endif
