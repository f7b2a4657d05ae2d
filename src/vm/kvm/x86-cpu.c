/* SPDX-License-Identifier: MIT */
/*
 * The x86 state of a vCPU: CPUID (KVM's supported table filtered for this
 * vCPU's APIC id and the machine's topology), MSRs (MTRR default type, or the
 * guest runs uncached), FPU control words, LAPIC LINT0/LINT1, the register
 * state of each boot mode, and the register dump printed on fatal exits.
 */
#include "vm/kvm/kvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "vm/mem.h"

#define CPUID_1_ECX_HYPERVISOR  (1u << 31)
#define CPUID_1_EDX_HTT         (1u << 28)

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_DEF_TYPE_E         (1ull << 11)
#define MTRR_TYPE_WRBACK        6ull
#define APIC_LVT0               0x350
#define APIC_LVT1               0x360
#define APIC_MODE_NMI           0x4
#define APIC_MODE_EXTINT        0x7
#define X86_CR0_PE              (1ull << 0)
#define X86_CR0_ET              (1ull << 4)
#define X86_CR0_PG              (1ull << 31)
#define X86_CR4_PAE             (1ull << 5)
#define X86_EFER_LME            (1ull << 8)
#define X86_EFER_LMA            (1ull << 10)

/* Bits needed to number n things (0 for n <= 1). */
static unsigned order_base_2(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Remove every entry of `function` from the table. */
static void cpuid_remove(struct kvm_cpuid_entry2 *e, unsigned *n, uint32_t function)
{
	unsigned j = 0;

	for (unsigned i = 0; i < *n; i++)
		if (e[i].function != function)
			e[j++] = e[i];
	*n = j;
}

unsigned x86_cpuid_filter(struct kvm_cpuid_entry2 *e, unsigned n, unsigned max, unsigned cpu,
                          unsigned nr)
{
	/* One socket of nr single-threaded cores; APIC id = vCPU index. */
	unsigned core_bits = order_base_2(nr);
	unsigned apic_id = cpu;
	bool amd = false, has_leaf_b = false;

	for (unsigned i = 0; i < n; i++) {
		if (e[i].function == 0 && e[i].ebx == 0x68747541) /* "Auth"enticAMD */
			amd = true;
		if (e[i].function == 0 && e[i].eax >= 0xb)
			has_leaf_b = true;
	}
	/*
	 * Topology leaves: rewrite 0xB completely (the host's may lack sub-leaves)
	 * and drop 0x1F, which Linux prefers when present, so 0xB is the one truth.
	 */
	cpuid_remove(e, &n, 0xb);
	cpuid_remove(e, &n, 0x1f);
	for (unsigned sub = 0; has_leaf_b && sub < 3 && n < max; sub++) {
		struct kvm_cpuid_entry2 *c = &e[n++];

		memset(c, 0, sizeof(*c));
		c->function = 0xb;
		c->index = sub;
		c->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (sub == 0) { /* SMT level: one thread per core */
			c->eax = 0;
			c->ebx = 1;
			c->ecx = (1u << 8) | 0;
		} else if (sub == 1) { /* core level */
			c->eax = core_bits;
			c->ebx = nr;
			c->ecx = (2u << 8) | 1;
		} else {
			c->ecx = sub; /* level type 0: no more levels */
		}
		c->edx = apic_id;
	}
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];

		switch (c->function) {
		case 1: /* EBX[23:16]: addressable logical processor ids, an 8-bit field */
			c->ebx = (c->ebx & 0xffff) | (apic_id << 24) |
			         (VK_MIN(1u << core_bits, 0xffu) << 16);
			c->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (nr > 1)
				c->edx |= CPUID_1_EDX_HTT;
			else
				c->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 4: {
			unsigned level = (c->eax >> 5) & 7;
			unsigned sharing = level >= 3 ? (1u << core_bits) - 1 : 0;

			if ((c->eax & 0x1f) == 0) /* no more caches */
				break;
			c->eax &= 0x3fff; /* keep type, level, flags */
			c->eax |= (sharing << 14) | (((1u << core_bits) - 1) << 26);
			break;
		}
		case 0x80000008:
			if (amd)
				c->ecx = (c->ecx & ~0xf0ffu) | (core_bits << 12) | (nr - 1);
			break;
		case 0x8000001e:
			if (amd) {
				c->eax = apic_id;
				c->ebx = (c->ebx & ~0xffffu) | (apic_id & 0xff);
				c->ecx &= ~0x7ffu;
			}
			break;
		default:
			break;
		}
	}
	return n;
}

static int x86_get_supported_cpuid(struct kvm_vm *vm, struct kvm_cpuid2 **out, struct vk_error *err)
{
	for (unsigned nent = 64; nent <= 4096; nent *= 2) {
		/* X86_CPUID_SPARE more entries for the ones the filter adds. */
		struct kvm_cpuid2 *c =
		        calloc(1, sizeof(*c) + (nent + X86_CPUID_SPARE) * sizeof(c->entries[0]));

		if (!c)
			return vk_error_errno(err, ENOMEM, "CPUID table");
		c->nent = nent;
		if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return vk_error_errno(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	return vk_error_set(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: table too large");
}

static bool x86_set_msr(int fd, uint32_t index, uint64_t value)
{
	/* struct kvm_msrs ends in a flexible array: lay out one entry after it by hand. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m;
	struct kvm_msr_entry e = {.index = index, .data = value};

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	memcpy(m.bytes + sizeof(struct kvm_msrs), &e, sizeof(e));
	return ioctl(fd, KVM_SET_MSRS, &m) == 1;
}

static int x86_vcpu_init_msrs(int fd, unsigned cpu, struct vk_error *err)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} msrs[] = {
	        {MSR_IA32_SYSENTER_CS, 0},
	        {MSR_IA32_SYSENTER_ESP, 0},
	        {MSR_IA32_SYSENTER_EIP, 0},
	        {MSR_STAR, 0},
	        {MSR_LSTAR, 0},
	        {MSR_CSTAR, 0},
	        {MSR_SYSCALL_MASK, 0},
	        {MSR_KERNEL_GS_BASE, 0},
	        {MSR_IA32_TSC, 0},
	        {MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		if (!x86_set_msr(fd, msrs[i].index, msrs[i].value))
			vk_debug("vCPU %u: KVM refused MSR 0x%x", cpu, msrs[i].index);
	/* Without MTRRs enabled every access is uncached: Linux crawls. */
	if (!x86_set_msr(fd, MSR_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MTRR_TYPE_WRBACK))
		return vk_error_set(err, EIO, "KVM refused the MTRR default type MSR");
	return 0;
}

int x86_vcpu_init(struct kvm_vm *vm, int fd, unsigned cpu, unsigned nr, struct vk_error *err)
{
	struct kvm_cpuid2 *cpuid = NULL;
	struct kvm_lapic_state lapic;
	struct kvm_fpu fpu;
	uint32_t lvt;
	int r;

	r = x86_get_supported_cpuid(vm, &cpuid, err);
	if (r < 0)
		return r;
	cpuid->nent = x86_cpuid_filter(cpuid->entries, cpuid->nent, cpuid->nent + X86_CPUID_SPARE,
	                               cpu, nr);
	r = ioctl(fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r < 0)
		return vk_error_errno(err, errno, "KVM_SET_CPUID2");

	r = x86_vcpu_init_msrs(fd, cpu, err);
	if (r < 0)
		return r;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;    /* the FNINIT value */
	fpu.mxcsr = 0x1f80; /* all exceptions masked */
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return vk_error_errno(err, errno, "KVM_SET_FPU");

	/* LINT0 takes the PIC's ExtINT, LINT1 the NMI, as a BIOS leaves them. */
	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return vk_error_errno(err, errno, "KVM_GET_LAPIC");
	memcpy(&lvt, &lapic.regs[APIC_LVT0], 4);
	lvt = (lvt & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(&lapic.regs[APIC_LVT0], &lvt, 4);
	memcpy(&lvt, &lapic.regs[APIC_LVT1], 4);
	lvt = (lvt & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(&lapic.regs[APIC_LVT1], &lvt, 4);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return vk_error_errno(err, errno, "KVM_SET_LAPIC");
	return 0;
}

static struct kvm_segment x86_flat_segment(uint16_t selector, bool code, bool long_mode)
{
	return (struct kvm_segment){
	        .base = 0,
	        .limit = 0xffffffff,
	        .selector = selector,
	        .type = code ? 0xb : 0x3, /* execute/read or read/write, accessed */
	        .present = 1,
	        .dpl = 0,
	        .db = long_mode && code ? 0 : 1,
	        .s = 1,
	        .l = long_mode && code ? 1 : 0,
	        .g = 1,
	};
}

int x86_vcpu_set_boot_state(int fd, const struct x86_boot_state *bs, struct vk_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code, data;

	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return vk_error_errno(err, errno, "KVM_GET_SREGS");
	switch (bs->mode) {
	case X86_BOOT_REAL16:
		sregs.cs.selector = 0;
		sregs.cs.base = 0;
		sregs.ds = sregs.es = sregs.ss = sregs.fs = sregs.gs = sregs.cs;
		sregs.ds.type = sregs.es.type = sregs.ss.type = 0x3;
		sregs.fs.type = sregs.gs.type = 0x3;
		break;
	case X86_BOOT_FLAT32:
	case X86_BOOT_LONG64: {
		bool lm = bs->mode == X86_BOOT_LONG64;

		code = x86_flat_segment(lm ? 0x10 : 0x08, true, lm);
		data = x86_flat_segment(0x18, false, lm);
		sregs.cs = code;
		sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
		sregs.gdt.base = bs->gdt_base;
		sregs.gdt.limit = bs->gdt_limit;
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
		if (lm) {
			sregs.cr3 = bs->cr3;
			sregs.cr4 |= X86_CR4_PAE;
			sregs.cr0 |= X86_CR0_PG;
			sregs.efer |= X86_EFER_LME | X86_EFER_LMA;
		}
		break;
	}
	default:
		return vk_error_set(err, EINVAL, "unknown boot mode %d", bs->mode);
	}
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return vk_error_errno(err, errno, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2; /* bit 1 is reserved and always set; interrupts off */
	regs.rip = bs->rip;
	regs.rsp = bs->rsp;
	regs.rsi = bs->rsi;
	regs.rbx = bs->rbx;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return vk_error_errno(err, errno, "KVM_SET_REGS");
	return 0;
}

void x86_vcpu_dump(int fd, const struct vm_mem *mem, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_translation tr;
	uint8_t insn[16];
	size_t n = 0, got = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "  (registers unavailable)");
		return;
	}
#define OUT(...)                                                              \
	do {                                                                  \
		if (n < len)                                                  \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	OUT("  RIP=%016llx RFLAGS=%08llx RSP=%016llx RBP=%016llx\n", (unsigned long long)r.rip,
	    (unsigned long long)r.rflags, (unsigned long long)r.rsp, (unsigned long long)r.rbp);
	OUT("  RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)r.rax,
	    (unsigned long long)r.rbx, (unsigned long long)r.rcx, (unsigned long long)r.rdx);
	OUT("  RSI=%016llx RDI=%016llx R8=%016llx R9=%016llx\n", (unsigned long long)r.rsi,
	    (unsigned long long)r.rdi, (unsigned long long)r.r8, (unsigned long long)r.r9);
	OUT("  CS=%04x(base %llx, %s) SS=%04x DS=%04x CR0=%08llx CR3=%08llx CR4=%08llx "
	    "EFER=%llx\n",
	    s.cs.selector, (unsigned long long)s.cs.base,
	    s.cs.l ? "64-bit" : (s.cs.db ? "32-bit" : "16-bit"), s.ss.selector, s.ds.selector,
	    (unsigned long long)s.cr0, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	    (unsigned long long)s.efer);

	memset(&tr, 0, sizeof(tr));
	tr.linear_address = s.cs.base + r.rip;
	if (ioctl(fd, KVM_TRANSLATE, &tr) == 0 && tr.valid && mem) {
		for (got = sizeof(insn); got > 0; got--)
			if (vm_mem_read(mem, tr.physical_address, insn, got) == 0)
				break;
	}
	if (got == 0) {
		OUT("  code: (not in RAM)");
		return;
	}
	OUT("  code at %llx:", (unsigned long long)tr.physical_address);
	for (size_t i = 0; i < got; i++)
		OUT(" %02x", insn[i]);
#undef OUT
}
