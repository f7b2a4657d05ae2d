/* SPDX-License-Identifier: MIT */
/*
 * rv_cpu_run() with the translator: the dispatcher between translated blocks.
 *
 * The loop: look at events (exit requests, interrupts, the budget; what the
 * interpreter does at `check:`), find the block for cpu->pc (the hart's jump
 * cache, else the ITLB and the block table, else translate), run translated
 * code until it leaves, and act on why it left: chain a direct jump that
 * could be chained, enter a trap, sleep on wfi. Instructions the translator
 * does not take (a 4-byte instruction that straddles two pages) run in the
 * interpreter, one at a time.
 *
 * Translated code leaves on its own at every block entry once
 * cpu->instret >= cpu->stop, so exit requests and interrupts (which set
 * cpu->stop to 0) are noticed within one block.
 */
#include <stdio.h>

#include "vm/emu/riscv64/jit/jit.h"

typedef uint64_t (*jit_enter_fn)(struct rv_cpu *cpu, const uint8_t *code);

static enum rv_exit jit_fatal(struct rv_cpu *cpu, const char *what, uint64_t addr)
{
	snprintf(cpu->fatal_reason, sizeof(cpu->fatal_reason),
	         "hart %u: %s at 0x%llx (mcause %llu, mepc 0x%llx)", cpu->hartid, what,
	         (unsigned long long)addr, (unsigned long long)cpu->mcause,
	         (unsigned long long)cpu->mepc);
	cpu->fatal = true;
	return RV_EXIT_FATAL;
}

/* A trap costs the budget one instruction, as in the interpreter (exec.c). */
static void charge_trap(struct rv_cpu *cpu)
{
	if (cpu->stop_budget > cpu->instret)
		cpu->stop_budget--;
}

/*
 * The host address of the instruction at vpc, or NULL when fetching it raises
 * an exception (raised) or when it straddles two pages (*straddle).
 */
static const uint8_t *fetch_host(struct rv_cpu *cpu, uint64_t vpc, bool *straddle)
{
	const uint8_t *page = rv_fetch_page(cpu, vpc), *host;

	*straddle = false;
	if (!page)
		return NULL;
	host = page + (vpc & (RV_PAGE_SIZE - 1));
	if ((vpc & (RV_PAGE_SIZE - 1)) == RV_PAGE_SIZE - 2 && (host[0] & 3) == 3) {
		*straddle = true;
		return NULL;
	}
	return host;
}

static void count(uint64_t *counter)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

const uint8_t *jit_lookup_fast(struct rv_cpu *cpu)
{
	struct rv_jit_hart *jh = cpu->jit;
	struct rv_jit *jit = jh->jit;
	const uint8_t *host, *code;
	struct jit_block *b;
	bool straddle;

	count(&jh->lookups);
	code = jit_jc_get(jh, cpu->priv, cpu->pc);
	if (code) {
		count(&jh->jc_hits);
		return code;
	}
	host = fetch_host(cpu, cpu->pc, &straddle);
	if (!host)
		return NULL; /* the dispatcher takes the exception, or the interpreter the insn */
	/* Mostly the entry's block from before the last TLB flush (Linux flushes at every
	 * switch of address space), else the block table; neither takes the lock. */
	code = jit_jc_revalidate(jh, cpu->priv, cpu->pc, host);
	if (code)
		return code;
	b = jit_block_find(jit, cpu->pc, host, cpu->priv);
	return b ? jit_jc_fill_unlocked(jh, cpu->priv, cpu->pc, b) : NULL;
}

/* The block for cpu->pc in the current context, translated if needed; NULL when
 * fetching failed (exception raised) or *straddle when the interpreter must run it. */
static const uint8_t *jit_find(struct rv_cpu *cpu, bool *straddle)
{
	struct rv_jit_hart *jh = cpu->jit;
	struct rv_jit *jit = jh->jit;
	uint64_t vpc = cpu->pc;
	const uint8_t *host, *code;
	struct jit_block *b;

	code = jit_lookup_fast(cpu);
	*straddle = false;
	if (code)
		return code;
	host = fetch_host(cpu, vpc, straddle);
	if (!host)
		return NULL;
	pthread_mutex_lock(&jit->lock);
	b = jit_block_find(jit, vpc, host, cpu->priv);
	if (!b) {
		size_t avail = RV_PAGE_SIZE - (vpc & (RV_PAGE_SIZE - 1));
		b = jit_translate(jit, cpu, vpc, host, avail);
		if (!b) {
			/* The cache is full: start again with an empty one. */
			jit_flush_exclusive(jit, true);
			b = jit_block_find(jit, vpc, host, cpu->priv);
			if (!b)
				b = jit_translate(jit, cpu, vpc, host, avail);
		}
		if (b)
			jit_block_insert(jit, b);
	}
	if (b)
		jit_jc_fill(jh, cpu->priv, vpc, b);
	pthread_mutex_unlock(&jit->lock);
	if (!b) {
		/* Cannot happen with a cache of at least JIT_MIN_CACHE: say so loudly. */
		snprintf(cpu->fatal_reason, sizeof(cpu->fatal_reason),
		         "hart %u: cannot translate the block at 0x%llx", cpu->hartid,
		         (unsigned long long)vpc);
		cpu->fatal = true;
		return NULL;
	}
	return b->code;
}

static struct jit_block *block_of(const uint8_t *code)
{
	struct jit_block *b;

	memcpy(&b, code - 8, sizeof(b));
	return b;
}

/* Chain the direct jump x that just left to the block at cpu->pc, when allowed. */
static void try_chain(struct rv_jit *jit, struct jit_exit *x, const uint8_t *code, uint64_t gen)
{
	struct jit_block *to = block_of(code);

	pthread_mutex_lock(&jit->lock);
	if (__atomic_load_n(&jit->flush_gen, __ATOMIC_ACQUIRE) == gen && x->from->valid &&
	    to->valid && to->priv == x->from->priv && to->vpc == x->target)
		jit_chain(jit, x, to);
	pthread_mutex_unlock(&jit->lock);
}

/* Run the one instruction at cpu->pc in the interpreter. */
static enum rv_exit interpret_one(struct rv_cpu *cpu)
{
	uint64_t budget = cpu->stop_budget;
	enum rv_exit r = rv_interp_run(cpu, 1);

	cpu->stop_budget = budget;
	cpu->jit_fp_ready = false; /* the interpreter left the host FP state at its default */
	return r;
}

enum rv_exit rv_jit_run(struct rv_cpu *cpu, uint64_t budget)
{
	struct rv_jit *jit = cpu->jit->jit;
	const jit_enter_fn enter = (jit_enter_fn)(uintptr_t)jit->enter;
	struct jit_exit *chain_from = NULL;
	uint64_t chain_gen = 0;
	enum rv_exit ret;

	if (cpu->fatal)
		return RV_EXIT_FATAL;
	cpu->stop_budget = budget > UINT64_MAX - cpu->instret ? UINT64_MAX : cpu->instret + budget;
	rv_jit_hart_enter(jit);
	cpu->jit_fp_ready = rv_fp_host_matches_frm(cpu);
	for (;;) {
		const uint8_t *code;
		uint64_t why, pc;
		bool straddle;

		jit_park_if_flushing(jit);
		/* Events, as the interpreter's `check:` (the hart's side of the kick protocol). */
		pc = cpu->pc;
		if (!rv_check_events(cpu, &ret))
			break;
		if (cpu->pc != pc)
			chain_from = NULL; /* an interrupt was taken: not where the exit jumped */

		code = jit_find(cpu, &straddle);
		if (!code) {
			chain_from = NULL;
			if (cpu->fatal) {
				ret = RV_EXIT_FATAL;
				break;
			}
			if (straddle) {
				ret = interpret_one(cpu);
				if (ret != RV_EXIT_BUDGET)
					break;
				continue;
			}
			/* The fetch raised an exception. */
			if (cpu->priv == RV_PRIV_M && (cpu->mtvec & ~3ull) == cpu->pc) {
				ret = jit_fatal(cpu, "cannot fetch the M-mode trap vector",
				                cpu->pc);
				break;
			}
			rv_trap_enter(cpu, cpu->exc_cause, cpu->exc_tval);
			charge_trap(cpu);
			continue;
		}
		if (chain_from) {
			try_chain(jit, chain_from, code, chain_gen);
			chain_from = NULL;
		}
		why = enter(cpu, code);
		if (why >= JIT_EXIT_CODES_END) {
			/* A direct jump not chained yet: chain it once its target is found. */
			chain_from = (struct jit_exit *)(uintptr_t)why;
			chain_gen = __atomic_load_n(&jit->flush_gen, __ATOMIC_ACQUIRE);
			continue;
		}
		switch (why) {
		case JIT_EXIT_LOOKUP:
			continue;
		case JIT_EXIT_TRAP:
			/* The M-mode handler's own first instruction faulting is a loop nothing ends. */
			if (cpu->priv == RV_PRIV_M && cpu->pc == (cpu->mtvec & ~3ull)) {
				ret = jit_fatal(
				        cpu,
				        "the M-mode trap handler faults on its first instruction",
				        cpu->pc);
				goto out;
			}
			rv_trap_enter(cpu, cpu->exc_cause, cpu->exc_tval);
			charge_trap(cpu);
			continue;
		case JIT_EXIT_WFI:
			ret = RV_EXIT_WFI;
			goto out;
		default:
			ret = jit_fatal(cpu, "translated code left with an unknown code", cpu->pc);
			goto out;
		}
	}
out:
	rv_jit_hart_leave(jit);
	cpu->resv_valid = false;
	rv_fp_quiesce(cpu);
	cpu->jit_fp_ready = false;
	return ret;
}

/* ---- per hart ---------------------------------------------------------------------- */

struct rv_jit_hart *rv_jit_hart_new(struct rv_jit *jit, struct rv_cpu *cpu)
{
	struct rv_jit_hart *jh;

	if (jit->nr_harts == JIT_MAX_HARTS)
		return NULL;
	jh = calloc(1, sizeof(*jh));
	if (!jh)
		return NULL;
	jh->jit = jit;
	jh->cpu = cpu;
	for (unsigned p = 0; p < 3; p++) {
		for (unsigned i = 0; i < JIT_JC_SIZE; i++)
			jh->jc[p][i].key = ~0ull;
	}
	pthread_mutex_lock(&jit->lock);
	jit->harts[jit->nr_harts++] = jh;
	pthread_mutex_unlock(&jit->lock);
	return jh;
}

void rv_jit_hart_free(struct rv_jit_hart *jh)
{
	struct rv_jit *jit;

	if (!jh)
		return;
	jit = jh->jit;
	pthread_mutex_lock(&jit->lock);
	for (unsigned i = 0; i < jit->nr_harts; i++) {
		if (jit->harts[i] == jh) {
			jit->harts[i] = jit->harts[--jit->nr_harts];
			break;
		}
	}
	pthread_mutex_unlock(&jit->lock);
	free(jh);
}

struct rv_jit *rv_jit_of(const struct rv_jit_hart *jh)
{
	return jh->jit;
}

bool rv_jit_supported(void)
{
	return true;
}

void rv_jit_hart_tlb_flushed(struct rv_jit_hart *jh)
{
	jit_jc_flush(jh);
}

void rv_jit_get_stats(struct rv_jit *jit, struct rv_jit_stats *st)
{
	pthread_mutex_lock(&jit->lock);
	st->blocks = jit->stats.blocks;
	st->guest_insns = jit->stats.guest_insns;
	st->code_bytes = jit->stats.code_bytes;
	st->cache_used = jit->used;
	st->cache_size = jit->size;
	st->chained = jit->stats.chained;
	st->lookups = st->jc_hits = 0;
	for (unsigned h = 0; h < jit->nr_harts; h++) {
		st->lookups += __atomic_load_n(&jit->harts[h]->lookups, __ATOMIC_RELAXED);
		st->jc_hits += __atomic_load_n(&jit->harts[h]->jc_hits, __ATOMIC_RELAXED);
	}
	st->flushes = jit->stats.flushes;
	st->invalidated = jit->stats.invalidated;
	pthread_mutex_unlock(&jit->lock);
}
