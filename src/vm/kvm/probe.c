/* SPDX-License-Identifier: MIT */
/*
 * What this host's KVM offers (`virtkit-vm probe`), and how fast it
 * really runs a guest. A tiny real-mode calibration guest counts down a loop
 * of two instructions between two port writes; the time between those exits
 * gives the guest's instruction rate. Hardware virtualization runs the loop at
 * native speed (thousands of MIPS); nested setups without hardware help and
 * PVM hosts (kvm_pvm) emulate it at a few MIPS. The classification is one of
 *   kvm: hardware-accelerated
 *   kvm: emulated (nested or PVM, ~N MIPS)
 *   kvm: unavailable (reason)
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/kvm/kvm.h"
#include "vm/kvm/probe.h"

/* Guest speed above which KVM is taken to run guest code natively. */
#define PROBE_HW_MIPS    200.0

#define PROBE_MEM_SIZE   (1u << 20)
#define PROBE_CODE       0x1000
#define PROBE_COUNT_ADDR 0x500
#define PROBE_PORT_START 0x510
#define PROBE_PORT_END   0x511
#define PROBE_TIMEOUT_S  10
#define PROBE_TARGET_NS  20000000ull /* measure for at least 20 ms */

/*
 * 16-bit real mode, cs = ds = 0:
 *   again: mov ecx, [0x500]; mov dx, 0x510; out dx, al
 *   loop:  dec ecx; jnz loop
 *          inc dx; out dx, al; jmp again
 */
static const uint8_t probe_code[] = {
        0x66, 0x8b, 0x0e, 0x00, 0x05, /* mov ecx, [0x500] */
        0xba, 0x10, 0x05,             /* mov dx, 0x510 */
        0xee,                         /* out dx, al */
        0x66, 0x49,                   /* dec ecx */
        0x75, 0xfc,                   /* jnz -4 */
        0x42,                         /* inc dx */
        0xee,                         /* out dx, al */
        0xeb, 0xed,                   /* jmp again (-19) */
};

struct probe_result {
	bool available;
	char reason[VK_ERROR_MSG_MAX];
	struct kvm_host_caps caps;
	const char *device;
	bool measured;
	double mips;
	uint64_t insns;
	uint64_t ns;
	bool dirty_probed, dirty_log; /* KVM's dirty log reports guest writes (x86-state.c) */
	char dirty_why[256];
};

static void probe_alarm(int sig)
{
	(void)sig; /* interrupts KVM_RUN */
}

/* Run the guest until it writes to `port`. Returns 0, or -errno with a reason. */
static int probe_run_until(int fd, struct kvm_run *run, uint16_t port, char *reason, size_t len)
{
	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0) {
			int e = errno;

			if (e == EINTR) {
				snprintf(reason, len,
				         "the calibration guest did not finish in %d s",
				         PROBE_TIMEOUT_S);
				return -ETIMEDOUT;
			}
			if (e == EAGAIN)
				continue;
			snprintf(reason, len, "KVM_RUN failed: %s", strerror(e));
			return -e;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == port)
			return 0;
		if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_INTR) {
			snprintf(reason, len, "the calibration guest stopped with KVM exit %u",
			         run->exit_reason);
			return -EIO;
		}
	}
}

static int probe_measure(struct kvm_vm *vm, struct probe_result *res)
{
	struct x86_boot_state bs = {.mode = X86_BOOT_REAL16, .rip = PROBE_CODE, .rsp = 0x8000};
	struct kvm_vcpu_probe {
		int fd;
		struct kvm_run *run;
	} v = {-1, NULL};
	struct vk_error err = {0};
	struct sigaction sa, old_sa;
	uint8_t *mem;
	uint32_t count = 10000;
	int r = -EIO;

	mem = mmap(NULL, PROBE_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	           0);
	if (mem == MAP_FAILED) {
		snprintf(res->reason, sizeof(res->reason), "cannot allocate guest memory");
		return -ENOMEM;
	}
	memcpy(mem + PROBE_CODE, probe_code, sizeof(probe_code));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_alarm;
	sigaction(SIGALRM, &sa, &old_sa);

	if (kvm_vm_create(vm, 0xfffbd000, &err) < 0 ||
	    kvm_vm_add_ram(vm, 0, PROBE_MEM_SIZE, mem, &err) < 0)
		goto fail_err;
	v.fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0ul);
	if (v.fd < 0) {
		vk_error_errno(&err, errno, "cannot create a vCPU");
		goto fail_err;
	}
	v.run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
	if (v.run == MAP_FAILED) {
		v.run = NULL;
		vk_error_errno(&err, errno, "cannot map the vCPU run area");
		goto fail_err;
	}
	if (x86_vcpu_init(vm, v.fd, 0, 1, &err) < 0 || x86_vcpu_set_boot_state(v.fd, &bs, &err) < 0)
		goto fail_err;

	alarm(PROBE_TIMEOUT_S);
	for (;;) {
		uint64_t t0, t1;

		memcpy(mem + PROBE_COUNT_ADDR, &count, sizeof(count));
		r = probe_run_until(v.fd, v.run, PROBE_PORT_START, res->reason,
		                    sizeof(res->reason));
		if (r < 0)
			break;
		t0 = vk_now_ns();
		r = probe_run_until(v.fd, v.run, PROBE_PORT_END, res->reason, sizeof(res->reason));
		t1 = vk_now_ns();
		if (r < 0)
			break;
		if (t1 - t0 >= PROBE_TARGET_NS || count >= 1000000000u / 10) {
			res->measured = true;
			res->insns = 2ull * count;
			res->ns = t1 - t0 ? t1 - t0 : 1;
			res->mips = (double)res->insns * 1e3 / (double)res->ns;
			break;
		}
		count *= 10;
	}
	alarm(0);
	goto out;
fail_err:
	snprintf(res->reason, sizeof(res->reason), "%s", err.msg);
	r = -err.code;
out:
	sigaction(SIGALRM, &old_sa, NULL);
	if (v.run)
		munmap(v.run, (size_t)vm->run_size);
	if (v.fd >= 0)
		close(v.fd);
	munmap(mem, PROBE_MEM_SIZE);
	return r;
}

static void probe_host(struct probe_result *res)
{
	struct kvm_vm vm;
	struct vk_error err = {0};

	memset(res, 0, sizeof(*res));
	if (kvm_vm_open(&vm, NULL, &err) < 0) {
		res->device = vm.device;
		snprintf(res->reason, sizeof(res->reason), "%s", err.msg);
		return;
	}
	res->device = vm.device;
	res->caps = vm.caps;
	if (probe_measure(&vm, res) == 0)
		res->available = true;
	kvm_vm_close(&vm);
	if (res->available) {
		res->dirty_probed = true;
		res->dirty_log = kvm_dirty_log_probe(res->device, res->dirty_why,
		                                     sizeof(res->dirty_why)) == 0;
	}
}

static void probe_summary(const struct probe_result *res, char *buf, size_t len)
{
	if (!res->available)
		snprintf(buf, len, "kvm: unavailable (%s)", res->reason);
	else if (res->mips >= PROBE_HW_MIPS)
		snprintf(buf, len, "kvm: hardware-accelerated");
	else
		snprintf(buf, len, "kvm: emulated (nested or PVM, ~%.0f MIPS)",
		         res->mips < 1 ? 1 : res->mips);
}

static const struct {
	const char *name;
	size_t off;
} probe_caps[] = {
#define CAP(f)                                        \
	{                                             \
#f, offsetof(struct kvm_host_caps, f) \
	}
        CAP(irqchip),  CAP(pit2),       CAP(user_memory), CAP(set_tss_addr),   CAP(ioeventfd),
        CAP(irqfd),    CAP(signal_msi), CAP(irq_routing), CAP(immediate_exit), CAP(ext_cpuid),
        CAP(mp_state), CAP(xsave),      CAP(x2apic_api),  CAP(split_irqchip),
#undef CAP
};

static bool probe_cap(const struct kvm_host_caps *c, unsigned i)
{
	return *(const bool *)((const char *)c + probe_caps[i].off);
}

static void probe_print_text(const struct probe_result *res, const char *summary)
{
	printf("device:          %s\n", res->device ? res->device : KVM_DEFAULT_DEVICE);
	if (res->caps.api_version > 0) {
		printf("API version:     %d\n", res->caps.api_version);
		printf("host module:     %s\n", res->caps.pvm ? "kvm_pvm" : "kvm");
		printf("capabilities:   ");
		for (unsigned i = 0; i < ARRAY_SIZE(probe_caps); i++)
			if (probe_cap(&res->caps, i))
				printf(" %s", probe_caps[i].name);
		printf("\nmissing:        ");
		for (unsigned i = 0, none = 1; i < ARRAY_SIZE(probe_caps); i++) {
			if (!probe_cap(&res->caps, i)) {
				printf(" %s", probe_caps[i].name);
				none = 0;
			}
			if (none && i + 1 == ARRAY_SIZE(probe_caps))
				printf(" (none)");
		}
		printf("\nvCPUs:           %u recommended, %u max\n", res->caps.nr_vcpus,
		       res->caps.max_vcpus);
		printf("memory slots:    %u\n", res->caps.nr_memslots);
	}
	if (res->measured)
		printf("guest speed:     %.1f MIPS (%llu instructions in %.3f ms)\n", res->mips,
		       (unsigned long long)res->insns, (double)res->ns / 1e6);
	if (res->dirty_probed)
		printf("dirty log:       %s (%s)\n",
		       res->dirty_log ? "works: live migration"
		                      : "does not work: stop-and-copy only",
		       res->dirty_why);
	printf("%s\n", summary);
}

static void probe_print_json(const struct probe_result *res, const char *summary)
{
	json_object *o = json_object_new_object();
	json_object *caps = json_object_new_object();
	const char *cls = !res->available              ? "unavailable"
	                  : res->mips >= PROBE_HW_MIPS ? "hardware-accelerated"
	                                               : "emulated";

	json_object_object_add(
	        o, "device",
	        json_object_new_string(res->device ? res->device : KVM_DEFAULT_DEVICE));
	json_object_object_add(o, "available", json_object_new_boolean(res->available));
	json_object_object_add(o, "classification", json_object_new_string(cls));
	json_object_object_add(o, "summary", json_object_new_string(summary));
	if (!res->available)
		json_object_object_add(o, "reason", json_object_new_string(res->reason));
	if (res->caps.api_version > 0) {
		json_object_object_add(o, "api_version",
		                       json_object_new_int(res->caps.api_version));
		json_object_object_add(o, "module",
		                       json_object_new_string(res->caps.pvm ? "kvm_pvm" : "kvm"));
		for (unsigned i = 0; i < ARRAY_SIZE(probe_caps); i++)
			json_object_object_add(caps, probe_caps[i].name,
			                       json_object_new_boolean(probe_cap(&res->caps, i)));
		json_object_object_add(o, "capabilities", caps);
		caps = NULL;
		json_object_object_add(o, "recommended_vcpus",
		                       json_object_new_int((int)res->caps.nr_vcpus));
		json_object_object_add(o, "max_vcpus",
		                       json_object_new_int((int)res->caps.max_vcpus));
		json_object_object_add(o, "memslots",
		                       json_object_new_int((int)res->caps.nr_memslots));
	}
	if (res->measured) {
		json_object_object_add(o, "mips", json_object_new_double(res->mips));
		json_object_object_add(o, "calibration_instructions",
		                       json_object_new_int64((int64_t)res->insns));
		json_object_object_add(o, "calibration_ns",
		                       json_object_new_int64((int64_t)res->ns));
	}
	if (res->dirty_probed) {
		json_object_object_add(o, "dirty_log", json_object_new_boolean(res->dirty_log));
		json_object_object_add(o, "dirty_log_detail",
		                       json_object_new_string(res->dirty_why));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
	if (caps)
		json_object_put(caps);
	json_object_put(o);
}

enum kvm_verdict kvm_probe_verdict(char *summary, size_t len)
{
	struct probe_result res;

	probe_host(&res);
	probe_summary(&res, summary, len);
	if (!res.available)
		return KVM_VERDICT_UNAVAILABLE;
	return res.mips >= PROBE_HW_MIPS ? KVM_VERDICT_HARDWARE : KVM_VERDICT_EMULATED;
}

void kvm_probe_report(bool json)
{
	struct probe_result res;
	char summary[VK_ERROR_MSG_MAX + 64];

	probe_host(&res);
	probe_summary(&res, summary, sizeof(summary));
	if (json)
		probe_print_json(&res, summary);
	else
		probe_print_text(&res, summary);
}
