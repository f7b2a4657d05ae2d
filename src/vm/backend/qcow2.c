/* SPDX-License-Identifier: MIT */
/*
 * qcow2 images (qcow2.h): opening and checking the header, the L1 table,
 * the L2 and refcount-block caches, refcounts, and cluster allocation.
 *
 * Every field of an image is untrusted: sizes and offsets are checked before
 * they are used (alignment, table sizes, offsets inside 56 bits), tables are
 * bounded, and a metadata offset past the end of the file reads as -EIO, never
 * as memory. Allocation appends clusters at the end of the file; refcount
 * blocks and a larger refcount table are made as needed.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/backend/qcow2.h"

/* ---- file I/O ---------------------------------------------------------------- */

int qcow2_pread(struct qcow2 *q, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(q->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* past the end of the file: a truncated image */
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int qcow2_pwrite(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(q->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static int write_be64(struct qcow2 *q, uint64_t off, uint64_t v)
{
	uint64_t b = htobe64(v);

	return qcow2_pwrite(q, &b, 8, off);
}

/* ---- L2 tables --------------------------------------------------------------- */

uint64_t *qcow2_l2_get(struct qcow2 *q, uint64_t offset, int *r)
{
	struct qcow2_l2_slot *victim = &q->l2[0];
	uint64_t n = q->cluster_size / 8;

	for (unsigned i = 0; i < QCOW2_L2_CACHE; i++) {
		struct qcow2_l2_slot *s = &q->l2[i];
		if (s->offset == offset && s->table) {
			s->used = ++q->clock;
			return s->table;
		}
		if (!s->table || s->used < victim->used)
			victim = s;
	}
	if (!victim->table) {
		victim->table = malloc(q->cluster_size);
		if (!victim->table) {
			*r = -ENOMEM;
			return NULL;
		}
	}
	victim->offset = 0;
	*r = qcow2_pread(q, victim->table, q->cluster_size, offset);
	if (*r < 0)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		victim->table[i] = be64toh(victim->table[i]);
	victim->offset = offset;
	victim->used = ++q->clock;
	return victim->table;
}

int qcow2_l2_set(struct qcow2 *q, uint64_t l2_offset, uint64_t *table, unsigned i, uint64_t v)
{
	table[i] = v;
	return write_be64(q, l2_offset + 8ull * i, v);
}

int qcow2_l1_set(struct qcow2 *q, uint64_t i, uint64_t v)
{
	q->l1[i] = v;
	return write_be64(q, q->l1_offset + 8 * i, v);
}

/* ---- refcounts ---------------------------------------------------------------- */

static uint64_t rc_bits(const struct qcow2 *q)
{
	return 1ull << q->refcount_order;
}

/* Entries per refcount block. */
static uint64_t rc_per_block(const struct qcow2 *q)
{
	return q->cluster_size * 8 / rc_bits(q);
}

static uint64_t rc_entry_get(const struct qcow2 *q, const uint8_t *block, uint64_t i)
{
	unsigned bits = (unsigned)rc_bits(q);

	if (bits >= 8) {
		const uint8_t *p = block + i * (bits / 8);
		uint64_t v = 0;
		for (unsigned b = 0; b < bits / 8; b++)
			v = (v << 8) | p[b];
		return v;
	}
	/* sub-byte widths: bit 0 of an entry is the least significant bit of its value,
	 * entries fill each byte from its least significant bit up */
	return (block[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
}

static void rc_entry_set(const struct qcow2 *q, uint8_t *block, uint64_t i, uint64_t v)
{
	unsigned bits = (unsigned)rc_bits(q);

	if (bits >= 8) {
		uint8_t *p = block + i * (bits / 8);
		for (unsigned b = bits / 8; b-- > 0;) {
			p[b] = (uint8_t)v;
			v >>= 8;
		}
		return;
	}
	unsigned shift = (unsigned)(i * bits % 8), mask = ((1u << bits) - 1) << shift;
	uint8_t *p = &block[i * bits / 8];
	*p = (uint8_t)((*p & ~mask) | ((v << shift) & mask));
}

static uint8_t *rc_block_get(struct qcow2 *q, uint64_t offset, int *r)
{
	struct qcow2_rc_slot *victim = &q->rc[0];

	for (unsigned i = 0; i < QCOW2_RC_CACHE; i++) {
		struct qcow2_rc_slot *s = &q->rc[i];
		if (s->offset == offset && s->block) {
			s->used = ++q->clock;
			return s->block;
		}
		if (!s->block || s->used < victim->used)
			victim = s;
	}
	if (!victim->block) {
		victim->block = malloc(q->cluster_size);
		if (!victim->block) {
			*r = -ENOMEM;
			return NULL;
		}
	}
	victim->offset = 0;
	*r = qcow2_pread(q, victim->block, q->cluster_size, offset);
	if (*r < 0)
		return NULL;
	victim->offset = offset;
	victim->used = ++q->clock;
	return victim->block;
}

/* Forget a cached refcount block that is about to be written whole (a new one). */
static void rc_block_put(struct qcow2 *q, uint64_t offset, const uint8_t *data)
{
	for (unsigned i = 0; i < QCOW2_RC_CACHE; i++) {
		if (q->rc[i].offset == offset && q->rc[i].block)
			memcpy(q->rc[i].block, data, q->cluster_size);
	}
}

int64_t qcow2_refcount(struct qcow2 *q, uint64_t offset)
{
	uint64_t cluster = offset >> q->cluster_bits, per = rc_per_block(q);
	uint64_t ti = cluster / per, block;
	uint8_t *b;
	int r;

	if (ti >= q->rc_entries)
		return 0;
	block = q->rc_table[ti] & QCOW2_OFFSET_MASK;
	if (!block)
		return 0;
	b = rc_block_get(q, block, &r);
	if (!b)
		return r;
	return (int64_t)rc_entry_get(q, b, cluster % per);
}

static int grow_rc_table(struct qcow2 *q, uint64_t need_entries);

/*
 * Make sure a refcount block covers cluster index `cluster`: allocate one at
 * the end of the file (covering itself when it lands in its own range).
 */
static int rc_cover(struct qcow2 *q, uint64_t cluster)
{
	uint64_t per = rc_per_block(q), ti = cluster / per;
	uint8_t *fresh;
	uint64_t at;
	int r;

	if (ti >= q->rc_entries) {
		r = grow_rc_table(q, ti + 1);
		if (r < 0)
			return r;
	}
	if (q->rc_table[ti] & QCOW2_OFFSET_MASK)
		return 0;
	/* The new block goes at the end; if it falls outside range ti it needs a block of
	 * its own first (which then lies inside its own range or is covered already). */
	at = q->next_free;
	if ((at >> q->cluster_bits) / per != ti) {
		r = rc_cover(q, at >> q->cluster_bits);
		if (r < 0)
			return r;
		at = q->next_free;
	}
	fresh = calloc(1, q->cluster_size);
	if (!fresh)
		return -ENOMEM;
	if ((at >> q->cluster_bits) / per == ti)
		rc_entry_set(q, fresh, (at >> q->cluster_bits) % per, 1);
	r = qcow2_pwrite(q, fresh, q->cluster_size, at);
	if (r == 0) {
		q->next_free = at + q->cluster_size;
		rc_block_put(q, at, fresh);
		q->rc_table[ti] = at;
		/* Into the file's table when it has this entry; a table being grown gets it
		 * with the rest when it is written. */
		if (ti < q->rc_disk_entries)
			r = write_be64(q, q->rc_table_offset + 8 * ti, at);
	}
	free(fresh);
	if (r < 0)
		return r;
	if ((at >> q->cluster_bits) / per != ti)
		return qcow2_refcount_add(q, at, 1); /* covered by an earlier block */
	return 0;
}

/*
 * A larger refcount table, at the end of the file: the new table is written
 * and covered by refcount blocks before the header points at it, then the old
 * table's clusters are freed. A kill in between leaks the new table.
 */
static int grow_rc_table(struct qcow2 *q, uint64_t need_entries)
{
	uint64_t entries = VK_MAX(need_entries + 1, q->rc_entries * 2);
	uint64_t clusters = (entries * 8 + q->cluster_size - 1) >> q->cluster_bits;
	uint64_t bytes = clusters << q->cluster_bits, at = q->next_free, old = q->rc_table_offset;
	uint64_t old_clusters = (q->rc_disk_entries * 8) >> q->cluster_bits;
	uint64_t *table, *disk;
	int r;

	if (bytes > QCOW2_MAX_RC_TABLE_BYTES)
		return -EFBIG;
	table = calloc(1, bytes);
	disk = calloc(1, bytes);
	if (!table || !disk) {
		free(table);
		free(disk);
		return -ENOMEM;
	}
	memcpy(table, q->rc_table, q->rc_entries * 8);
	free(q->rc_table);
	q->rc_table = table;
	q->rc_entries = bytes / 8;
	q->next_free = at + bytes;
	/* The new table's clusters need refcounts; the blocks for them land in the table
	 * in memory (and in the old one on disk, which is harmless: it is freed below). */
	for (uint64_t c = 0; c < clusters; c++) {
		r = qcow2_refcount_add(q, at + (c << q->cluster_bits), 1);
		if (r < 0)
			goto out;
	}
	for (uint64_t i = 0; i < q->rc_entries; i++)
		disk[i] = htobe64(q->rc_table[i]);
	r = qcow2_pwrite(q, disk, bytes, at);
	if (r < 0)
		goto out;
	{
		uint8_t hdr[12];
		uint64_t o = htobe64(at);
		uint32_t n = htobe32((uint32_t)clusters);
		memcpy(hdr, &o, 8);
		memcpy(hdr + 8, &n, 4);
		r = fdatasync(q->fd) < 0 ? -errno : 0; /* the table is on disk before the header */
		if (r == 0)
			r = qcow2_pwrite(q, hdr, 12, QH_RC_TABLE_OFFSET);
	}
	if (r < 0)
		goto out;
	q->rc_table_offset = at;
	q->rc_disk_entries = q->rc_entries;
	for (uint64_t c = 0; c < old_clusters; c++) {
		r = qcow2_refcount_add(q, old + (c << q->cluster_bits), -1);
		if (r < 0)
			goto out;
	}
out:
	free(disk);
	return r;
}

int qcow2_refcount_add(struct qcow2 *q, uint64_t offset, int64_t delta)
{
	uint64_t cluster = offset >> q->cluster_bits, per = rc_per_block(q), ti, block, v;
	uint64_t max = rc_bits(q) == 64 ? UINT64_MAX : (1ull << rc_bits(q)) - 1;
	unsigned bits = (unsigned)rc_bits(q);
	uint8_t *b;
	int r;

	r = rc_cover(q, cluster);
	if (r < 0)
		return r;
	ti = cluster / per;
	block = q->rc_table[ti] & QCOW2_OFFSET_MASK;
	b = rc_block_get(q, block, &r);
	if (!b)
		return r;
	v = rc_entry_get(q, b, cluster % per);
	if ((delta < 0 && v < (uint64_t)-delta) || (delta > 0 && max - v < (uint64_t)delta)) {
		vk_warn("qcow2 image '%s': refcount of cluster at 0x%llx out of range "
		        "(%llu %+lld)",
		        q->path, (unsigned long long)offset, (unsigned long long)v,
		        (long long)delta);
		return -EIO;
	}
	v += (uint64_t)delta;
	rc_entry_set(q, b, cluster % per, v);
	/* The byte(s) holding the entry, written through. */
	{
		uint64_t first = (cluster % per) * bits / 8, len = bits >= 8 ? bits / 8 : 1;
		r = qcow2_pwrite(q, b + first, len, block + first);
	}
	if (r == 0 && v == 0) {
		/* Free: give the space back to the host file system (best effort). */
		(void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		                (off_t)(cluster << q->cluster_bits), (off_t)q->cluster_size);
	}
	return r;
}

int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t n)
{
	uint64_t at;
	int r;

	/* Refcount blocks first, so they are not placed inside the new range. */
	for (uint64_t c = 0; c < n; c++) {
		r = rc_cover(q, (q->next_free >> q->cluster_bits) + c + 1);
		if (r < 0)
			return r;
	}
	at = q->next_free;
	if (at + n * q->cluster_size > (1ull << 56))
		return -EFBIG;
	/* Zeroed on disk (a hole, or explicit zeros where holes do not work). */
	if (fallocate(q->fd, FALLOC_FL_ZERO_RANGE, (off_t)at, (off_t)(n * q->cluster_size)) < 0) {
		uint8_t *z = calloc(1, q->cluster_size);
		if (!z)
			return -ENOMEM;
		for (uint64_t c = 0; c < n; c++) {
			r = qcow2_pwrite(q, z, q->cluster_size, at + c * q->cluster_size);
			if (r < 0) {
				free(z);
				return r;
			}
		}
		free(z);
	}
	q->next_free = at + n * q->cluster_size;
	for (uint64_t c = 0; c < n; c++) {
		r = qcow2_refcount_add(q, at + c * q->cluster_size, 1);
		if (r < 0)
			return r;
	}
	return (int64_t)at;
}

/* ---- opening -------------------------------------------------------------------- */

static int fail(struct vk_error *err, const char *path, const char *why)
{
	return vk_error_set(err, EINVAL, "qcow2 image '%s': %s", path, why);
}

/* Header extensions: the backing file's format. */
static int read_extensions(struct qcow2 *q, const uint8_t *c, uint64_t start, uint64_t end,
                           struct vk_error *err)
{
	uint64_t at = start;

	while (at + 8 <= end) {
		uint32_t type = be32_at(c + at), len = be32_at(c + at + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - at - 8)
			return fail(err, q->path, "a header extension runs past the first cluster");
		if (type == QCOW2_EXT_BACKING_FORMAT) {
			if (len == 0 || len > 16)
				return fail(err, q->path, "bad backing format name");
			q->backing_format = strndup((const char *)c + at + 8, len);
			if (!q->backing_format)
				return vk_error_errno(err, ENOMEM, "qcow2 image '%s'", q->path);
		}
		at += 8 + ((len + 7ull) & ~7ull);
	}
	return 0;
}

static int open_backing(struct qcow2 *q, const struct block_open_opts *o, struct vk_error *err)
{
	struct block_open_opts bo = {.readonly = true,
	                             .no_lock = o->no_lock,
	                             .direct = o->direct,
	                             .depth = o->depth + 1,
	                             .child = q->path};
	char *path;

	if (o->depth + 1 > QCOW2_MAX_CHAIN)
		return vk_error_set(
		        err, ELOOP,
		        "qcow2 image '%s': backing chain longer than %d images (a loop?)", q->path,
		        QCOW2_MAX_CHAIN);
	path = block_backing_path(q->path, q->backing_name);
	if (!path)
		return vk_error_errno(err, ENOMEM, "qcow2 image '%s'", q->path);
	if (q->backing_format) {
		if (block_format_parse(q->backing_format, &bo.format) < 0) {
			vk_error_set(err, ENOTSUP,
			             "qcow2 image '%s': backing file '%s' has format '%s' (raw and "
			             "qcow2 are supported)",
			             q->path, path, q->backing_format);
			free(path);
			return -ENOTSUP;
		}
	} else {
		/* No recorded format: raw, unless the file looks like qcow2, which we will not
		 * guess (a raw base a guest once wrote a qcow2 header into). */
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		bool looks_qcow2 = fd >= 0 && block_has_qcow2_magic(fd);
		if (fd >= 0)
			close(fd);
		if (looks_qcow2) {
			vk_error_set(
			        err, EINVAL,
			        "qcow2 image '%s': its backing file '%s' has no recorded format "
			        "and starts with a qcow2 header; record it (qemu-img rebase -u "
			        "-F qcow2 -b ...) if it is one",
			        q->path, path);
			free(path);
			return -EINVAL;
		}
		bo.format = BLOCK_FORMAT_RAW;
	}
	/* A base image is shared by its overlays: read-only, a shared lock. */
	q->backing = block_open(path, &bo, err);
	free(path);
	return q->backing ? 0 : -EINVAL;
}

static int parse_header(struct qcow2 *q, const uint8_t *c, uint64_t file_size,
                        const struct block_open_opts *o, struct vk_error *err)
{
	uint64_t hlen, size, l1_bytes, rc_clusters, backing_off;
	uint32_t backing_len, crypt, nb_snapshots;

	if (be32_at(c + QH_MAGIC) != QCOW2_MAGIC)
		return fail(err, q->path, "no qcow2 header (magic QFI\\xfb)");
	q->version = be32_at(c + QH_VERSION);
	if (q->version != 2 && q->version != 3)
		return vk_error_set(err, ENOTSUP,
		                    "qcow2 image '%s': version %u (2 and 3 are supported)", q->path,
		                    q->version);
	q->cluster_bits = be32_at(c + QH_CLUSTER_BITS);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return fail(err, q->path, "cluster size out of range (512 bytes to 2 MiB)");
	q->cluster_size = 1ull << q->cluster_bits;
	size = be64_at(c + QH_SIZE);
	crypt = be32_at(c + QH_CRYPT);
	if (crypt)
		return vk_error_set(err, ENOTSUP, "qcow2 image '%s' is encrypted (not supported)",
		                    q->path);
	nb_snapshots = be32_at(c + QH_NB_SNAPSHOTS);
	if (nb_snapshots)
		return vk_error_set(err, ENOTSUP,
		                    "qcow2 image '%s' has %u internal snapshot(s) (not supported; "
		                    "qemu-img snapshot -d removes them)",
		                    q->path, nb_snapshots);
	hlen = QH_V2_LENGTH;
	q->refcount_order = 4;
	if (q->version == 3) {
		hlen = be32_at(c + QH_HEADER_LENGTH);
		if (hlen < QH_V3_LENGTH || hlen % 8 || hlen > q->cluster_size)
			return fail(err, q->path, "bad header length");
		q->incompatible = be64_at(c + QH_INCOMPATIBLE);
		q->compatible = be64_at(c + QH_COMPATIBLE);
		q->autoclear = be64_at(c + QH_AUTOCLEAR);
		q->refcount_order = be32_at(c + QH_REFCOUNT_ORDER);
		if (q->refcount_order > 6)
			return fail(err, q->path, "refcount width above 64 bits");
		if (q->incompatible & ~QCOW2_INCOMPAT_KNOWN)
			return vk_error_set(
			        err, ENOTSUP,
			        "qcow2 image '%s' uses features we do not support (incompatible "
			        "feature bits 0x%llx: external data file, zstd compression or "
			        "extended L2 entries)",
			        q->path,
			        (unsigned long long)(q->incompatible & ~QCOW2_INCOMPAT_KNOWN));
		if ((q->incompatible & QCOW2_INCOMPAT_CORRUPT) && !o->readonly)
			return fail(err, q->path,
			            "marked corrupt; repair it (qemu-img check -r all) or open it "
			            "read-only");
		if ((q->incompatible & QCOW2_INCOMPAT_DIRTY) && !o->readonly)
			return fail(err, q->path,
			            "was not closed cleanly with lazy refcounts; repair it "
			            "(qemu-img check -r all) or open it read-only");
	}
	if (size % 512)
		return fail(err, q->path, "virtual size is not a multiple of 512 bytes");
	if (size > (1ull << 60))
		return fail(err, q->path, "virtual size too large");
	q->be.size = size;

	q->l1_entries = be32_at(c + QH_L1_SIZE);
	q->l1_offset = be64_at(c + QH_L1_OFFSET);
	l1_bytes = q->l1_entries * 8;
	if (l1_bytes > QCOW2_MAX_L1_BYTES)
		return fail(err, q->path, "L1 table too large");
	{
		uint64_t per_l2 = q->cluster_size / 8 * q->cluster_size;
		if (q->l1_entries < (size + per_l2 - 1) / per_l2)
			return fail(err, q->path, "L1 table too small for the virtual size");
	}
	if (q->l1_offset % q->cluster_size || q->l1_offset + l1_bytes > file_size ||
	    q->l1_offset + l1_bytes < q->l1_offset)
		return fail(err, q->path, "L1 table offset out of the file");
	q->rc_table_offset = be64_at(c + QH_RC_TABLE_OFFSET);
	rc_clusters = be32_at(c + QH_RC_TABLE_CLUSTERS);
	if (rc_clusters == 0 || rc_clusters << q->cluster_bits > QCOW2_MAX_RC_TABLE_BYTES)
		return fail(err, q->path, "refcount table size out of range");
	q->rc_entries = q->rc_disk_entries = (rc_clusters << q->cluster_bits) / 8;
	if (q->rc_table_offset % q->cluster_size ||
	    q->rc_table_offset + q->rc_entries * 8 > file_size)
		return fail(err, q->path, "refcount table offset out of the file");

	backing_off = be64_at(c + QH_BACKING_OFFSET);
	backing_len = be32_at(c + QH_BACKING_SIZE);
	if (backing_off) {
		if (backing_len == 0 || backing_len > 1023 || backing_off >= q->cluster_size ||
		    backing_len > q->cluster_size - backing_off)
			return fail(err, q->path, "bad backing file name");
		q->backing_name = strndup((const char *)c + backing_off, backing_len);
		if (!q->backing_name || strlen(q->backing_name) != backing_len)
			return fail(err, q->path, "bad backing file name");
	}
	return read_extensions(q, c, hlen, backing_off ? backing_off : q->cluster_size, err);
}

static int load_tables(struct qcow2 *q, struct vk_error *err)
{
	int r;

	q->l1 = calloc(q->l1_entries ? q->l1_entries : 1, 8);
	q->rc_table = calloc(q->rc_entries, 8);
	if (!q->l1 || !q->rc_table)
		return vk_error_errno(err, ENOMEM, "qcow2 image '%s'", q->path);
	r = qcow2_pread(q, q->l1, q->l1_entries * 8, q->l1_offset);
	if (r == 0)
		r = qcow2_pread(q, q->rc_table, q->rc_entries * 8, q->rc_table_offset);
	if (r < 0)
		return vk_error_errno(err, -r, "cannot read the tables of qcow2 image '%s'",
		                      q->path);
	for (uint64_t i = 0; i < q->l1_entries; i++) {
		q->l1[i] = be64toh(q->l1[i]);
		if ((q->l1[i] & QCOW2_OFFSET_MASK) % q->cluster_size)
			return fail(err, q->path, "an L2 table is not cluster-aligned");
	}
	for (uint64_t i = 0; i < q->rc_entries; i++) {
		q->rc_table[i] = be64toh(q->rc_table[i]);
		if ((q->rc_table[i] & QCOW2_OFFSET_MASK) % q->cluster_size)
			return fail(err, q->path, "a refcount block is not cluster-aligned");
	}
	return 0;
}

static void qcow2_free(struct qcow2 *q)
{
	if (!q)
		return;
	block_close(q->backing);
	for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
		free(q->l2[i].table);
	for (unsigned i = 0; i < QCOW2_RC_CACHE; i++)
		free(q->rc[i].block);
	free(q->l1);
	free(q->rc_table);
	free(q->cbuf);
	free(q->zbuf);
	free(q->zcache);
	free(q->backing_name);
	free(q->backing_format);
	free(q->path);
	if (q->fd >= 0)
		close(q->fd);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void qcow2_close(struct block_backend *be)
{
	struct qcow2 *q = to_qcow2(be);

	if (q->writable)
		(void)fdatasync(q->fd);
	qcow2_free(q);
}

struct block_backend *block_qcow2_open_fd(int fd, const char *path, const struct block_open_opts *o,
                                          struct vk_error *err)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	uint8_t head[4096];
	uint8_t *c = NULL;
	struct stat st;
	int r;

	if (!q) {
		close(fd);
		vk_error_errno(err, ENOMEM, "qcow2 image '%s'", path);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	q->fd = fd;
	q->be.direct_fd = -1;
	q->path = strdup(path);
	q->writable = !o->readonly;
	q->be.ops = &qcow2_ops;
	q->be.readonly = o->readonly;
	if (!q->path || fstat(fd, &st) < 0) {
		vk_error_errno(err, errno ? errno : ENOMEM, "qcow2 image '%s'", path);
		goto fail;
	}
	q->be.path = q->path;
	/* The cluster size first (bytes 20..23), then the whole first cluster. */
	r = qcow2_pread(q, head, VK_MIN((uint64_t)st.st_size, sizeof(head)), 0);
	if (r < 0 || st.st_size < QH_V2_LENGTH) {
		fail(err, path, "truncated header");
		goto fail;
	}
	{
		uint32_t bits = be32_at(head + QH_CLUSTER_BITS);
		uint64_t cs = bits >= 9 && bits <= 21 ? 1ull << bits : 4096;
		c = calloc(1, cs);
		if (!c || qcow2_pread(q, c, VK_MIN((uint64_t)st.st_size, cs), 0) < 0) {
			vk_error_errno(err, ENOMEM, "qcow2 image '%s'", path);
			goto fail;
		}
	}
	if (parse_header(q, c, (uint64_t)st.st_size, o, err) < 0 || load_tables(q, err) < 0)
		goto fail;
	free(c);
	c = NULL;
	q->next_free = ((uint64_t)st.st_size + q->cluster_size - 1) & ~(q->cluster_size - 1);
	q->cbuf = malloc(q->cluster_size);
	q->zbuf = malloc(2 * q->cluster_size);
	q->zcache = malloc(q->cluster_size);
	if (!q->cbuf || !q->zbuf || !q->zcache) {
		vk_error_errno(err, ENOMEM, "qcow2 image '%s'", path);
		goto fail;
	}
	if (q->backing_name && open_backing(q, o, err) < 0)
		goto fail;
	if (q->writable && q->autoclear) {
		/* We keep none of the auto-clear features (bitmaps): clear them before writing. */
		uint64_t z = 0;
		if (qcow2_pwrite(q, &z, 8, QH_AUTOCLEAR) < 0) {
			vk_error_errno(err, errno, "cannot write qcow2 image '%s'", path);
			goto fail;
		}
		q->autoclear = 0;
	}
	return &q->be;
fail:
	free(c);
	qcow2_free(q);
	return NULL;
}

/* ---- image tools ------------------------------------------------------------------ */

int qcow2_get_info(struct block_backend *be, struct block_info *out)
{
	struct qcow2 *q = to_qcow2(be);

	out->cluster_size = q->cluster_size;
	out->dirty = (q->incompatible & QCOW2_INCOMPAT_DIRTY) != 0;
	out->backing_format = BLOCK_FORMAT_AUTO;
	if (q->backing_format && block_format_parse(q->backing_format, &out->backing_format) < 0)
		out->backing_format = BLOCK_FORMAT_AUTO;
	if (q->backing_name) {
		out->backing = strdup(q->backing_name);
		out->backing_full = block_backing_path(q->path, q->backing_name);
		if (!out->backing || !out->backing_full)
			return -ENOMEM;
	}
	return 0;
}

/* A new L1 table of entries entries (the old ones copied, the rest zero) in new
 * clusters; the header points at it, then the old table's clusters are freed. */
static int grow_l1(struct qcow2 *q, uint64_t entries, uint64_t size)
{
	uint64_t bytes = entries * 8, clusters = (bytes + q->cluster_size - 1) >> q->cluster_bits;
	uint64_t old_clusters = (q->l1_entries * 8 + q->cluster_size - 1) >> q->cluster_bits;
	uint64_t old = q->l1_offset, *disk = NULL, *mem;
	uint8_t hdr[QH_L1_OFFSET + 8 - QH_SIZE];
	int64_t at;
	int r;

	if (bytes > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	mem = realloc(q->l1, bytes);
	if (!mem)
		return -ENOMEM;
	q->l1 = mem;
	memset(mem + q->l1_entries, 0, (entries - q->l1_entries) * 8);
	disk = calloc(clusters, q->cluster_size);
	if (!disk)
		return -ENOMEM;
	for (uint64_t i = 0; i < entries; i++)
		disk[i] = htobe64(mem[i]);
	at = qcow2_alloc_clusters(q, clusters);
	r = at < 0 ? (int)at : qcow2_pwrite(q, disk, clusters << q->cluster_bits, (uint64_t)at);
	free(disk);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	/* size, crypt method (0), L1 size and L1 offset: one write. */
	memset(hdr, 0, sizeof(hdr));
	{
		uint64_t s = htobe64(size), o = htobe64((uint64_t)at);
		uint32_t n = htobe32((uint32_t)entries);
		memcpy(hdr, &s, 8);
		memcpy(hdr + QH_L1_SIZE - QH_SIZE, &n, 4);
		memcpy(hdr + QH_L1_OFFSET - QH_SIZE, &o, 8);
	}
	r = qcow2_pwrite(q, hdr, sizeof(hdr), QH_SIZE);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	q->l1_entries = entries;
	q->l1_offset = (uint64_t)at;
	/* The old table is garbage now (a crash before this leaks it, no more). */
	for (uint64_t c = 0; c < old_clusters && old; c++) {
		r = qcow2_refcount_add(q, old + (c << q->cluster_bits), -1);
		if (r < 0)
			return r;
	}
	return 0;
}

int qcow2_grow(struct block_backend *be, uint64_t size)
{
	struct qcow2 *q = to_qcow2(be);
	uint64_t per_l2 = q->cluster_size / 8 * q->cluster_size;
	uint64_t need = (size + per_l2 - 1) / per_l2;
	int r;

	if (size > (1ull << 60))
		return -EFBIG;
	pthread_mutex_lock(&q->lock);
	if (need > q->l1_entries) {
		r = grow_l1(q, need, size);
	} else {
		r = write_be64(q, QH_SIZE, size);
		if (r == 0 && fdatasync(q->fd) < 0)
			r = -errno;
	}
	if (r == 0)
		q->be.size = size;
	pthread_mutex_unlock(&q->lock);
	return r;
}
