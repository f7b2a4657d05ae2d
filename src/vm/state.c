/* SPDX-License-Identifier: MIT */
/*
 * The machine-state format (state.h): payload buffers and cursors, and the
 * record stream on a file descriptor with its checks. The CRC is zlib's
 * CRC-32 (the library is already linked for qcow2).
 */
#include "vm/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/util.h"
#include "vm/mem.h"

#define STREAM_BUF (256u << 10)
/* type, version, length, name length */
#define RECORD_HEAD (4 + 4 + 8 + 1)

/* ---- payload buffers -------------------------------------------------------- */

void vm_state_buf_free(struct vm_state_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void vm_state_put_bytes(struct vm_state_buf *b, const void *p, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (n > VM_STATE_DEVICE_MAX || b->len + n > VM_STATE_DEVICE_MAX) {
		b->oom = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = VK_MAX(b->cap * 2, b->len + n);
		uint8_t *d = realloc(b->data, VK_MAX(cap, (size_t)256));
		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = VK_MAX(cap, (size_t)256);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_le(struct vm_state_buf *b, uint64_t v, unsigned n)
{
	uint8_t tmp[8];

	for (unsigned i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	vm_state_put_bytes(b, tmp, n);
}

void vm_state_put_u8(struct vm_state_buf *b, uint8_t v)
{
	put_le(b, v, 1);
}

void vm_state_put_u16(struct vm_state_buf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void vm_state_put_u32(struct vm_state_buf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void vm_state_put_u64(struct vm_state_buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

/* ---- payload cursors ---------------------------------------------------------- */

bool vm_state_get_bytes(struct vm_state_rd *r, void *dst, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return true;
}

static uint64_t get_le(struct vm_state_rd *r, unsigned n)
{
	uint8_t tmp[8];
	uint64_t v = 0;

	if (!vm_state_get_bytes(r, tmp, n))
		return 0;
	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | tmp[i];
	return v;
}

uint8_t vm_state_get_u8(struct vm_state_rd *r)
{
	return (uint8_t)get_le(r, 1);
}

uint16_t vm_state_get_u16(struct vm_state_rd *r)
{
	return (uint16_t)get_le(r, 2);
}

uint32_t vm_state_get_u32(struct vm_state_rd *r)
{
	return (uint32_t)get_le(r, 4);
}

uint64_t vm_state_get_u64(struct vm_state_rd *r)
{
	return get_le(r, 8);
}

bool vm_state_get_bool(struct vm_state_rd *r)
{
	uint8_t v = vm_state_get_u8(r);

	if (v > 1)
		r->bad = true;
	return v == 1;
}

int vm_state_rd_finish(const struct vm_state_rd *r, const char *what, struct vk_error *err)
{
	if (r->bad)
		return vk_error_set(err, EINVAL, "state of %s is truncated or malformed", what);
	if (r->off != r->len)
		return vk_error_set(err, EINVAL, "state of %s has %zu bytes too many", what,
		                    r->len - r->off);
	return 0;
}

uint64_t vm_state_digest(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- writing ------------------------------------------------------------------ */

struct vm_state_out {
	int fd;
	uint8_t *buf;
	size_t len;
	uint64_t total;   /* bytes handed over */
	uint64_t written; /* bytes on the descriptor */
	uint64_t rate;    /* bytes per second, 0: no limit */
	uint64_t rate_start_ns, rate_start_bytes;
	uint32_t crc;   /* of the record being written */
	bool is_socket; /* send(MSG_NOSIGNAL) instead of write() */
};

struct vm_state_out *vm_state_out_new(int fd)
{
	struct vm_state_out *o = calloc(1, sizeof(*o));
	struct stat st;

	if (!o)
		return NULL;
	o->buf = malloc(STREAM_BUF);
	if (!o->buf) {
		free(o);
		return NULL;
	}
	o->fd = fd;
	o->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	return o;
}

void vm_state_out_free(struct vm_state_out *o)
{
	if (!o)
		return;
	free(o->buf);
	free(o);
}

void vm_state_out_set_rate(struct vm_state_out *o, uint64_t bytes_per_s)
{
	o->rate = bytes_per_s;
	o->rate_start_ns = vk_now_ns();
	o->rate_start_bytes = o->written;
}

uint64_t vm_state_out_bytes(const struct vm_state_out *o)
{
	return o->total;
}

/* Sleep until sending the bytes written so far keeps to the rate limit. */
static void pace(struct vm_state_out *o)
{
	uint64_t due_ns, now = vk_now_ns();
	struct timespec ts;

	if (!o->rate)
		return;
	due_ns = o->rate_start_ns +
	         (uint64_t)((double)(o->written - o->rate_start_bytes) * 1e9 / (double)o->rate);
	if (due_ns <= now)
		return;
	ts.tv_sec = (time_t)((due_ns - now) / 1000000000ull);
	ts.tv_nsec = (long)((due_ns - now) % 1000000000ull);
	nanosleep(&ts, NULL);
}

static int out_drain(struct vm_state_out *o, struct vk_error *err)
{
	size_t off = 0;

	while (off < o->len) {
		/* A socket whose peer went away is an error here, never a SIGPIPE. */
		ssize_t n = o->is_socket ? send(o->fd, o->buf + off, o->len - off, MSG_NOSIGNAL)
		                         : write(o->fd, o->buf + off, o->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vk_error_errno(err, errno, "cannot write the machine state");
		}
		off += (size_t)n;
		o->written += (uint64_t)n;
	}
	o->len = 0;
	pace(o);
	return 0;
}

static int out_put(struct vm_state_out *o, const void *p, size_t n, struct vk_error *err)
{
	const uint8_t *s = p;

	o->total += n;
	while (n) {
		size_t k = VK_MIN(n, STREAM_BUF - o->len);
		int r;

		/* The CRC covers the copy: guest RAM may change under a live migration's
		 * pre-copy, and what is checked must be what is sent. */
		memcpy(o->buf + o->len, s, k);
		o->crc = (uint32_t)crc32(o->crc, o->buf + o->len, (uInt)k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == STREAM_BUF) {
			r = out_drain(o, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int vm_state_write_header(struct vm_state_out *o, const char *arch, const char *board,
                          const char *config, size_t config_len, uint64_t ram_bytes,
                          struct vk_error *err)
{
	uint8_t h[VM_STATE_HEADER_SIZE] = {0};
	int r;

	if (strlen(arch) > 16 || strlen(board) > 16 || config_len > VM_STATE_CONFIG_MAX)
		return vk_error_set(err, EINVAL, "machine state: name or configuration too long");
	memcpy(h, VM_STATE_MAGIC, 8);
	le(h + 8, VM_STATE_VERSION, 4);
	le(h + 12, VM_STATE_HEADER_SIZE, 4);
	memcpy(h + 16, arch, strlen(arch));
	memcpy(h + 32, board, strlen(board));
	le(h + 48, vm_state_digest(config, config_len), 8);
	le(h + 56, ram_bytes, 8);
	r = out_put(o, h, sizeof(h), err);
	if (r < 0)
		return r;
	return vm_state_write_record(o, VM_STATE_CONFIG, "config", 1, config, config_len, err);
}

/* The record's head (the CRC starts with it). */
static int record_head(struct vm_state_out *o, enum vm_state_type type, const char *name,
                       uint32_t version, uint64_t len, struct vk_error *err)
{
	uint8_t h[RECORD_HEAD];
	size_t nlen = strlen(name);
	int r;

	if (nlen == 0 || nlen > VM_STATE_NAME_MAX)
		return vk_error_set(err, EINVAL, "machine state: record name '%s' is invalid",
		                    name);
	le(h, type, 4);
	le(h + 4, version, 4);
	le(h + 8, len, 8);
	le(h + 16, nlen, 1);
	o->crc = (uint32_t)crc32(0, NULL, 0);
	r = out_put(o, h, sizeof(h), err);
	return r < 0 ? r : out_put(o, name, nlen, err);
}

static int record_tail(struct vm_state_out *o, struct vk_error *err)
{
	uint8_t t[4];

	le(t, o->crc, 4);
	return out_put(o, t, sizeof(t), err);
}

int vm_state_write_record(struct vm_state_out *o, enum vm_state_type type, const char *name,
                          uint32_t version, const void *payload, size_t len, struct vk_error *err)
{
	int r = record_head(o, type, name, version, len, err);

	if (r == 0 && len)
		r = out_put(o, payload, len, err);
	return r < 0 ? r : record_tail(o, err);
}

int vm_state_write_ram(struct vm_state_out *o, uint64_t gpa, const void *host, uint32_t npages,
                       bool zero, struct vk_error *err)
{
	uint8_t h[16];
	uint64_t len = sizeof(h) + (zero ? 0 : (uint64_t)npages * VM_STATE_PAGE);
	int r;

	if (npages == 0 || npages > VM_STATE_RAM_BATCH)
		return vk_error_set(err, EINVAL, "machine state: RAM record of %u pages", npages);
	le(h, gpa, 8);
	le(h + 8, npages, 4);
	le(h + 12, zero ? VM_STATE_RAM_ZERO : 0, 4);
	r = record_head(o, VM_STATE_RAM, "ram", 1, len, err);
	if (r == 0)
		r = out_put(o, h, sizeof(h), err);
	if (r == 0 && !zero)
		r = out_put(o, host, (size_t)npages * VM_STATE_PAGE, err);
	return r < 0 ? r : record_tail(o, err);
}

int vm_state_flush(struct vm_state_out *o, struct vk_error *err)
{
	return out_drain(o, err);
}

/* ---- reading ------------------------------------------------------------------ */

struct vm_state_in {
	int fd;
	uint8_t *buf;
	size_t pos, end;
	uint64_t offset; /* bytes consumed from the stream */
	uint32_t crc;
	uint8_t *payload; /* the last DEVICE record's */
};

struct vm_state_in *vm_state_in_new(int fd)
{
	struct vm_state_in *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->buf = malloc(STREAM_BUF);
	if (!in->buf) {
		free(in);
		return NULL;
	}
	in->fd = fd;
	return in;
}

void vm_state_in_free(struct vm_state_in *in)
{
	if (!in)
		return;
	free(in->payload);
	free(in->buf);
	free(in);
}

uint64_t vm_state_in_bytes(const struct vm_state_in *in)
{
	return in->offset;
}

/* Read exactly n bytes into dst (CRC updated); -EINVAL at the end of the stream. */
static int in_get(struct vm_state_in *in, void *dst, size_t n, struct vk_error *err)
{
	uint8_t *d = dst;
	uint64_t start = in->offset;

	while (n) {
		size_t k;

		if (in->pos == in->end) {
			ssize_t got = read(in->fd, in->buf, STREAM_BUF);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return vk_error_errno(err, errno,
				                      "cannot read the machine state at byte %llu",
				                      (unsigned long long)in->offset);
			}
			if (got == 0)
				return vk_error_set(
				        err, EINVAL,
				        "the machine state ends early: truncated at byte "
				        "%llu, inside a record that began before byte %llu",
				        (unsigned long long)in->offset,
				        (unsigned long long)start + 1);
			in->pos = 0;
			in->end = (size_t)got;
		}
		k = VK_MIN(n, in->end - in->pos);
		memcpy(d, in->buf + in->pos, k);
		in->crc = (uint32_t)crc32(in->crc, d, (uInt)k);
		in->pos += k;
		in->offset += k;
		d += k;
		n -= k;
	}
	return 0;
}

static uint64_t rdle(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

/* The record's head: type, version, length, name. */
static int read_head(struct vm_state_in *in, struct vm_state_record *rec, uint64_t *len,
                     struct vk_error *err)
{
	uint8_t h[RECORD_HEAD];
	uint64_t at = in->offset;
	unsigned nlen;
	int r;

	in->crc = (uint32_t)crc32(0, NULL, 0);
	r = in_get(in, h, sizeof(h), err);
	if (r < 0)
		return r;
	rec->type = (enum vm_state_type)rdle(h, 4);
	rec->version = (uint32_t)rdle(h + 4, 4);
	*len = rdle(h + 8, 8);
	nlen = h[16];
	if (rec->type < VM_STATE_CONFIG || rec->type > VM_STATE_END)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: unknown record type %u at byte "
		                    "%llu",
		                    (unsigned)rdle(h, 4), (unsigned long long)at);
	if (nlen == 0 || nlen > VM_STATE_NAME_MAX)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: record name of %u bytes at byte "
		                    "%llu",
		                    nlen, (unsigned long long)at);
	r = in_get(in, rec->name, nlen, err);
	if (r < 0)
		return r;
	rec->name[nlen] = '\0';
	if (!name_ok(rec->name) || strlen(rec->name) != nlen)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: bad record name at byte %llu",
		                    (unsigned long long)at);
	return 0;
}

static int read_crc(struct vm_state_in *in, const struct vm_state_record *rec, uint64_t at,
                    struct vk_error *err)
{
	uint32_t want = in->crc;
	uint8_t t[4];
	int r = in_get(in, t, sizeof(t), err);

	if (r < 0)
		return r;
	if ((uint32_t)rdle(t, 4) != want)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: checksum mismatch in record "
		                    "'%s' at byte %llu",
		                    rec->name, (unsigned long long)at);
	return 0;
}

int vm_state_read_start(struct vm_state_in *in, struct vm_state_header *hdr, char **config,
                        struct vk_error *err)
{
	uint8_t h[VM_STATE_HEADER_SIZE];
	struct vm_state_record rec = {0};
	uint64_t len, at;
	char *text;
	int r;

	*config = NULL;
	r = in_get(in, h, 8, err);
	if (r < 0)
		return vk_error_prefix(err, "not a virtkit machine state");
	if (memcmp(h, VM_STATE_MAGIC, 8) != 0)
		return vk_error_set(err, EINVAL,
		                    "not a virtkit machine state (it does not start with "
		                    "\"VKSTATE\")");
	r = in_get(in, h + 8, sizeof(h) - 8, err);
	if (r < 0)
		return r;
	memset(hdr, 0, sizeof(*hdr));
	hdr->version = (uint32_t)rdle(h + 8, 4);
	if (hdr->version != VM_STATE_VERSION)
		return vk_error_set(err, EINVAL,
		                    "machine state format version %u: this virtkit-vm reads "
		                    "version %d",
		                    hdr->version, VM_STATE_VERSION);
	if (rdle(h + 12, 4) != VM_STATE_HEADER_SIZE)
		return vk_error_set(err, EINVAL, "the machine state is corrupt: header size %u",
		                    (unsigned)rdle(h + 12, 4));
	memcpy(hdr->arch, h + 16, 16);
	memcpy(hdr->board, h + 32, 16);
	if (!name_ok(hdr->arch) || !name_ok(hdr->board) || !hdr->arch[0] || !hdr->board[0])
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: bad architecture or board name");
	hdr->config_digest = rdle(h + 48, 8);
	hdr->ram_bytes = rdle(h + 56, 8);

	at = in->offset;
	r = read_head(in, &rec, &len, err);
	if (r < 0)
		return r;
	if (rec.type != VM_STATE_CONFIG || len > VM_STATE_CONFIG_MAX)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: it does not begin with its "
		                    "configuration");
	text = malloc(len + 1);
	if (!text)
		return vk_error_set(err, ENOMEM, "out of memory");
	r = in_get(in, text, (size_t)len, err);
	if (r == 0)
		r = read_crc(in, &rec, at, err);
	if (r == 0 && vm_state_digest(text, (size_t)len) != hdr->config_digest)
		r = vk_error_set(err, EINVAL,
		                 "the machine state is corrupt: its configuration does not match "
		                 "the header's digest");
	if (r == 0 && memchr(text, '\0', (size_t)len))
		r = vk_error_set(
		        err, EINVAL,
		        "the machine state is corrupt: its configuration holds a NUL byte");
	if (r < 0) {
		free(text);
		return r;
	}
	text[len] = '\0';
	*config = text;
	return 0;
}

static int read_ram(struct vm_state_in *in, const struct vm_mem *mem, struct vm_state_record *rec,
                    uint64_t len, uint64_t at, struct vk_error *err)
{
	uint8_t h[16];
	uint32_t flags;
	uint64_t bytes;
	void *host;
	int r;

	if (len < sizeof(h))
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: short RAM record at byte %llu",
		                    (unsigned long long)at);
	r = in_get(in, h, sizeof(h), err);
	if (r < 0)
		return r;
	rec->ram_gpa = rdle(h, 8);
	rec->ram_pages = (uint32_t)rdle(h + 8, 4);
	flags = (uint32_t)rdle(h + 12, 4);
	if (rec->ram_pages == 0 || rec->ram_pages > VM_STATE_RAM_BATCH ||
	    (flags & ~VM_STATE_RAM_ZERO) || rec->ram_gpa % VM_STATE_PAGE)
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: RAM record at byte %llu has "
		                    "%u pages at 0x%llx, flags 0x%x",
		                    (unsigned long long)at, rec->ram_pages,
		                    (unsigned long long)rec->ram_gpa, flags);
	bytes = (uint64_t)rec->ram_pages * VM_STATE_PAGE;
	if (len != sizeof(h) + ((flags & VM_STATE_RAM_ZERO) ? 0 : bytes))
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: RAM record at byte %llu is %llu "
		                    "bytes long for %u pages",
		                    (unsigned long long)at, (unsigned long long)len,
		                    rec->ram_pages);
	host = vm_mem_translate(mem, rec->ram_gpa, bytes);
	if (!host)
		return vk_error_set(err, EINVAL,
		                    "the machine state does not fit this machine: RAM at 0x%llx "
		                    "(+%llu bytes) is outside its memory",
		                    (unsigned long long)rec->ram_gpa, (unsigned long long)bytes);
	if (flags & VM_STATE_RAM_ZERO) {
		memset(host, 0, (size_t)bytes);
		return 0;
	}
	return in_get(in, host, (size_t)bytes, err);
}

int vm_state_read_next(struct vm_state_in *in, const struct vm_mem *mem,
                       struct vm_state_record *rec, struct vk_error *err)
{
	uint64_t len, at = in->offset;
	int r;

	free(in->payload);
	in->payload = NULL;
	memset(rec, 0, sizeof(*rec));
	r = read_head(in, rec, &len, err);
	if (r < 0)
		return r;
	switch (rec->type) {
	case VM_STATE_RAM:
		r = read_ram(in, mem, rec, len, at, err);
		break;
	case VM_STATE_DEVICE:
		if (len > VM_STATE_DEVICE_MAX)
			return vk_error_set(
			        err, EINVAL,
			        "the machine state is corrupt: record '%s' at byte %llu "
			        "claims %llu bytes",
			        rec->name, (unsigned long long)at, (unsigned long long)len);
		in->payload = malloc(len ? (size_t)len : 1);
		if (!in->payload)
			return vk_error_set(err, ENOMEM, "out of memory");
		r = in_get(in, in->payload, (size_t)len, err);
		rec->payload = in->payload;
		rec->len = (size_t)len;
		break;
	case VM_STATE_END:
		if (len != 0)
			return vk_error_set(
			        err, EINVAL,
			        "the machine state is corrupt: end record with a payload");
		break;
	default:
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: a second configuration record "
		                    "at byte %llu",
		                    (unsigned long long)at);
	}
	if (r < 0)
		return r;
	return read_crc(in, rec, at, err);
}
