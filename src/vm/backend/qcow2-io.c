/* SPDX-License-Identifier: MIT */
/*
 * Guest I/O on qcow2 images (qcow2.h): reads through unallocated, zero,
 * standard and compressed clusters and the backing chain; writes in place
 * where a cluster is ours alone, else into a new cluster (copy on write of
 * what it held: backing data, zeros or decompressed data); discard and
 * write-zeroes by whole clusters. One operation at a time (q->lock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/backend/qcow2.h"

enum cl_kind { CL_UNALLOC, CL_ZERO, CL_NORMAL, CL_COMPRESSED };

struct mapping {
	enum cl_kind kind;
	uint64_t entry;     /* the L2 entry */
	uint64_t host;      /* CL_NORMAL (and CL_ZERO with a preallocated cluster): its offset */
	uint64_t l2_offset; /* 0: no L2 table */
	uint64_t *l2;
	unsigned l2_index;
};

#define MAX_SLICE 64

/* ---- iovec slices ------------------------------------------------------------ */

/* out[] = the part [pos, pos + len) of iov[]; the number of entries, or 0 if it does not fit. */
static unsigned slice(const struct iovec *iov, unsigned n, uint64_t pos, uint64_t len,
                      struct iovec *out)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (pos >= iov[i].iov_len) {
			pos -= iov[i].iov_len;
			continue;
		}
		if (k == MAX_SLICE)
			return 0;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + pos;
		out[k].iov_len = VK_MIN(iov[i].iov_len - pos, len);
		len -= out[k].iov_len;
		pos = 0;
		k++;
	}
	return k;
}

static void zero_range(const struct iovec *iov, unsigned n, uint64_t pos, uint64_t len)
{
	static const uint8_t zeros[4096];

	while (len) {
		size_t c = VK_MIN(len, sizeof(zeros));
		vk_iov_from_buf(iov, n, pos, zeros, c);
		pos += c;
		len -= c;
	}
}

/* Guest data goes through the O_DIRECT descriptor when it suits (cache=none); a
 * file system that wants more alignment gets it through the page cache instead. */
static int file_preadv(struct qcow2 *q, const struct iovec *v, unsigned k, uint64_t off,
                       uint64_t len)
{
	int fd = block_data_fd(&q->be, q->fd, v, k, off);

	while (len) {
		ssize_t got = preadv(fd, v, (int)k, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EINVAL && fd != q->fd) {
			fd = q->fd;
			continue;
		}
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		if ((uint64_t)got == len)
			return 0;
		/* A short read: finish through a bounce, it is rare. */
		{
			uint64_t left = len - (uint64_t)got;
			uint8_t *b = malloc(left);
			int r;
			if (!b)
				return -ENOMEM;
			r = qcow2_pread(q, b, left, off + (uint64_t)got);
			if (r == 0)
				vk_iov_from_buf(v, k, (size_t)got, b, left);
			free(b);
			return r;
		}
	}
	return 0;
}

static int file_pwritev(struct qcow2 *q, const struct iovec *v, unsigned k, uint64_t off,
                        uint64_t len)
{
	int fd = block_data_fd(&q->be, q->fd, v, k, off);
	ssize_t put;

	do {
		put = pwritev(fd, v, (int)k, (off_t)off);
		if (put < 0 && errno == EINVAL && fd != q->fd) {
			fd = q->fd;
			put = -1;
			errno = EINTR;
		}
	} while (put < 0 && errno == EINTR);
	if (put < 0)
		return -errno;
	if ((uint64_t)put == len)
		return 0;
	{
		uint8_t *b = malloc(len);
		int r;
		if (!b)
			return -ENOMEM;
		vk_iov_to_buf(v, k, 0, b, len);
		r = qcow2_pwrite(q, b + put, len - (uint64_t)put, off + (uint64_t)put);
		free(b);
		return r;
	}
}

/* ---- mapping ----------------------------------------------------------------- */

static int bad_entry(struct qcow2 *q, uint64_t voff, const char *what)
{
	vk_log_once(&q->warned, VK_LOG_WARN,
	            "qcow2 image '%s': %s at guest offset 0x%llx (qemu-img check may repair it)",
	            q->path, what, (unsigned long long)voff);
	return -EIO;
}

/* What holds the cluster of guest offset voff. */
static int map(struct qcow2 *q, uint64_t voff, struct mapping *m)
{
	uint64_t cl = voff >> q->cluster_bits, per = q->cluster_size / 8;
	uint64_t l1i = cl / per, l1e;
	int r = 0;

	memset(m, 0, sizeof(*m));
	if (l1i >= q->l1_entries)
		return bad_entry(q, voff, "no L1 entry");
	l1e = q->l1[l1i];
	m->l2_offset = l1e & QCOW2_OFFSET_MASK;
	if (!m->l2_offset) {
		m->kind = CL_UNALLOC;
		return 0;
	}
	m->l2 = qcow2_l2_get(q, m->l2_offset, &r);
	if (!m->l2)
		return r;
	m->l2_index = (unsigned)(cl % per);
	m->entry = m->l2[m->l2_index];
	if (m->entry & QCOW2_OFLAG_COMPRESSED) {
		m->kind = CL_COMPRESSED;
		return 0;
	}
	m->host = m->entry & QCOW2_OFFSET_MASK;
	if (m->host % q->cluster_size)
		return bad_entry(q, voff, "a cluster that is not aligned");
	if (q->version >= 3 && (m->entry & QCOW2_OFLAG_ZERO))
		m->kind = CL_ZERO;
	else
		m->kind = m->host ? CL_NORMAL : CL_UNALLOC;
	return 0;
}

/* ---- compressed clusters ---------------------------------------------------------- */

static void compressed_extent(const struct qcow2 *q, uint64_t desc, uint64_t *off, uint64_t *len)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t sectors = ((desc >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;

	*off = desc & ((1ull << x) - 1);
	*len = sectors * 512 - (*off & 511);
}

/* q->zcache = the decompressed cluster of L2 entry desc. */
static int decompress(struct qcow2 *q, uint64_t desc, uint64_t voff)
{
	uint64_t off, len, avail;
	z_stream zs = {0};
	off_t end;
	int ret;

	if (q->zcache_desc == desc)
		return 0;
	compressed_extent(q, desc & ~(QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_COPIED), &off, &len);
	end = lseek(q->fd, 0, SEEK_END);
	if (end < 0 || off >= (uint64_t)end)
		return bad_entry(q, voff, "compressed data past the end of the file");
	avail = VK_MIN(len, (uint64_t)end - off);
	avail = VK_MIN(avail, 2 * q->cluster_size);
	ret = qcow2_pread(q, q->zbuf, avail, off);
	if (ret < 0)
		return ret;
	if (inflateInit2(&zs, -12) != Z_OK)
		return -ENOMEM;
	zs.next_in = q->zbuf;
	zs.avail_in = (uInt)avail;
	zs.next_out = q->zcache;
	zs.avail_out = (uInt)q->cluster_size;
	ret = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	/* Decompression stops once it produced a cluster: the input may go on. */
	if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR) || zs.avail_out != 0)
		return bad_entry(q, voff, "compressed data that does not inflate to a cluster");
	q->zcache_desc = desc;
	return 0;
}

/* Drop the references of a compressed cluster's data. */
static int free_compressed(struct qcow2 *q, uint64_t desc)
{
	uint64_t off, len;
	int r;

	compressed_extent(q, desc & ~(QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_COPIED), &off, &len);
	q->zcache_desc = 0;
	for (uint64_t c = off & ~(q->cluster_size - 1); c < off + len; c += q->cluster_size) {
		r = qcow2_refcount_add(q, c, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- reading ----------------------------------------------------------------------- */

/* [pos, pos + len) of the request from the backing chain (zeros past its end). */
static int read_backing(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t pos,
                        uint64_t voff, uint64_t len)
{
	struct iovec v[MAX_SLICE];
	uint64_t have = 0;
	unsigned k;

	if (q->backing && voff < q->backing->size) {
		have = VK_MIN(len, q->backing->size - voff);
		k = slice(iov, n, pos, have, v);
		if (k) {
			int r = block_readv(q->backing, v, k, voff);
			if (r < 0)
				return r;
		} else {
			uint8_t *b = malloc(have);
			int r;
			if (!b)
				return -ENOMEM;
			struct iovec bv = {.iov_base = b, .iov_len = have};
			r = block_readv(q->backing, &bv, 1, voff);
			if (r == 0)
				vk_iov_from_buf(iov, n, pos, b, have);
			free(b);
			if (r < 0)
				return r;
		}
	}
	if (have < len)
		zero_range(iov, n, pos + have, len - have);
	return 0;
}

static int read_locked(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t offset)
{
	uint64_t total = vk_iov_size(iov, n), pos = 0;

	while (pos < total) {
		uint64_t voff = offset + pos, in = voff & (q->cluster_size - 1);
		uint64_t len = VK_MIN(q->cluster_size - in, total - pos);
		struct mapping m;
		int r = map(q, voff, &m);

		if (r < 0)
			return r;
		switch (m.kind) {
		case CL_UNALLOC:
			r = read_backing(q, iov, n, pos, voff, len);
			break;
		case CL_ZERO:
			zero_range(iov, n, pos, len);
			break;
		case CL_COMPRESSED:
			r = decompress(q, m.entry, voff);
			if (r == 0)
				vk_iov_from_buf(iov, n, pos, q->zcache + in, len);
			break;
		case CL_NORMAL: {
			struct iovec v[MAX_SLICE];
			unsigned k = slice(iov, n, pos, len, v);
			if (k) {
				r = file_preadv(q, v, k, m.host + in, len);
			} else {
				r = qcow2_pread(q, q->cbuf, len, m.host + in);
				if (r == 0)
					vk_iov_from_buf(iov, n, pos, q->cbuf, len);
			}
			break;
		}
		}
		if (r < 0)
			return r;
		pos += len;
	}
	return 0;
}

static int qcow2_readv(struct block_backend *be, const struct iovec *iov, unsigned n,
                       uint64_t offset)
{
	struct qcow2 *q = to_qcow2(be);
	int r;

	pthread_mutex_lock(&q->lock);
	r = read_locked(q, iov, n, offset);
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* ---- writing ----------------------------------------------------------------------- */

/* The L2 table for guest offset voff, allocated if there is none. */
static int ensure_l2(struct qcow2 *q, uint64_t voff, struct mapping *m)
{
	uint64_t cl = voff >> q->cluster_bits, per = q->cluster_size / 8, l1i = cl / per;
	int64_t at;
	int r;

	if (m->l2)
		return 0;
	if (q->l1[l1i] & QCOW2_OFFSET_MASK) /* mapped but map() found no table: cannot be */
		return -EIO;
	at = qcow2_alloc_clusters(q, 1); /* refcount 1, zeroed on disk */
	if (at < 0)
		return (int)at;
	r = qcow2_l1_set(q, l1i, (uint64_t)at | QCOW2_OFLAG_COPIED);
	if (r < 0)
		return r;
	return map(q, voff, m);
}

/* The whole cluster as it reads now, into buf (for a copy on write). */
static int old_content(struct qcow2 *q, const struct mapping *m, uint64_t cl_voff, uint8_t *buf)
{
	struct iovec v = {.iov_base = buf, .iov_len = q->cluster_size};
	int r;

	switch (m->kind) {
	case CL_UNALLOC:
		return read_backing(q, &v, 1, 0, cl_voff, q->cluster_size);
	case CL_ZERO:
		memset(buf, 0, q->cluster_size);
		return 0;
	case CL_COMPRESSED:
		r = decompress(q, m->entry, cl_voff);
		if (r == 0)
			memcpy(buf, q->zcache, q->cluster_size);
		return r;
	default:
		return qcow2_pread(q, buf, q->cluster_size, m->host);
	}
}

/*
 * Write [pos, pos + len) of the request (or zeros when iov is NULL) into the
 * cluster at guest offset voff.
 */
static int write_cluster(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t pos,
                         uint64_t voff, uint64_t len)
{
	uint64_t in = voff & (q->cluster_size - 1), cl_voff = voff - in, host;
	struct mapping m;
	int64_t at;
	int r;

	r = map(q, voff, &m);
	if (r < 0)
		return r;
	if (m.kind == CL_NORMAL && (m.entry & QCOW2_OFLAG_COPIED)) {
		/* Ours alone: in place. */
		if (!iov) {
			memset(q->cbuf, 0, len);
			return qcow2_pwrite(q, q->cbuf, len, m.host + in);
		}
		struct iovec v[MAX_SLICE];
		unsigned k = slice(iov, n, pos, len, v);
		if (k)
			return file_pwritev(q, v, k, m.host + in, len);
		vk_iov_to_buf(iov, n, pos, q->cbuf, len);
		return qcow2_pwrite(q, q->cbuf, len, m.host + in);
	}
	r = ensure_l2(q, voff, &m);
	if (r < 0)
		return r;
	/* A new cluster holding what the old one read as, with the new bytes over it. */
	if (len < q->cluster_size) {
		r = old_content(q, &m, cl_voff, q->cbuf);
		if (r < 0)
			return r;
	}
	if (iov)
		vk_iov_to_buf(iov, n, pos, q->cbuf + in, len);
	else
		memset(q->cbuf + in, 0, len);
	if (m.kind == CL_ZERO && m.host) {
		/* A zero cluster with space already allocated to it: use that space. */
		host = m.host;
	} else {
		at = qcow2_alloc_clusters(q, 1);
		if (at < 0)
			return (int)at;
		host = (uint64_t)at;
	}
	r = qcow2_pwrite(q, q->cbuf, q->cluster_size, host);
	if (r < 0)
		return r;
	r = qcow2_l2_set(q, m.l2_offset, m.l2, m.l2_index, host | QCOW2_OFLAG_COPIED);
	if (r < 0)
		return r;
	/* What the old entry held is unreferenced now. */
	if (m.kind == CL_COMPRESSED)
		return free_compressed(q, m.entry);
	if (m.kind == CL_NORMAL)
		return qcow2_refcount_add(q, m.host, -1);
	return 0;
}

static int write_locked(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t offset,
                        uint64_t total)
{
	uint64_t pos = 0;

	while (pos < total) {
		uint64_t voff = offset + pos, in = voff & (q->cluster_size - 1);
		uint64_t len = VK_MIN(q->cluster_size - in, total - pos);
		int r = write_cluster(q, iov, n, pos, voff, len);
		if (r < 0)
			return r;
		pos += len;
	}
	return 0;
}

static int qcow2_writev(struct block_backend *be, const struct iovec *iov, unsigned n,
                        uint64_t offset)
{
	struct qcow2 *q = to_qcow2(be);
	int r;

	if (be->readonly)
		return -EROFS;
	pthread_mutex_lock(&q->lock);
	r = write_locked(q, iov, n, offset, vk_iov_size(iov, n));
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* ---- discard and zeroes ------------------------------------------------------------- */

/*
 * The whole cluster at voff reads as zeros (want_zero) or as anything
 * (discard) from now on, and its space is given back: a zero cluster (v3),
 * or unallocated when nothing shows through (no backing file).
 */
static int drop_cluster(struct qcow2 *q, uint64_t voff, bool want_zero)
{
	struct mapping m;
	uint64_t v;
	int r;

	r = map(q, voff, &m);
	if (r < 0)
		return r;
	if ((m.kind == CL_UNALLOC && !q->backing) || (m.kind == CL_ZERO && !m.host))
		return 0; /* reads as zeros already, and holds no space */
	if (q->version >= 3) {
		v = QCOW2_OFLAG_ZERO;
	} else if (!q->backing) {
		v = 0;
	} else {
		/* v2 over a backing file: only real zeros read as zeros; discard is advisory */
		return want_zero ? write_cluster(q, NULL, 0, 0, voff, q->cluster_size) : 0;
	}
	r = ensure_l2(q, voff, &m);
	if (r < 0)
		return r;
	r = qcow2_l2_set(q, m.l2_offset, m.l2, m.l2_index, v);
	if (r < 0)
		return r;
	if (m.kind == CL_COMPRESSED)
		return free_compressed(q, m.entry);
	if (m.host)
		return qcow2_refcount_add(q, m.host, -1);
	return 0;
}

static int range_op(struct block_backend *be, uint64_t offset, uint64_t len, bool want_zero)
{
	struct qcow2 *q = to_qcow2(be);
	uint64_t end = offset + len;
	int r = 0;

	pthread_mutex_lock(&q->lock);
	while (r == 0 && offset < end) {
		uint64_t in = offset & (q->cluster_size - 1);
		uint64_t chunk = VK_MIN(q->cluster_size - in, end - offset);
		if (in == 0 && chunk == q->cluster_size)
			r = drop_cluster(q, offset, want_zero);
		else if (want_zero)
			r = write_cluster(q, NULL, 0, 0, offset, chunk);
		offset += chunk;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

static int qcow2_discard(struct block_backend *be, uint64_t offset, uint64_t len)
{
	return range_op(be, offset, len, false);
}

static int qcow2_write_zeroes(struct block_backend *be, uint64_t offset, uint64_t len)
{
	return range_op(be, offset, len, true);
}

static int qcow2_flush(struct block_backend *be)
{
	struct qcow2 *q = to_qcow2(be);

	if (be->readonly)
		return 0;
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

const struct block_backend_ops qcow2_ops = {
        .readv = qcow2_readv,
        .writev = qcow2_writev,
        .flush = qcow2_flush,
        .discard = qcow2_discard,
        .write_zeroes = qcow2_write_zeroes,
        .close = qcow2_close,
};
