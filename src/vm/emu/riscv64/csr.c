/* SPDX-License-Identifier: MIT */
/*
 * Control and status registers (privileged spec 1.12 chapter 2, 3.1, 4.1):
 * access rules, the WARL masks of every implemented CSR, the S-mode views of
 * M-mode state, counters. Any CSR not listed here raises an illegal
 * instruction: firmware (OpenSBI) probes optional CSRs by trapping, so this
 * switch is the exact list of what the hart has.
 */
#include "vm/emu/riscv64/rv.h"

enum {
	CSR_FFLAGS = 0x001,
	CSR_FRM = 0x002,
	CSR_FCSR = 0x003,
	CSR_CYCLE = 0xc00,
	CSR_TIME = 0xc01,
	CSR_INSTRET = 0xc02,
	CSR_HPMCOUNTER31 = 0xc1f,
	CSR_SSTATUS = 0x100,
	CSR_SIE = 0x104,
	CSR_STVEC = 0x105,
	CSR_SCOUNTEREN = 0x106,
	CSR_SENVCFG = 0x10a,
	CSR_SSCRATCH = 0x140,
	CSR_SEPC = 0x141,
	CSR_SCAUSE = 0x142,
	CSR_STVAL = 0x143,
	CSR_SIP = 0x144,
	CSR_SATP = 0x180,
	CSR_MVENDORID = 0xf11,
	CSR_MARCHID = 0xf12,
	CSR_MIMPID = 0xf13,
	CSR_MHARTID = 0xf14,
	CSR_MCONFIGPTR = 0xf15,
	CSR_MSTATUS = 0x300,
	CSR_MISA = 0x301,
	CSR_MEDELEG = 0x302,
	CSR_MIDELEG = 0x303,
	CSR_MIE = 0x304,
	CSR_MTVEC = 0x305,
	CSR_MCOUNTEREN = 0x306,
	CSR_MENVCFG = 0x30a,
	CSR_MCOUNTINHIBIT = 0x320,
	CSR_MHPMEVENT3 = 0x323,
	CSR_MHPMEVENT31 = 0x33f,
	CSR_MSCRATCH = 0x340,
	CSR_MEPC = 0x341,
	CSR_MCAUSE = 0x342,
	CSR_MTVAL = 0x343,
	CSR_MIP = 0x344,
	CSR_PMPCFG0 = 0x3a0,
	CSR_PMPCFG15 = 0x3af,
	CSR_PMPADDR0 = 0x3b0,
	CSR_PMPADDR63 = 0x3ef,
	CSR_MCYCLE = 0xb00,
	CSR_MINSTRET = 0xb02,
	CSR_MHPMCOUNTER3 = 0xb03,
	CSR_MHPMCOUNTER31 = 0xb1f,
};

#define SSTATUS_VIEW                                                                        \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS | \
	 MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)
#define PMP_L 0x80

uint64_t rv_mstatus_read(const struct rv_cpu *cpu)
{
	uint64_t s = cpu->mstatus;

	if ((s & MSTATUS_FS) == MSTATUS_FS)
		s |= MSTATUS_SD;
	return s;
}

/* Counter access below M: mcounteren, then scounteren for U. */
static bool counter_allowed(const struct rv_cpu *cpu, unsigned n)
{
	if (cpu->priv < RV_PRIV_M && !((cpu->mcounteren >> n) & 1))
		return false;
	if (cpu->priv < RV_PRIV_S && !((cpu->scounteren >> n) & 1))
		return false;
	return true;
}

static uint64_t read_time(struct rv_cpu *cpu)
{
	if (!cpu->rdtime)
		return 0;
	rv_fp_quiesce(cpu); /* leaving for the board */
	return cpu->rdtime(cpu->opaque);
}

/* cpu->instret counts the instruction being executed; counters read what retired before it. */
static uint64_t retired(const struct rv_cpu *cpu)
{
	return cpu->instret - 1;
}

static bool csr_read(struct rv_cpu *cpu, unsigned csr, uint64_t *val)
{
	bool fs_on = (cpu->mstatus & MSTATUS_FS) != 0;

	switch (csr) {
	case CSR_FFLAGS:
	case CSR_FRM:
	case CSR_FCSR:
		if (!fs_on)
			return false;
		rv_fp_sync_flags(cpu);
		*val = csr == CSR_FFLAGS ? cpu->fflags
		       : csr == CSR_FRM  ? cpu->frm
		                         : (cpu->frm << 5) | cpu->fflags;
		return true;
	case CSR_SSTATUS:
		*val = rv_mstatus_read(cpu) & SSTATUS_VIEW;
		return true;
	case CSR_SIE:
		*val = cpu->mie & cpu->mideleg;
		return true;
	case CSR_STVEC:
		*val = cpu->stvec;
		return true;
	case CSR_SCOUNTEREN:
		*val = cpu->scounteren;
		return true;
	case CSR_SENVCFG:
		*val = cpu->senvcfg;
		return true;
	case CSR_SSCRATCH:
		*val = cpu->sscratch;
		return true;
	case CSR_SEPC:
		*val = cpu->sepc;
		return true;
	case CSR_SCAUSE:
		*val = cpu->scause;
		return true;
	case CSR_STVAL:
		*val = cpu->stval;
		return true;
	case CSR_SIP:
		*val = rv_mip(cpu) & cpu->mideleg;
		return true;
	case CSR_SATP:
		if (cpu->priv == RV_PRIV_S && (cpu->mstatus & MSTATUS_TVM))
			return false;
		*val = cpu->satp;
		return true;
	case CSR_MVENDORID:
	case CSR_MARCHID:
	case CSR_MIMPID:
	case CSR_MCONFIGPTR:
		*val = 0;
		return true;
	case CSR_MHARTID:
		*val = cpu->hartid;
		return true;
	case CSR_MSTATUS:
		*val = rv_mstatus_read(cpu);
		return true;
	case CSR_MISA:
		*val = cpu->misa;
		return true;
	case CSR_MEDELEG:
		*val = cpu->medeleg;
		return true;
	case CSR_MIDELEG:
		*val = cpu->mideleg;
		return true;
	case CSR_MIE:
		*val = cpu->mie;
		return true;
	case CSR_MTVEC:
		*val = cpu->mtvec;
		return true;
	case CSR_MCOUNTEREN:
		*val = cpu->mcounteren;
		return true;
	case CSR_MENVCFG:
		*val = cpu->menvcfg;
		return true;
	case CSR_MCOUNTINHIBIT:
		*val = cpu->mcountinhibit;
		return true;
	case CSR_MSCRATCH:
		*val = cpu->mscratch;
		return true;
	case CSR_MEPC:
		*val = cpu->mepc;
		return true;
	case CSR_MCAUSE:
		*val = cpu->mcause;
		return true;
	case CSR_MTVAL:
		*val = cpu->mtval;
		return true;
	case CSR_MIP:
		*val = rv_mip(cpu);
		return true;
	case CSR_MCYCLE:
		*val = retired(cpu) + cpu->cycle_offset;
		return true;
	case CSR_MINSTRET:
		*val = retired(cpu) + cpu->instret_offset;
		return true;
	default:
		break;
	}
	if (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31) {
		unsigned n = csr - CSR_CYCLE;
		if (!counter_allowed(cpu, n))
			return false;
		*val = n == 0   ? retired(cpu) + cpu->cycle_offset
		       : n == 1 ? read_time(cpu)
		       : n == 2 ? retired(cpu) + cpu->instret_offset
		                : 0;
		return true;
	}
	if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
	    (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
		*val = 0; /* not implemented: read-only zero */
		return true;
	}
	if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
		unsigned n = csr - CSR_PMPCFG0;
		if (n & 1) /* RV64 has only the even pmpcfg registers */
			return false;
		memcpy(val, &cpu->pmpcfg[n * 4], 8);
		return true;
	}
	if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
		*val = cpu->pmpaddr[csr - CSR_PMPADDR0];
		return true;
	}
	return false;
}

static void write_mstatus(struct rv_cpu *cpu, uint64_t mask, uint64_t v)
{
	uint64_t old = cpu->mstatus, s;

	/* MPP is WARL: the reserved value 2 leaves the field unchanged. */
	if ((mask & MSTATUS_MPP) && ((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
		mask &= ~MSTATUS_MPP;
	s = (old & ~mask) | (v & mask);
	cpu->mstatus = s;
	if ((old ^ s) & MSTATUS_MXR)
		rv_tlb_flush_all(cpu);
	rv_update_mmu_ctx(cpu);
	rv_kick(cpu);
}

static void write_pmpcfg(struct rv_cpu *cpu, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		if (cpu->pmpcfg[n * 4 + i] & PMP_L)
			continue;
		b &= 0x9f;        /* bits 5-6 are reserved */
		if ((b & 3) == 2) /* R=0 W=1 is reserved: drop W */
			b &= (uint8_t)~2u;
		cpu->pmpcfg[n * 4 + i] = b;
	}
}

static bool csr_write(struct rv_cpu *cpu, unsigned csr, uint64_t v)
{
	switch (csr) {
	case CSR_FFLAGS:
		rv_fp_sync_flags(cpu);
		cpu->fflags = v & 0x1f;
		cpu->mstatus |= MSTATUS_FS;
		return true;
	case CSR_FRM:
		cpu->frm = v & 7;
		cpu->mstatus |= MSTATUS_FS;
		return true;
	case CSR_FCSR:
		rv_fp_sync_flags(cpu);
		cpu->fflags = v & 0x1f;
		cpu->frm = (v >> 5) & 7;
		cpu->mstatus |= MSTATUS_FS;
		return true;
	case CSR_SSTATUS:
		write_mstatus(cpu, SSTATUS_WRITABLE, v);
		return true;
	case CSR_SIE:
		cpu->mie = (cpu->mie & ~cpu->mideleg) | (v & cpu->mideleg & RV_MIP_S);
		rv_kick(cpu);
		return true;
	case CSR_STVEC:
		cpu->stvec = v & ~2ull;
		return true;
	case CSR_SCOUNTEREN:
		cpu->scounteren = v & 0xffffffffull;
		return true;
	case CSR_SENVCFG:
		cpu->senvcfg = v & 1;
		return true;
	case CSR_SSCRATCH:
		cpu->sscratch = v;
		return true;
	case CSR_SEPC:
		cpu->sepc = v & ~1ull;
		return true;
	case CSR_SCAUSE:
		cpu->scause = v;
		return true;
	case CSR_STVAL:
		cpu->stval = v;
		return true;
	case CSR_SIP: {
		uint64_t w = RV_MIP_SSIP & cpu->mideleg;
		rv_mip_update(cpu, w, v);
		rv_kick(cpu);
		return true;
	}
	case CSR_SATP: {
		unsigned mode = (unsigned)(v >> 60);
		if (cpu->priv == RV_PRIV_S && (cpu->mstatus & MSTATUS_TVM))
			return false;
		/* Unsupported modes leave satp unchanged (how Linux probes Sv57/48/39). */
		if (mode != 0 && mode != RV_SATP_MODE_SV39 &&
		    !(mode == RV_SATP_MODE_SV48 && cpu->max_satp_mode >= RV_SATP_MODE_SV48))
			return true;
		/* No ASIDs: the ASID field reads 0. */
		cpu->satp = mode ? (v & ((0xfull << 60) | ((1ull << 44) - 1))) : 0;
		rv_tlb_flush_all(cpu);
		return true;
	}
	case CSR_MSTATUS:
		write_mstatus(cpu, MSTATUS_WRITABLE, v);
		return true;
	case CSR_MISA: /* WARL, fixed */
		return true;
	case CSR_MEDELEG:
		cpu->medeleg = v & MEDELEG_WRITABLE;
		return true;
	case CSR_MIDELEG:
		cpu->mideleg = v & RV_MIP_S;
		rv_kick(cpu);
		return true;
	case CSR_MIE:
		cpu->mie = v & RV_MIP_ALL;
		rv_kick(cpu);
		return true;
	case CSR_MTVEC:
		cpu->mtvec = v & ~2ull;
		return true;
	case CSR_MCOUNTEREN:
		cpu->mcounteren = v & 0xffffffffull;
		return true;
	case CSR_MENVCFG:
		cpu->menvcfg = v & 1;
		return true;
	case CSR_MCOUNTINHIBIT:
		cpu->mcountinhibit = v & 0xfffffffdull;
		return true;
	case CSR_MSCRATCH:
		cpu->mscratch = v;
		return true;
	case CSR_MEPC:
		cpu->mepc = v & ~1ull;
		return true;
	case CSR_MCAUSE:
		cpu->mcause = v;
		return true;
	case CSR_MTVAL:
		cpu->mtval = v;
		return true;
	case CSR_MIP:
		rv_mip_update(cpu, MIP_WRITABLE, v);
		rv_kick(cpu);
		return true;
	case CSR_MCYCLE:
		/* The next instruction reads v. */
		cpu->cycle_offset = v - cpu->instret;
		return true;
	case CSR_MINSTRET:
		cpu->instret_offset = v - cpu->instret;
		return true;
	default:
		break;
	}
	if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
	    (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
		return true;
	if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
		write_pmpcfg(cpu, csr - CSR_PMPCFG0, v);
		return true;
	}
	if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
		unsigned n = csr - CSR_PMPADDR0;
		if (!(cpu->pmpcfg[n] & PMP_L))
			cpu->pmpaddr[n] = v & PMPADDR_MASK;
		return true;
	}
	return false;
}

bool rv_csr_access(struct rv_cpu *cpu, unsigned csr, unsigned op, uint64_t src, bool write,
                   uint64_t *old)
{
	uint64_t val, base, nv;

	/* csr[9:8] is the lowest privilege that may access it; csr[11:10] == 3: read-only. */
	if (((csr >> 8) & 3) > cpu->priv)
		return false;
	if (write && (csr >> 10) == 3)
		return false;
	if (!csr_read(cpu, csr, &val))
		return false;
	if (write) {
		/* Only the software-writable SEIP takes part in a read-modify-write of mip. */
		base = (csr == CSR_MIP && op != RV_OP_CSRRW)
		               ? __atomic_load_n(&cpu->mip, __ATOMIC_SEQ_CST)
		               : val;
		nv = op == RV_OP_CSRRW ? src : op == RV_OP_CSRRS ? (base | src) : (base & ~src);
		if (!csr_write(cpu, csr, nv))
			return false;
	}
	*old = val;
	return true;
}

bool rv_csr_exec(struct rv_cpu *cpu, const struct rv_insn *d)
{
	unsigned op = d->op;
	bool imm_form = op >= RV_OP_CSRRWI;
	uint64_t src = imm_form ? d->rs1 : cpu->x[d->rs1], old;
	bool write;

	if (imm_form)
		op -= RV_OP_CSRRWI - RV_OP_CSRRW;
	/* csrrw always writes; csrrs/csrrc write only when rs1 (or uimm) is not 0. */
	write = op == RV_OP_CSRRW || d->rs1 != 0;
	if (!rv_csr_access(cpu, (unsigned)d->imm & 0xfff, op, src, write, &old))
		return false;
	cpu->x[d->rd] = old;
	return true;
}
