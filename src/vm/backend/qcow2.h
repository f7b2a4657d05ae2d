/* SPDX-License-Identifier: MIT */
/*
 * Private to the qcow2 block format (qcow2.c, qcow2-io.c, qcow2-create.c):
 * the in-memory state of an open image and the functions its files share.
 * The format is QEMU's docs/interop/qcow2.txt, versions 2 and 3; this is our
 * own implementation of it.
 *
 * Supported: reads and writes with cluster allocation and eager refcounts
 * (refcount widths 1 to 64 bits), zero clusters (v3), discard and
 * write-zeroes, backing files (raw or qcow2, chains up to QCOW2_MAX_CHAIN),
 * compressed clusters (zlib; read, and rewritten as standard clusters when
 * written). Refused with a sentence: encryption, internal snapshots, external
 * data files, extended L2 entries, zstd compression, unknown incompatible
 * features, a corrupt image, and writes to an image left dirty by lazy
 * refcounts.
 *
 * Crash consistency (a kill of the process at any point): every metadata
 * change is written through at once, in the order refcount, then data, then
 * L2 entry, then L1 entry, so an interrupted allocation leaks a cluster
 * (qemu-img check reports "leaked clusters", harmless) and never leaves a
 * table pointing at a cluster whose refcount is 0.
 *
 * Threads: every operation takes q->lock; the block layer runs them on its
 * worker threads, one image at a time (block-aio.c).
 */
#ifndef VK_VM_BACKEND_QCOW2_H
#define VK_VM_BACKEND_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/backend/block.h"

#define QCOW2_MAGIC              0x514649fbu /* "QFI\xfb" */
#define QCOW2_MAX_CHAIN          32          /* backing files below an image */
#define QCOW2_MAX_L1_BYTES       (32u << 20)
#define QCOW2_MAX_RC_TABLE_BYTES (8u << 20)
#define QCOW2_L2_CACHE           32
#define QCOW2_RC_CACHE           8

/* Header fields (offsets in the file). */
#define QH_MAGIC                 0
#define QH_VERSION               4
#define QH_BACKING_OFFSET        8
#define QH_BACKING_SIZE          16
#define QH_CLUSTER_BITS          20
#define QH_SIZE                  24
#define QH_CRYPT                 32
#define QH_L1_SIZE               36
#define QH_L1_OFFSET             40
#define QH_RC_TABLE_OFFSET       48
#define QH_RC_TABLE_CLUSTERS     56
#define QH_NB_SNAPSHOTS          60
#define QH_SNAPSHOTS_OFFSET      64
#define QH_INCOMPATIBLE          72
#define QH_COMPATIBLE            80
#define QH_AUTOCLEAR             88
#define QH_REFCOUNT_ORDER        96
#define QH_HEADER_LENGTH         100
#define QH_V2_LENGTH             72
#define QH_V3_LENGTH             104

#define QCOW2_INCOMPAT_DIRTY     (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT   (1ull << 1)
#define QCOW2_INCOMPAT_KNOWN     (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT)

#define QCOW2_EXT_END            0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau

/* L1/L2 entries */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       1ull
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull /* bits 9..55 */

struct qcow2_l2_slot {
	uint64_t offset; /* of the table in the file; 0: empty slot */
	uint64_t *table; /* host byte order */
	uint64_t used;   /* LRU clock */
};

struct qcow2_rc_slot {
	uint64_t offset;
	uint8_t *block; /* as in the file (big-endian entries) */
	uint64_t used;
};

struct qcow2 {
	struct block_backend be;
	pthread_mutex_t lock;
	int fd;
	char *path;
	bool writable;

	unsigned version;
	unsigned cluster_bits;
	uint64_t cluster_size;
	unsigned refcount_order; /* refcount bits = 1 << order */
	uint64_t incompatible, compatible, autoclear;

	uint64_t *l1; /* host byte order */
	uint64_t l1_entries, l1_offset;
	uint64_t *rc_table;  /* host byte order */
	uint64_t rc_entries; /* of the table in memory */
	uint64_t rc_table_offset,
	        rc_disk_entries; /* the table in the file (smaller while growing) */

	struct qcow2_l2_slot l2[QCOW2_L2_CACHE];
	struct qcow2_rc_slot rc[QCOW2_RC_CACHE];
	uint64_t clock;

	uint64_t next_free; /* where the next cluster is allocated (the end of the file) */

	struct block_backend *backing; /* NULL: none */
	char *backing_name;            /* as recorded in the image */
	char *backing_format;          /* as recorded, or NULL */

	uint8_t *cbuf;        /* one cluster of scratch (compressed data, COW) */
	uint8_t *zbuf;        /* compressed input */
	uint64_t zcache_desc; /* the compressed cluster last decompressed into zcache */
	uint8_t *zcache;
	bool warned; /* a malformed entry was reported (once per image) */
};

static inline struct qcow2 *to_qcow2(struct block_backend *be)
{
	return (struct qcow2 *)(void *)be;
}

/* ---- qcow2.c: the file and its metadata ---- */

/* pread/pwrite of exactly len bytes at off: 0 or -errno (-EIO on a short read). */
int qcow2_pread(struct qcow2 *q, void *buf, uint64_t len, uint64_t off);
int qcow2_pwrite(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off);

/* The L2 table at offset (cached), or NULL with *r set. */
uint64_t *qcow2_l2_get(struct qcow2 *q, uint64_t offset, int *r);
/* Write entry i of the cached L2 table at offset through to the file. */
int qcow2_l2_set(struct qcow2 *q, uint64_t l2_offset, uint64_t *table, unsigned i, uint64_t v);
/* Write L1 entry i through. */
int qcow2_l1_set(struct qcow2 *q, uint64_t i, uint64_t v);

/* Refcount of the cluster holding byte offset, or -errno. */
int64_t qcow2_refcount(struct qcow2 *q, uint64_t offset);
/* Add delta to the refcount of the cluster holding offset (allocating refcount
 * blocks as needed); a refcount reaching 0 has its space given back. */
int qcow2_refcount_add(struct qcow2 *q, uint64_t offset, int64_t delta);
/* n contiguous new clusters with refcount 1, zeroed on disk: their offset, or -errno. */
int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t n);

void qcow2_close(struct block_backend *be);

/* The qcow2 parts of block_get_info(): cluster size, backing file, dirty flag. */
int qcow2_get_info(struct block_backend *be, struct block_info *out);
/* Grow the virtual size (a larger L1 table when it no longer covers it). */
int qcow2_grow(struct block_backend *be, uint64_t size);

/* ---- qcow2-io.c: guest I/O ---- */
extern const struct block_backend_ops qcow2_ops;

/* ---- qcow2-create.c ---- */
/* Default cluster size of images we create (like qemu-img's), and the range we make. */
#define QCOW2_DEFAULT_CLUSTER_BITS 16
#define QCOW2_CREATE_MIN_BITS      12
#define QCOW2_CREATE_MAX_BITS      21
/* block_qcow2_create() with a cluster size (QCOW2_CREATE_MIN_BITS..MAX_BITS). */
int qcow2_create(const char *path, uint64_t size, const char *backing,
                 enum block_format backing_format, unsigned cluster_bits, struct vk_error *err);

#endif
