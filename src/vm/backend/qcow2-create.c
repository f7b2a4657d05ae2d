/* SPDX-License-Identifier: MIT */
/*
 * Creating qcow2 images (version 3, 64 KiB clusters unless asked otherwise,
 * 16-bit refcounts, no lazy refcounts): what `virtkit volume create` makes, blank or as a
 * copy-on-write overlay of a base image.
 *
 * Layout: cluster 0 the header, its extensions (the backing file's format)
 * and the backing file's name; cluster 1 the refcount table; cluster 2 the
 * first refcount block; then the L1 table. Everything else is allocated as
 * the guest writes.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/backend/qcow2.h"

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

int block_qcow2_create(const char *path, uint64_t size, const char *backing,
                       enum block_format backing_format, struct vk_error *err)
{
	return qcow2_create(path, size, backing, backing_format, QCOW2_DEFAULT_CLUSTER_BITS, err);
}

int qcow2_create(const char *path, uint64_t size, const char *backing,
                 enum block_format backing_format, unsigned bits, struct vk_error *err)
{
	const uint64_t cs = 1ull << bits, per_l2 = cs / 8 * cs;
	uint64_t l1_entries, l1_clusters, total_clusters, ext_end;
	uint8_t *buf = NULL;
	size_t blen = 0;
	int fd, r = 0;

	if (bits < QCOW2_CREATE_MIN_BITS || bits > QCOW2_CREATE_MAX_BITS)
		return vk_error_set(
		        err, EINVAL,
		        "cannot create '%s': cluster size out of range (4 KiB to 2 MiB)", path);
	if (size == 0 || size % 512)
		return vk_error_set(err, EINVAL,
		                    "cannot create '%s': size %llu is not a positive "
		                    "multiple of 512 bytes",
		                    path, (unsigned long long)size);
	if (size > (1ull << 60))
		return vk_error_set(err, EFBIG, "cannot create '%s': size too large", path);
	if (backing && (strlen(backing) > 1023 || !backing[0]))
		return vk_error_set(err, EINVAL, "cannot create '%s': bad backing file name", path);
	l1_entries = (size + per_l2 - 1) / per_l2;
	l1_clusters = (l1_entries * 8 + cs - 1) / cs;
	if (l1_entries * 8 > QCOW2_MAX_L1_BYTES)
		return vk_error_set(err, EFBIG, "cannot create '%s': size too large", path);
	total_clusters = 3 + l1_clusters; /* header, refcount table, refcount block, L1 */
	if (total_clusters > cs * 8 / 16)
		return vk_error_set(err, EFBIG, "cannot create '%s': size too large", path);
	blen = total_clusters * cs;
	buf = calloc(1, blen);
	if (!buf)
		return vk_error_errno(err, ENOMEM, "cannot create '%s'", path);

	/* The header (v3, 104 bytes). */
	put32(buf + QH_MAGIC, QCOW2_MAGIC);
	put32(buf + QH_VERSION, 3);
	put32(buf + QH_CLUSTER_BITS, bits);
	put64(buf + QH_SIZE, size);
	put32(buf + QH_L1_SIZE, (uint32_t)l1_entries);
	put64(buf + QH_L1_OFFSET, 3 * cs);
	put64(buf + QH_RC_TABLE_OFFSET, cs);
	put32(buf + QH_RC_TABLE_CLUSTERS, 1);
	put32(buf + QH_REFCOUNT_ORDER, 4);
	put32(buf + QH_HEADER_LENGTH, QH_V3_LENGTH);
	/* Extensions: the backing file's format, then the end marker; the name after them. */
	ext_end = QH_V3_LENGTH;
	if (backing) {
		const char *fmt = block_format_name(backing_format);
		size_t flen = strlen(fmt);
		put32(buf + ext_end, QCOW2_EXT_BACKING_FORMAT);
		put32(buf + ext_end + 4, (uint32_t)flen);
		memcpy(buf + ext_end + 8, fmt, flen);
		ext_end += 8 + ((flen + 7) & ~(size_t)7);
	}
	put32(buf + ext_end, QCOW2_EXT_END);
	put32(buf + ext_end + 4, 0);
	ext_end += 8;
	if (backing) {
		size_t blen_name = strlen(backing);
		put64(buf + QH_BACKING_OFFSET, ext_end);
		put32(buf + QH_BACKING_SIZE, (uint32_t)blen_name);
		memcpy(buf + ext_end, backing, blen_name);
	}
	/* The refcount table points at the block in cluster 2, which counts the clusters so far. */
	put64(buf + cs, 2 * cs);
	for (uint64_t c = 0; c < total_clusters; c++) {
		uint8_t *e = buf + 2 * cs + 2 * c;
		e[0] = 0;
		e[1] = 1;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = vk_error_errno(err, errno, "cannot create '%s'", path);
		goto out;
	}
	for (size_t done = 0; done < blen;) {
		ssize_t n = pwrite(fd, buf + done, blen - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = vk_error_errno(err, n < 0 ? errno : EIO, "cannot write '%s'", path);
			break;
		}
		done += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = vk_error_errno(err, errno, "cannot write '%s'", path);
	close(fd);
	if (r < 0)
		unlink(path);
out:
	free(buf);
	return r;
}
