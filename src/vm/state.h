/* SPDX-License-Identifier: MIT */
/*
 * The machine-state format, shared by both boards: what `save` writes, what
 * `run --restore` reads, and what live migration sends over a socket. One
 * stream of records after a fixed header:
 *
 *   header (64 bytes, little-endian)
 *     magic "VKSTATE\n", u32 format version, u32 header size (64),
 *     arch[16] and board[16] (NUL-padded), u64 config digest, u64 RAM bytes
 *   records, each
 *     u32 type, u32 version, u64 payload length, u8 name length, name,
 *     payload, u32 CRC-32 of everything from type to the payload's end
 *   types
 *     CONFIG  the machine's configuration as JSON (first; its FNV-1a 64 is
 *             the header's config digest)
 *     DEVICE  one registered device or CPU (registry.h), by instance name,
 *             with that device's own state version
 *     RAM     u64 guest-physical address, u32 pages, u32 flags, then the
 *             pages' bytes (none when flags say ZERO); a saved file holds
 *             only pages that are not zero, a migration sends a page again
 *             each time the guest dirtied it
 *     END     the stream is complete
 *
 * Trust: a state file or a migration peer is hostile input. Every length is
 * bounded before anything is allocated or read, names are checked, RAM
 * records must land entirely inside guest RAM, every record's CRC is
 * checked, and device payloads are read through struct vm_state_rd, whose
 * getters never read past the end (a short payload is an error at
 * vm_state_rd_finish()). Nothing here trusts a count it has not bounded.
 *
 * Payload encoding helpers: struct vm_state_buf (a growable buffer a device
 * fills with vm_state_put_*) and struct vm_state_rd (a cursor over a payload
 * with vm_state_get_*, sticky on error). Both little-endian.
 */
#ifndef VK_VM_STATE_H
#define VK_VM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "common/error.h"

struct vm_mem;

#define VM_STATE_MAGIC       "VKSTATE\n"
#define VM_STATE_VERSION     1
#define VM_STATE_HEADER_SIZE 64
#define VM_STATE_NAME_MAX    47          /* bytes of a record name */
#define VM_STATE_DEVICE_MAX  (16u << 20) /* bytes of one device's payload */
#define VM_STATE_CONFIG_MAX  (64u << 10) /* bytes of the configuration */
#define VM_STATE_PAGE        4096u
#define VM_STATE_RAM_BATCH   256u /* pages per RAM record at most */

enum vm_state_type {
	VM_STATE_CONFIG = 1,
	VM_STATE_DEVICE = 2,
	VM_STATE_RAM = 3,
	VM_STATE_END = 4,
};

#define VM_STATE_RAM_ZERO 1u /* RAM record flag: the pages are all zero, no bytes follow */

struct vm_state_header {
	uint32_t version;
	char arch[17], board[17];
	uint64_t config_digest;
	uint64_t ram_bytes;
};

/* ---- payload encoding ----------------------------------------------------- */

struct vm_state_buf {
	uint8_t *data;
	size_t len, cap;
	bool oom; /* an allocation failed: the buffer is incomplete */
};

void vm_state_buf_free(struct vm_state_buf *b);
void vm_state_put_bytes(struct vm_state_buf *b, const void *p, size_t n);
void vm_state_put_u8(struct vm_state_buf *b, uint8_t v);
void vm_state_put_u16(struct vm_state_buf *b, uint16_t v);
void vm_state_put_u32(struct vm_state_buf *b, uint32_t v);
void vm_state_put_u64(struct vm_state_buf *b, uint64_t v);
static inline void vm_state_put_bool(struct vm_state_buf *b, bool v)
{
	vm_state_put_u8(b, v ? 1 : 0);
}

struct vm_state_rd {
	const uint8_t *p;
	size_t len, off;
	bool bad; /* a getter ran past the end, or a bool was not 0/1 */
};

static inline void vm_state_rd_init(struct vm_state_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

/* Each getter returns 0 (false) once the payload is exhausted, and marks the reader bad. */
bool vm_state_get_bytes(struct vm_state_rd *r, void *dst, size_t n);
uint8_t vm_state_get_u8(struct vm_state_rd *r);
uint16_t vm_state_get_u16(struct vm_state_rd *r);
uint32_t vm_state_get_u32(struct vm_state_rd *r);
uint64_t vm_state_get_u64(struct vm_state_rd *r);
bool vm_state_get_bool(struct vm_state_rd *r);
/* Bytes left. */
static inline size_t vm_state_rd_left(const struct vm_state_rd *r)
{
	return r->len - r->off;
}

/*
 * Done with a payload: -EINVAL with "state of WHAT is truncated" when a getter
 * ran out, or "... has N bytes too many" when bytes are left over; else 0.
 */
int vm_state_rd_finish(const struct vm_state_rd *r, const char *what,
                       struct vk_error *err) VK_MUST_CHECK;

/* FNV-1a 64 of a configuration text (the header's digest). */
uint64_t vm_state_digest(const void *p, size_t len);

/* ---- the stream ------------------------------------------------------------- */

/* Writing to a file descriptor (a file or a socket), buffered. */
struct vm_state_out;

struct vm_state_out *vm_state_out_new(int fd);
/* Frees; the descriptor stays open. Unflushed bytes are lost. */
void vm_state_out_free(struct vm_state_out *o);
/* At most bytes_per_s on the descriptor from now on (0: no limit). */
void vm_state_out_set_rate(struct vm_state_out *o, uint64_t bytes_per_s);
/* Bytes handed to the descriptor so far (flushed or not). */
uint64_t vm_state_out_bytes(const struct vm_state_out *o);

int vm_state_write_header(struct vm_state_out *o, const char *arch, const char *board,
                          const char *config, size_t config_len, uint64_t ram_bytes,
                          struct vk_error *err) VK_MUST_CHECK;
int vm_state_write_record(struct vm_state_out *o, enum vm_state_type type, const char *name,
                          uint32_t version, const void *payload, size_t len,
                          struct vk_error *err) VK_MUST_CHECK;
/* One RAM record for npages (<= VM_STATE_RAM_BATCH) pages at gpa, read from host (may be
 * NULL with zero set). */
int vm_state_write_ram(struct vm_state_out *o, uint64_t gpa, const void *host, uint32_t npages,
                       bool zero, struct vk_error *err) VK_MUST_CHECK;
int vm_state_flush(struct vm_state_out *o, struct vk_error *err) VK_MUST_CHECK;

/* Reading, from a file descriptor, buffered. */
struct vm_state_in;

struct vm_state_in *vm_state_in_new(int fd);
void vm_state_in_free(struct vm_state_in *in);
uint64_t vm_state_in_bytes(const struct vm_state_in *in);

/*
 * The header, then the CONFIG record (required to come first): *config is a
 * NUL-terminated copy the caller frees. Refuses a wrong magic, another format
 * version, a digest that does not match the configuration.
 */
int vm_state_read_start(struct vm_state_in *in, struct vm_state_header *h, char **config,
                        struct vk_error *err) VK_MUST_CHECK;

/* One record after the configuration, as returned by vm_state_read_next(). */
struct vm_state_record {
	enum vm_state_type type;
	uint32_t version;
	char name[VM_STATE_NAME_MAX + 1];
	/* DEVICE: the payload (freed by the next call or vm_state_in_free); RAM: applied */
	uint8_t *payload;
	size_t len;
	uint64_t ram_gpa; /* RAM: what the record covered */
	uint32_t ram_pages;
};

/*
 * Read the next record. RAM records are written into mem (their range checked
 * against it) before the CRC is known: a restore that fails later must not run
 * the machine. DEVICE records come back with their payload; END ends the
 * stream. Anything malformed is -EINVAL (-EIO for a read error) with a
 * sentence naming the byte offset.
 */
int vm_state_read_next(struct vm_state_in *in, const struct vm_mem *mem,
                       struct vm_state_record *rec, struct vk_error *err) VK_MUST_CHECK;

#endif
