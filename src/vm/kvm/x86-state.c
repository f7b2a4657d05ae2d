/* SPDX-License-Identifier: MIT */
/*
 * Saving and restoring x86 KVM state (kvm.h): a vCPU's registers, FPU/XSAVE,
 * XCRs, MSRs, LAPIC, events, MP state and debug registers; the VM's in-kernel
 * PICs, IOAPIC, PIT and clock; the dirty log of its RAM slots and the probe
 * that tells whether this host's KVM fills that log.
 *
 * Encoding: registers and segments field by field; the areas KVM defines as
 * opaque blocks (XSAVE, the legacy FPU area, the LAPIC page, vCPU events,
 * debug registers, irqchip and PIT states) as a u32 length that must be the
 * size of this host's structure, then its bytes. KVM checks what it accepts
 * in those blocks (reserved bits, vectors, modes) and refuses the rest; we
 * check every count and MSR index before a call.
 */
#include "vm/kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/mem.h"
#include "vm/state.h"

#define X86_MAX_MSRS          1024 /* more than KVM lists anywhere */
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MP_STATE_MAX          9 /* KVM_MP_STATE_AP_RESET_HOLD, the last defined */

/* ---- blocks ---------------------------------------------------------------------------- */

static void put_block(struct vm_state_buf *b, const void *p, size_t len)
{
	vm_state_put_u32(b, (uint32_t)len);
	vm_state_put_bytes(b, p, len);
}

/* A block of exactly len bytes; false (with err set) when the length differs. */
static bool get_block(struct vm_state_rd *r, void *p, size_t len, const char *what,
                      struct vk_error *err)
{
	uint32_t n = vm_state_get_u32(r);

	if (r->bad)
		return false;
	if (n != len) {
		vk_error_set(err, EINVAL, "%s is %u bytes, this host's KVM uses %zu", what, n, len);
		return false;
	}
	return vm_state_get_bytes(r, p, len);
}

static int ioctl_err(struct vk_error *err, const char *what)
{
	return vk_error_errno(err, errno, "%s", what);
}

/* ---- registers ------------------------------------------------------------------------- */

static void put_regs(struct vm_state_buf *b, const struct kvm_regs *g)
{
	const uint64_t v[] = {g->rax, g->rbx, g->rcx, g->rdx, g->rsi, g->rdi,
	                      g->rsp, g->rbp, g->r8,  g->r9,  g->r10, g->r11,
	                      g->r12, g->r13, g->r14, g->r15, g->rip, g->rflags};

	for (unsigned i = 0; i < ARRAY_SIZE(v); i++)
		vm_state_put_u64(b, v[i]);
}

static void get_regs(struct vm_state_rd *r, struct kvm_regs *g)
{
	__u64 *v[] = {&g->rax, &g->rbx, &g->rcx, &g->rdx, &g->rsi, &g->rdi,
	              &g->rsp, &g->rbp, &g->r8,  &g->r9,  &g->r10, &g->r11,
	              &g->r12, &g->r13, &g->r14, &g->r15, &g->rip, &g->rflags};

	for (unsigned i = 0; i < ARRAY_SIZE(v); i++)
		*v[i] = vm_state_get_u64(r);
}

static void put_seg(struct vm_state_buf *b, const struct kvm_segment *s)
{
	const uint8_t f[] = {s->type, s->present, s->dpl, s->db,      s->s,
	                     s->l,    s->g,       s->avl, s->unusable};

	vm_state_put_u64(b, s->base);
	vm_state_put_u32(b, s->limit);
	vm_state_put_u16(b, s->selector);
	vm_state_put_bytes(b, f, sizeof(f));
}

static bool get_seg(struct vm_state_rd *r, struct kvm_segment *s)
{
	uint8_t f[9];

	memset(s, 0, sizeof(*s));
	s->base = vm_state_get_u64(r);
	s->limit = vm_state_get_u32(r);
	s->selector = vm_state_get_u16(r);
	if (!vm_state_get_bytes(r, f, sizeof(f)))
		return true;
	s->type = f[0];
	s->present = f[1];
	s->dpl = f[2];
	s->db = f[3];
	s->s = f[4];
	s->l = f[5];
	s->g = f[6];
	s->avl = f[7];
	s->unusable = f[8];
	/* The descriptor's fields as the hardware holds them. */
	return s->type <= 15 && s->dpl <= 3 && s->present <= 1 && s->db <= 1 && s->s <= 1 &&
	       s->l <= 1 && s->g <= 1 && s->avl <= 1 && s->unusable <= 1;
}

static void put_dtable(struct vm_state_buf *b, const struct kvm_dtable *t)
{
	vm_state_put_u64(b, t->base);
	vm_state_put_u16(b, t->limit);
}

static void get_dtable(struct vm_state_rd *r, struct kvm_dtable *t)
{
	memset(t, 0, sizeof(*t));
	t->base = vm_state_get_u64(r);
	t->limit = vm_state_get_u16(r);
}

static void put_sregs(struct vm_state_buf *b, const struct kvm_sregs *s)
{
	const struct kvm_segment *seg[] = {&s->cs, &s->ds, &s->es, &s->fs,
	                                   &s->gs, &s->ss, &s->tr, &s->ldt};

	for (unsigned i = 0; i < ARRAY_SIZE(seg); i++)
		put_seg(b, seg[i]);
	put_dtable(b, &s->gdt);
	put_dtable(b, &s->idt);
	vm_state_put_u64(b, s->cr0);
	vm_state_put_u64(b, s->cr2);
	vm_state_put_u64(b, s->cr3);
	vm_state_put_u64(b, s->cr4);
	vm_state_put_u64(b, s->cr8);
	vm_state_put_u64(b, s->efer);
	vm_state_put_u64(b, s->apic_base);
	for (unsigned i = 0; i < ARRAY_SIZE(s->interrupt_bitmap); i++)
		vm_state_put_u64(b, s->interrupt_bitmap[i]);
}

static int get_sregs(struct vm_state_rd *r, struct kvm_sregs *s, struct vk_error *err)
{
	struct kvm_segment *seg[] = {&s->cs, &s->ds, &s->es, &s->fs,
	                             &s->gs, &s->ss, &s->tr, &s->ldt};
	static const char *const names[] = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < ARRAY_SIZE(seg); i++)
		if (!get_seg(r, seg[i]) && !r->bad)
			return vk_error_set(err, EINVAL, "segment %s holds a field out of range",
			                    names[i]);
	get_dtable(r, &s->gdt);
	get_dtable(r, &s->idt);
	s->cr0 = vm_state_get_u64(r);
	s->cr2 = vm_state_get_u64(r);
	s->cr3 = vm_state_get_u64(r);
	s->cr4 = vm_state_get_u64(r);
	s->cr8 = vm_state_get_u64(r);
	s->efer = vm_state_get_u64(r);
	s->apic_base = vm_state_get_u64(r);
	for (unsigned i = 0; i < ARRAY_SIZE(s->interrupt_bitmap); i++)
		s->interrupt_bitmap[i] = vm_state_get_u64(r);
	return 0;
}

/* ---- MSRs ------------------------------------------------------------------------------ */

/* struct kvm_msrs with room for n entries. */
static struct kvm_msrs *msrs_new(unsigned n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));

	if (m)
		m->nmsrs = n;
	return m;
}

/* What KVM lists: KVM_GET_MSR_INDEX_LIST on /dev/kvm, once per VM. */
static int msr_index_list(struct kvm_vm *vm, struct vk_error *err)
{
	struct kvm_msr_list probe = {.nmsrs = 0}, *list;

	if (vm->msr_index)
		return 0;
	if (ioctl(vm->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return ioctl_err(err, "KVM_GET_MSR_INDEX_LIST");
	if (probe.nmsrs > X86_MAX_MSRS)
		return vk_error_set(err, E2BIG, "KVM lists %u MSRs", probe.nmsrs);
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	if (!list)
		return vk_error_set(err, ENOMEM, "out of memory");
	list->nmsrs = probe.nmsrs;
	if (ioctl(vm->sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return ioctl_err(err, "KVM_GET_MSR_INDEX_LIST");
	}
	vm->msr_index = malloc((list->nmsrs ? list->nmsrs : 1) * sizeof(uint32_t));
	if (!vm->msr_index) {
		free(list);
		return vk_error_set(err, ENOMEM, "out of memory");
	}
	memcpy(vm->msr_index, list->indices, list->nmsrs * sizeof(uint32_t));
	vm->nr_msr_index = list->nmsrs;
	free(list);
	return 0;
}

static bool msr_listed(const struct kvm_vm *vm, uint32_t index)
{
	for (unsigned i = 0; i < vm->nr_msr_index; i++)
		if (vm->msr_index[i] == index)
			return true;
	return false;
}

/*
 * Read the MSRs of the save list. KVM_GET_MSRS stops at the first MSR it cannot
 * read (some listed ones exist only with features this CPU model lacks): that
 * one leaves the list for good, and the read goes on.
 */
static int msrs_read(struct kvm_vm *vm, int fd, struct kvm_msrs **out, struct vk_error *err)
{
	struct kvm_msrs *m;
	int r;

	if ((r = msr_index_list(vm, err)) < 0)
		return r;
	if (!vm->msr_save) {
		vm->msr_save = malloc((vm->nr_msr_index ? vm->nr_msr_index : 1) * sizeof(uint32_t));
		if (!vm->msr_save)
			return vk_error_set(err, ENOMEM, "out of memory");
		memcpy(vm->msr_save, vm->msr_index, vm->nr_msr_index * sizeof(uint32_t));
		vm->nr_msr_save = vm->nr_msr_index;
	}
	m = msrs_new(vm->nr_msr_save);
	if (!m)
		return vk_error_set(err, ENOMEM, "out of memory");
	for (unsigned done = 0; done < vm->nr_msr_save;) {
		struct kvm_msrs *part = msrs_new(vm->nr_msr_save - done);

		if (!part) {
			free(m);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		for (unsigned i = 0; i < part->nmsrs; i++)
			part->entries[i].index = vm->msr_save[done + i];
		r = ioctl(fd, KVM_GET_MSRS, part);
		if (r < 0) {
			free(part);
			free(m);
			return ioctl_err(err, "KVM_GET_MSRS");
		}
		memcpy(&m->entries[done], part->entries, (size_t)r * sizeof(struct kvm_msr_entry));
		done += (unsigned)r;
		free(part);
		if (done < vm->nr_msr_save) {
			/* Unreadable here: drop it from the list. */
			memmove(&vm->msr_save[done], &vm->msr_save[done + 1],
			        (vm->nr_msr_save - done - 1) * sizeof(uint32_t));
			vm->nr_msr_save--;
		}
	}
	m->nmsrs = vm->nr_msr_save;
	*out = m;
	return 0;
}

/* Write n MSRs; names the one KVM refuses. */
static int msrs_write(int fd, struct kvm_msrs *m, struct vk_error *err)
{
	int r = ioctl(fd, KVM_SET_MSRS, m);

	if (r < 0)
		return ioctl_err(err, "KVM_SET_MSRS");
	if ((unsigned)r < m->nmsrs)
		return vk_error_set(err, EINVAL, "KVM refused MSR 0x%x = 0x%llx",
		                    m->entries[r].index, (unsigned long long)m->entries[r].data);
	return 0;
}

/* ---- one vCPU -------------------------------------------------------------------------- */

int x86_vcpu_save(struct kvm_vm *vm, int fd, struct vm_state_buf *b, struct vk_error *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_msrs *msrs = NULL;
	int r;

	if (ioctl(fd, KVM_GET_REGS, &regs) < 0)
		return ioctl_err(err, "KVM_GET_REGS");
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return ioctl_err(err, "KVM_GET_SREGS");
	put_regs(b, &regs);
	put_sregs(b, &sregs);

	vm_state_put_bool(b, vm->caps.xsave);
	if (vm->caps.xsave) {
		struct kvm_xsave *xs = calloc(1, sizeof(*xs));

		if (!xs)
			return vk_error_set(err, ENOMEM, "out of memory");
		if (ioctl(fd, KVM_GET_XSAVE, xs) < 0) {
			free(xs);
			return ioctl_err(err, "KVM_GET_XSAVE");
		}
		put_block(b, xs, sizeof(*xs));
		free(xs);
	} else {
		struct kvm_fpu fpu;

		if (ioctl(fd, KVM_GET_FPU, &fpu) < 0)
			return ioctl_err(err, "KVM_GET_FPU");
		put_block(b, &fpu, sizeof(fpu));
	}

	vm_state_put_bool(b, vm->caps.xcrs);
	if (vm->caps.xcrs) {
		struct kvm_xcrs xcrs;

		if (ioctl(fd, KVM_GET_XCRS, &xcrs) < 0)
			return ioctl_err(err, "KVM_GET_XCRS");
		if (xcrs.nr_xcrs > KVM_MAX_XCRS)
			return vk_error_set(err, EIO, "KVM_GET_XCRS gave %u XCRs", xcrs.nr_xcrs);
		vm_state_put_u32(b, xcrs.nr_xcrs);
		for (unsigned i = 0; i < xcrs.nr_xcrs; i++) {
			vm_state_put_u32(b, xcrs.xcrs[i].xcr);
			vm_state_put_u64(b, xcrs.xcrs[i].value);
		}
	}

	r = msrs_read(vm, fd, &msrs, err);
	if (r < 0)
		return r;
	vm_state_put_u32(b, msrs->nmsrs);
	for (unsigned i = 0; i < msrs->nmsrs; i++) {
		vm_state_put_u32(b, msrs->entries[i].index);
		vm_state_put_u64(b, msrs->entries[i].data);
	}
	free(msrs);

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return ioctl_err(err, "KVM_GET_LAPIC");
	put_block(b, &lapic, sizeof(lapic));

	vm_state_put_bool(b, vm->caps.vcpu_events);
	if (vm->caps.vcpu_events) {
		struct kvm_vcpu_events ev;

		if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return ioctl_err(err, "KVM_GET_VCPU_EVENTS");
		put_block(b, &ev, sizeof(ev));
	}
	if (ioctl(fd, KVM_GET_MP_STATE, &mp) < 0)
		return ioctl_err(err, "KVM_GET_MP_STATE");
	vm_state_put_u32(b, mp.mp_state);
	vm_state_put_bool(b, vm->caps.debugregs);
	if (vm->caps.debugregs) {
		struct kvm_debugregs dr;

		if (ioctl(fd, KVM_GET_DEBUGREGS, &dr) < 0)
			return ioctl_err(err, "KVM_GET_DEBUGREGS");
		put_block(b, &dr, sizeof(dr));
	}
	return 0;
}

/* Everything a vCPU record holds, read and checked before any of it reaches KVM. */
struct vcpu_image {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	bool xsave;
	struct kvm_xsave *xs;
	struct kvm_fpu fpu;
	bool has_xcrs;
	struct kvm_xcrs xcrs;
	struct kvm_msrs *msrs;
	struct kvm_lapic_state lapic;
	bool has_events;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	bool has_dr;
	struct kvm_debugregs dr;
};

static void image_free(struct vcpu_image *im)
{
	free(im->xs);
	free(im->msrs);
}

static int image_read(struct kvm_vm *vm, struct vm_state_rd *r, struct vcpu_image *im,
                      struct vk_error *err)
{
	uint32_t n;
	int ret;

	get_regs(r, &im->regs);
	if ((ret = get_sregs(r, &im->sregs, err)) < 0)
		return ret;
	im->xsave = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (im->xsave && !vm->caps.xsave)
		return vk_error_set(err, ENOTSUP,
		                    "the vCPU was saved with XSAVE, which KVM on "
		                    "this host does not offer");
	if (im->xsave) {
		im->xs = calloc(1, sizeof(*im->xs));
		if (!im->xs)
			return vk_error_set(err, ENOMEM, "out of memory");
		if (!get_block(r, im->xs, sizeof(*im->xs), "the XSAVE area", err))
			return r->bad ? 0 : -EINVAL;
	} else if (!get_block(r, &im->fpu, sizeof(im->fpu), "the FPU area", err)) {
		return r->bad ? 0 : -EINVAL;
	}

	im->has_xcrs = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (im->has_xcrs) {
		n = vm_state_get_u32(r);
		if (r->bad)
			return 0;
		if (n > KVM_MAX_XCRS)
			return vk_error_set(err, EINVAL, "%u XCRs (at most %u)", n, KVM_MAX_XCRS);
		memset(&im->xcrs, 0, sizeof(im->xcrs));
		im->xcrs.nr_xcrs = n;
		for (unsigned i = 0; i < n; i++) {
			im->xcrs.xcrs[i].xcr = vm_state_get_u32(r);
			im->xcrs.xcrs[i].value = vm_state_get_u64(r);
		}
	}

	n = vm_state_get_u32(r);
	if (r->bad)
		return 0;
	if (n > X86_MAX_MSRS || n > vm->nr_msr_index)
		return vk_error_set(err, EINVAL, "%u MSRs, KVM on this host lists %u", n,
		                    vm->nr_msr_index);
	im->msrs = msrs_new(n);
	if (!im->msrs)
		return vk_error_set(err, ENOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		im->msrs->entries[i].index = vm_state_get_u32(r);
		im->msrs->entries[i].data = vm_state_get_u64(r);
		if (r->bad)
			return 0;
		if (!msr_listed(vm, im->msrs->entries[i].index))
			return vk_error_set(err, EINVAL,
			                    "MSR 0x%x is not one KVM on this host lists",
			                    im->msrs->entries[i].index);
	}

	if (!get_block(r, &im->lapic, sizeof(im->lapic), "the LAPIC page", err))
		return r->bad ? 0 : -EINVAL;
	im->has_events = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (im->has_events &&
	    !get_block(r, &im->events, sizeof(im->events), "the vCPU events", err))
		return r->bad ? 0 : -EINVAL;
	im->mp.mp_state = vm_state_get_u32(r);
	im->has_dr = vm_state_get_bool(r);
	if (r->bad)
		return 0;
	if (im->mp.mp_state > MP_STATE_MAX)
		return vk_error_set(err, EINVAL, "multiprocessing state %u is not one KVM defines",
		                    im->mp.mp_state);
	if (im->has_dr && !get_block(r, &im->dr, sizeof(im->dr), "the debug registers", err))
		return r->bad ? 0 : -EINVAL;
	if ((im->has_xcrs && !vm->caps.xcrs) || (im->has_events && !vm->caps.vcpu_events) ||
	    (im->has_dr && !vm->caps.debugregs))
		return vk_error_set(
		        err, ENOTSUP,
		        "the vCPU was saved with XCRs, events or debug registers, which "
		        "KVM on this host cannot take");
	return 0;
}

/* In the order QEMU uses: registers, FPU, XCRs, segments, MSRs, MP state, LAPIC, events. */
static int image_apply(int fd, struct vcpu_image *im, struct vk_error *err)
{
	int r;

	if (ioctl(fd, KVM_SET_REGS, &im->regs) < 0)
		return ioctl_err(err, "KVM refused the general registers (KVM_SET_REGS)");
	if (im->xsave && ioctl(fd, KVM_SET_XSAVE, im->xs) < 0)
		return ioctl_err(err, "KVM refused the XSAVE area (KVM_SET_XSAVE)");
	if (!im->xsave && ioctl(fd, KVM_SET_FPU, &im->fpu) < 0)
		return ioctl_err(err, "KVM refused the FPU area (KVM_SET_FPU)");
	if (im->has_xcrs && ioctl(fd, KVM_SET_XCRS, &im->xcrs) < 0)
		return ioctl_err(err, "KVM refused the XCRs (KVM_SET_XCRS)");
	if (ioctl(fd, KVM_SET_SREGS, &im->sregs) < 0)
		return ioctl_err(err,
		                 "KVM refused the segment and control registers (KVM_SET_SREGS)");
	r = msrs_write(fd, im->msrs, err);
	if (r < 0)
		return r;
	if (ioctl(fd, KVM_SET_MP_STATE, &im->mp) < 0)
		return ioctl_err(err, "KVM refused the multiprocessing state (KVM_SET_MP_STATE)");
	if (ioctl(fd, KVM_SET_LAPIC, &im->lapic) < 0)
		return ioctl_err(err, "KVM refused the LAPIC page (KVM_SET_LAPIC)");
	/* The TSC deadline counts once the LAPIC timer is in that mode: write it again. */
	for (unsigned i = 0; i < im->msrs->nmsrs; i++) {
		if (im->msrs->entries[i].index == MSR_IA32_TSC_DEADLINE) {
			struct kvm_msrs *one = msrs_new(1);

			if (!one)
				return vk_error_set(err, ENOMEM, "out of memory");
			one->entries[0] = im->msrs->entries[i];
			r = msrs_write(fd, one, err);
			free(one);
			if (r < 0)
				return r;
		}
	}
	if (im->has_events && ioctl(fd, KVM_SET_VCPU_EVENTS, &im->events) < 0)
		return ioctl_err(err, "KVM refused the pending events (KVM_SET_VCPU_EVENTS)");
	if (im->has_dr && ioctl(fd, KVM_SET_DEBUGREGS, &im->dr) < 0)
		return ioctl_err(err, "KVM refused the debug registers (KVM_SET_DEBUGREGS)");
	return 0;
}

int x86_vcpu_load(struct kvm_vm *vm, int fd, struct vm_state_rd *r, struct vk_error *err)
{
	struct vcpu_image im = {0};
	int ret = msr_index_list(vm, err);

	if (ret == 0)
		ret = image_read(vm, r, &im, err);
	/* Short or long payloads are the caller's vm_state_rd_finish() to report. */
	if (ret == 0 && !r->bad && vm_state_rd_left(r) == 0)
		ret = image_apply(fd, &im, err);
	image_free(&im);
	return ret;
}

/* ---- the VM's in-kernel devices -------------------------------------------------------- */

static const uint32_t chips[] = {KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC};

int kvm_vm_save(struct kvm_vm *vm, const struct kvm_clock_data *frozen, struct vm_state_buf *b,
                struct vk_error *err)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = {0};

	for (unsigned i = 0; i < ARRAY_SIZE(chips); i++) {
		struct kvm_irqchip chip = {.chip_id = chips[i]};

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return ioctl_err(err, "KVM_GET_IRQCHIP");
		put_block(b, &chip.chip, sizeof(chip.chip));
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0)
		return ioctl_err(err, "KVM_GET_PIT2");
	put_block(b, &pit, sizeof(pit));
	if (frozen)
		clock = *frozen;
	else if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return ioctl_err(err, "KVM_GET_CLOCK");
	vm_state_put_u64(b, clock.clock);
	return 0;
}

int kvm_vm_load(struct kvm_vm *vm, struct vm_state_rd *r, struct vk_error *err)
{
	struct kvm_irqchip chip[ARRAY_SIZE(chips)];
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = {0};

	for (unsigned i = 0; i < ARRAY_SIZE(chips); i++) {
		memset(&chip[i], 0, sizeof(chip[i]));
		chip[i].chip_id = chips[i];
		if (!get_block(r, &chip[i].chip, sizeof(chip[i].chip), "an interrupt controller",
		               err))
			return r->bad ? 0 : -EINVAL;
	}
	if (!get_block(r, &pit, sizeof(pit), "the PIT", err))
		return r->bad ? 0 : -EINVAL;
	clock.clock = vm_state_get_u64(r);
	if (r->bad || vm_state_rd_left(r))
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(chips); i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip[i]) < 0)
			return ioctl_err(err,
			                 "KVM refused an interrupt controller (KVM_SET_IRQCHIP)");
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		return ioctl_err(err, "KVM refused the PIT (KVM_SET_PIT2)");
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return ioctl_err(err, "KVM refused the guest clock (KVM_SET_CLOCK)");
	return 0;
}

/* ---- the dirty log --------------------------------------------------------------------- */

static int slot_flags(int vm_fd, unsigned slot, const struct kvm_ram_slot *s, uint32_t flags)
{
	struct kvm_userspace_memory_region reg = {
	        .slot = slot,
	        .flags = flags,
	        .guest_phys_addr = s->gpa,
	        .memory_size = s->size,
	        .userspace_addr = (uintptr_t)s->host,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0 ? -errno : 0;
}

int kvm_vm_dirty_log(struct kvm_vm *vm, bool on, struct vk_error *err)
{
	for (unsigned i = 0; i < vm->next_slot; i++) {
		int r = slot_flags(vm->vm_fd, i, &vm->slots[i], on ? KVM_MEM_LOG_DIRTY_PAGES : 0);

		if (r < 0)
			return vk_error_errno(err, -r, "cannot %s KVM's dirty log of RAM slot %u",
			                      on ? "start" : "stop", i);
	}
	return 0;
}

static long dirty_get(int vm_fd, unsigned slot, uint64_t size, uint64_t *bits)
{
	struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = bits};
	uint64_t pages = size / VM_STATE_PAGE;
	long n = 0;

	memset(bits, 0, (pages + 63) / 64 * 8);
	if (ioctl(vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	for (uint64_t w = 0; w < (pages + 63) / 64; w++)
		n += __builtin_popcountll(bits[w]);
	return n;
}

long kvm_vm_dirty_harvest(struct kvm_vm *vm, struct vm_mem *mem)
{
	long total = 0;

	for (unsigned i = 0; i < vm->next_slot; i++) {
		const struct kvm_ram_slot *s = &vm->slots[i];
		uint64_t pages = s->size / VM_STATE_PAGE;
		uint64_t *bits = malloc((pages + 63) / 64 * 8);
		long n;

		if (!bits)
			return -ENOMEM;
		n = dirty_get(vm->vm_fd, i, s->size, bits);
		if (n < 0) {
			free(bits);
			return n;
		}
		for (uint64_t p = 0; p < pages; p++)
			if (bits[p / 64] >> (p % 64) & 1)
				vm_mem_mark_dirty(mem, (uint8_t *)s->host + p * VM_STATE_PAGE,
				                  VM_STATE_PAGE);
		total += n;
		free(bits);
	}
	return total;
}

/*
 * The probe guest: long mode with identity paging, 4 KiB pages for the first
 * 2 MiB and one 2 MiB page above, as a kernel maps its RAM. Its code writes
 * 0x5a to a byte of pages 1 and 2 and of the large page, then halts:
 *   mov byte [abs32], 0x5a (C6 04 25 disp32 5A) x 3; hlt
 * It runs once without the log (the pages are then mapped writable, as a
 * running guest's are), then with the log turned on twice: the log must name
 * the three pages each time (the second time after a harvest re-armed it).
 */
#define PROBE_SIZE  (4u << 20)
#define PROBE_PML4  0x3000u
#define PROBE_PDPT  0x4000u
#define PROBE_PD    0x5000u
#define PROBE_PT    0x6000u
#define PROBE_STACK 0x8000u

static const uint32_t probe_pages[] = {0x1000, 0x2000, 0x300000};

static void probe_build(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + PROBE_PML4), *pdpt = (uint64_t *)(ram + PROBE_PDPT);
	uint64_t *pd = (uint64_t *)(ram + PROBE_PD), *pt = (uint64_t *)(ram + PROBE_PT);
	size_t n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(probe_pages); i++) {
		const uint8_t op[] = {0xc6, 0x04, 0x25};

		memcpy(ram + n, op, sizeof(op));
		memcpy(ram + n + 3, &probe_pages[i], 4);
		ram[n + 7] = 0x5a;
		n += 8;
	}
	ram[n] = 0xf4; /* hlt */
	pml4[0] = PROBE_PDPT | 3;
	pdpt[0] = PROBE_PD | 3;
	pd[0] = PROBE_PT | 3;
	pd[1] = 0x200000 | 0x83; /* present, writable, 2 MiB */
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (uint64_t)i * 4096 | 3;
}

static int probe_long_mode(int cpu)
{
	struct kvm_sregs s;
	struct kvm_segment code = {.limit = 0xffffffff,
	                           .selector = 8,
	                           .type = 11,
	                           .present = 1,
	                           .s = 1,
	                           .l = 1,
	                           .g = 1};
	struct kvm_segment data = {.limit = 0xffffffff,
	                           .selector = 16,
	                           .type = 3,
	                           .present = 1,
	                           .s = 1,
	                           .db = 1,
	                           .g = 1};

	if (ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr3 = PROBE_PML4;
	s.cr4 = 0x20;        /* PAE */
	s.cr0 = 0x80000011u; /* PG, ET, PE */
	s.efer = 0x500;      /* LMA, LME */
	return ioctl(cpu, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}

/* Run the probe guest from its start to its hlt; false (why set) when it does not get there. */
static bool probe_run(int cpu, struct kvm_run *run, uint8_t *ram, char *why, size_t len)
{
	struct kvm_regs regs = {.rip = 0, .rflags = 2, .rsp = PROBE_STACK};

	for (unsigned i = 0; i < ARRAY_SIZE(probe_pages); i++)
		ram[probe_pages[i]] = 0;
	if (ioctl(cpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, len, "the dirty-log probe cannot set its registers: %s",
		         strerror(errno));
		return false;
	}
	for (unsigned tries = 0; tries < 8; tries++) {
		if (ioctl(cpu, KVM_RUN, 0) < 0 && errno != EINTR && errno != EAGAIN) {
			snprintf(why, len, "the dirty-log probe's KVM_RUN failed: %s",
			         strerror(errno));
			return false;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(probe_pages); i++) {
		if (run->exit_reason != KVM_EXIT_HLT || ram[probe_pages[i]] != 0x5a) {
			snprintf(why, len,
			         "the dirty-log probe's guest did not run to its end (exit %u)",
			         run->exit_reason);
			return false;
		}
	}
	return true;
}

/* How many of the probe guest's pages the log names (negative: -errno). */
static long probe_logged(int vmfd, uint64_t *bits)
{
	long n = dirty_get(vmfd, 0, PROBE_SIZE, bits), hits = 0;

	if (n < 0)
		return n;
	for (unsigned i = 0; i < ARRAY_SIZE(probe_pages); i++) {
		uint64_t pg = probe_pages[i] / VM_STATE_PAGE;

		hits += (long)(bits[pg / 64] >> (pg % 64) & 1);
	}
	return hits;
}

int kvm_dirty_log_probe(const char *device, char *why, size_t len)
{
	struct kvm_ram_slot slot = {.gpa = 0, .size = PROBE_SIZE};
	int sys = -1, vmfd = -1, cpu = -1, ret = -EIO, run_size = 0;
	struct kvm_run *run = NULL;
	uint8_t *ram = MAP_FAILED;
	uint64_t *bits = NULL;
	long hits = 0;

	if (!device || !*device)
		device = getenv("VIRTKIT_KVM_DEVICE");
	if (!device || !*device)
		device = KVM_DEFAULT_DEVICE;
	snprintf(why, len, "the dirty-log probe could not run");
	sys = open(device, O_RDWR | O_CLOEXEC);
	if (sys < 0) {
		snprintf(why, len, "cannot open %s: %s", device, strerror(errno));
		goto out;
	}
	vmfd = ioctl(sys, KVM_CREATE_VM, 0);
	run_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	ram = mmap(NULL, PROBE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bits = calloc(PROBE_SIZE / VM_STATE_PAGE / 64, sizeof(uint64_t));
	if (vmfd < 0 || run_size <= 0 || ram == MAP_FAILED || !bits) {
		snprintf(why, len, "the dirty-log probe cannot create its VM: %s", strerror(errno));
		goto out;
	}
	probe_build(ram);
	slot.host = ram;
	(void)ioctl(vmfd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	if (slot_flags(vmfd, 0, &slot, 0) < 0) {
		snprintf(why, len, "the dirty-log probe cannot map its RAM: %s", strerror(errno));
		goto out;
	}
	cpu = ioctl(vmfd, KVM_CREATE_VCPU, 0ul);
	if (cpu >= 0)
		run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (cpu < 0 || run == MAP_FAILED) {
		run = NULL;
		snprintf(why, len, "the dirty-log probe cannot create its vCPU: %s",
		         strerror(errno));
		goto out;
	}
	if (probe_long_mode(cpu) < 0) {
		snprintf(why, len, "the dirty-log probe cannot enter long mode: %s",
		         strerror(errno));
		goto out;
	}
	if (!probe_run(cpu, run, ram, why, len))
		goto out;
	if (slot_flags(vmfd, 0, &slot, KVM_MEM_LOG_DIRTY_PAGES) < 0) {
		snprintf(why, len, "KVM refuses to start the dirty log of a RAM slot: %s",
		         strerror(errno));
		goto out;
	}
	for (unsigned round = 1; round <= 2; round++) {
		if (!probe_run(cpu, run, ram, why, len))
			goto out;
		hits = probe_logged(vmfd, bits);
		if (hits < 0) {
			snprintf(why, len, "KVM_GET_DIRTY_LOG failed: %s", strerror((int)-hits));
			goto out;
		}
		if (hits != (long)ARRAY_SIZE(probe_pages)) {
			snprintf(why, len,
			         "KVM's dirty log on this host does not report guest writes "
			         "(KVM_GET_DIRTY_LOG named %ld of the %zu pages a probe guest "
			         "wrote, "
			         "round %u)",
			         hits, ARRAY_SIZE(probe_pages), round);
			goto out;
		}
	}
	ret = 0;
	snprintf(why, len,
	         "KVM's dirty log reports guest writes (4 KiB and 2 MiB pages, two rounds)");
out:
	free(bits);
	if (run)
		munmap(run, (size_t)run_size);
	if (cpu >= 0)
		close(cpu);
	if (vmfd >= 0)
		close(vmfd);
	if (ram != MAP_FAILED)
		munmap(ram, PROBE_SIZE);
	if (sys >= 0)
		close(sys);
	return ret;
}
