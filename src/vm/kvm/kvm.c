/* SPDX-License-Identifier: MIT */
/*
 * The VM on /dev/kvm: opening the device, capability checks, the x86 platform
 * pieces KVM emulates in the kernel (TSS, identity map, PIC/IOAPIC/LAPIC, PIT),
 * memory slots, interrupt injection, ioeventfd/irqfd and the GSI routing table.
 */
#include "vm/kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"

#define KVM_IOAPIC_PINS 24
#define KVM_PIC_PINS    16

static int kvm_check(int sys_fd, long cap)
{
	int r = ioctl(sys_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

void kvm_read_caps(int sys_fd, struct kvm_host_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->api_version = ioctl(sys_fd, KVM_GET_API_VERSION, 0);
	caps->irqchip = kvm_check(sys_fd, KVM_CAP_IRQCHIP);
	caps->pit2 = kvm_check(sys_fd, KVM_CAP_PIT2);
	caps->user_memory = kvm_check(sys_fd, KVM_CAP_USER_MEMORY);
	caps->set_tss_addr = kvm_check(sys_fd, KVM_CAP_SET_TSS_ADDR);
	caps->set_identity_map_addr = kvm_check(sys_fd, KVM_CAP_SET_IDENTITY_MAP_ADDR);
	caps->ioeventfd = kvm_check(sys_fd, KVM_CAP_IOEVENTFD);
	caps->irqfd = kvm_check(sys_fd, KVM_CAP_IRQFD);
	caps->signal_msi = kvm_check(sys_fd, KVM_CAP_SIGNAL_MSI);
	caps->immediate_exit = kvm_check(sys_fd, KVM_CAP_IMMEDIATE_EXIT);
	caps->ext_cpuid = kvm_check(sys_fd, KVM_CAP_EXT_CPUID);
	caps->mp_state = kvm_check(sys_fd, KVM_CAP_MP_STATE);
	caps->xsave = kvm_check(sys_fd, KVM_CAP_XSAVE);
	caps->x2apic_api = kvm_check(sys_fd, KVM_CAP_X2APIC_API);
	caps->split_irqchip = kvm_check(sys_fd, KVM_CAP_SPLIT_IRQCHIP);
	caps->xcrs = kvm_check(sys_fd, KVM_CAP_XCRS);
	caps->debugregs = kvm_check(sys_fd, KVM_CAP_DEBUGREGS);
	caps->vcpu_events = kvm_check(sys_fd, KVM_CAP_VCPU_EVENTS);
	caps->nr_vcpus = (unsigned)kvm_check(sys_fd, KVM_CAP_NR_VCPUS);
	caps->max_vcpus = (unsigned)kvm_check(sys_fd, KVM_CAP_MAX_VCPUS);
	/* Documented fallbacks when the capabilities are absent. */
	if (!caps->nr_vcpus)
		caps->nr_vcpus = 4;
	if (!caps->max_vcpus)
		caps->max_vcpus = caps->nr_vcpus;
	caps->nr_memslots = (unsigned)kvm_check(sys_fd, KVM_CAP_NR_MEMSLOTS);
	caps->max_gsi = (unsigned)kvm_check(sys_fd, KVM_CAP_IRQ_ROUTING);
	caps->irq_routing = caps->max_gsi > 0;
	caps->pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
}

int kvm_vm_open(struct kvm_vm *vm, const char *path, struct vk_error *err)
{
	struct {
		bool have;
		const char *name;
	} need[6];
	unsigned n = 0;
	int fd, r;

	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = vm->vm_fd = -1;
	if (!path)
		path = getenv("VIRTKIT_KVM_DEVICE");
	if (!path || !*path)
		path = KVM_DEFAULT_DEVICE;
	vm->device = path;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return vk_error_set(err, e,
			                    "cannot open %s: no such device (is the kvm module "
			                    "loaded, and does this host offer virtualization?)",
			                    path);
		if (e == EACCES || e == EPERM)
			return vk_error_set(err, e,
			                    "cannot open %s: permission denied (add your user to "
			                    "the 'kvm' group, or run as root)",
			                    path);
		return vk_error_errno(err, e, "cannot open %s", path);
	}
	vm->sys_fd = fd;
	kvm_read_caps(fd, &vm->caps);
	if (vm->caps.api_version != KVM_API_VERSION) {
		r = vk_error_set(err, ENOTSUP, "%s: KVM API version %d, expected %d", path,
		                 vm->caps.api_version, KVM_API_VERSION);
		goto fail;
	}
	need[n++] = (typeof(need[0])){vm->caps.user_memory, "KVM_CAP_USER_MEMORY"};
	need[n++] = (typeof(need[0])){vm->caps.irqchip, "KVM_CAP_IRQCHIP"};
	need[n++] = (typeof(need[0])){vm->caps.pit2, "KVM_CAP_PIT2"};
	need[n++] = (typeof(need[0])){vm->caps.set_tss_addr, "KVM_CAP_SET_TSS_ADDR"};
	need[n++] = (typeof(need[0])){vm->caps.immediate_exit, "KVM_CAP_IMMEDIATE_EXIT"};
	need[n++] = (typeof(need[0])){vm->caps.ext_cpuid, "KVM_CAP_EXT_CPUID"};
	for (unsigned i = 0; i < n; i++) {
		if (!need[i].have) {
			r = vk_error_set(err, ENOTSUP, "%s lacks %s, which virtkit-vm needs", path,
			                 need[i].name);
			goto fail;
		}
	}
	vm->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		r = vk_error_errno(err, vm->run_size < 0 ? errno : EINVAL,
		                   "%s: KVM_GET_VCPU_MMAP_SIZE", path);
		goto fail;
	}
	return 0;
fail:
	close(fd);
	vm->sys_fd = -1;
	return r;
}

static int kvm_vm_routing_init(struct kvm_vm *vm)
{
	struct kvm_irq_routing *r;
	unsigned n = 0;

	r = calloc(1, sizeof(*r) + (KVM_PIC_PINS + KVM_IOAPIC_PINS + KVM_MAX_MSI_ROUTES) *
	                                   sizeof(struct kvm_irq_routing_entry));
	if (!r)
		return -ENOMEM;
	/* The routes KVM sets up by itself after KVM_CREATE_IRQCHIP (its default_routing). */
	for (unsigned gsi = 0; gsi < KVM_PIC_PINS; gsi++) {
		r->entries[n++] = (struct kvm_irq_routing_entry){
		        .gsi = gsi,
		        .type = KVM_IRQ_ROUTING_IRQCHIP,
		        .u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
		                                         : KVM_IRQCHIP_PIC_SLAVE,
		                      .pin = gsi % 8}};
	}
	for (unsigned gsi = 0; gsi < KVM_IOAPIC_PINS; gsi++) {
		r->entries[n++] = (struct kvm_irq_routing_entry){
		        .gsi = gsi,
		        .type = KVM_IRQ_ROUTING_IRQCHIP,
		        .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi}};
	}
	r->nr = n;
	vm->routing = r;
	vm->nr_irqchip_routes = n;
	return 0;
}

int kvm_vm_create(struct kvm_vm *vm, uint64_t tss_addr, struct vk_error *err)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	uint64_t idmap = tss_addr - 0x1000;
	int r;

	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vk_error_errno(err, errno, "%s: cannot create a VM", vm->device);
	/*
	 * VMX needs a TSS and an identity-mapped page table for real mode
	 * emulation; both must be outside RAM and MMIO. Set the identity map
	 * first: KVM would otherwise place it just below the TSS anyway.
	 */
	if (vm->caps.set_identity_map_addr &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return vk_error_errno(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)tss_addr) < 0)
		return vk_error_errno(err, errno, "KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vk_error_errno(err, errno,
		                      "cannot create the in-kernel interrupt controllers");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return vk_error_errno(err, errno, "cannot create the in-kernel PIT");
	r = kvm_vm_routing_init(vm);
	if (r < 0)
		return vk_error_errno(err, -r, "GSI routing table");
	return 0;
}

void kvm_vm_close(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	free(vm->routing);
	vm->routing = NULL;
	free(vm->msr_index);
	free(vm->msr_save);
	vm->msr_index = vm->msr_save = NULL;
	vm->nr_msr_index = vm->nr_msr_save = 0;
	vm->vm_fd = vm->sys_fd = -1;
}

int kvm_vm_add_ram(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *host, struct vk_error *err)
{
	struct kvm_userspace_memory_region reg = {
	        .slot = vm->next_slot,
	        .guest_phys_addr = gpa,
	        .memory_size = size,
	        .userspace_addr = (uintptr_t)host,
	};

	if ((vm->caps.nr_memslots && vm->next_slot >= vm->caps.nr_memslots) ||
	    vm->next_slot >= KVM_MAX_RAM_SLOTS)
		return vk_error_set(err, ENOSPC, "out of KVM memory slots");
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
		return vk_error_errno(err, errno,
		                      "cannot map %llu MiB of RAM at 0x%llx into the VM",
		                      (unsigned long long)(size >> 20), (unsigned long long)gpa);
	vm->slots[vm->next_slot] = (struct kvm_ram_slot){.gpa = gpa, .size = size, .host = host};
	vm->next_slot++;
	return 0;
}

int kvm_vm_irq_line(struct kvm_vm *vm, unsigned gsi, bool level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_vm_signal_msi(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
	        .address_lo = (uint32_t)addr,
	        .address_hi = (uint32_t)(addr >> 32),
	        .data = data,
	};

	/* 0: the interrupt was blocked (masked at the LAPIC); not an error. */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int kvm_vm_ioeventfd(struct kvm_vm *vm, uint64_t addr, unsigned len, bool pio, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
	        .addr = addr,
	        .len = len,
	        .fd = fd,
	        .flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
	                 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (!vm->caps.ioeventfd)
		return -ENOTSUP;
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int kvm_vm_commit_routes(struct kvm_vm *vm)
{
	return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routing) < 0 ? -errno : 0;
}

static struct kvm_irq_routing_entry *kvm_vm_find_route(struct kvm_vm *vm, unsigned gsi)
{
	for (unsigned i = vm->nr_irqchip_routes; i < vm->routing->nr; i++)
		if (vm->routing->entries[i].gsi == gsi)
			return &vm->routing->entries[i];
	return NULL;
}

int kvm_vm_msi_route_add(struct kvm_vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e;
	unsigned idx;
	int r;

	if (!vm->caps.irq_routing || !vm->routing)
		return -ENOTSUP;
	for (idx = 0; idx < KVM_MAX_MSI_ROUTES; idx++)
		if (!(vm->msi_gsi_used[idx / 64] & (1ull << (idx % 64))))
			break;
	if (idx == KVM_MAX_MSI_ROUTES || KVM_MSI_GSI_BASE + idx >= vm->caps.max_gsi)
		return -ENOSPC;
	e = &vm->routing->entries[vm->routing->nr++];
	*e = (struct kvm_irq_routing_entry){
	        .gsi = KVM_MSI_GSI_BASE + idx,
	        .type = KVM_IRQ_ROUTING_MSI,
	        .u.msi = {.address_lo = (uint32_t)addr,
	                  .address_hi = (uint32_t)(addr >> 32),
	                  .data = data},
	};
	r = kvm_vm_commit_routes(vm);
	if (r < 0) {
		vm->routing->nr--;
		return r;
	}
	vm->msi_gsi_used[idx / 64] |= 1ull << (idx % 64);
	return (int)(KVM_MSI_GSI_BASE + idx);
}

int kvm_vm_msi_route_update(struct kvm_vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e = vm->routing ? kvm_vm_find_route(vm, gsi) : NULL;
	struct kvm_irq_routing_entry old;
	int r;

	if (!e)
		return -ENOENT;
	if (e->u.msi.address_lo == (uint32_t)addr &&
	    e->u.msi.address_hi == (uint32_t)(addr >> 32) && e->u.msi.data == data)
		return 0;
	old = *e;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	r = kvm_vm_commit_routes(vm);
	/* Our table must keep saying what KVM has, or the retry would find nothing to do. */
	if (r < 0)
		*e = old;
	return r;
}

void kvm_vm_msi_route_del(struct kvm_vm *vm, unsigned gsi)
{
	struct kvm_irq_routing_entry *e = vm->routing ? kvm_vm_find_route(vm, gsi) : NULL;
	unsigned idx = gsi - KVM_MSI_GSI_BASE;

	if (!e)
		return;
	*e = vm->routing->entries[--vm->routing->nr];
	vm->msi_gsi_used[idx / 64] &= ~(1ull << (idx % 64));
	if (kvm_vm_commit_routes(vm) < 0)
		vk_warn("cannot update the GSI routing table after freeing GSI %u", gsi);
}

int kvm_vm_irqfd(struct kvm_vm *vm, unsigned gsi, int fd, bool assign)
{
	struct kvm_irqfd irqfd = {
	        .fd = (uint32_t)fd,
	        .gsi = gsi,
	        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (!vm->caps.irqfd)
		return -ENOTSUP;
	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}
