/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the x86 boot code and the KVM-independent parts of the KVM
 * backend: the bzImage loader (zero page, e820, command line, initrd, page
 * tables), the PVH loader (note, segments, start info), the MP table, CPUID
 * filtering, the vCPU count limit, kvm_vm_open() on a device that is not
 * KVM and MSI routes KVM refuses. Hostile images must be refused with a
 * sentence, never crash.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/boot/x86-boot.h"
#include "vm/kvm/kvm.h"
#include "vm/mem.h"

#define MEM (64u << 20)

static struct vm_mem mem;
static uint8_t kimg[64 * 1024];
static const struct x86_e820_entry e820[] = {
        {0, 0x9fc00, E820_RAM},
        {0x9fc00, 0x60400, E820_RESERVED},
        {0x100000, MEM - 0x100000, E820_RAM},
};

static int setup(void **state)
{
	vm_mem_init(&mem);
	return vm_mem_add_ram(&mem, 0, MEM, NULL);
}

static int teardown(void **state)
{
	vm_mem_destroy(&mem);
	return 0;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A bzImage with 2 setup sectors (3 * 512 bytes) and `pm` bytes of 64-bit kernel. */
static size_t make_bzimage(size_t pm)
{
	memset(kimg, 0, sizeof(kimg));
	kimg[0x1f1] = 2;
	put16(kimg, 0x1fe, 0xaa55);
	kimg[0x200] = 0xeb;
	kimg[0x201] = 0x6a; /* header up to 0x26c */
	memcpy(kimg + 0x202, "HdrS", 4);
	put16(kimg, 0x206, 0x020f);
	kimg[0x211] = 0x01;
	put32(kimg, 0x22c, 0x7fffffff);
	put32(kimg, 0x230, 0x200000);
	kimg[0x234] = 1;
	put16(kimg, 0x236, 0x1);
	put32(kimg, 0x238, 255);
	put32(kimg, 0x258, 0x1000000);
	put32(kimg, 0x260, 0x400000);
	for (size_t i = 0; i < pm; i++)
		kimg[1536 + i] = (uint8_t)(i * 7 + 1);
	return 1536 + pm;
}

static struct x86_linux_params params(size_t len, const char *cmdline, const void *initrd,
                                      size_t initrd_len)
{
	return (struct x86_linux_params){
	        .kernel_name = "test-kernel",
	        .kernel = kimg,
	        .kernel_len = len,
	        .initrd_name = "test-initrd",
	        .initrd = initrd,
	        .initrd_len = initrd_len,
	        .cmdline = cmdline,
	        .e820 = e820,
	        .nr_e820 = 3,
	        .ram_below_4g = MEM,
	        .acpi_rsdp = 0xe0000,
	};
}

static void test_bzimage_load(void **state)
{
	static const char initrd[] = "INITRD-CONTENT";
	struct x86_linux_params p =
	        params(make_bzimage(4096), "console=ttyS0", initrd, sizeof(initrd));
	struct x86_boot_state bs;
	struct x86_linux_info info;
	struct vk_error err = {0};
	const uint8_t *zp = vm_mem_translate(&mem, X86_BOOT_ZERO_PAGE, 4096);
	const uint64_t *pml4 = vm_mem_translate(&mem, X86_BOOT_PML4, 4096);
	const uint64_t *pd = vm_mem_translate(&mem, X86_BOOT_PD, 4096 * 4);
	uint32_t rd;

	assert_int_equal(x86_load_linux(&mem, &p, &bs, &info, &err), 0);
	assert_false(info.pvh);
	/* The protected-mode part at 1 MiB, entry 0x200 in, long mode, rsi = zero page. */
	assert_memory_equal(vm_mem_translate(&mem, 0x100000, 4096), kimg + 1536, 4096);
	assert_int_equal(bs.mode, X86_BOOT_LONG64);
	assert_int_equal(bs.rip, 0x100200);
	assert_int_equal(bs.rsi, X86_BOOT_ZERO_PAGE);
	assert_int_equal(bs.cr3, X86_BOOT_PML4);
	assert_int_equal(pml4[0], X86_BOOT_PDPT | 3);
	assert_int_equal(pd[1], 0x200083);
	assert_int_equal(pd[2047], (2047ull << 21) | 0x83);
	/* The zero page: header copy, loader type, command line, e820, initrd. */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(get32(zp + 0x228), X86_BOOT_CMDLINE);
	assert_string_equal((const char *)vm_mem_translate(&mem, X86_BOOT_CMDLINE, 14),
	                    "console=ttyS0");
	assert_int_equal(zp[0x1e8], 3);
	assert_memory_equal(zp + 0x2d0, e820, sizeof(e820));
	rd = get32(zp + 0x218);
	assert_int_equal(get32(zp + 0x21c), sizeof(initrd));
	assert_int_equal(rd & 0xfff, 0);
	assert_true(rd >= info.kernel_high && rd + sizeof(initrd) <= MEM);
	assert_memory_equal(vm_mem_translate(&mem, rd, sizeof(initrd)), initrd, sizeof(initrd));
	/* boot_params.acpi_rsdp_addr */
	assert_int_equal(get32(zp + 0x70), 0xe0000);
	assert_int_equal(get32(zp + 0x74), 0);
	/* The decompressor may move the kernel to pref_address: init_size counts from there. */
	assert_int_equal(info.kernel_high, 0x1000000 + 0x400000);
}

static void test_bzimage_refusals(void **state)
{
	static uint8_t big_initrd[8 << 20];
	struct x86_boot_state bs;
	struct x86_linux_info info;
	struct vk_error err = {0};
	char longline[300];
	size_t len = make_bzimage(4096);
	struct x86_linux_params p = params(len, "", NULL, 0);

	put16(kimg, 0x206, 0x020b);
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "boot protocol 2.11"));

	make_bzimage(4096);
	put16(kimg, 0x236, 0);
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "not a 64-bit kernel"));

	make_bzimage(4096);
	kimg[0x1f1] = 200; /* setup larger than the file */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "truncated"));

	make_bzimage(4096);
	kimg[0x201] = 0x10; /* header too short to hold the 2.12 fields */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "malformed setup header"));

	make_bzimage(4096);
	kimg[0x234] = 0; /* not relocatable, wants 16 MiB: fine */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), 0);
	assert_int_equal(bs.rip, 0x1000200);
	put32(kimg, 0x258, 0x1000); /* not relocatable, wants low memory */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOEXEC);

	make_bzimage(4096);
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	p.cmdline = longline; /* cmdline_size is 255 */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "at most 255"));

	p = params(len, "", big_initrd, sizeof(big_initrd));
	put32(kimg, 0x22c, 0x1100000); /* initrd_addr_max: just above the kernel */
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "more --memory"));

	make_bzimage(4096);
	put32(kimg, 0x260, 0x7fffffff); /* init_size beyond RAM */
	p = params(len, "", NULL, 0);
	assert_int_equal(x86_bzimage_load(&mem, &p, &bs, &info, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "more --memory"));

	/* Neither bzImage nor ELF. */
	memset(kimg, 0x90, 4096);
	p = params(4096, "", NULL, 0);
	assert_int_equal(x86_load_linux(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "neither a bzImage"));
	p.kernel_len = 10;
	assert_int_equal(x86_load_linux(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "too small"));
}

/* An ELF64 vmlinux-like image: one PT_LOAD at paddr, one PT_NOTE with the PVH entry. */
static size_t make_pvh(uint64_t paddr, uint32_t note_type, uint32_t descsz)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)kimg;
	Elf64_Phdr *ph = (Elf64_Phdr *)(kimg + sizeof(*eh));
	uint8_t *note = kimg + 0x200;
	uint64_t entry = paddr + 0x10;

	memset(kimg, 0, sizeof(kimg));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000000ull; /* virtual, as in vmlinux: not used */
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	eh->e_ehsize = sizeof(*eh);
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_offset = 0x1000,
	                     .p_paddr = paddr,
	                     .p_filesz = 0x1000,
	                     .p_memsz = 0x3000};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = 12 + 4 + 8};
	put32(note, 0, 4);
	put32(note, 4, descsz);
	put32(note, 8, note_type);
	memcpy(note + 12, "Xen", 4);
	memcpy(note + 16, &entry, 8);
	memset(kimg + 0x1000, 0xab, 0x1000);
	return 0x2000;
}

static void test_pvh_load(void **state)
{
	static const char initrd[] = "PVH-INITRD";
	struct x86_linux_params p =
	        params(make_pvh(0x200000, 18, 8), "root=/dev/vda", initrd, sizeof(initrd));
	struct x86_boot_state bs;
	struct x86_linux_info info;
	struct vk_error err = {0};
	const uint8_t *si = vm_mem_translate(&mem, X86_BOOT_PVH_INFO, 64);
	const uint8_t *seg;
	uint64_t v;

	memset(vm_mem_translate(&mem, 0x201000, 0x2000), 0xcc, 0x2000); /* must become .bss zeros */
	assert_int_equal(x86_load_linux(&mem, &p, &bs, &info, &err), 0);
	assert_true(info.pvh);
	assert_int_equal(bs.mode, X86_BOOT_FLAT32);
	assert_int_equal(bs.rip, 0x200010);
	assert_int_equal(bs.rbx, X86_BOOT_PVH_INFO);
	seg = vm_mem_translate(&mem, 0x200000, 0x3000);
	assert_int_equal(seg[0], 0xab);
	assert_int_equal(seg[0xfff], 0xab);
	assert_int_equal(seg[0x1000], 0);
	assert_int_equal(seg[0x2fff], 0);
	assert_int_equal(get32(si), 0x336ec578); /* magic */
	assert_int_equal(get32(si + 4), 1);      /* version */
	assert_int_equal(get32(si + 12), 1);     /* nr_modules */
	memcpy(&v, si + 24, 8);
	assert_string_equal((const char *)vm_mem_translate(&mem, v, 14), "root=/dev/vda");
	memcpy(&v, si + 16, 8); /* module list */
	memcpy(&v, vm_mem_translate(&mem, v, 8), 8);
	assert_memory_equal(vm_mem_translate(&mem, v, sizeof(initrd)), initrd, sizeof(initrd));
	assert_true(v >= 0x203000);
	assert_int_equal(get32(si + 48), 3); /* memmap entries */
	memcpy(&v, si + 32, 8);              /* rsdp_paddr */
	assert_int_equal(v, 0xe0000);
}

static void test_pvh_refusals(void **state)
{
	struct x86_boot_state bs;
	struct x86_linux_info info;
	struct vk_error err = {0};
	struct x86_linux_params p = params(make_pvh(0x200000, 17, 8), "", NULL, 0);

	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "without a PVH entry note"));
	make_pvh(0x200000, 18, 3); /* a descriptor of 3 bytes is no address */
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	make_pvh(0x8000, 18, 8); /* over the boot structures */
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "below 1 MiB"));
	make_pvh(MEM - 0x1000, 18, 8); /* .bss runs past the end of RAM */
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "more --memory"));
	make_pvh(0x200000, 18, 8);
	p.kernel_len = 0x100; /* the note lies beyond the end */
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	p.kernel_len = 0x2000;
	((Elf64_Ehdr *)kimg)->e_phnum = 0xffff; /* program headers beyond the file */
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	make_pvh(0x200000, 18, 8);
	kimg[EI_CLASS] = ELFCLASS32;
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "not an x86-64 one"));
	/* A note whose size field runs off the segment is skipped, not followed. */
	make_pvh(0x200000, 18, 8);
	put32(kimg + 0x200, 0, 0xfffffff0);
	assert_int_equal(x86_pvh_load(&mem, &p, &bs, &info, &err), -ENOEXEC);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_mptable(void **state)
{
	const struct x86_mp_irq irqs[] = {
	        {.pci = true, .src_irq = 1 << 2, .gsi = 17},
	        {.src_irq = 5, .gsi = 5, .trigger = X86_MP_LEVEL_HIGH},
	};
	struct x86_mp_config c = {.nr_cpus = 4, .irqs = irqs, .nr_irqs = 2};
	struct vk_error err = {0};
	const uint8_t *mpf = vm_mem_translate(&mem, X86_MPTABLE_ADDR, 16), *t, *e;
	unsigned cpus = 0, ioapic_id = 0, isa5 = 0, pci = 0, count;

	assert_int_equal(x86_mptable_write(&mem, &c, &err), 0);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(sum(mpf, 16), 0);
	t = vm_mem_translate(&mem, get32(mpf + 4), 44);
	assert_memory_equal(t, "PCMP", 4);
	assert_int_equal(sum(t, (size_t)(t[4] | t[5] << 8)), 0);
	assert_int_equal(get32(t + 36), X86_LAPIC_ADDR);
	count = (unsigned)(t[34] | t[35] << 8);
	e = t + 44;
	for (unsigned i = 0; i < count; i++) {
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], cpus);              /* APIC id */
			assert_int_equal(e[3], cpus == 0 ? 3 : 1); /* enabled, BSP */
			cpus++;
			e += 20;
			continue;
		case 2:
			ioapic_id = e[1];
			assert_int_equal(get32(e + 4), X86_IOAPIC_ADDR);
			break;
		case 3:
			if (e[4] == 1 && e[5] == 5) { /* ISA IRQ 5: replaced by the level entry */
				isa5++;
				assert_int_equal(e[2], 0xd);
			}
			if (e[4] == 0) {
				pci++;
				assert_int_equal(e[5], 4);
				assert_int_equal(e[7], 17);
			}
			break;
		}
		e += 8;
	}
	assert_int_equal(cpus, 4);
	assert_int_equal(ioapic_id, 4);
	assert_int_equal(isa5, 1);
	assert_int_equal(pci, 1);
	c.nr_cpus = 0;
	assert_int_equal(x86_mptable_write(&mem, &c, &err), -EINVAL);
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, unsigned n, uint32_t f,
                                     uint32_t idx)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == f && e[i].index == idx)
			return &e[i];
	return NULL;
}

static void test_cpuid_filter(void **state)
{
	struct kvm_cpuid_entry2 e[16] = {
	        {.function = 0, .eax = 0x1f, .ebx = 0x756e6547}, /* GenuineIntel */
	        {.function = 1, .eax = 0x906ea, .ebx = 0xff0a0800, .edx = 1u << 28},
	        {.function = 4, .index = 0, .eax = 0x121 | (7u << 26)}, /* L1d */
	        {.function = 4, .index = 3, .eax = 0x163 | (7u << 26)}, /* L3 */
	        {.function = 0xb, .index = 0, .ebx = 2, .edx = 9},      /* host SMT level */
	        {.function = 0x1f, .index = 0, .ebx = 2, .edx = 9},
	        {.function = 0x80000008, .ecx = 0x77},
	};
	unsigned n = x86_cpuid_filter(e, 7, 16, 2, 3);
	struct kvm_cpuid_entry2 *c;

	assert_null(find(e, n, 0x1f, 0));
	c = find(e, n, 1, 0);
	assert_int_equal(c->ebx >> 24, 2);          /* APIC id */
	assert_int_equal((c->ebx >> 16) & 0xff, 4); /* logical count, a power of two */
	assert_int_equal(c->ebx & 0xffff, 0x0800);
	assert_true(c->ecx & (1u << 31)); /* hypervisor */
	assert_true(c->edx & (1u << 28)); /* HTT */
	c = find(e, n, 0xb, 0);
	assert_int_equal(c->ebx, 1);
	assert_int_equal(c->edx, 2);
	assert_true(c->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	c = find(e, n, 0xb, 1);
	assert_int_equal(c->eax, 2); /* bits of the core id */
	assert_int_equal(c->ebx, 3);
	assert_int_equal(c->ecx, 0x201);
	assert_int_equal(c->edx, 2);
	c = find(e, n, 0xb, 2);
	assert_int_equal(c->ecx & 0xff00, 0);
	assert_int_equal(find(e, n, 4, 0)->eax >> 26, 3);
	assert_int_equal((find(e, n, 4, 0)->eax >> 14) & 0xfff, 0);
	assert_int_equal((find(e, n, 4, 3)->eax >> 14) & 0xfff, 3);
	assert_int_equal(find(e, n, 0x80000008, 0)->ecx, 0x77); /* Intel: untouched */

	/* One vCPU: no HTT, APIC id 0. */
	n = x86_cpuid_filter(e, n, 16, 0, 1);
	c = find(e, n, 1, 0);
	assert_int_equal(c->ebx >> 24, 0);
	assert_false(c->edx & (1u << 28));
	assert_int_equal(find(e, n, 0xb, 1)->ebx, 1);
	/* 200 vCPUs: 256 logical ids do not fit CPUID.1:EBX[23:16], which saturates
	 * instead of spilling into the APIC id above it. */
	n = x86_cpuid_filter(e, n, 16, 198, 200);
	c = find(e, n, 1, 0);
	assert_int_equal(c->ebx >> 24, 198);
	assert_int_equal((c->ebx >> 16) & 0xff, 0xff);
	assert_int_equal(find(e, n, 0xb, 1)->ebx, 200);
	assert_int_equal(find(e, n, 0xb, 1)->eax, 8);
	/* No room for the topology entries: they are left out, nothing overflows. */
	n = x86_cpuid_filter(e, 5, 5, 0, 2);
	assert_true(n <= 5);
}

static void test_vcpu_limit(void **state)
{
	struct kvm_vm vm = {.sys_fd = -1, .vm_fd = -1};
	struct kvm_cpus cpus;
	struct vk_error err = {0};

	vm.caps.max_vcpus = 2;
	vm.caps.nr_vcpus = 2;
	assert_int_equal(kvm_cpus_create(&cpus, &vm, 3, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "allows at most 2"));
	kvm_cpus_destroy(&cpus);
	assert_int_equal(kvm_cpus_create(&cpus, &vm, 0, &err), -EINVAL);
	kvm_cpus_destroy(&cpus);
}

/* A device that is not KVM is refused with a sentence, or an errno alone when err is NULL. */
static void test_not_kvm(void **state)
{
	struct kvm_vm vm;
	struct vk_error err = {0};

	assert_int_equal(kvm_vm_open(&vm, "/dev/null", NULL), -ENOTSUP);
	assert_int_equal(vm.sys_fd, -1);
	assert_int_equal(kvm_vm_open(&vm, "/dev/null", &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "/dev/null: KVM API version"));
	assert_int_equal(kvm_vm_open(&vm, "/nonexistent/kvm", NULL), -ENOENT);
}

/*
 * An MSI route whose update KVM refuses keeps its old message in our copy of
 * the table, so that the next update commits again instead of finding nothing
 * to do (which would leave the irqfd delivering the stale message).
 */
static void test_msi_route_update_failure(void **state)
{
	struct kvm_vm vm = {.sys_fd = -1, .vm_fd = -1}; /* every ioctl fails (EBADF) */
	struct kvm_irq_routing_entry *e;

	vm.caps.irq_routing = true;
	vm.caps.max_gsi = 1024;
	vm.routing = calloc(1, sizeof(*vm.routing) + 2 * sizeof(vm.routing->entries[0]));
	assert_non_null(vm.routing);
	e = &vm.routing->entries[0];
	*e = (struct kvm_irq_routing_entry){.gsi = KVM_MSI_GSI_BASE,
	                                    .type = KVM_IRQ_ROUTING_MSI,
	                                    .u.msi = {.address_lo = 0xfee00000, .data = 0x41}};
	vm.routing->nr = 1;
	vm.msi_gsi_used[0] = 1;
	assert_int_equal(kvm_vm_msi_route_update(&vm, KVM_MSI_GSI_BASE, 0xfee01000, 0x42), -EBADF);
	assert_int_equal(e->u.msi.address_lo, 0xfee00000);
	assert_int_equal(e->u.msi.data, 0x41);
	assert_int_equal(kvm_vm_msi_route_update(&vm, KVM_MSI_GSI_BASE, 0xfee01000, 0x42), -EBADF);
	assert_int_equal(kvm_vm_msi_route_update(&vm, KVM_MSI_GSI_BASE, 0xfee00000, 0x41), 0);
	/* an added route that KVM refuses is not kept either */
	assert_int_equal(kvm_vm_msi_route_add(&vm, 0xfee00000, 0x43), -EBADF);
	assert_int_equal(vm.routing->nr, 1);
	assert_int_equal(kvm_vm_msi_route_update(&vm, KVM_MSI_GSI_BASE + 1, 0, 0), -ENOENT);
	free(vm.routing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_bzimage_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bzimage_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pvh_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pvh_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mptable, setup, teardown),
	        cmocka_unit_test(test_cpuid_filter),
	        cmocka_unit_test(test_vcpu_limit),
	        cmocka_unit_test(test_not_kvm),
	        cmocka_unit_test(test_msi_route_update_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
