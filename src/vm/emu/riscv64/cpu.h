/* SPDX-License-Identifier: MIT */
/*
 * The riscv64 software CPU: one RV64IMAFDC hart (Zicsr, Zifencei, privileged
 * spec 1.12 with M, S and U modes, Sv39/Sv48), as seen by a board.
 *
 * Who calls what, on which thread (docs/threading.md is the full contract):
 *   - A hart belongs to one thread at a time, its "owner": the board runs
 *     each hart on a thread of its own (or several harts round-robin on one
 *     thread, as rv-run does). rv_cpu_run(), rv_cpu_reset(), the register
 *     accessors, rv_cpu_interrupt_pending(), rv_cpu_describe() and
 *     rv_cpu_free() are for the owner only (or for another thread while the
 *     owner is parked, with a lock ordering the two).
 *   - rv_cpu_set_irq(), rv_cpu_request_exit() and rv_cpu_instret() are safe
 *     from ANY thread at any time, including from callbacks during
 *     rv_cpu_run() of this or another hart (a store to the CLINT raising a
 *     hart's MSIP). The running hart notices within one taken branch or page
 *     crossing (the kick protocol, rv.h); waking a hart that sleeps in wfi is
 *     the board's business.
 *   - During rv_cpu_run() the hart calls back into the board only through
 *     cfg->mmio (bus_read/bus_write for every physical access outside RAM)
 *     and cfg->rdtime (reads of the `time` CSR); the board takes whatever
 *     lock its devices need inside those (the machine lock, loop.h).
 *   - Physical accesses inside cfg->mem's RAM go straight to host memory,
 *     with RVWMO kept on the host's TSO (guest-ram.h): AMOs are host atomic
 *     read-modify-writes, `fence` with W before and R after is a host full
 *     fence. Other harts and devices may write RAM at any time.
 *
 * Instruction cache coherence: the hart never needs to be told about stores.
 * Instructions are fetched from host memory on every execution; decoded
 * instructions are only memoized, keyed by their raw bits, which are compared
 * with the bytes in RAM each time (see decode.h). A store by the hart itself,
 * another hart, or a device DMA into a code page is therefore seen by the very
 * next fetch. fence.i is accepted and needs no work.
 *
 * LR/SC: lr records the address, size and the value it loaded; sc stores with
 * a host compare-and-swap from that value, so a store by another hart or a
 * device that changed the word in between makes it fail (one that wrote the
 * same value back is not seen, which RVWMO allows). The reservation is also
 * dropped by every trap, xRET, sc, MMIO access and return from rv_cpu_run();
 * an SC may therefore fail spuriously, which the spec allows.
 *
 * PMP: pmpcfg0..15 (even ones) and pmpaddr0..63 are stored and read back
 * (WARL, 4-byte granularity) so firmware can probe them; they are not enforced.
 *
 * Other implementation choices (all allowed by the specs): misaligned loads
 * and stores to RAM are done in hardware (to devices, and misaligned AMOs or
 * AMOs to devices, they raise access faults or address-misaligned
 * exceptions); A/D bits are set by the page walker; satp has no ASID bits;
 * mhpmcounter3..31/mhpmevent3..31 read 0; mcountinhibit is stored but not
 * honoured; mcycle counts retired instructions; there is no Sstc, Svpbmt,
 * Svnapot, H or V (their CSRs and encodings raise illegal instructions, and
 * reserved PTE bits raise page faults). The riscv,isa string for the device
 * tree: "rv64imafdc_zicsr_zifencei_zihintpause" (pause is a hint: Linux's
 * cpu_relax() uses it only when the tree says so, and a hart thread yields
 * the host CPU on it); mmu-type "riscv,sv48" (or sv39 when max_satp_mode
 * says so).
 */
#ifndef VK_VM_EMU_RISCV64_CPU_H
#define VK_VM_EMU_RISCV64_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "common/error.h"

struct vm_mem;
struct bus;
struct rv_cpu;
struct rv_jit;
struct vm_state_buf;
struct vm_state_rd;

/* Interrupt bits of mip/mie, for rv_cpu_set_irq(). */
#define RV_MIP_SSIP (1ull << 1)
#define RV_MIP_MSIP (1ull << 3)
#define RV_MIP_STIP (1ull << 5)
#define RV_MIP_MTIP (1ull << 7)
#define RV_MIP_SEIP (1ull << 9)
#define RV_MIP_MEIP (1ull << 11)

/* satp modes, for rv_cpu_config.max_satp_mode. */
#define RV_SATP_MODE_SV39 8
#define RV_SATP_MODE_SV48 9

struct rv_cpu_config {
	unsigned hartid;                  /* mhartid */
	struct vm_mem *mem;               /* RAM; must outlive the hart */
	struct bus *mmio;                 /* every other physical address */
	uint64_t (*rdtime)(void *opaque); /* `time` CSR: CLINT mtime (10 MHz); NULL reads 0 */
	void *opaque;                     /* for rdtime */
	unsigned max_satp_mode;           /* RV_SATP_MODE_SV39 or _SV48; 0 means Sv48 */
	/* `pause` (Zihintpause, in Linux's cpu_relax()), and a wfi that cannot wait because an
	 * interrupt is pending but globally disabled, yield the host CPU (sched_yield):
	 * for harts on threads of their own, whose spin-wait may be waiting for a hart
	 * that waits for a host core. Not for harts sharing one thread. */
	bool pause_yields;
	/* A wfi in M-mode with interrupts globally off can take no interrupt, so when one is
	 * already pending it is a poll: firmware waiting on memory with a stale interrupt
	 * pending (OpenSBI's harts waiting for an HSM start, whose IPI from cold boot it has
	 * not cleared yet). With this set, such a wfi ends the run with RV_EXIT_WFI like a
	 * sleeping one, and the board naps the hart until its interrupt lines change (or a
	 * short time passes) instead of letting it spin: for boards whose harts have threads
	 * of their own (riscv-harts.c, docs/threading.md). */
	bool wfi_naps;
	/* Optional: another hart of the same machine, run on the SAME thread, whose decode
	 * cache this one shares (less memory, and code decoded by one hart is ready for the
	 * others). The cache is freed with the last hart that uses it. Harts on different
	 * threads must not share it (entries are rewritten in place). */
	const struct rv_cpu *share_decode_cache_with;
	/* Optional: the machine's binary translator (rv_jit_new()); NULL interprets. */
	struct rv_jit *jit;
};

/*
 * The binary translator (jit/): guest code translated to x86-64 code, in a
 * code cache that all harts of a machine share. rv_cpu_run() of a hart
 * created with rv_cpu_config.jit runs translated code; the interpreter stays
 * the reference and runs what the translator does not take. Only on x86-64
 * hosts (rv_jit_supported()).
 *
 * Writes into guest RAM that do not come from the harts (device DMA, image
 * loaders) must be reported with rv_jit_note_write() (any thread; vm_mem's
 * write hook does it for writes through vm_mem), or the whole cache dropped
 * with rv_jit_flush(). rv_jit_flush() waits until every hart inside
 * rv_cpu_run() is parked outside translated code: call it while no hart runs
 * (a reset), or at least never with the machine lock held (a hart may be
 * waiting for that lock before it can park).
 */
bool rv_jit_supported(void);
/* cache_size: bytes of code memory (0: the default, 64 MiB). */
struct rv_jit *rv_jit_new(const struct vm_mem *mem, uint64_t cache_size, struct vk_error *err);
void rv_jit_free(struct rv_jit *jit);
void rv_jit_flush(struct rv_jit *jit);
void rv_jit_note_write(struct rv_jit *jit, const void *host, size_t len);
/* The same, in the shape of vm_mem.write_hook (opaque = the translator). */
void rv_jit_mem_write_hook(void *opaque, const void *host, size_t len);

struct rv_jit_stats {
	uint64_t blocks, guest_insns; /* translated */
	uint64_t code_bytes;          /* generated since the last flush */
	uint64_t cache_used, cache_size;
	uint64_t chained;          /* direct jumps patched to their target */
	uint64_t lookups, jc_hits; /* dispatcher look-ups, of which the jump cache answered */
	uint64_t flushes, invalidated;
};
void rv_jit_get_stats(struct rv_jit *jit, struct rv_jit_stats *st);

/* A new hart, reset to M-mode at pc 0. NULL with err set on failure. */
struct rv_cpu *rv_cpu_new(const struct rv_cpu_config *cfg, struct vk_error *err);
void rv_cpu_free(struct rv_cpu *cpu);

/* Power-on state: M-mode, mstatus/mie/mip clear, TLB empty, pc as given. */
void rv_cpu_reset(struct rv_cpu *cpu, uint64_t pc);

/* Integer registers x0..x31 (writes to x0 are ignored) and the pc. */
uint64_t rv_cpu_get_reg(const struct rv_cpu *cpu, unsigned reg);
void rv_cpu_set_reg(struct rv_cpu *cpu, unsigned reg, uint64_t value);
uint64_t rv_cpu_get_pc(const struct rv_cpu *cpu);
void rv_cpu_set_pc(struct rv_cpu *cpu, uint64_t pc);
/* Current privilege: 0 = U, 1 = S, 3 = M. */
unsigned rv_cpu_get_priv(const struct rv_cpu *cpu);

/*
 * Interrupt inputs from the board: mip_mask is any of RV_MIP_MSIP, _MTIP,
 * _MEIP (wired), _SEIP (the PLIC's S-mode context; ORed with the bit
 * M-mode software may write). STIP/SSIP are accepted too for boards that
 * drive them. Level-sensitive: call with false to lower. Safe from any
 * thread (see above). Returns true when mip changed (the hart was kicked).
 */
bool rv_cpu_set_irq(struct rv_cpu *cpu, uint64_t mip_mask, bool level);

enum rv_exit {
	RV_EXIT_BUDGET, /* ran the whole budget (or close to it) */
	RV_EXIT_WFI,    /* executed wfi with no enabled interrupt pending; pc is past it */
	RV_EXIT_HALTED, /* rv_cpu_request_exit() was called */
	RV_EXIT_FATAL,  /* the hart cannot go on: rv_cpu_fatal_reason() says why */
};

/*
 * Run at most about `budget` instructions (the hart may stop a few
 * instructions early or late: it checks at taken branches and page
 * crossings; a trap costs the budget one instruction, so a loop of traps
 * that retires nothing returns too). Returns early on wfi, on
 * rv_cpu_request_exit() or on a fatal condition. Guest faults (illegal
 * instructions, bad addresses, garbage code) are guest-visible traps, never
 * fatal; the only fatal condition is a hart whose M-mode trap handler cannot
 * run at all (its vector cannot be fetched, or its first instruction faults:
 * an endless loop of traps).
 */
enum rv_exit rv_cpu_run(struct rv_cpu *cpu, uint64_t budget);

/* Make rv_cpu_run() return RV_EXIT_HALTED soon (any thread); cleared when it does. */
void rv_cpu_request_exit(struct rv_cpu *cpu);

/* True when an interrupt is pending and locally enabled (mip & mie): the
 * condition that ends a wfi, whatever the global enables say. */
bool rv_cpu_interrupt_pending(const struct rv_cpu *cpu);

/* Instructions retired since the hart was created (monotonic; unlike minstret,
 * which the guest may write). Any thread; as of the owner's last sync. */
uint64_t rv_cpu_instret(const struct rv_cpu *cpu);

/* A multi-line description of the hart's state (pc, privilege, trap CSRs,
 * registers) for error reports and debugging; returns what snprintf would. */
int rv_cpu_describe(const struct rv_cpu *cpu, char *buf, size_t size);

/* Why the last rv_cpu_run() returned RV_EXIT_FATAL: a sentence. */
const char *rv_cpu_fatal_reason(const struct rv_cpu *cpu);

/*
 * Saving and restoring (cpu-state.c), by the owner or while the hart is parked
 * outside rv_cpu_run(): the architectural state as a DEVICE record payload of
 * the machine-state format (vm/state.h), in version RV_CPU_STATE_VERSION.
 * rv_cpu_load() checks every value (-EINVAL with a sentence), drops every
 * cache (TLB, the translator's) and leaves the hart ready to run; the board
 * re-drives the interrupt lines it owns (the PLIC's SEIP).
 */
#define RV_CPU_STATE_VERSION 1
void rv_cpu_save(const struct rv_cpu *cpu, struct vm_state_buf *b);
int rv_cpu_load(struct rv_cpu *cpu, struct vm_state_rd *r, uint32_t version,
                struct vk_error *err) VK_MUST_CHECK;

/*
 * The dirty log of live migration (vm/mem.h): while cfg->mem's log runs, a TLB
 * fill gives write permission on the fast path only for pages already logged;
 * the first store to any other page takes the slow path, which logs it. Call
 * this with the hart parked after every harvest of the log (and once when it
 * starts): it withdraws that permission from every entry the hart holds.
 */
void rv_cpu_track_dirty(struct rv_cpu *cpu);

#endif
