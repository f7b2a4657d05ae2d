/* SPDX-License-Identifier: MIT */
/*
 * Block backends: where a virtual disk's bytes live. Devices (virtio-blk)
 * call these and never read(2) an image themselves. Two formats behind the
 * same calls: raw files or block devices (block-raw.c) and qcow2 (qcow2*.c).
 *
 * Opening (block.c) is explicit about the format: format=raw never reads a
 * qcow2 header, format=qcow2 insists on one, and with no format a file that
 * starts with a qcow2 header is refused (so a guest that writes such a header
 * into its raw disk gains nothing on the next boot). Every image is locked
 * while open (open file description locks: exclusive when writable, shared
 * when read-only), so two machines never write one image.
 *
 * The operations are synchronous and thread-safe per backend; block-aio.h
 * runs them off the machine lock. Offsets and lengths are checked against
 * the size by the caller (the device); the backend reports what the host
 * says (short transfers are -EIO).
 */
#ifndef VK_VM_BACKEND_BLOCK_H
#define VK_VM_BACKEND_BLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

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
	/* [offset, offset + len) may read as anything afterwards (the space is given back
	 * where the format can); NULL: discard is a no-op. */
	int (*discard)(struct block_backend *be, uint64_t offset, uint64_t len);
	/* [offset, offset + len) reads as zeros afterwards. */
	int (*write_zeroes)(struct block_backend *be, uint64_t offset, uint64_t len);
	void (*close)(struct block_backend *be);
};

enum block_format { BLOCK_FORMAT_AUTO, BLOCK_FORMAT_RAW, BLOCK_FORMAT_QCOW2 };

struct block_backend {
	const struct block_backend_ops *ops;
	const char *path; /* for messages */
	uint64_t size;    /* bytes, a multiple of 512 */
	bool readonly;
	enum block_format format; /* what it was opened as */
	int lock_fd;              /* the descriptor holding the image's lock, -1: none */
	int direct_fd;            /* cache=none: the file again with O_DIRECT, -1: none */
};

struct block_open_opts {
	bool readonly;
	enum block_format format;
	bool no_lock;      /* do not lock (only tools that read an image next to its user) */
	bool lock_later;   /* open without the lock, which block_relock() takes (a migration's
	                    * destination, while the source still holds it) */
	bool direct;       /* cache=none: guest data bypasses the host page cache (O_DIRECT) */
	unsigned depth;    /* backing files above this one (qcow2 chains) */
	const char *child; /* opening a backing file of this image (for messages), or NULL */
};

/*
 * Open a disk image. NULL with a sentence in err on failure ("cannot open
 * disk image 'a.img': No such file or directory", "disk image 'a.img' is
 * locked by another machine (pid 1234)").
 */
struct block_backend *block_open(const char *path, const struct block_open_opts *o,
                                 struct vk_error *err);

/* "raw" / "qcow2" / NULL for a spelling we do not know. */
const char *block_format_name(enum block_format f);
int block_format_parse(const char *name, enum block_format *out) VK_MUST_CHECK;

/* Whether the file starts with the qcow2 magic (false on any error). */
bool block_has_qcow2_magic(int fd);

/* Formats' openers (after block_open's probing and locking); the fd is theirs. */
struct block_backend *block_raw_open_fd(int fd, const char *path, bool readonly,
                                        struct vk_error *err);
struct block_backend *block_qcow2_open_fd(int fd, const char *path, const struct block_open_opts *o,
                                          struct vk_error *err);

/*
 * Create a qcow2 (version 3) image of size bytes, optionally over a backing
 * file (its path as it should be recorded, relative to the new image's folder
 * or absolute) of the given format. Fails if path exists.
 */
int block_qcow2_create(const char *path, uint64_t size, const char *backing,
                       enum block_format backing_format, struct vk_error *err) VK_MUST_CHECK;

/* ---- image tools (block-image.c): what `virtkit-vm image` does ---- */

struct block_create_opts {
	enum block_format format;         /* RAW or QCOW2 */
	uint64_t size;                    /* bytes; 0 with a backing file: the backing file's */
	const char *backing;              /* qcow2 only: recorded as given */
	enum block_format backing_format; /* required with backing: never guessed */
	unsigned cluster_bits;            /* qcow2: 12..21, 0: the default (16, 64 KiB) */
};

/* Create a new image (never over an existing file); on failure nothing is left. */
int block_create(const char *path, const struct block_create_opts *o,
                 struct vk_error *err) VK_MUST_CHECK;

struct block_info {
	enum block_format format;
	uint64_t virtual_size;
	uint64_t actual_size;  /* bytes allocated on the host */
	uint64_t cluster_size; /* qcow2; 0 for raw */
	char *backing;         /* as recorded, or NULL */
	char *backing_full;    /* resolved like QEMU (relative to the image's folder), or NULL */
	enum block_format backing_format; /* AUTO: not recorded */
	bool dirty;                       /* qcow2 v3 with lazy refcounts, not closed cleanly */
};

/*
 * Describe an image without locking it (like qemu-img info -U: the image may
 * be in use by a running machine). format AUTO probes as block_open() does.
 * Free with block_info_free().
 */
int block_get_info(const char *path, enum block_format format, struct block_info *out,
                   struct vk_error *err) VK_MUST_CHECK;
void block_info_free(struct block_info *info);

/* Grow an image (not in use: it is locked for writing) to size bytes; shrinking is
 * refused (it would drop guest data). */
int block_resize(const char *path, enum block_format format, uint64_t size,
                 struct vk_error *err) VK_MUST_CHECK;

/* The path a backing file name recorded in image refers to: as is when absolute,
 * else relative to image's folder (what QEMU does). Allocated; NULL: no memory. */
char *block_backing_path(const char *image, const char *name);

/* Drop the image's lock (a migration's switchover) and take it again. */
void block_unlock(struct block_backend *be);
int block_relock(struct block_backend *be, struct vk_error *err) VK_MUST_CHECK;

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

static inline int block_discard(struct block_backend *be, uint64_t offset, uint64_t len)
{
	if (be->readonly)
		return -EROFS;
	return be->ops->discard ? be->ops->discard(be, offset, len) : 0;
}

static inline int block_write_zeroes(struct block_backend *be, uint64_t offset, uint64_t len)
{
	if (be->readonly)
		return -EROFS;
	return be->ops->write_zeroes(be, offset, len);
}

/* NULL is accepted. */
static inline void block_close(struct block_backend *be)
{
	if (!be)
		return;
	if (be->direct_fd >= 0)
		close(be->direct_fd);
	be->ops->close(be);
}

/*
 * The descriptor for a transfer of guest data: the O_DIRECT one (cache=none)
 * when buffers, lengths and offset are 512-byte aligned, else fd. A direct
 * transfer the file system refuses (-EINVAL: larger alignment) is retried on fd.
 */
static inline int block_data_fd(const struct block_backend *be, int fd, const struct iovec *iov,
                                unsigned n, uint64_t offset)
{
	if (be->direct_fd < 0 || offset % 512)
		return fd;
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % 512 || iov[i].iov_len % 512)
			return fd;
	return be->direct_fd;
}

/* A raw backend's file descriptor (for the kernel to do its I/O: block-aio.c); -1
 * for other formats. */
int block_raw_fd(const struct block_backend *be);

/* Compatibility: a raw image, locked (what --disk PATH,format=raw opens). */
struct block_backend *block_raw_open(const char *path, bool readonly, struct vk_error *err);

#endif
