/* SPDX-License-Identifier: MIT */
/* Small utilities used everywhere: size parsing, whole-file I/O, strings, iovecs. */
#ifndef VK_UTIL_H
#define VK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "compiler.h"
#include "error.h"

/*
 * Parse a size with an optional K/M/G/T suffix (powers of 1024, case
 * insensitive, optional trailing "B" or "iB"). A bare number is bytes.
 * Returns 0, or -EINVAL/-ERANGE with a message naming what was given.
 */
int vk_parse_size(const char *s, uint64_t *out, struct vk_error *err) VK_MUST_CHECK;

/* Parse an unsigned decimal integer in [min, max]. */
int vk_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) VK_MUST_CHECK;

/*
 * A byte count for people, exact: "256 MiB", "1536 KiB", "64 GiB", "100 bytes"
 * (the largest binary unit that divides it, so that it parses back to the
 * same number). Returns buf.
 */
#define VK_SIZE_STR_MAX 32
const char *vk_format_size(uint64_t bytes, char *buf, size_t len);
/* The same rounded to one decimal, for measurements: "23.5 GiB", "1.2 MiB", "512 bytes". */
const char *vk_format_size_approx(uint64_t bytes, char *buf, size_t len);

/*
 * Read a whole file into a malloc'd buffer (NUL-terminated for convenience;
 * *len excludes the NUL). Refuses files larger than max_size.
 */
int vk_read_file(const char *path, size_t max_size, uint8_t **buf, size_t *len,
                 struct vk_error *err) VK_MUST_CHECK;

/* Write a whole buffer to a file atomically (temp file + fsync + rename). */
int vk_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                         struct vk_error *err) VK_MUST_CHECK;

/* read()/write() until done, retrying on EINTR. Return bytes or -errno. */
ssize_t vk_read_full(int fd, void *buf, size_t len);
ssize_t vk_write_full(int fd, const void *buf, size_t len);

/* Monotonic clock in nanoseconds. */
uint64_t vk_now_ns(void);

/* True when s starts with prefix. */
bool vk_startswith(const char *s, const char *prefix);

/*
 * Which file a path names, so that it can be removed later only if it is
 * still that file: a socket we bound may have been replaced meanwhile by a
 * successor's (a restarted VM on the same path), which must survive us.
 */
struct vk_file_id {
	dev_t dev;
	ino_t ino; /* 0: nothing recorded */
};

/* Record what path names now (lstat): 0 or -errno (then id records nothing). */
int vk_file_id_get(const char *path, struct vk_file_id *id);
/* unlink(path) if it still names the file recorded in id; otherwise leave it. */
void vk_unlink_if_same(const char *path, const struct vk_file_id *id);

/* Set O_NONBLOCK / FD_CLOEXEC on a descriptor. */
int vk_set_nonblock(int fd, bool on);
int vk_set_cloexec(int fd, bool on);

/*
 * Gather from / scatter to an iovec list, starting offset bytes into it.
 * Return the bytes copied: less than len when the list ends first.
 */
size_t vk_iov_to_buf(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len);
size_t vk_iov_from_buf(const struct iovec *iov, unsigned n, size_t offset, const void *buf,
                       size_t len);

/* Total bytes of an iovec list; SIZE_MAX when the sum does not fit. */
size_t vk_iov_size(const struct iovec *iov, unsigned n);

#endif
