/* SPDX-License-Identifier: MIT */
/*
 * A hart's architectural state as a DEVICE record of the machine-state format
 * (state.h), and the soft TLB's part in the dirty log of live migration.
 *
 * Saved: x1..x31, pc, privilege, f0..f31, fflags, frm, every CSR the hart
 * implements, the retired-instruction count and the counter offsets, PMP.
 * Not saved, because a restored hart rebuilds it: the soft TLB, the decode
 * memo, the translator's jump and inline caches (a restored machine starts
 * with an empty code cache: nothing points into the old one), the LR/SC
 * reservation (an SC after a restore fails, as the spec allows a spurious
 * failure), and mip's SEIP input (the PLIC drives it again when it loads).
 *
 * Loading checks what the rest of the CPU relies on: a privilege that
 * exists, a satp mode this hart offers, mstatus/mie/mideleg/medeleg/mip bits
 * that software could have written, frm and fflags in range, misa and mhartid
 * equal to this hart's. A file that breaks one of these is refused, never
 * masked into shape.
 */
#include <errno.h>

#include "vm/mem.h"
#include "vm/state.h"
#include "vm/emu/riscv64/rv.h"

/* mstatus bits a hart may hold: the writable ones and the fixed 64-bit XLEN fields. */
#define MSTATUS_VALID (MSTATUS_WRITABLE | MSTATUS_UXL | MSTATUS_SXL)

void rv_cpu_save(const struct rv_cpu *cpu, struct vm_state_buf *b)
{
	vm_state_put_u32(b, cpu->hartid);
	for (unsigned i = 1; i < 32; i++)
		vm_state_put_u64(b, cpu->x[i]);
	vm_state_put_u64(b, cpu->pc);
	vm_state_put_u8(b, (uint8_t)cpu->priv);
	for (unsigned i = 0; i < 32; i++)
		vm_state_put_u64(b, cpu->f[i]);
	/* Parked outside rv_cpu_run(): the run loop folded the host's FP flags in (quiesce). */
	vm_state_put_u8(b, (uint8_t)cpu->fflags);
	vm_state_put_u8(b, (uint8_t)cpu->frm);
	vm_state_put_u64(b, cpu->mstatus);
	vm_state_put_u64(b, cpu->misa);
	vm_state_put_u64(b, cpu->medeleg);
	vm_state_put_u64(b, cpu->mideleg);
	vm_state_put_u64(b, cpu->mie);
	vm_state_put_u64(b, __atomic_load_n(&cpu->mip, __ATOMIC_SEQ_CST));
	vm_state_put_u64(b, cpu->mtvec);
	vm_state_put_u64(b, cpu->mscratch);
	vm_state_put_u64(b, cpu->mepc);
	vm_state_put_u64(b, cpu->mcause);
	vm_state_put_u64(b, cpu->mtval);
	vm_state_put_u64(b, cpu->stvec);
	vm_state_put_u64(b, cpu->sscratch);
	vm_state_put_u64(b, cpu->sepc);
	vm_state_put_u64(b, cpu->scause);
	vm_state_put_u64(b, cpu->stval);
	vm_state_put_u64(b, cpu->satp);
	vm_state_put_u64(b, cpu->mcounteren);
	vm_state_put_u64(b, cpu->scounteren);
	vm_state_put_u64(b, cpu->menvcfg);
	vm_state_put_u64(b, cpu->senvcfg);
	vm_state_put_u64(b, cpu->mcountinhibit);
	vm_state_put_u64(b, rv_cpu_instret(cpu));
	vm_state_put_u64(b, cpu->cycle_offset);
	vm_state_put_u64(b, cpu->instret_offset);
	vm_state_put_bytes(b, cpu->pmpcfg, sizeof(cpu->pmpcfg));
	for (unsigned i = 0; i < 64; i++)
		vm_state_put_u64(b, cpu->pmpaddr[i]);
}

/* -EINVAL naming the field when bad. */
static int check(bool ok, const char *field, uint64_t v, struct vk_error *err)
{
	if (ok)
		return 0;
	return vk_error_set(err, EINVAL, "%s 0x%llx is not a value this hart can hold", field,
	                    (unsigned long long)v);
}

int rv_cpu_load(struct rv_cpu *cpu, struct vm_state_rd *r, uint32_t version, struct vk_error *err)
{
	uint64_t x[32], f[32], mip, satp, mstatus, instret, v;
	uint8_t pmpcfg[64];
	unsigned priv, fflags, frm, mode;
	uint32_t hartid;
	int rc = 0;

	(void)version; /* 1 is the only one */
	hartid = vm_state_get_u32(r);
	for (unsigned i = 1; i < 32; i++)
		x[i] = vm_state_get_u64(r);
	cpu->pc = vm_state_get_u64(r);
	priv = vm_state_get_u8(r);
	for (unsigned i = 0; i < 32; i++)
		f[i] = vm_state_get_u64(r);
	fflags = vm_state_get_u8(r);
	frm = vm_state_get_u8(r);
	mstatus = vm_state_get_u64(r);
	v = vm_state_get_u64(r); /* misa */
	if (!r->bad && v != cpu->misa)
		return check(false, "misa", v, err);
	cpu->medeleg = vm_state_get_u64(r);
	cpu->mideleg = vm_state_get_u64(r);
	cpu->mie = vm_state_get_u64(r);
	mip = vm_state_get_u64(r);
	cpu->mtvec = vm_state_get_u64(r);
	cpu->mscratch = vm_state_get_u64(r);
	cpu->mepc = vm_state_get_u64(r);
	cpu->mcause = vm_state_get_u64(r);
	cpu->mtval = vm_state_get_u64(r);
	cpu->stvec = vm_state_get_u64(r);
	cpu->sscratch = vm_state_get_u64(r);
	cpu->sepc = vm_state_get_u64(r);
	cpu->scause = vm_state_get_u64(r);
	cpu->stval = vm_state_get_u64(r);
	satp = vm_state_get_u64(r);
	cpu->mcounteren = vm_state_get_u64(r);
	cpu->scounteren = vm_state_get_u64(r);
	cpu->menvcfg = vm_state_get_u64(r);
	cpu->senvcfg = vm_state_get_u64(r);
	cpu->mcountinhibit = vm_state_get_u64(r);
	instret = vm_state_get_u64(r);
	cpu->cycle_offset = vm_state_get_u64(r);
	cpu->instret_offset = vm_state_get_u64(r);
	vm_state_get_bytes(r, pmpcfg, sizeof(pmpcfg));
	for (unsigned i = 0; i < 64; i++)
		cpu->pmpaddr[i] = vm_state_get_u64(r);
	if (r->bad)
		return vk_error_set(err, EINVAL, "state of hart %u is truncated", cpu->hartid);

	mode = (unsigned)(satp >> 60);
	if ((rc = check(hartid == cpu->hartid, "mhartid", hartid, err)) < 0 ||
	    (rc = check(priv == RV_PRIV_U || priv == RV_PRIV_S || priv == RV_PRIV_M, "privilege",
	                priv, err)) < 0 ||
	    (rc = check(fflags < 32, "fflags", fflags, err)) < 0 ||
	    (rc = check(frm < 8, "frm", frm, err)) < 0 ||
	    (rc = check(!(mstatus & ~MSTATUS_VALID) &&
	                        (mstatus & (MSTATUS_UXL | MSTATUS_SXL)) ==
	                                (MSTATUS_UXL_64 | MSTATUS_SXL_64) &&
	                        ((mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) != 2,
	                "mstatus", mstatus, err)) < 0 ||
	    (rc = check(!(cpu->medeleg & ~MEDELEG_WRITABLE), "medeleg", cpu->medeleg, err)) < 0 ||
	    (rc = check(!(cpu->mideleg & ~RV_MIP_S), "mideleg", cpu->mideleg, err)) < 0 ||
	    (rc = check(!(cpu->mie & ~RV_MIP_ALL), "mie", cpu->mie, err)) < 0 ||
	    (rc = check(!(mip & ~RV_MIP_ALL), "mip", mip, err)) < 0 ||
	    (rc = check(mode == 0 ? satp == 0
	                          : (mode == RV_SATP_MODE_SV39 ||
	                             (mode == RV_SATP_MODE_SV48 &&
	                              cpu->max_satp_mode >= RV_SATP_MODE_SV48)) &&
	                                    !(satp & ~((0xfull << 60) | ((1ull << 44) - 1))),
	                "satp", satp, err)) < 0)
		return vk_error_prefix(err, "hart %u", cpu->hartid);
	for (unsigned i = 0; i < 64; i++)
		if ((rc = check(!(cpu->pmpaddr[i] & ~PMPADDR_MASK), "pmpaddr", cpu->pmpaddr[i],
		                err)) < 0)
			return vk_error_prefix(err, "hart %u", cpu->hartid);

	for (unsigned i = 1; i < 32; i++)
		cpu->x[i] = x[i];
	cpu->x[0] = 0;
	for (unsigned i = 0; i < 32; i++)
		cpu->f[i] = f[i];
	cpu->priv = priv;
	cpu->fflags = fflags;
	cpu->frm = frm;
	cpu->host_rm = -1;
	cpu->mstatus = mstatus;
	cpu->satp = satp;
	memcpy(cpu->pmpcfg, pmpcfg, sizeof(pmpcfg));
	__atomic_store_n(&cpu->mip, mip, __ATOMIC_SEQ_CST);
	rv_set_instret(cpu, instret);
	cpu->resv_valid = false;
	cpu->fatal = false;
	cpu->fatal_reason[0] = '\0';
	cpu->idle_amos = 0;
	__atomic_store_n(&cpu->exit_request, false, __ATOMIC_SEQ_CST);
	/* Nothing cached survives: every TLB table, the translator's per-hart caches. */
	for (unsigned i = 0; i < RV_MMU_COUNT; i++)
		rv_tlb_table_clear(cpu->tlb[i]);
	cpu->tlb_log_n = 0;
	cpu->tlb_has_superpage = false;
	if (cpu->jit)
		rv_jit_hart_reset(cpu->jit);
	cpu->jit_fp_ready = false;
	rv_update_mmu_ctx(cpu);
	rv_kick(cpu);
	return 0;
}

void rv_cpu_track_dirty(struct rv_cpu *cpu)
{
	for (unsigned m = 0; m < RV_MMU_COUNT; m++) {
		for (unsigned i = 0; i < RV_TLB_SIZE; i++) {
			struct rv_tlb_entry *e = &cpu->tlb[m][i];
			uint64_t tag = rv_tlb_tag_w(e);

			if (tag == RV_TLB_INVALID || (tag & RV_TLB_IO))
				continue;
			__atomic_fetch_or(&e->tag_w, RV_TLB_NOTDIRTY, __ATOMIC_SEQ_CST);
		}
	}
}
