/* SPDX-License-Identifier: MIT */
/*
 * Private to the riscv64 translator (jit/): the code cache, translated
 * blocks, the per-hart jump caches, and the contract between generated code
 * and the C around it. docs/threading.md says which thread may touch what.
 *
 * Generated code runs with:
 *   rbp   = the hart (struct rv_cpu *), for [rbp + offsetof(...)] operands
 *   rsp   = 16-byte aligned (so helpers are called with the ABI's alignment)
 *   JIT_PINNED guest registers live in host registers (jit_pinned_reg());
 *          the others in cpu->x[] in memory
 *   r11   = cpu->instret (stored back whenever C code runs)
 *   rax, rcx, rdx, rsi = scratch
 * It leaves through the epilogue with rax = an exit code (enum jit_exit_code)
 * or the address of a struct jit_exit (a chainable direct jump); the epilogue
 * writes the pinned registers back to cpu->x[].
 *
 * A block is one run of guest instructions in one guest page, entered only at
 * its first instruction, keyed by (virtual pc, host address of the code,
 * privilege): the virtual pc because generated code bakes it in (auipc, link
 * registers), the host address because that is what stores and DMA
 * invalidate, the privilege because ecall, and the jump cache a block is
 * found in, depend on it. Its first instructions check cpu->stop against
 * cpu->instret, so every loop of chained blocks notices events.
 */
#ifndef VK_VM_EMU_RISCV64_JIT_JIT_H
#define VK_VM_EMU_RISCV64_JIT_JIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/mem.h"
#include "vm/emu/riscv64/rv.h"
#include "vm/emu/riscv64/jit/x86.h"

struct vm_mem;

/* ---- limits ----------------------------------------------------------------- */

#define JIT_MAX_INSNS     128         /* guest instructions per block */
#define JIT_BLOCK_MAX     (32u << 10) /* host bytes one block may need at most */
#define JIT_JC_BITS       12
#define JIT_JC_SIZE       (1u << JIT_JC_BITS)
#define JIT_HASH_BITS     16
#define JIT_MAX_HARTS     64
#define JIT_DEFAULT_CACHE (64ull << 20)
#define JIT_MIN_CACHE     (1ull << 20)
#define JIT_MAX_CACHE     (2ull << 30)

/* ---- exits ------------------------------------------------------------------ */

/* What generated code returns in rax when it is not a struct jit_exit pointer. */
enum jit_exit_code {
	JIT_EXIT_LOOKUP = 1, /* cpu->pc holds the next pc: look it up (events checked first) */
	JIT_EXIT_TRAP = 2,   /* cpu->exc_cause/exc_tval raised at cpu->pc */
	JIT_EXIT_WFI = 3,    /* wfi with nothing pending: cpu->pc is past it */
	JIT_EXIT_FATAL = 4,  /* a helper found the hart cannot go on */
	JIT_EXIT_CODES_END = 4096,
};

struct jit_block;

/* A direct jump out of a block that can be chained to the block at `target`. */
struct jit_exit {
	struct jit_block *from;
	uint64_t target;          /* guest virtual pc it goes to */
	struct jit_block *to;     /* chained to, or NULL */
	struct jit_exit *next_in; /* next exit chained to the same block */
	/* Offsets in the code cache (the same in both views; at most 2 GiB), not
	 * pointers: 40 bytes an exit instead of 48. */
	uint32_t rel32; /* the jump's displacement field */
	uint32_t stub;  /* where it jumps while unchained */
};

/* One per block (tens of thousands after a boot): packed without holes, 80 bytes. */
struct jit_block {
	uint64_t vpc;        /* guest virtual pc of the first instruction */
	const uint8_t *host; /* host address of its first byte (guest RAM) */
	const uint8_t *code; /* entry point (executable view) */
	uint32_t size;       /* guest bytes covered, from host */
	uint32_t code_size;
	uint16_t ninsns;
	uint16_t nexits;
	uint8_t priv;
	bool valid;                  /* false once invalidated (translator lock) */
	struct jit_block *hash_next; /* block table chain */
	struct jit_block *page_next; /* blocks of the same guest page */
	struct jit_exit *exits;      /* chainable exits */
	struct jit_exit *incoming;   /* exits chained to this block */
	uint64_t execs;              /* entries, counted with VK_JIT_PROFILE (racy across harts) */
};
_Static_assert(sizeof(struct jit_block) == 80, "struct jit_block has holes");

/*
 * One jump-cache entry: key = virtual pc ^ salt -> entry point. A miss is a key
 * mismatch. The U and S tables are salted with the hart's TLB generation in
 * bits 48..62, so a TLB flush forgets them all by changing the salt instead of
 * clearing them: guest pcs in these tables are canonical Sv39/Sv48 addresses
 * or RAM addresses, whose bits 47..63 are all equal, so a key made with one
 * salt never equals a pc xor another salt. The M table (physical addresses,
 * never flushed) has salt 0. An unused entry holds ~0, which no pc reaches.
 */
struct jit_jc_entry {
	uint64_t key;
	const uint8_t *code;
};

#define JIT_SALT_SHIFT 48
#define JIT_SALT_GENS  (1u << 13)

/*
 * Load inline caches: every translated load has an entry in the hart's
 * cpu->ic[] (the site's number mod RV_JIT_IC_SIZE) holding the last page it
 * hit: tag = (va & (page mask | size - 1)) ^ ic_salt, and the addend. A hit
 * needs no TLB entry: the host address is va + an addend that does not
 * depend on va, so a load whose address comes from the previous load (a
 * pointer chase, a table lookup) waits for one memory access, not three. The
 * salt is (TLB generation << 2 | data MMU context) << 48, so a TLB flush or a
 * change of the data context (privilege, SUM, MPRV) forgets every entry, by
 * the same argument as the jump cache's salt. Entries are filled from a TLB
 * hit for a read of RAM; stores do not use them (a page that becomes code
 * must stop stores at once, which only the TLB's write tags do).
 */

/* Per-hart translator state; rv_cpu.jit points here. */
struct rv_jit_hart {
	struct rv_jit *jit;
	struct rv_cpu *cpu;
	uint64_t salt;    /* of the U and S tables: generation << JIT_SALT_SHIFT */
	uint64_t lookups; /* dispatcher and helper look-ups (relaxed atomics: read by stats) */
	uint64_t jc_hits; /* of which the jump cache answered */
	/* Jump caches by privilege (U, S, M): cpu->jc points at the current one. */
	struct jit_jc_entry jc[3][JIT_JC_SIZE];
	/* The host address of the code each entry's block was translated from: after a
	 * TLB flush changed the salt, a miss on an entry still holding the same pc whose
	 * pc still maps to that host address takes the entry again (jit_jc_revalidate). */
	const uint8_t *jc_host[3][JIT_JC_SIZE];
};

struct jit_stats {
	uint64_t blocks;      /* translated */
	uint64_t code_bytes;  /* generated, since the last flush */
	uint64_t guest_insns; /* translated */
	uint64_t chained;     /* exits patched into direct jumps */
	uint64_t flushes;     /* whole-cache flushes */
	uint64_t invalidated; /* blocks invalidated by writes */
};

/* A guest RAM region as the page map sees it. */
struct jit_region {
	const uint8_t *host;
	uint64_t size;
	uint64_t first_page; /* index of its first page in pages[] */
};

/* The translator of one machine: the code cache all its harts share. */
struct rv_jit {
	pthread_mutex_t lock; /* the translator lock (docs/threading.md) */

	/* Code memory: one memfd mapped twice (W^X). */
	int memfd;
	uint8_t *rx; /* executable view */
	uint8_t *rw; /* writable view */
	size_t size;
	size_t used;      /* bytes allocated since the last flush */
	size_t rw_swept;  /* the writable view was dropped from RSS up to here (cache.c) */
	unsigned patches; /* chaining patches since then */
	size_t prologue_size;
	const uint8_t *enter;    /* void *enter(struct rv_cpu *, const uint8_t *code) */
	const uint8_t *epilogue; /* leave with rax = exit code */
	/* Shared out-of-line routines (prologue.c says what each expects). */
	const uint8_t *thunk_jc_miss;
	const uint8_t *thunk_load;
	const uint8_t *thunk_store;
	const uint8_t *thunk_call;

	/* Blocks: hash table by (vpc, priv), and per guest page. */
	struct jit_block *table[1u << JIT_HASH_BITS];
	struct jit_block **pages; /* per guest RAM page: its blocks (NULL: no code) */
	uint64_t nr_pages;
	struct jit_region regions[VM_MEM_MAX_REGIONS];
	unsigned nr_regions;

	/* Block descriptors and exits (jit_meta_alloc), freed together at a flush. */
	struct jit_chunk *chunks;

	struct rv_jit_hart *harts[JIT_MAX_HARTS];
	unsigned nr_harts;
	unsigned next_ic;   /* the next load's inline-cache entry (translator lock) */
	uint64_t flush_gen; /* counts whole-cache flushes: block pointers older than it are dead
	                     * (written under the lock, read with atomic loads) */

	/*
	 * Whole-cache flushes are exclusive sections (docs/threading.md): the
	 * flusher sets flush_pending and kicks every hart; each hart inside
	 * rv_jit_run() parks at its next dispatch (outside translated code), and
	 * the flush runs once every running hart but the flusher is parked. All
	 * under the translator lock; `cond` is signalled when any count changes.
	 */
	pthread_cond_t cond;
	unsigned running;   /* harts inside rv_jit_run() */
	unsigned parked;    /* of those, waiting for a flush to finish */
	bool flush_pending; /* written under the lock, read without it with atomic loads */

	struct jit_stats stats;
	const char *dump_dir; /* VK_JIT_DUMP: write each block's code there (debugging) */
	bool profile;         /* VK_JIT_PROFILE: count block entries, print the top at exit */
};

/* ---- generated-code conventions (translate.c, prologue.c) ---------------- */

#define JIT_CPU_REG RBP
#define JIT_INSTRET R11 /* cpu->instret while translated code runs */
#define JIT_NPINNED 9

/* The host register holding guest register g, or X86_NOREG when it lives in memory. */
enum x86_reg jit_pinned_reg(unsigned g);
/* The guest register held in the i-th pinned host register (0 <= i < JIT_NPINNED). */
unsigned jit_pinned_guest(unsigned i);

static inline struct x86_mem jit_cpu_field(size_t off)
{
	return x86_m(JIT_CPU_REG, (int32_t)off);
}
#define JIT_CPU(field) jit_cpu_field(offsetof(struct rv_cpu, field))
#define JIT_XREG(g)    jit_cpu_field(offsetof(struct rv_cpu, x) + 8 * (size_t)(g))
#define JIT_FREG(g)    jit_cpu_field(offsetof(struct rv_cpu, f) + 8 * (size_t)(g))

/* Emit the shared entry/exit/jump-cache routines at the start of the cache. */
size_t jit_emit_prologue(struct rv_jit *jit);

/* ---- translation (translate.c) -------------------------------------------- */

/*
 * Translate the block at virtual pc (host address host, in a page whose
 * remaining bytes from host are `avail`) for cpu's privilege into the code
 * cache. Called with the translator lock held. Returns the block, or NULL when
 * the cache is full (the caller flushes and retries).
 */
struct jit_block *jit_translate(struct rv_jit *jit, struct rv_cpu *cpu, uint64_t vpc,
                                const uint8_t *host, size_t avail);

/* ---- the code cache (cache.c) --------------------------------------------- */

/* Bytes of code memory for one block, or NULL when full. Translator lock held. */
uint8_t *jit_code_alloc(struct rv_jit *jit, size_t size);
/* The writable view of an executable address. */
static inline uint8_t *jit_rw(const struct rv_jit *jit, const uint8_t *rx)
{
	return jit->rw + (rx - jit->rx);
}
static inline const uint8_t *jit_rx(const struct rv_jit *jit, const uint8_t *rw)
{
	return jit->rx + (rw - jit->rw);
}
/* Shrink the last allocation to what the block used. */
void jit_code_commit(struct rv_jit *jit, uint8_t *start_rw, size_t used);
/* Memory for block descriptors and exits, until the next flush; NULL when out of memory. */
void *jit_meta_alloc(struct rv_jit *jit, size_t size);

/* The block for (vpc, host, priv), or NULL. Without the translator lock too: the
 * table's links are published with release stores, and blocks are freed only by a
 * flush, which waits until every running hart is parked. */
struct jit_block *jit_block_find(struct rv_jit *jit, uint64_t vpc, const uint8_t *host,
                                 unsigned priv);
/* Enter a translated block into the table and its page list, marking the page. */
void jit_block_insert(struct rv_jit *jit, struct jit_block *b);
/* Chain exit x to block `to` (both valid). Translator lock held. */
void jit_chain(struct rv_jit *jit, struct jit_exit *x, struct jit_block *to);
/* Throw every block away (every hart outside translated code). */
void jit_flush_locked(struct rv_jit *jit);
/*
 * Flush the whole cache as an exclusive section, with the translator lock held
 * (it is released while waiting). self_running: the caller is a hart inside
 * rv_jit_run() (it counts itself out). If another flush is under way the
 * caller takes part in that one instead.
 */
void jit_flush_exclusive(struct rv_jit *jit, bool self_running);
/* At a dispatch: park while a flush is pending (translator lock not held). */
void jit_park_if_flushing(struct rv_jit *jit);
/* rv_jit_run() begins / ends: count the hart as running (may wait for a flush). */
void rv_jit_hart_enter(struct rv_jit *jit);
void rv_jit_hart_leave(struct rv_jit *jit);

/* Page index of a host address inside guest RAM, or UINT64_MAX. */
uint64_t jit_page_index(const struct rv_jit *jit, const uint8_t *host);

/* Invalidate the blocks overlapping [host, host + len); true while host's page keeps code. */
bool jit_invalidate_range(struct rv_jit *jit, const uint8_t *host, size_t len);

/* Jump caches: the table for a privilege (0 U, 1 S, 2 M), fill and probe. */
unsigned jit_jc_table(unsigned priv);
void jit_jc_fill(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc, struct jit_block *b);
const uint8_t *jit_jc_get(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc);
/* Fill the jump cache with b, found without the translator lock: b's code, or NULL
 * when b was invalidated meanwhile (the entry is then left empty). */
const uint8_t *jit_jc_fill_unlocked(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc,
                                    struct jit_block *b);
/* After a miss: the code of the block the entry held before the last TLB flush, if
 * the entry was not emptied since and its block is the one for (vpc, host); the
 * entry then has the current salt again. */
const uint8_t *jit_jc_revalidate(struct rv_jit_hart *jh, unsigned priv, uint64_t vpc,
                                 const uint8_t *host);
/* Forget every U and S jump-cache entry of one hart (after a TLB flush). */
void jit_jc_flush(struct rv_jit_hart *jh);

/* The block for the guest pc in cpu->pc if it is translated already (NULL
 * otherwise, also when fetching it would fault); fills the jump cache. */
const uint8_t *jit_lookup_fast(struct rv_cpu *cpu);

/* ---- helpers called from generated code (helpers.c) ------------------------ */

/* Two-register results of load helpers: rax = value, rdx = 1 ok / 0 exception. */
struct jit_load_ret {
	uint64_t value;
	uint64_t ok;
};
struct jit_load_ret jit_helper_load(struct rv_cpu *cpu, uint64_t va, uint64_t size_sign);
uint64_t jit_helper_store(struct rv_cpu *cpu, uint64_t va, uint64_t value, uint64_t size);
/* Execute the decoded instruction d with the interpreter's semantics; 0 = exception. */
uint64_t jit_helper_amo(struct rv_cpu *cpu, const struct rv_insn *d);
uint64_t jit_helper_fp(struct rv_cpu *cpu, const struct rv_insn *d);
/* CSR instructions: 0 exception, 1 go on, 2 leave for the dispatcher (translation,
 * FP enable or interrupt state changed). */
uint64_t jit_helper_csr(struct rv_cpu *cpu, const struct rv_insn *d);
/* pause (fence w, 0): rv_pause(); always 1. */
uint64_t jit_helper_pause(struct rv_cpu *cpu, const struct rv_insn *d);
/* mret, sret, wfi, sfence.vma: return an exit code (JIT_EXIT_LOOKUP/_TRAP/_WFI). */
uint64_t jit_helper_system(struct rv_cpu *cpu, const struct rv_insn *d);

#endif
