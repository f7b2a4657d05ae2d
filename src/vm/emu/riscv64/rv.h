/* SPDX-License-Identifier: MIT */
/*
 * Private to the riscv64 CPU: the hart's state (struct rv_cpu), the software
 * TLB, architectural constants, and the functions the CPU's files share.
 *
 * Software TLB: one direct-mapped table per "MMU index" (the permission
 * context of an access: U, S with SUM=0, S with SUM=1, M/physical), so that a
 * privilege change or a SUM toggle (Linux does one around every user copy)
 * only switches tables. An entry caches one 4 KiB virtual page with a tag per
 * access type; a load of size n hits when
 *     entry.tag_r == (va & (RV_PAGE_MASK | (n - 1)))
 * which also sends misaligned accesses to the slow path. On a hit the host
 * address is va + entry.addend. Pages outside RAM (devices) are cached with
 * RV_TLB_IO set in their tags, so the fast compare fails and the slow path
 * finds the physical address as va + addend without walking again. A tag is
 * only filled for an access the page-table entry permits in that context, and
 * a write tag only once the PTE's D bit is set; everything else walks.
 * This shape (tag compare + add) is what a binary translator will inline.
 *
 * Threads (docs/threading.md): a struct rv_cpu is written only by its hart's
 * thread, except mip/mip_seip_hw (atomic OR/AND from any thread, rv_mip_*),
 * exit_request and stop (the kick protocol below); instret is published with
 * relaxed atomic stores for readers on other threads.
 */
#ifndef VK_VM_EMU_RISCV64_RV_H
#define VK_VM_EMU_RISCV64_RV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vm/emu/riscv64/cpu.h"
#include "vm/emu/riscv64/decode.h"
#include "vm/emu/riscv64/guest-ram.h"

#define RV_PAGE_SHIFT 12
#define RV_PAGE_SIZE  4096ull
#define RV_PAGE_MASK  (~(RV_PAGE_SIZE - 1))

/* ---- privilege levels ---- */
#define RV_PRIV_U 0
#define RV_PRIV_S 1
#define RV_PRIV_M 3

/* ---- mstatus ---- */
#define MSTATUS_SIE    (1ull << 1)
#define MSTATUS_MIE    (1ull << 3)
#define MSTATUS_SPIE   (1ull << 5)
#define MSTATUS_UBE    (1ull << 6)
#define MSTATUS_MPIE   (1ull << 7)
#define MSTATUS_SPP    (1ull << 8)
#define MSTATUS_VS     (3ull << 9)
#define MSTATUS_MPP    (3ull << 11)
#define MSTATUS_FS     (3ull << 13)
#define MSTATUS_XS     (3ull << 15)
#define MSTATUS_MPRV   (1ull << 17)
#define MSTATUS_SUM    (1ull << 18)
#define MSTATUS_MXR    (1ull << 19)
#define MSTATUS_TVM    (1ull << 20)
#define MSTATUS_TW     (1ull << 21)
#define MSTATUS_TSR    (1ull << 22)
#define MSTATUS_UXL    (3ull << 32)
#define MSTATUS_SXL    (3ull << 34)
#define MSTATUS_SD     (1ull << 63)
#define MSTATUS_UXL_64 (2ull << 32)
#define MSTATUS_SXL_64 (2ull << 34)

/* What csr.c lets software write (also what a loaded state may hold, cpu-state.c). */
#define MSTATUS_WRITABLE                                                                       \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | \
	 MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |    \
	 MSTATUS_TSR)
/* Exceptions that can be delegated: all defined ones but ecall from M (11). */
#define MEDELEG_WRITABLE  0xb3ffull
#define MIP_WRITABLE      (RV_MIP_SSIP | RV_MIP_STIP | RV_MIP_SEIP)
#define PMPADDR_MASK      ((1ull << 54) - 1)

#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_FS_SHIFT  13

/* ---- exception causes ---- */
#define RV_EXC_INSN_MISALIGNED  0
#define RV_EXC_INSN_ACCESS      1
#define RV_EXC_ILLEGAL          2
#define RV_EXC_BREAKPOINT       3
#define RV_EXC_LOAD_MISALIGNED  4
#define RV_EXC_LOAD_ACCESS      5
#define RV_EXC_STORE_MISALIGNED 6
#define RV_EXC_STORE_ACCESS     7
#define RV_EXC_ECALL_U          8
#define RV_EXC_ECALL_S          9
#define RV_EXC_ECALL_M          11
#define RV_EXC_INSN_PAGE        12
#define RV_EXC_LOAD_PAGE        13
#define RV_EXC_STORE_PAGE       15

/* ---- interrupts (bit numbers in mip/mie) ---- */
#define RV_IRQ_SSI 1
#define RV_IRQ_MSI 3
#define RV_IRQ_STI 5
#define RV_IRQ_MTI 7
#define RV_IRQ_SEI 9
#define RV_IRQ_MEI 11
#define RV_MIP_ALL \
	(RV_MIP_SSIP | RV_MIP_MSIP | RV_MIP_STIP | RV_MIP_MTIP | RV_MIP_SEIP | RV_MIP_MEIP)
#define RV_MIP_S (RV_MIP_SSIP | RV_MIP_STIP | RV_MIP_SEIP)

/* ---- memory access types ---- */
enum rv_access { RV_ACC_READ = 0, RV_ACC_WRITE = 1, RV_ACC_EXEC = 2 };

/* ---- software TLB ---- */
#define RV_TLB_BITS     8
#define RV_TLB_SIZE     (1u << RV_TLB_BITS)
#define RV_TLB_INVALID  (~0ull)      /* never equals a masked address */
#define RV_TLB_IO       (1ull << 11) /* page is not RAM: slow path via the bus */
#define RV_TLB_CODE     (1ull << 10) /* tag_w only: RAM holding translated code (jit/) */
#define RV_TLB_NOTDIRTY (1ull << 9)  /* tag_w only: RAM not yet in the dirty log (vm_mem) */
#define RV_TLB_SLOW_W   (RV_TLB_IO | RV_TLB_CODE | RV_TLB_NOTDIRTY)
#define RV_TLB_LOG      64 /* U/S fills remembered, so a full flush clears only those */

enum rv_mmu_idx { RV_MMU_U = 0, RV_MMU_S, RV_MMU_S_SUM, RV_MMU_M, RV_MMU_COUNT };

struct rv_tlb_entry {
	uint64_t tag_r, tag_w, tag_x;
	uint64_t addend; /* RAM: host address - va; IO: pa - va */
};

/*
 * With the translator, another hart may add RV_TLB_CODE to tag_w (jit/cache.c)
 * and read tag_w and addend: the owner reads tag_w and writes tag_w and
 * addend with (relaxed) atomics, which are plain moves on x86-64.
 */
static inline uint64_t rv_tlb_tag_w(const struct rv_tlb_entry *e)
{
	return __atomic_load_n(&e->tag_w, __ATOMIC_RELAXED);
}

static inline void rv_tlb_entry_clear(struct rv_tlb_entry *e)
{
	e->tag_r = e->tag_x = RV_TLB_INVALID;
	__atomic_store_n(&e->tag_w, RV_TLB_INVALID, __ATOMIC_RELAXED);
	__atomic_store_n(&e->addend, RV_TLB_INVALID, __ATOMIC_RELAXED);
}

static inline void rv_tlb_table_clear(struct rv_tlb_entry *table)
{
	for (unsigned i = 0; i < RV_TLB_SIZE; i++)
		rv_tlb_entry_clear(&table[i]);
}

/* ---- decode memo ("instruction cache" of decoded instructions) ---- */
#define RV_ICACHE_BITS 15
#define RV_ICACHE_SIZE (1u << RV_ICACHE_BITS)

struct rv_memo {
	unsigned refs;
	struct rv_insn entries[RV_ICACHE_SIZE];
};

struct rv_cpu {
	/* Hot state first: the interpreter keeps copies of pc/instret in locals. */
	uint64_t x[33]; /* x[32] is the sink that decoded rd=x0 writes go to */
	uint64_t pc;
	uint64_t instret;          /* written with relaxed atomic stores (rv_cpu_instret) */
	uint64_t stop;             /* the run loop checks for events once instret >= stop;
	                            * atomic: any thread stores 0 (rv_kick) */
	uint64_t stop_budget;      /* instret at which the current rv_cpu_run() ends */
	struct rv_tlb_entry *dtlb; /* table for loads/stores in the current context */
	struct rv_tlb_entry *itlb; /* table for fetches */
	void *jc;                  /* translator: jump cache of the current privilege */
	uint64_t jc_salt;          /* translator: its salt (jit/jit.h) */
	uint64_t ic_salt;          /* translator: salt of the load inline caches (jit/jit.h) */
	bool jit_fp_ready;         /* translator: rv_fp_host_matches_frm(), kept up to date */
	struct rv_jit_hart *jit;   /* translator state of this hart; NULL: interpreter */
	unsigned priv;
	bool exit_request; /* atomic: set by any thread, cleared by rv_check_events() */
	bool fatal;

	uint64_t f[32]; /* FP registers; singles are NaN-boxed */
	uint32_t fflags, frm;
	int host_rm; /* host rounding mode in force, -1: host FP state untouched */

	/* Exception being raised (set by helpers that return false). */
	uint64_t exc_cause, exc_tval;

	/* LR/SC reservation: address, size and the value lr loaded; sc stores with a
	 * compare-and-swap from that value (docs/threading.md, "LR/SC"). */
	uint64_t resv_addr;
	uint64_t resv_value;
	unsigned resv_size;
	bool resv_valid;

	/* CSRs */
	uint64_t mstatus, misa, medeleg, mideleg, mie;
	/* Both atomic (any thread): read with rv_mip(), changed with rv_mip_update(). */
	uint64_t mip;         /* software-writable bits and board-driven STIP/SSIP/MSIP/MTIP/MEIP */
	uint64_t mip_seip_hw; /* RV_MIP_SEIP when the board's S external line is high */
	uint64_t mtvec, mscratch, mepc, mcause, mtval;
	uint64_t stvec, sscratch, sepc, scause, stval;
	uint64_t satp, mcounteren, scounteren, menvcfg, senvcfg, mcountinhibit;
	uint64_t cycle_offset;   /* mcycle = retired instructions + cycle_offset */
	uint64_t instret_offset; /* minstret = retired instructions + instret_offset */
	uint8_t pmpcfg[64];
	uint64_t pmpaddr[64];
	unsigned max_satp_mode;
	bool pause_yields;      /* rv_cpu_config.pause_yields */
	bool wfi_naps;          /* rv_cpu_config.wfi_naps */
	unsigned idle_amos;     /* AMOs in a row that changed nothing (mmu.c: a poll) */
	bool tlb_has_superpage; /* a superpage piece is cached: sfence.vma vaddr flushes all */
	/* The U/S entries filled since the last full flush, as (table << RV_TLB_BITS | slot);
	 * tlb_log_n > RV_TLB_LOG once more were filled (a full flush then clears every table).
	 * Linux without ASIDs flushes at every switch of address space, mostly with a few
	 * dozen entries in use: clearing those beats clearing three whole tables. */
	uint16_t tlb_log[RV_TLB_LOG];
	unsigned tlb_log_n;

	/* Board */
	unsigned hartid;
	struct vm_mem *mem;
	struct bus *mmio;
	uint64_t (*rdtime)(void *opaque);
	void *opaque;
	char fatal_reason[160];

	/* The decode memo, allocated zeroed apart from the hart: a zeroed entry is a valid
	 * memo of raw 0 (an illegal instruction), and pages never touched stay unresident.
	 * Harts run on ONE thread may share it (rv_cpu_config.share_decode_cache_with):
	 * entries are pure functions of their raw bits, but are rewritten in place. */
	struct rv_insn *icache;
	struct rv_memo *memo;

	struct rv_tlb_entry tlb[RV_MMU_COUNT][RV_TLB_SIZE];
	/* Decode of an instruction in the last halfword of a page ([0]; NEXT() may step
	 * past it without using the result). */
	struct rv_insn tmp_insn[3];
	/* Translator only (allocated with the hart when it has one): the inline caches of
	 * translated loads, RV_JIT_IC_SIZE entries (jit/jit.h). */
	struct rv_ic_entry {
		uint64_t tag, addend;
	} ic[];
};

#define RV_JIT_IC_SIZE 8192

/* ---- exec.c: the interpreter; jit/: the translator ---- */
enum rv_exit rv_interp_run(struct rv_cpu *cpu, uint64_t budget);
enum rv_exit rv_jit_run(struct rv_cpu *cpu, uint64_t budget);
struct rv_jit_hart *rv_jit_hart_new(struct rv_jit *jit, struct rv_cpu *cpu);
void rv_jit_hart_free(struct rv_jit_hart *jh);
/* Point cpu->jc/jc_salt at the jump cache of the hart's current privilege. */
void rv_jit_hart_set_ctx(struct rv_jit_hart *jh);
/* The hart's TLB was flushed: forget what its jump caches know of virtual pcs. */
void rv_jit_hart_tlb_flushed(struct rv_jit_hart *jh);
void rv_jit_hart_reset(struct rv_jit_hart *jh);
/* True while the guest page at host address host holds translated code. */
bool rv_jit_page_has_code(const struct rv_jit *jit, const void *host);
struct rv_jit *rv_jit_of(const struct rv_jit_hart *jh);

/* ---- cpu.c ---- */
/* Recompute dtlb/itlb after priv, MPRV, MPP or SUM changed. */
void rv_update_mmu_ctx(struct rv_cpu *cpu);
/*
 * The kick protocol (docs/threading.md, "Kick"). rv_kick(), from any thread,
 * makes the run loop look at events soon: whoever changes mip or exit_request
 * stores it first (sequentially consistent) and kicks after. The run loop
 * reads cpu->stop with rv_stop() (a plain load on x86-64) at taken branches,
 * page crossings and block ends, and calls rv_check_events() once
 * instret >= stop; that function re-arms stop and re-reads the events after
 * it (Dekker), so no kick is lost.
 */
static inline void rv_kick(struct rv_cpu *cpu)
{
	__atomic_store_n(&cpu->stop, 0, __ATOMIC_SEQ_CST);
}
static inline uint64_t rv_stop(const struct rv_cpu *cpu)
{
	return __atomic_load_n(&cpu->stop, __ATOMIC_RELAXED);
}
/* mip as the hart sees it: the software bits and the board's SEIP line. */
static inline uint64_t rv_mip(const struct rv_cpu *cpu)
{
	return __atomic_load_n(&cpu->mip, __ATOMIC_SEQ_CST) |
	       __atomic_load_n(&cpu->mip_seip_hw, __ATOMIC_SEQ_CST);
}
/* mip = (mip & ~mask) | (value & mask), atomic against rv_cpu_set_irq() on other threads;
 * returns the old mip (without mip_seip_hw). Does not kick. */
static inline uint64_t rv_mip_update(struct rv_cpu *cpu, uint64_t mask, uint64_t value)
{
	uint64_t old = __atomic_load_n(&cpu->mip, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(&cpu->mip, &old, (old & ~mask) | (value & mask), true,
	                                    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	return old;
}
/* Publish the retired count (the owner's only way to write cpu->instret). */
static inline void rv_set_instret(struct rv_cpu *cpu, uint64_t n)
{
	__atomic_store_n(&cpu->instret, n, __ATOMIC_RELAXED);
}

/* `pause` (fence w, 0), whose imm is RV_FENCE_PAUSE: a spin-wait hint. Also taken after
 * RV_IDLE_AMOS_BEFORE_PAUSE AMOs in a row that left memory unchanged (a poll). */
#define RV_IDLE_AMOS_BEFORE_PAUSE 64
void rv_pause(struct rv_cpu *cpu);

/* ---- trap.c ---- */
/* Record an exception for the run loop; always returns false (for `return rv_raise(...)`). */
static inline bool rv_raise(struct rv_cpu *cpu, uint64_t cause, uint64_t tval)
{
	cpu->exc_cause = cause;
	cpu->exc_tval = tval;
	return false;
}
/* Enter the trap cpu->exc_cause/exc_tval (or interrupt if cause has bit 63) taken at cpu->pc. */
void rv_trap_enter(struct rv_cpu *cpu, uint64_t cause, uint64_t tval);
/* The interrupt to take now (cause with bit 63 set), or 0. */
uint64_t rv_pending_interrupt(const struct rv_cpu *cpu);
/*
 * The event check, shared by the interpreter (its `check:` label) and the
 * translator's dispatcher; call it with cpu->pc and cpu->instret current, when
 * instret >= rv_stop(cpu) or after anything that may have enabled an
 * interrupt. In order: an exit request (rv_cpu_request_exit) ends the run with
 * RV_EXIT_HALTED; a pending, enabled interrupt is taken (rv_trap_enter: pc,
 * priv and the TLB pointers change); the budget (stop_budget) ends the run
 * with RV_EXIT_BUDGET; otherwise stop is re-armed to stop_budget and, after a
 * sequentially consistent fence, exit_request and mip are read again (the
 * Dekker re-check against a concurrent kick), looping if either changed.
 * Returns true to go on at cpu->pc (reload every local derived from pc, priv
 * or the TLB), false to leave rv_cpu_run() with *why; in both cases cpu->pc
 * may have changed (an interrupt taken before the budget ran out), so the
 * caller must not write back a pc it kept from before the call.
 */
bool rv_check_events(struct rv_cpu *cpu, enum rv_exit *why);
bool rv_mret(struct rv_cpu *cpu);
bool rv_sret(struct rv_cpu *cpu);
/* wfi: false = exception raised; *sleep set when the hart should leave the loop. */
bool rv_wfi(struct rv_cpu *cpu, bool *sleep);
bool rv_sfence_vma(struct rv_cpu *cpu, uint64_t va, unsigned rs1);

/* ---- csr.c ---- */
/*
 * Execute a CSR instruction: op is RV_OP_CSRRW/S/C (immediate forms have been
 * turned into their register forms with the value in src). write/read say
 * whether the instruction writes/reads the CSR (rs1 != x0, rd != x0 rules).
 */
bool rv_csr_access(struct rv_cpu *cpu, unsigned csr, unsigned op, uint64_t src, bool write,
                   uint64_t *old);
/* Execute the decoded CSR instruction d (rd written); false = illegal (nothing raised). */
bool rv_csr_exec(struct rv_cpu *cpu, const struct rv_insn *d);
uint64_t rv_mstatus_read(const struct rv_cpu *cpu);

/* ---- mmu.c ---- */
void rv_tlb_flush_all(struct rv_cpu *cpu);
void rv_tlb_flush_va(struct rv_cpu *cpu, uint64_t va);
/*
 * Translate va for an access in the given MMU context: fills the TLB entry and
 * returns it, or NULL with the exception raised.
 */
struct rv_tlb_entry *rv_tlb_fill(struct rv_cpu *cpu, uint64_t va, enum rv_access acc,
                                 enum rv_mmu_idx idx);
/* Slow-path accesses (misaligned, devices, TLB misses): false = exception raised. */
bool rv_load_slow(struct rv_cpu *cpu, uint64_t va, unsigned size, uint64_t *val);
bool rv_store_slow(struct rv_cpu *cpu, uint64_t va, unsigned size, uint64_t val);
/* Host pointer for an aligned, writable RAM word (AMO/LR/SC), or NULL with exception raised. */
void *rv_amo_ptr(struct rv_cpu *cpu, uint64_t va, unsigned size, enum rv_access acc);
/* Host pointer to the start of the page holding pc, for instruction fetch. */
const uint8_t *rv_fetch_page(struct rv_cpu *cpu, uint64_t pc);
bool rv_amo(struct rv_cpu *cpu, const struct rv_insn *d);

/* ---- fpu.c ---- */
/* Execute one F/D computational instruction (not loads/stores); false = exception. */
bool rv_fp_exec(struct rv_cpu *cpu, const struct rv_insn *d);
/* Fold the host's FP flags into fflags and restore the host's default FP state. */
void rv_fp_quiesce(struct rv_cpu *cpu);
/* Fold the host's FP flags into fflags (before fflags is read or written). */
void rv_fp_sync_flags(struct rv_cpu *cpu);
/* True when the host is in frm's rounding mode (RNE, RTZ, RDN or RUP) with its flags
 * accumulating into fflags: then a host add, sub, mul, div or sqrt with the dynamic
 * rounding mode gives exactly the interpreter's result and flags (the translator). */
bool rv_fp_host_matches_frm(const struct rv_cpu *cpu);

static inline enum rv_mmu_idx rv_mmu_idx_for(unsigned priv, uint64_t mstatus)
{
	if (priv == RV_PRIV_M)
		return RV_MMU_M;
	if (priv == RV_PRIV_U)
		return RV_MMU_U;
	return (mstatus & MSTATUS_SUM) ? RV_MMU_S_SUM : RV_MMU_S;
}

#endif
