/* SPDX-License-Identifier: MIT */
/* The riscv64 hart's life cycle and the board-facing accessors of cpu.h. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm/emu/riscv64/rv.h"

#define MISA_RV64   (2ull << 62)
#define MISA_EXT(c) (1ull << ((c) - 'A'))

struct rv_cpu *rv_cpu_new(const struct rv_cpu_config *cfg, struct vk_error *err)
{
	struct rv_cpu *cpu;
	size_t size;

	if (!cfg->mem) {
		vk_error_set(err, EINVAL, "riscv64 hart %u: no guest RAM", cfg->hartid);
		return NULL;
	}
	if (cfg->max_satp_mode != 0 && cfg->max_satp_mode != RV_SATP_MODE_SV39 &&
	    cfg->max_satp_mode != RV_SATP_MODE_SV48) {
		vk_error_set(err, EINVAL, "riscv64 hart %u: unsupported MMU mode %u", cfg->hartid,
		             cfg->max_satp_mode);
		return NULL;
	}
	size = sizeof(*cpu) + (cfg->jit ? RV_JIT_IC_SIZE * sizeof(cpu->ic[0]) : 0);
	cpu = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!cpu) {
		vk_error_errno(err, ENOMEM, "riscv64 hart %u", cfg->hartid);
		return NULL;
	}
	memset(cpu, 0, sizeof(*cpu));
	if (cfg->share_decode_cache_with) {
		cpu->memo = cfg->share_decode_cache_with->memo;
	} else {
		cpu->memo = calloc(1, sizeof(*cpu->memo));
		if (!cpu->memo) {
			free(cpu);
			vk_error_errno(err, ENOMEM, "riscv64 hart %u", cfg->hartid);
			return NULL;
		}
	}
	cpu->memo->refs++;
	cpu->icache = cpu->memo->entries;
	cpu->hartid = cfg->hartid;
	cpu->mem = cfg->mem;
	cpu->mmio = cfg->mmio;
	cpu->rdtime = cfg->rdtime;
	cpu->opaque = cfg->opaque;
	cpu->max_satp_mode = cfg->max_satp_mode ? cfg->max_satp_mode : RV_SATP_MODE_SV48;
	cpu->pause_yields = cfg->pause_yields;
	cpu->wfi_naps = cfg->wfi_naps;
	if (cfg->jit) {
		cpu->jit = rv_jit_hart_new(cfg->jit, cpu);
		if (!cpu->jit) {
			vk_error_set(err, ENOMEM, "riscv64 hart %u: cannot join the translator",
			             cfg->hartid);
			rv_cpu_free(cpu);
			return NULL;
		}
	}
	rv_cpu_reset(cpu, 0);
	return cpu;
}

void rv_cpu_free(struct rv_cpu *cpu)
{
	if (!cpu)
		return;
	rv_jit_hart_free(cpu->jit);
	if (--cpu->memo->refs == 0)
		free(cpu->memo);
	free(cpu);
}

void rv_cpu_reset(struct rv_cpu *cpu, uint64_t pc)
{
	memset(cpu->x, 0, sizeof(cpu->x));
	memset(cpu->f, 0, sizeof(cpu->f));
	cpu->pc = pc;
	cpu->priv = RV_PRIV_M;
	__atomic_store_n(&cpu->exit_request, false, __ATOMIC_SEQ_CST);
	cpu->fatal = false;
	cpu->fatal_reason[0] = '\0';
	cpu->fflags = cpu->frm = 0;
	cpu->host_rm = -1;
	cpu->resv_valid = false;
	cpu->mstatus = MSTATUS_UXL_64 | MSTATUS_SXL_64;
	cpu->misa = MISA_RV64 | MISA_EXT('A') | MISA_EXT('C') | MISA_EXT('D') | MISA_EXT('F') |
	            MISA_EXT('I') | MISA_EXT('M') | MISA_EXT('S') | MISA_EXT('U');
	cpu->medeleg = cpu->mideleg = cpu->mie = 0;
	__atomic_store_n(&cpu->mip, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cpu->mip_seip_hw, 0, __ATOMIC_SEQ_CST);
	cpu->mtvec = cpu->mscratch = cpu->mepc = cpu->mcause = cpu->mtval = 0;
	cpu->stvec = cpu->sscratch = cpu->sepc = cpu->scause = cpu->stval = 0;
	cpu->satp = cpu->mcounteren = cpu->scounteren = cpu->menvcfg = cpu->senvcfg = 0;
	cpu->mcountinhibit = 0;
	cpu->cycle_offset = cpu->instret_offset = 0;
	memset(cpu->pmpcfg, 0, sizeof(cpu->pmpcfg));
	memset(cpu->pmpaddr, 0, sizeof(cpu->pmpaddr));

	for (unsigned i = 0; i < RV_MMU_COUNT; i++)
		rv_tlb_table_clear(cpu->tlb[i]);
	cpu->tlb_log_n = 0;
	cpu->tlb_has_superpage = false;
	/* The decode memo needs no reset: its entries only depend on their raw bits. */
	if (cpu->jit)
		rv_jit_hart_reset(cpu->jit);
	rv_update_mmu_ctx(cpu);
	rv_kick(cpu);
}

void rv_pause(struct rv_cpu *cpu)
{
	/* The hart this one spins for may be a host thread waiting for a core. */
	if (cpu->pause_yields)
		sched_yield();
}

void rv_update_mmu_ctx(struct rv_cpu *cpu)
{
	unsigned dpriv = cpu->priv;

	/* MPRV: M-mode loads and stores translate as if in MPP. */
	if (dpriv == RV_PRIV_M && (cpu->mstatus & MSTATUS_MPRV))
		dpriv = (unsigned)((cpu->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
	cpu->dtlb = cpu->tlb[rv_mmu_idx_for(dpriv, cpu->mstatus)];
	cpu->itlb = cpu->tlb[rv_mmu_idx_for(cpu->priv, cpu->mstatus & ~MSTATUS_SUM)];
	if (cpu->jit)
		rv_jit_hart_set_ctx(cpu->jit);
}

enum rv_exit rv_cpu_run(struct rv_cpu *cpu, uint64_t budget)
{
	return cpu->jit ? rv_jit_run(cpu, budget) : rv_interp_run(cpu, budget);
}

uint64_t rv_cpu_get_reg(const struct rv_cpu *cpu, unsigned reg)
{
	return reg < 32 ? cpu->x[reg] : 0;
}

void rv_cpu_set_reg(struct rv_cpu *cpu, unsigned reg, uint64_t value)
{
	if (reg > 0 && reg < 32)
		cpu->x[reg] = value;
}

uint64_t rv_cpu_get_pc(const struct rv_cpu *cpu)
{
	return cpu->pc;
}

void rv_cpu_set_pc(struct rv_cpu *cpu, uint64_t pc)
{
	cpu->pc = pc & ~1ull;
	rv_kick(cpu);
}

unsigned rv_cpu_get_priv(const struct rv_cpu *cpu)
{
	return cpu->priv;
}

bool rv_cpu_set_irq(struct rv_cpu *cpu, uint64_t mip_mask, bool level)
{
	bool changed = false;
	uint64_t bits;

	/* Store first, kick after (the kick protocol in rv.h). */
	if (mip_mask & RV_MIP_SEIP) {
		uint64_t v = level ? RV_MIP_SEIP : 0;
		changed = __atomic_exchange_n(&cpu->mip_seip_hw, v, __ATOMIC_SEQ_CST) != v;
	}
	bits = mip_mask & RV_MIP_ALL & ~RV_MIP_SEIP;
	if (bits) {
		uint64_t old = level ? __atomic_fetch_or(&cpu->mip, bits, __ATOMIC_SEQ_CST)
		                     : __atomic_fetch_and(&cpu->mip, ~bits, __ATOMIC_SEQ_CST);
		changed |= level ? (old & bits) != bits : (old & bits) != 0;
	}
	if (changed)
		rv_kick(cpu);
	return changed;
}

void rv_cpu_request_exit(struct rv_cpu *cpu)
{
	__atomic_store_n(&cpu->exit_request, true, __ATOMIC_SEQ_CST);
	rv_kick(cpu);
}

bool rv_cpu_interrupt_pending(const struct rv_cpu *cpu)
{
	return (rv_mip(cpu) & cpu->mie) != 0;
}

uint64_t rv_cpu_instret(const struct rv_cpu *cpu)
{
	return __atomic_load_n(&cpu->instret, __ATOMIC_RELAXED);
}

const char *rv_cpu_fatal_reason(const struct rv_cpu *cpu)
{
	return cpu->fatal ? cpu->fatal_reason : "";
}

int rv_cpu_describe(const struct rv_cpu *cpu, char *buf, size_t size)
{
	static const char *const abi[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
	                                    "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
	                                    "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
	                                    "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
	size_t n = 0;
	int r;

#define PUT(...)                                                                          \
	do {                                                                              \
		r = snprintf(buf + VK_MIN(n, size), size - VK_MIN(n, size), __VA_ARGS__); \
		if (r > 0)                                                                \
			n += (size_t)r;                                                   \
	} while (0)
	PUT("hart %u pc 0x%016llx priv %c instret %llu\n", cpu->hartid, (unsigned long long)cpu->pc,
	    "USHM"[cpu->priv & 3], (unsigned long long)cpu -> instret);
	PUT("mstatus 0x%016llx mcause 0x%llx mepc 0x%llx mtval 0x%llx mtvec 0x%llx\n",
	    (unsigned long long)rv_mstatus_read(cpu), (unsigned long long)cpu->mcause,
	    (unsigned long long)cpu->mepc, (unsigned long long)cpu->mtval,
	    (unsigned long long)cpu->mtvec);
	PUT("scause 0x%llx sepc 0x%llx stval 0x%llx stvec 0x%llx satp 0x%llx\n",
	    (unsigned long long)cpu->scause, (unsigned long long)cpu->sepc,
	    (unsigned long long)cpu->stval, (unsigned long long)cpu->stvec,
	    (unsigned long long)cpu->satp);
	PUT("mip 0x%llx mie 0x%llx mideleg 0x%llx medeleg 0x%llx\n",
	    (unsigned long long)rv_mip(cpu), (unsigned long long)cpu->mie,
	    (unsigned long long)cpu->mideleg, (unsigned long long)cpu->medeleg);
	for (unsigned i = 0; i < 32; i++)
		PUT("%4s 0x%016llx%s", abi[i], (unsigned long long)cpu->x[i],
		    i % 4 == 3 ? "\n" : " ");
#undef PUT
	return (int)n;
}
