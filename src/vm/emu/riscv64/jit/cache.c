/* SPDX-License-Identifier: MIT */
/*
 * The code cache of one machine: code memory (W^X), the block table, the
 * per-page block lists that writes invalidate, chaining, and whole-cache
 * flushes. Everything here runs under the translator lock unless a comment
 * says otherwise (docs/threading.md).
 *
 * Code memory is one memfd mapped twice: executable (never writable) where
 * the harts run it, writable (never executable) where the translator writes
 * and patches it. Blocks are bump-allocated; invalidated blocks keep their
 * memory until the cache is full and everything is flushed, so a hart that
 * is still inside an invalidated block never runs freed code.
 *
 * Pages with code: pages[i] lists the blocks whose guest bytes lie in guest
 * RAM page i. When a page gets its first block, the write tags that map it in
 * every hart's soft TLB get RV_TLB_CODE, so that stores to it leave the fast
 * path and invalidate (rv_jit_note_write). A hart filling a TLB entry checks
 * the page after storing the tag (rv_jit_tlb_filled); both sides are ordered
 * by sequentially consistent fences, so one of them always sees the other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vm/mem.h"
#include "vm/emu/riscv64/jit/jit.h"

#define CHUNK_BYTES (64u << 10)

/* Block descriptors and their exits, bump-allocated, freed together at a flush. */
struct jit_chunk {
	struct jit_chunk *next;
	size_t used;
	uint8_t bytes[CHUNK_BYTES] __attribute__((aligned(16)));
};

/* ---- code memory ------------------------------------------------------------ */

uint8_t *jit_code_alloc(struct rv_jit *jit, size_t size)
{
	if (jit->size - jit->used < size)
		return NULL;
	return jit->rw + jit->used;
}

/*
 * The writable view's pages, once written, count in the process's RSS a second
 * time (the executable view maps the same memfd pages). Dropping them from the
 * writable view keeps the code in the memfd and counted once; a later patch
 * faults its page back in, so the view is swept again after every
 * JIT_RW_SWEEP_PATCHES patches or JIT_RW_SWEEP_BYTES of new code.
 */
#define JIT_RW_SWEEP_BYTES   (256u << 10)
#define JIT_RW_SWEEP_PATCHES 512u

static void rw_sweep(struct rv_jit *jit)
{
	size_t from = (jit->prologue_size + 4095) & ~(size_t)4095;
	size_t to = jit->used & ~(size_t)4095;

	if (to > from)
		madvise(jit->rw + from, to - from, MADV_DONTNEED);
	jit->rw_swept = to;
	jit->patches = 0;
}

void jit_code_commit(struct rv_jit *jit, uint8_t *start_rw, size_t used)
{
	size_t end = (size_t)(start_rw - jit->rw) + used;

	jit->used = (end + 15) & ~(size_t)15;
	jit->stats.code_bytes += used;
	if (jit->used - jit->rw_swept >= JIT_RW_SWEEP_BYTES)
		rw_sweep(jit);
}

void *jit_meta_alloc(struct rv_jit *jit, size_t size)
{
	struct jit_chunk *c = jit->chunks;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (size > CHUNK_BYTES)
		return NULL;
	if (!c || CHUNK_BYTES - c->used < size) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->used = 0;
		c->next = jit->chunks;
		jit->chunks = c;
	}
	p = c->bytes + c->used;
	c->used += size;
	return p;
}

/* ---- pages -------------------------------------------------------------------- */

uint64_t jit_page_index(const struct rv_jit *jit, const uint8_t *host)
{
	for (unsigned i = 0; i < jit->nr_regions; i++) {
		const struct jit_region *r = &jit->regions[i];
		if (host >= r->host && (uint64_t)(host - r->host) < r->size)
			return r->first_page + ((uint64_t)(host - r->host) >> RV_PAGE_SHIFT);
	}
	return UINT64_MAX;
}

static bool page_has_code(const struct rv_jit *jit, uint64_t idx)
{
	return idx < jit->nr_pages && __atomic_load_n(&jit->pages[idx], __ATOMIC_SEQ_CST) != NULL;
}

/* Host address of the start of the guest page holding host. */
static uintptr_t host_page(const uint8_t *host)
{
	return (uintptr_t)host & ~(uintptr_t)(RV_PAGE_SIZE - 1);
}

/* Every hart: stores to host page `page` leave the TLB fast path from now on. */
static void protect_page(struct rv_jit *jit, uintptr_t page)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned h = 0; h < jit->nr_harts; h++) {
		struct rv_cpu *cpu = jit->harts[h]->cpu;
		for (unsigned m = 0; m < RV_MMU_COUNT; m++) {
			for (unsigned i = 0; i < RV_TLB_SIZE; i++) {
				struct rv_tlb_entry *e = &cpu->tlb[m][i];
				/* acquire: the addend stored before this tag (rv_tlb_fill) */
				uint64_t tag = __atomic_load_n(&e->tag_w, __ATOMIC_ACQUIRE);
				uint64_t addend = __atomic_load_n(&e->addend, __ATOMIC_RELAXED);
				if (tag == RV_TLB_INVALID || (tag & (RV_TLB_IO | RV_TLB_CODE)))
					continue;
				if ((uintptr_t)((tag & RV_PAGE_MASK) + addend) == page)
					__atomic_store_n(&e->tag_w, tag | RV_TLB_CODE,
					                 __ATOMIC_RELAXED);
			}
		}
	}
}

/* ---- the block table ------------------------------------------------------------ */

static unsigned hash(uint64_t vpc, unsigned priv)
{
	uint64_t h = (vpc >> 1) ^ (vpc >> 17) ^ ((uint64_t)priv << 13);

	return (unsigned)(h * 0x9e3779b97f4a7c15ull >> (64 - JIT_HASH_BITS));
}

struct jit_block *jit_block_find(struct rv_jit *jit, uint64_t vpc, const uint8_t *host,
                                 unsigned priv)
{
	struct jit_block *b = __atomic_load_n(&jit->table[hash(vpc, priv)], __ATOMIC_ACQUIRE);

	for (; b; b = __atomic_load_n(&b->hash_next, __ATOMIC_ACQUIRE)) {
		if (b->vpc == vpc && b->host == host && b->priv == priv)
			return b;
	}
	return NULL;
}

void jit_block_insert(struct rv_jit *jit, struct jit_block *b)
{
	unsigned h = hash(b->vpc, b->priv);
	uint64_t idx = jit_page_index(jit, b->host);
	bool first;

	b->valid = true;
	b->hash_next = jit->table[h];
	__atomic_store_n(&jit->table[h], b, __ATOMIC_RELEASE); /* readers without the lock */
	if (idx >= jit->nr_pages)
		return; /* cannot happen: code is fetched from RAM only */
	first = jit->pages[idx] == NULL;
	b->page_next = jit->pages[idx];
	__atomic_store_n(&jit->pages[idx], b, __ATOMIC_SEQ_CST);
	if (first)
		protect_page(jit, host_page(b->host));
}

/* ---- chaining ------------------------------------------------------------------------ */

/* Re-point the (4-byte aligned) rel32 field at rx_field to rx_target, atomically. */
static void patch(struct rv_jit *jit, uint8_t *rx_field, const uint8_t *rx_target)
{
	int32_t rel = (int32_t)(rx_target - (rx_field + 4));

	__atomic_store_n((int32_t *)(void *)jit_rw(jit, rx_field), rel, __ATOMIC_RELEASE);
	if (++jit->patches >= JIT_RW_SWEEP_PATCHES)
		rw_sweep(jit);
}

void jit_chain(struct rv_jit *jit, struct jit_exit *x, struct jit_block *to)
{
	if (x->to || !x->from->valid || !to->valid)
		return;
	patch(jit, jit->rx + x->rel32, to->code);
	x->to = to;
	x->next_in = to->incoming;
	to->incoming = x;
	jit->stats.chained++;
}

static void unchain(struct rv_jit *jit, struct jit_exit *x)
{
	struct jit_exit **pp;

	if (!x->to)
		return;
	for (pp = &x->to->incoming; *pp; pp = &(*pp)->next_in) {
		if (*pp == x) {
			*pp = x->next_in;
			break;
		}
	}
	patch(jit, jit->rx + x->rel32, jit->rx + x->stub);
	x->to = NULL;
	x->next_in = NULL;
}

/* ---- jump caches -------------------------------------------------------------------- */

static unsigned jc_index(uint64_t vpc)
{
	return (((uint32_t)(vpc >> JIT_JC_BITS) ^ (uint32_t)vpc) >> 1) & (JIT_JC_SIZE - 1);
}

/* Clear tables [from, to) of a hart (entries may be read concurrently by generated code). */
static void jc_clear(struct rv_jit_hart *jh, unsigned from, unsigned to)
{
	for (unsigned p = from; p < to; p++) {
		for (unsigned i = 0; i < JIT_JC_SIZE; i++)
			__atomic_store_n(&jh->jc[p][i].key, ~0ull, __ATOMIC_RELAXED);
	}
}

static void ic_clear(struct rv_cpu *cpu)
{
	for (unsigned i = 0; i < RV_JIT_IC_SIZE; i++)
		cpu->ic[i].tag = ~0ull;
}

void jit_jc_flush(struct rv_jit_hart *jh)
{
	/* The U and S tables: a new salt (M-mode fetches are physical and never change);
	 * the load inline caches too. */
	uint64_t gen = (jh->salt >> JIT_SALT_SHIFT) + 1;

	if (gen == JIT_SALT_GENS) {
		/* Every salt was used: old keys could match again, so clear for real. */
		jc_clear(jh, 0, 2);
		ic_clear(jh->cpu);
		gen = 0;
	}
	jh->salt = gen << JIT_SALT_SHIFT;
	rv_jit_hart_set_ctx(jh);
}

static void jc_flush_all(struct rv_jit_hart *jh)
{
	jc_clear(jh, 0, 3);
	memset(jh->jc_host, 0, sizeof(jh->jc_host));
}

unsigned jit_jc_table(unsigned priv)
{
	return priv == RV_PRIV_M ? 2 : priv;
}

static uint64_t jc_salt(const struct rv_jit_hart *jh, unsigned priv)
{
	return priv == RV_PRIV_M ? 0 : jh->salt;
}

void jit_jc_fill(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc, struct jit_block *b)
{
	unsigned t = jit_jc_table(priv), i = jc_index(vpc);
	struct jit_jc_entry *e = &jh->jc[t][i];

	__atomic_store_n(&e->key, ~0ull, __ATOMIC_RELAXED);
	__atomic_store_n(&e->code, b->code, __ATOMIC_RELAXED);
	jh->jc_host[t][i] = b->host;
	__atomic_store_n(&e->key, vpc ^ jc_salt(jh, priv), __ATOMIC_RELEASE);
}

/*
 * Without the translator lock, an invalidation may run between finding b and
 * filling the entry. invalidate() marks b invalid and then empties every entry
 * holding b's code; we fill and then look at the mark, with full fences on
 * both sides, so one of the two sees the other: no entry outlives b's validity.
 */
const uint8_t *jit_jc_fill_unlocked(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc,
                                    struct jit_block *b)
{
	struct jit_jc_entry *e = &jh->jc[jit_jc_table(priv)][jc_index(vpc)];

	if (!__atomic_load_n(&b->valid, __ATOMIC_ACQUIRE))
		return NULL;
	jit_jc_fill(jh, priv, vpc, b);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&b->valid, __ATOMIC_RELAXED)) {
		__atomic_store_n(&e->key, ~0ull, __ATOMIC_RELAXED);
		return NULL;
	}
	return b->code;
}

/*
 * The entry's key is (its pc ^ the salt of its time): the salt lives in bits
 * 48..62 and a pc's bits 47..63 are all equal (see struct jit_jc_entry), so
 * the pc is the key's low 48 bits sign-extended. Blocks are keyed by (pc,
 * host, privilege) and the table by privilege: same pc and host is the same
 * block. It is still valid while the key is not ~0, because invalidate()
 * empties every entry holding the code of a block it invalidates; the
 * compare-and-swap fails if that happens between our look and our store.
 */
const uint8_t *jit_jc_revalidate(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc,
                                 const uint8_t *host)
{
	unsigned t = jit_jc_table(priv), i = jc_index(vpc);
	struct jit_jc_entry *e = &jh->jc[t][i];
	uint64_t key = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
	const uint8_t *code;

	if (key == ~0ull || (uint64_t)((int64_t)(key << 16) >> 16) != vpc ||
	    jh->jc_host[t][i] != host)
		return NULL;
	code = __atomic_load_n(&e->code, __ATOMIC_RELAXED); /* only this hart writes it */
	if (!__atomic_compare_exchange_n(&e->key, &key, vpc ^ jc_salt(jh, priv), false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return NULL;
	return code;
}

const uint8_t *jit_jc_get(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc)
{
	struct jit_jc_entry *e = &jh->jc[jit_jc_table(priv)][jc_index(vpc)];

	if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) != (vpc ^ jc_salt(jh, priv)))
		return NULL;
	return __atomic_load_n(&e->code, __ATOMIC_RELAXED);
}

void rv_jit_hart_set_ctx(struct rv_jit_hart *jh)
{
	struct rv_cpu *cpu = jh->cpu;

	cpu->jc = jh->jc[jit_jc_table(cpu->priv)];
	cpu->jc_salt = jc_salt(jh, cpu->priv);
	cpu->ic_salt = (jh->salt << 2) |
	               ((uint64_t)(cpu->dtlb - cpu->tlb[0]) / RV_TLB_SIZE << JIT_SALT_SHIFT);
}

void rv_jit_hart_reset(struct rv_jit_hart *jh)
{
	jc_flush_all(jh);
	ic_clear(jh->cpu);
}

/* ---- invalidation ------------------------------------------------------------------- */

static void invalidate(struct rv_jit *jit, struct jit_block *b)
{
	struct jit_block **pp;
	uint64_t idx;

	/* Marked first, then the jump caches emptied below: see jit_jc_fill_unlocked(). */
	__atomic_store_n(&b->valid, false, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (pp = &jit->table[hash(b->vpc, b->priv)]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == b) {
			/* b keeps its link: a reader standing on b goes on along the chain */
			__atomic_store_n(pp, b->hash_next, __ATOMIC_RELEASE);
			break;
		}
	}
	idx = jit_page_index(jit, b->host);
	if (idx < jit->nr_pages) {
		for (pp = &jit->pages[idx]; *pp; pp = &(*pp)->page_next) {
			if (*pp == b) {
				__atomic_store_n(pp, b->page_next, __ATOMIC_SEQ_CST);
				break;
			}
		}
	}
	while (b->incoming)
		unchain(jit, b->incoming);
	for (unsigned i = 0; i < b->nexits; i++)
		unchain(jit, &b->exits[i]);
	/* No hart finds it through its jump cache any more. */
	for (unsigned h = 0; h < jit->nr_harts; h++) {
		struct jit_jc_entry *e =
		        &jit->harts[h]->jc[jit_jc_table(b->priv)][jc_index(b->vpc)];
		if (__atomic_load_n(&e->code, __ATOMIC_RELAXED) == b->code)
			__atomic_store_n(&e->key, ~0ull, __ATOMIC_RELAXED);
	}
	jit->stats.invalidated++;
}

/* Invalidate the blocks that overlap [host, host + len). Returns true while the
 * page of `host` still holds code. */
bool jit_invalidate_range(struct rv_jit *jit, const uint8_t *host, size_t len)
{
	const uint8_t *end = host + len;
	uintptr_t p;
	bool code = false;

	for (p = host_page(host); p < (uintptr_t)end; p += RV_PAGE_SIZE) {
		uint64_t idx = jit_page_index(jit, (const uint8_t *)p);
		struct jit_block *b, *next;

		if (idx >= jit->nr_pages)
			continue;
		for (b = jit->pages[idx]; b; b = next) {
			next = b->page_next;
			if (b->host < end && host < b->host + b->size)
				invalidate(jit, b);
		}
	}
	code = page_has_code(jit, jit_page_index(jit, host));
	return code;
}

void jit_flush_locked(struct rv_jit *jit)
{
	struct jit_chunk *c, *next;

	memset(jit->table, 0, sizeof(jit->table));
	for (uint64_t i = 0; i < jit->nr_pages; i++) {
		if (jit->pages[i])
			jit->pages[i] = NULL;
	}
	for (c = jit->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	jit->chunks = NULL;
	jit->used = jit->prologue_size;
	/* The old code is garbage: drop its pages from both views and the memfd. */
	if (jit->size > jit->prologue_size + 4096) {
		size_t from = (jit->prologue_size + 4095) & ~(size_t)4095;
		fallocate(jit->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
		          (off_t)(jit->size - from));
	}
	jit->rw_swept = 0;
	for (unsigned h = 0; h < jit->nr_harts; h++)
		jc_flush_all(jit->harts[h]);
	__atomic_store_n(&jit->flush_gen, jit->flush_gen + 1, __ATOMIC_RELEASE);
	jit->stats.flushes++;
}

/* Wait on the translator's condition for at most 1 ms (lock held). */
static void cond_wait_ms(struct rv_jit *jit)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_nsec -= 1000000000;
		ts.tv_sec++;
	}
	pthread_cond_timedwait(&jit->cond, &jit->lock, &ts);
}

/* A running hart waits (lock held) until the pending flush is over. */
static void park_locked(struct rv_jit *jit)
{
	jit->parked++;
	pthread_cond_broadcast(&jit->cond);
	while (jit->flush_pending)
		pthread_cond_wait(&jit->cond, &jit->lock);
	jit->parked--;
}

void jit_flush_exclusive(struct rv_jit *jit, bool self_running)
{
	unsigned others;

	if (jit->flush_pending) {
		/* Someone else flushes: be parked for it, then the cache is empty. */
		if (self_running)
			park_locked(jit);
		else
			while (jit->flush_pending)
				pthread_cond_wait(&jit->cond, &jit->lock);
		return;
	}
	__atomic_store_n(&jit->flush_pending, true, __ATOMIC_SEQ_CST);
	for (;;) {
		others = jit->running - (self_running ? 1 : 0);
		if (jit->parked >= others)
			break;
		/* Out of translated code, every one: the next block entry sees stop = 0.
		 * Kicked again each millisecond in case one read the flag too early. */
		for (unsigned h = 0; h < jit->nr_harts; h++) {
			if (jit->harts[h]->cpu)
				rv_kick(jit->harts[h]->cpu);
		}
		cond_wait_ms(jit);
	}
	jit_flush_locked(jit);
	__atomic_store_n(&jit->flush_pending, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&jit->cond);
}

void jit_park_if_flushing(struct rv_jit *jit)
{
	if (!__atomic_load_n(&jit->flush_pending, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&jit->lock);
	if (jit->flush_pending)
		park_locked(jit);
	pthread_mutex_unlock(&jit->lock);
}

void rv_jit_hart_enter(struct rv_jit *jit)
{
	pthread_mutex_lock(&jit->lock);
	while (jit->flush_pending)
		pthread_cond_wait(&jit->cond, &jit->lock);
	jit->running++;
	pthread_mutex_unlock(&jit->lock);
}

void rv_jit_hart_leave(struct rv_jit *jit)
{
	pthread_mutex_lock(&jit->lock);
	jit->running--;
	pthread_cond_broadcast(&jit->cond);
	pthread_mutex_unlock(&jit->lock);
}

/* ---- the machine's translator --------------------------------------------------------- */

struct rv_jit *rv_jit_new(const struct vm_mem *mem, uint64_t cache_size, struct vk_error *err)
{
	struct rv_jit *jit;
	uint64_t pages = 0;

	if (cache_size == 0)
		cache_size = JIT_DEFAULT_CACHE;
	if (cache_size < JIT_MIN_CACHE || cache_size > JIT_MAX_CACHE) {
		vk_error_set(err, EINVAL,
		             "translation cache size %llu MiB is out of range (1 to %llu MiB)",
		             (unsigned long long)(cache_size >> 20),
		             (unsigned long long)(JIT_MAX_CACHE >> 20));
		return NULL;
	}
	cache_size = (cache_size + 4095) & ~4095ull;
	jit = calloc(1, sizeof(*jit));
	if (!jit) {
		vk_error_errno(err, ENOMEM, "translator");
		return NULL;
	}
	pthread_mutex_init(&jit->lock, NULL);
	pthread_cond_init(&jit->cond, NULL);
	jit->memfd = -1;
	jit->rx = jit->rw = MAP_FAILED;
	for (unsigned i = 0; i < mem->nr; i++) {
		jit->regions[i] = (struct jit_region){.host = mem->regions[i].host,
		                                      .size = mem->regions[i].size,
		                                      .first_page = pages};
		pages += (mem->regions[i].size + RV_PAGE_SIZE - 1) >> RV_PAGE_SHIFT;
	}
	jit->nr_regions = mem->nr;
	jit->nr_pages = pages;
	jit->pages = calloc(pages ? pages : 1, sizeof(*jit->pages));
	jit->memfd = memfd_create("virtkit-jit", MFD_CLOEXEC);
	if (!jit->pages || jit->memfd < 0 || ftruncate(jit->memfd, (off_t)cache_size) < 0) {
		vk_error_errno(err, errno ? errno : ENOMEM, "cannot create the translation cache");
		goto fail;
	}
	jit->size = cache_size;
	jit->rx = mmap(NULL, cache_size, PROT_READ | PROT_EXEC, MAP_SHARED, jit->memfd, 0);
	jit->rw = mmap(NULL, cache_size, PROT_READ | PROT_WRITE, MAP_SHARED, jit->memfd, 0);
	if (jit->rx == MAP_FAILED || jit->rw == MAP_FAILED) {
		vk_error_errno(err, errno, "cannot map the translation cache");
		goto fail;
	}
	jit->dump_dir = getenv("VK_JIT_DUMP");
	jit->profile = getenv("VK_JIT_PROFILE") != NULL;
	jit->prologue_size = jit_emit_prologue(jit);
	jit->used = jit->prologue_size;
	return jit;
fail:
	rv_jit_free(jit);
	return NULL;
}

/* VK_JIT_PROFILE: the blocks entered most often since the last flush, on stderr. */
static void print_profile(struct rv_jit *jit)
{
	struct jit_block *top[20] = {0};
	uint64_t total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(jit->table); i++) {
		for (struct jit_block *b = jit->table[i]; b; b = b->hash_next) {
			size_t k = ARRAY_SIZE(top);

			total += b->execs;
			while (k > 0 && (!top[k - 1] || top[k - 1]->execs < b->execs))
				k--;
			if (k < ARRAY_SIZE(top)) {
				memmove(&top[k + 1], &top[k],
				        (ARRAY_SIZE(top) - k - 1) * sizeof(top[0]));
				top[k] = b;
			}
		}
	}
	fprintf(stderr, "virtkit-vm: jit profile: %llu block entries; the most entered:\n",
	        (unsigned long long)total);
	for (size_t k = 0; k < ARRAY_SIZE(top) && top[k]; k++)
		fprintf(stderr, "  %12llu  pc=0x%016llx priv=%u insns=%u\n",
		        (unsigned long long)top[k]->execs, (unsigned long long)top[k]->vpc,
		        top[k]->priv, top[k]->ninsns);
}

void rv_jit_free(struct rv_jit *jit)
{
	struct jit_chunk *c, *next;

	if (!jit)
		return;
	if (jit->profile)
		print_profile(jit);
	for (c = jit->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	if (jit->rx != MAP_FAILED)
		munmap(jit->rx, jit->size);
	if (jit->rw != MAP_FAILED)
		munmap(jit->rw, jit->size);
	if (jit->memfd >= 0)
		close(jit->memfd);
	free(jit->pages);
	pthread_cond_destroy(&jit->cond);
	pthread_mutex_destroy(&jit->lock);
	free(jit);
}

/* ---- what the rest of the CPU calls ----------------------------------------------------- */

void rv_jit_flush(struct rv_jit *jit)
{
	pthread_mutex_lock(&jit->lock);
	jit_flush_exclusive(jit, false);
	pthread_mutex_unlock(&jit->lock);
}

void rv_jit_note_write(struct rv_jit *jit, const void *host, size_t len)
{
	uint64_t first, last;

	if (!len)
		return;
	first = jit_page_index(jit, host);
	last = jit_page_index(jit, (const uint8_t *)host + len - 1);
	if ((first >= jit->nr_pages || !page_has_code(jit, first)) &&
	    (last >= jit->nr_pages || !page_has_code(jit, last)) && last - first <= 1)
		return;
	pthread_mutex_lock(&jit->lock);
	jit_invalidate_range(jit, host, len);
	pthread_mutex_unlock(&jit->lock);
}

void rv_jit_mem_write_hook(void *opaque, const void *host, size_t len)
{
	rv_jit_note_write(opaque, host, len);
}

bool rv_jit_page_has_code(const struct rv_jit *jit, const void *host)
{
	return page_has_code(jit, jit_page_index(jit, host));
}
