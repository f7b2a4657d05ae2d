/* SPDX-License-Identifier: MIT */
/*
 * Address translation (Sv39, Sv48; privileged spec 1.12 section 4.3-4.4), the
 * software TLB's fill and flush, and every memory access the interpreter's
 * fast path does not finish itself: TLB misses, misaligned accesses (done in
 * "hardware", byte by byte when they cross a page), device accesses through
 * the bus, and the A extension.
 *
 * A/D bits are set by the walker ("hardware" update) with a compare-and-swap
 * on the PTE in guest RAM. PMP is not enforced (cpu.h).
 *
 * The A extension across harts on other threads (docs/threading.md): AMOs are
 * host atomic read-modify-writes on the guest word (fetch-add, exchange, and a
 * compare-and-swap loop for min/max); lr remembers the value it loaded and sc
 * is a compare-and-swap from it. The host's locked instructions are full
 * fences, which covers the .aq/.rl bits.
 */
#include "vm/bus.h"
#include "vm/mem.h"
#include "vm/emu/riscv64/rv.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the riscv64 CPU needs a little-endian host");

#define PTE_V         (1ull << 0)
#define PTE_R         (1ull << 1)
#define PTE_W         (1ull << 2)
#define PTE_X         (1ull << 3)
#define PTE_U         (1ull << 4)
#define PTE_G         (1ull << 5)
#define PTE_A         (1ull << 6)
#define PTE_D         (1ull << 7)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK  ((1ull << 44) - 1)
#define PTE_RESERVED  (~0ull << 54) /* N, PBMT and reserved bits: no Svnapot/Svpbmt */
#define SATP_PPN_MASK ((1ull << 44) - 1)

static const uint64_t page_fault_cause[3] = {RV_EXC_LOAD_PAGE, RV_EXC_STORE_PAGE, RV_EXC_INSN_PAGE};
static const uint64_t access_fault_cause[3] = {RV_EXC_LOAD_ACCESS, RV_EXC_STORE_ACCESS,
                                               RV_EXC_INSN_ACCESS};

void rv_tlb_flush_all(struct rv_cpu *cpu)
{
	/* The M (physical) table never goes stale: only U and S contexts translate. */
	if (cpu->tlb_log_n <= RV_TLB_LOG) {
		for (unsigned i = 0; i < cpu->tlb_log_n; i++) {
			unsigned k = cpu->tlb_log[i];
			rv_tlb_entry_clear(&cpu->tlb[k >> RV_TLB_BITS][k & (RV_TLB_SIZE - 1)]);
		}
	} else {
		for (unsigned i = 0; i < RV_MMU_COUNT; i++) {
			if (i != RV_MMU_M)
				rv_tlb_table_clear(cpu->tlb[i]);
		}
	}
	cpu->tlb_log_n = 0;
	cpu->tlb_has_superpage = false;
	if (cpu->jit)
		rv_jit_hart_tlb_flushed(cpu->jit);
}

void rv_tlb_flush_va(struct rv_cpu *cpu, uint64_t va)
{
	unsigned slot = (va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1);

	if (cpu->tlb_has_superpage) {
		rv_tlb_flush_all(cpu);
		return;
	}
	for (unsigned i = 0; i < RV_MMU_COUNT; i++) {
		if (i != RV_MMU_M)
			rv_tlb_entry_clear(&cpu->tlb[i][slot]);
	}
	if (cpu->jit)
		rv_jit_hart_tlb_flushed(cpu->jit);
}

struct walk_result {
	uint64_t pa;
	bool r, w, x; /* what this context may do with the page */
	bool superpage;
};

/* Translate va; false with the exception raised. */
static bool rv_walk(struct rv_cpu *cpu, uint64_t va, enum rv_access acc, enum rv_mmu_idx idx,
                    struct walk_result *res)
{
	unsigned mode = (unsigned)(cpu->satp >> 60), levels, level;
	uint64_t a, pte, *ptep, hi;
	bool mxr = (cpu->mstatus & MSTATUS_MXR) != 0;

	if (idx == RV_MMU_M || mode == 0) {
		res->pa = va;
		res->r = res->w = res->x = true;
		res->superpage = false;
		return true;
	}
	levels = mode == RV_SATP_MODE_SV48 ? 4 : 3;
	/* Bits above the top VA bit must all equal it. */
	hi = va >> (levels * 9 + 11);
	if (hi != 0 && hi != (~0ull >> (levels * 9 + 11)))
		return rv_raise(cpu, page_fault_cause[acc], va);

	a = (cpu->satp & SATP_PPN_MASK) << RV_PAGE_SHIFT;
	for (level = levels - 1;; level--) {
		uint64_t pte_addr = a + ((va >> (RV_PAGE_SHIFT + 9 * level)) & 0x1ff) * 8;

		ptep = vm_mem_translate(cpu->mem, pte_addr, 8);
		if (!ptep)
			return rv_raise(cpu, access_fault_cause[acc], va);
		pte = __atomic_load_n(ptep, __ATOMIC_RELAXED);
		if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)))
			return rv_raise(cpu, page_fault_cause[acc], va);
		if (pte & (PTE_R | PTE_X))
			break;
		/* A pointer: its D, A, U bits and the reserved ones must be clear. */
		if (level == 0 || (pte & (PTE_D | PTE_A | PTE_U | PTE_RESERVED)))
			return rv_raise(cpu, page_fault_cause[acc], va);
		a = ((pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK) << RV_PAGE_SHIFT;
	}
	if (pte & PTE_RESERVED)
		return rv_raise(cpu, page_fault_cause[acc], va);

	/* Permissions in this context. S may touch U pages with SUM, never execute them. */
	if (pte & PTE_U) {
		res->r = idx != RV_MMU_S;
		res->x = idx == RV_MMU_U;
	} else {
		res->r = idx != RV_MMU_U;
		res->x = idx != RV_MMU_U;
	}
	res->w = res->r && (pte & PTE_W);
	res->x = res->x && (pte & PTE_X);
	res->r = res->r && ((pte & PTE_R) || (mxr && (pte & PTE_X)));
	if ((acc == RV_ACC_READ && !res->r) || (acc == RV_ACC_WRITE && !res->w) ||
	    (acc == RV_ACC_EXEC && !res->x))
		return rv_raise(cpu, page_fault_cause[acc], va);

	/* A superpage's PPN must be aligned to its size. */
	uint64_t ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
	if (level > 0 && (ppn & ((1ull << (9 * level)) - 1)))
		return rv_raise(cpu, page_fault_cause[acc], va);

	/* Hardware A/D update, atomic with respect to the PTE in RAM. */
	uint64_t want = pte | PTE_A | (acc == RV_ACC_WRITE ? PTE_D : 0);
	if (want != pte) {
		if (!__atomic_compare_exchange_n(ptep, &pte, want, false, __ATOMIC_SEQ_CST,
		                                 __ATOMIC_SEQ_CST))
			return rv_walk(cpu, va, acc, idx, res); /* changed under us: walk again */
		pte = want;
		vm_mem_mark_dirty(cpu->mem, ptep, sizeof(*ptep)); /* a store, for the dirty log */
	}
	/* Only a dirty page may be cached writable: the first store must walk to set D. */
	res->w = res->w && (pte & PTE_D);

	uint64_t off_mask = (1ull << (RV_PAGE_SHIFT + 9 * level)) - 1;
	res->pa = ((ppn << RV_PAGE_SHIFT) & ~off_mask) | (va & off_mask);
	res->superpage = level > 0;
	return true;
}

struct rv_tlb_entry *rv_tlb_fill(struct rv_cpu *cpu, uint64_t va, enum rv_access acc,
                                 enum rv_mmu_idx idx)
{
	unsigned slot = (va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1);
	struct rv_tlb_entry *e = &cpu->tlb[idx][slot];
	struct walk_result res;
	uint64_t page = va & RV_PAGE_MASK, pa_page, tag;
	void *host;

	if (!rv_walk(cpu, va, acc, idx, &res))
		return NULL;
	if (idx != RV_MMU_M && cpu->tlb_log_n <= RV_TLB_LOG) {
		if (cpu->tlb_log_n < RV_TLB_LOG)
			cpu->tlb_log[cpu->tlb_log_n] = (uint16_t)(idx << RV_TLB_BITS | slot);
		cpu->tlb_log_n++; /* past RV_TLB_LOG: the next full flush clears everything */
	}
	pa_page = res.pa & RV_PAGE_MASK;
	host = vm_mem_translate(cpu->mem, pa_page, RV_PAGE_SIZE);
	if (host) {
		__atomic_store_n(&e->addend, (uint64_t)(uintptr_t)host - page, __ATOMIC_RELAXED);
		tag = page;
	} else {
		__atomic_store_n(&e->addend, pa_page - page, __ATOMIC_RELAXED);
		tag = page | RV_TLB_IO;
	}
	e->tag_r = res.r ? tag : RV_TLB_INVALID;
	e->tag_x = res.x ? tag : RV_TLB_INVALID;
	/*
	 * While the dirty log runs, the first store to a page not yet logged takes
	 * the slow path, which logs it. The log is harvested with every hart parked
	 * (rv_cpu_track_dirty() then poisons the write tags again), so a fill here
	 * never races a harvest.
	 */
	if (res.w && host && vm_mem_dirty_logging(cpu->mem) && !vm_mem_page_dirty(cpu->mem, host))
		tag |= RV_TLB_NOTDIRTY;
	if (res.w && host && cpu->jit) {
		/*
		 * A page with translated code is never written on the fast path. The
		 * translator marks pages and then poisons every hart's write tags; we
		 * store the tag and then look at the mark, both sequentially consistent
		 * (cache.c), so a marking that races this fill is seen by one side.
		 */
		__atomic_store_n(&e->tag_w, tag, __ATOMIC_SEQ_CST);
		if (rv_jit_page_has_code(rv_jit_of(cpu->jit), host))
			__atomic_store_n(&e->tag_w, tag | RV_TLB_CODE, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&e->tag_w, res.w ? tag : RV_TLB_INVALID, __ATOMIC_RELAXED);
	}
	if (res.superpage)
		cpu->tlb_has_superpage = true;
	return e;
}

static inline uint64_t tag_of(const struct rv_tlb_entry *e, enum rv_access acc)
{
	return acc == RV_ACC_READ ? e->tag_r : acc == RV_ACC_WRITE ? rv_tlb_tag_w(e) : e->tag_x;
}

/* The TLB entry allowing acc on va's page in context idx (filled if needed), or NULL. */
static struct rv_tlb_entry *lookup(struct rv_cpu *cpu, uint64_t va, enum rv_access acc,
                                   enum rv_mmu_idx idx)
{
	struct rv_tlb_entry *e = &cpu->tlb[idx][(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];

	if ((tag_of(e, acc) & ~RV_TLB_SLOW_W) == (va & RV_PAGE_MASK))
		return e;
	return rv_tlb_fill(cpu, va, acc, idx);
}

static enum rv_mmu_idx data_idx(const struct rv_cpu *cpu)
{
	return (enum rv_mmu_idx)(cpu->dtlb - &cpu->tlb[0][0]) / RV_TLB_SIZE;
}

/* Leaving for a device: host FP state back to normal, reservation dropped (cpu.h). */
static void before_callout(struct rv_cpu *cpu)
{
	rv_fp_quiesce(cpu);
	cpu->resv_valid = false;
}

static bool io_read(struct rv_cpu *cpu, uint64_t va, uint64_t pa, unsigned size, uint64_t *val)
{
	before_callout(cpu);
	if (!cpu->mmio || !bus_read(cpu->mmio, pa, size, val))
		return rv_raise(cpu, RV_EXC_LOAD_ACCESS, va);
	return true;
}

static bool io_write(struct rv_cpu *cpu, uint64_t va, uint64_t pa, unsigned size, uint64_t val)
{
	before_callout(cpu);
	if (!cpu->mmio || !bus_write(cpu->mmio, pa, size, val))
		return rv_raise(cpu, RV_EXC_STORE_ACCESS, va);
	return true;
}

/*
 * A store into a page with translated code: the blocks it overlaps go first.
 * Once the page holds no code any more, this entry may write on the fast path.
 */
static void code_write(struct rv_cpu *cpu, struct rv_tlb_entry *e, void *host, unsigned size)
{
	struct rv_jit *jit = rv_jit_of(cpu->jit);

	rv_jit_note_write(jit, host, size);
	if (!rv_jit_page_has_code(jit, host)) {
		/* Clear, then look again: a marking in between is seen (see rv_tlb_fill). */
		uint64_t tag = rv_tlb_tag_w(e) & ~RV_TLB_CODE;
		__atomic_store_n(&e->tag_w, tag, __ATOMIC_SEQ_CST);
		if (rv_jit_page_has_code(jit, host))
			__atomic_store_n(&e->tag_w, tag | RV_TLB_CODE, __ATOMIC_RELAXED);
	}
}

/*
 * The first store to a page since the dirty log was last harvested: log the
 * page, then let this entry write on the fast path. Another hart may add
 * RV_TLB_CODE to the tag meanwhile (jit/cache.c): clear our bit atomically.
 */
static void dirty_write(struct rv_cpu *cpu, struct rv_tlb_entry *e, void *host)
{
	vm_mem_mark_dirty(cpu->mem, host, 1);
	__atomic_fetch_and(&e->tag_w, ~RV_TLB_NOTDIRTY, __ATOMIC_SEQ_CST);
}

bool rv_load_slow(struct rv_cpu *cpu, uint64_t va, unsigned size, uint64_t *val)
{
	struct rv_tlb_entry *e;

	if ((va & RV_PAGE_MASK) != ((va + size - 1) & RV_PAGE_MASK)) {
		/* Misaligned across two pages: byte by byte, both pages checked first. */
		uint64_t v = 0, b;
		if (!lookup(cpu, va, RV_ACC_READ, data_idx(cpu)) ||
		    !lookup(cpu, va + size - 1, RV_ACC_READ, data_idx(cpu)))
			return false;
		for (unsigned i = 0; i < size; i++) {
			if (!rv_load_slow(cpu, va + i, 1, &b))
				return false;
			v |= b << (8 * i);
		}
		*val = v;
		return true;
	}
	e = lookup(cpu, va, RV_ACC_READ, data_idx(cpu));
	if (!e)
		return false;
	if (e->tag_r & RV_TLB_IO) {
		if (va & (size - 1)) /* devices take aligned accesses only */
			return rv_raise(cpu, RV_EXC_LOAD_ACCESS, va);
		return io_read(cpu, va, va + e->addend, size, val);
	}
	*val = rv_ram_load((const void *)(uintptr_t)(va + e->addend), size);
	return true;
}

bool rv_store_slow(struct rv_cpu *cpu, uint64_t va, unsigned size, uint64_t val)
{
	struct rv_tlb_entry *e;

	if ((va & RV_PAGE_MASK) != ((va + size - 1) & RV_PAGE_MASK)) {
		/* Check both pages before writing anything. */
		if (!lookup(cpu, va, RV_ACC_WRITE, data_idx(cpu)) ||
		    !lookup(cpu, va + size - 1, RV_ACC_WRITE, data_idx(cpu)))
			return false;
		for (unsigned i = 0; i < size; i++) {
			if (!rv_store_slow(cpu, va + i, 1, (val >> (8 * i)) & 0xff))
				return false;
		}
		return true;
	}
	e = lookup(cpu, va, RV_ACC_WRITE, data_idx(cpu));
	if (!e)
		return false;
	if (rv_tlb_tag_w(e) & RV_TLB_IO) {
		if (va & (size - 1))
			return rv_raise(cpu, RV_EXC_STORE_ACCESS, va);
		return io_write(cpu, va, va + e->addend, size, val);
	}
	if (rv_tlb_tag_w(e) & RV_TLB_NOTDIRTY)
		dirty_write(cpu, e, (void *)(uintptr_t)(va + e->addend));
	if (rv_tlb_tag_w(e) & RV_TLB_CODE)
		code_write(cpu, e, (void *)(uintptr_t)(va + e->addend), size);
	rv_ram_store((void *)(uintptr_t)(va + e->addend), size, val);
	return true;
}

const uint8_t *rv_fetch_page(struct rv_cpu *cpu, uint64_t pc)
{
	struct rv_tlb_entry *e =
	        lookup(cpu, pc, RV_ACC_EXEC,
	               (enum rv_mmu_idx)((cpu->itlb - &cpu->tlb[0][0]) / RV_TLB_SIZE));

	if (!e)
		return NULL;
	if (e->tag_x & RV_TLB_IO) {
		/* No execution from devices. */
		rv_raise(cpu, RV_EXC_INSN_ACCESS, pc);
		return NULL;
	}
	return (const uint8_t *)(uintptr_t)((pc & RV_PAGE_MASK) + e->addend);
}

void *rv_amo_ptr(struct rv_cpu *cpu, uint64_t va, unsigned size, enum rv_access acc)
{
	struct rv_tlb_entry *e;

	if (va & (size - 1)) {
		rv_raise(cpu, acc == RV_ACC_READ ? RV_EXC_LOAD_MISALIGNED : RV_EXC_STORE_MISALIGNED,
		         va);
		return NULL;
	}
	e = lookup(cpu, va, acc, data_idx(cpu));
	if (!e)
		return NULL;
	if (tag_of(e, acc) & RV_TLB_IO) {
		/* Atomics to devices are not supported: an access fault, as the spec allows. */
		rv_raise(cpu, acc == RV_ACC_READ ? RV_EXC_LOAD_ACCESS : RV_EXC_STORE_ACCESS, va);
		return NULL;
	}
	if (acc == RV_ACC_WRITE && (rv_tlb_tag_w(e) & RV_TLB_NOTDIRTY))
		dirty_write(cpu, e, (void *)(uintptr_t)(va + e->addend));
	if (acc == RV_ACC_WRITE && (rv_tlb_tag_w(e) & RV_TLB_CODE))
		code_write(cpu, e, (void *)(uintptr_t)(va + e->addend), size);
	return (void *)(uintptr_t)(va + e->addend);
}

static uint64_t amo_compute(unsigned op, uint64_t old, uint64_t src, bool word)
{
	int64_t so = word ? (int32_t)(uint32_t)old : (int64_t)old;
	int64_t ss = word ? (int32_t)(uint32_t)src : (int64_t)src;
	uint64_t uo = word ? (uint32_t)old : old, us = word ? (uint32_t)src : src;

	switch (op) {
	case RV_OP_AMOSWAP_W:
		return src;
	case RV_OP_AMOADD_W:
		return old + src;
	case RV_OP_AMOXOR_W:
		return old ^ src;
	case RV_OP_AMOAND_W:
		return old & src;
	case RV_OP_AMOOR_W:
		return old | src;
	case RV_OP_AMOMIN_W:
		return so < ss ? old : src;
	case RV_OP_AMOMAX_W:
		return so > ss ? old : src;
	case RV_OP_AMOMINU_W:
		return uo < us ? old : src;
	default: /* AMOMAXU */
		return uo > us ? old : src;
	}
}

/* The AMO op on the aligned guest word p (4 or 8 bytes), atomically; returns the old value. */
RV_GUEST_RAM uint64_t amo_atomic(void *p, unsigned op, uint64_t src, bool word)
{
	uint64_t old, want;

	if (word) {
		uint32_t *w = p, s32 = (uint32_t)src, o32;

		switch (op) {
		case RV_OP_AMOSWAP_W:
			return __atomic_exchange_n(w, s32, __ATOMIC_SEQ_CST);
		case RV_OP_AMOADD_W:
			return __atomic_fetch_add(w, s32, __ATOMIC_SEQ_CST);
		case RV_OP_AMOXOR_W:
			return __atomic_fetch_xor(w, s32, __ATOMIC_SEQ_CST);
		case RV_OP_AMOAND_W:
			return __atomic_fetch_and(w, s32, __ATOMIC_SEQ_CST);
		case RV_OP_AMOOR_W:
			return __atomic_fetch_or(w, s32, __ATOMIC_SEQ_CST);
		default: /* min/max: compare-and-swap until no other store came between */
			o32 = __atomic_load_n(w, __ATOMIC_RELAXED);
			do {
				want = amo_compute(op, o32, src, true);
			} while (!__atomic_compare_exchange_n(w, &o32, (uint32_t)want, false,
			                                      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
			return o32;
		}
	}
	uint64_t *dw = p;

	switch (op) {
	case RV_OP_AMOSWAP_W:
		return __atomic_exchange_n(dw, src, __ATOMIC_SEQ_CST);
	case RV_OP_AMOADD_W:
		return __atomic_fetch_add(dw, src, __ATOMIC_SEQ_CST);
	case RV_OP_AMOXOR_W:
		return __atomic_fetch_xor(dw, src, __ATOMIC_SEQ_CST);
	case RV_OP_AMOAND_W:
		return __atomic_fetch_and(dw, src, __ATOMIC_SEQ_CST);
	case RV_OP_AMOOR_W:
		return __atomic_fetch_or(dw, src, __ATOMIC_SEQ_CST);
	default:
		old = __atomic_load_n(dw, __ATOMIC_RELAXED);
		do {
			want = amo_compute(op, old, src, false);
		} while (!__atomic_compare_exchange_n(dw, &old, want, false, __ATOMIC_SEQ_CST,
		                                      __ATOMIC_RELAXED));
		return old;
	}
}

/* lr's load (atomic, so it never sees half of another hart's store). */
RV_GUEST_RAM uint64_t lr_load(const void *p, bool word)
{
	return word ? __atomic_load_n((const uint32_t *)p, __ATOMIC_SEQ_CST)
	            : __atomic_load_n((const uint64_t *)p, __ATOMIC_SEQ_CST);
}

/* sc's store: only if the word still holds what lr loaded. */
RV_GUEST_RAM bool sc_cas(void *p, uint64_t expect, uint64_t val, bool word)
{
	if (word) {
		uint32_t e = (uint32_t)expect;
		return __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)val, false,
		                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	return __atomic_compare_exchange_n((uint64_t *)p, &expect, val, false, __ATOMIC_SEQ_CST,
	                                   __ATOMIC_SEQ_CST);
}

bool rv_amo(struct rv_cpu *cpu, const struct rv_insn *d)
{
	bool word = d->op < RV_OP_LR_D;
	unsigned op = word ? d->op : d->op - (RV_OP_LR_D - RV_OP_LR_W);
	unsigned size = word ? 4 : 8;
	uint64_t va = cpu->x[d->rs1], src = cpu->x[d->rs2], old = 0;
	void *p;

	if (op == RV_OP_LR_W) {
		p = rv_amo_ptr(cpu, va, size, RV_ACC_READ);
		if (!p)
			return false;
		old = lr_load(p, word);
		cpu->resv_addr = va;
		cpu->resv_size = size;
		cpu->resv_value = old;
		cpu->resv_valid = true;
	} else if (op == RV_OP_SC_W) {
		bool held = cpu->resv_valid && cpu->resv_addr == va && cpu->resv_size == size;

		/* Every sc ends the reservation, whether it succeeds or not. */
		cpu->resv_valid = false;
		if (!held) {
			cpu->x[d->rd] = 1;
			return true;
		}
		p = rv_amo_ptr(cpu, va, size, RV_ACC_WRITE);
		if (!p)
			return false;
		cpu->x[d->rd] = sc_cas(p, cpu->resv_value, src, word) ? 0 : 1;
		return true;
	} else {
		uint64_t mask = word ? 0xffffffffull : ~0ull;

		p = rv_amo_ptr(cpu, va, size, RV_ACC_WRITE);
		if (!p)
			return false;
		old = amo_atomic(p, op, src, word);
		/*
		 * An AMO that left memory as it was, again and again, is a poll (OpenSBI waits
		 * for other harts with amoswap 0 -> 0 and has no pause): give the host CPU
		 * away now and then, as pause does, for the hart it waits for.
		 */
		if ((amo_compute(op, old, src, word) & mask) != (old & mask))
			cpu->idle_amos = 0;
		else if (++cpu->idle_amos >= RV_IDLE_AMOS_BEFORE_PAUSE) {
			cpu->idle_amos = 0;
			rv_pause(cpu);
		}
	}
	cpu->x[d->rd] = word ? (uint64_t)(int64_t)(int32_t)(uint32_t)old : old;
	return true;
}
