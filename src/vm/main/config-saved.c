/* SPDX-License-Identifier: MIT */
/*
 * The machine's configuration in a saved state (its CONFIG record, JSON with
 * json-c), and `run --restore` / `--incoming`, which build the machine the
 * state was taken from. The saved configuration is untrusted input like the
 * rest of the file: every member's type and range is checked.
 *
 * What the command line may say on a restore:
 *   - the machine (--arch, --accel, --memory, --cpus, --rng, --agent,
 *     --virtio-transport, and how many --disk and --net): must agree with the
 *     saved machine, which the guest's memory and devices describe;
 *   - the host's side (the files behind --disk, the backends behind --net,
 *     --console, --virtio-console's chardev, --jit, --kernel and friends used
 *     at the next reboot): replaces the saved value.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vm/main/config.h"

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

char *vm_config_to_json(const struct vm_machine_config *m)
{
	struct json_object *o = json_object_new_object(), *a;
	char *text;

	add_str(o, "arch", m->arch);
	add_str(o, "accel", m->accel);
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)m->memory));
	json_object_object_add(o, "cpus", json_object_new_int((int)m->cpus));
	add_str(o, "boot", m->boot == VM_BOOT_DISK ? "disk" : "kernel");
	add_str(o, "kernel", m->kernel);
	add_str(o, "initrd", m->initrd);
	add_str(o, "cmdline", m->cmdline);
	add_str(o, "firmware", m->firmware);
	a = json_object_new_array();
	for (unsigned i = 0; i < m->nr_disks; i++)
		json_object_array_add(a, json_object_new_string(m->disks[i]));
	json_object_object_add(o, "disks", a);
	a = json_object_new_array();
	for (unsigned i = 0; i < m->nr_nets; i++)
		json_object_array_add(a, json_object_new_string(m->nets[i]));
	json_object_object_add(o, "nets", a);
	json_object_object_add(o, "rng", json_object_new_boolean(m->rng));
	add_str(o, "console", m->console);
	add_str(o, "virtio_console", m->virtio_console);
	json_object_object_add(o, "agent", json_object_new_boolean(m->agent));
	add_str(o, "on_reset", m->on_reset == VM_ON_RESET_REBOOT ? "reboot" : "exit");
	json_object_object_add(o, "virtio_mmio", json_object_new_boolean(m->virtio_mmio));
	json_object_object_add(o, "jit", json_object_new_boolean(m->jit));
	json_object_object_add(o, "jit_cache", json_object_new_int64((int64_t)m->jit_cache));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static int malformed(struct vk_error *err, const char *key, const char *what)
{
	return vk_error_set(err, EINVAL, "the saved configuration is malformed: '%s' %s", key,
	                    what);
}

/* A string member (NULL when absent or null). */
static int get_str(struct json_object *o, const char *key, const char **out, struct vk_error *err)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return malformed(err, key, "is not a string");
	*out = json_object_get_string(v);
	return 0;
}

static int get_bool(struct json_object *o, const char *key, bool *out, struct vk_error *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return malformed(err, key, "is not true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_u64(struct json_object *o, const char *key, uint64_t min, uint64_t max,
                   uint64_t *out, struct vk_error *err)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return malformed(err, key, "is not a number");
	n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return malformed(err, key, "is out of range");
	*out = (uint64_t)n;
	return 0;
}

/* A string array into out[] (at most max); *n its length. */
static int get_list(struct json_object *o, const char *key, const char **out, unsigned max,
                    unsigned *n, struct vk_error *err)
{
	struct json_object *v;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return malformed(err, key, "is not a list");
	len = json_object_array_length(v);
	if (len > max)
		return malformed(err, key, "has too many entries");
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return malformed(err, key, "holds something that is not a string");
		out[i] = json_object_get_string(e);
	}
	*n = (unsigned)len;
	return 0;
}

static int differs(struct vk_error *err, const char *opt, const char *given, const char *saved)
{
	return vk_error_set(err, EINVAL,
	                    "%s %s does not match the saved machine (%s): a restored machine "
	                    "is the one that was saved",
	                    opt, given, saved);
}

static const char *yes_no(bool v)
{
	return v ? "given" : "not given";
}

int vm_config_apply_saved(struct vm_config *cfg, const char *json, const char *arch,
                          const char *board, struct vk_error *err)
{
	struct vm_machine_config *m = &cfg->machine;
	struct json_object *o = json_tokener_parse(json);
	const char *s_arch, *s_accel, *s_boot, *s_on_reset, *s, *disks[VM_MAX_DISKS],
	        *nets[VM_MAX_NETS];
	unsigned nr_disks, nr_nets;
	uint64_t memory, cpus, jit_cache;
	bool rng, agent, mmio, jit;
	char a[64], b[64];
	int r;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return vk_error_set(err, EINVAL,
		                    "the saved configuration is malformed: not a JSON object");
	}
	cfg->saved = o;
	if ((r = get_str(o, "arch", &s_arch, err)) < 0 ||
	    (r = get_str(o, "accel", &s_accel, err)) < 0 ||
	    (r = get_u64(o, "memory", 1ull << 20, 1ull << 44, &memory, err)) < 0 ||
	    (r = get_u64(o, "cpus", 1, VM_MAX_CPUS, &cpus, err)) < 0 ||
	    (r = get_str(o, "boot", &s_boot, err)) < 0 ||
	    (r = get_list(o, "disks", disks, VM_MAX_DISKS, &nr_disks, err)) < 0 ||
	    (r = get_list(o, "nets", nets, VM_MAX_NETS, &nr_nets, err)) < 0 ||
	    (r = get_bool(o, "rng", &rng, err)) < 0 ||
	    (r = get_bool(o, "agent", &agent, err)) < 0 ||
	    (r = get_bool(o, "virtio_mmio", &mmio, err)) < 0 ||
	    (r = get_bool(o, "jit", &jit, err)) < 0 ||
	    (r = get_u64(o, "jit_cache", 0, 2ull << 30, &jit_cache, err)) < 0 ||
	    (r = get_str(o, "on_reset", &s_on_reset, err)) < 0)
		return r;
	if (!s_arch || !s_accel || !s_boot || !s_on_reset)
		return malformed(err, "arch", "or accel, boot, on_reset is missing");
	if (!((!strcmp(s_arch, "riscv64") && !strcmp(board, "virt") && !strcmp(s_accel, "emu")) ||
	      (!strcmp(s_arch, "x86_64") && !strcmp(board, "pc") && !strcmp(s_accel, "kvm"))))
		return vk_error_set(err, EINVAL,
		                    "the saved machine is a '%s' machine on '%s' (%s): this "
		                    "virtkit-vm runs riscv64 'virt' machines on its software CPU "
		                    "and x86_64 'pc' machines on KVM",
		                    s_arch, board, s_accel);
	if (strcmp(s_arch, arch))
		return vk_error_set(err, EINVAL,
		                    "the machine state is corrupt: its header says %s, its "
		                    "configuration %s",
		                    arch, s_arch);

	if (VM_GIVEN(cfg, OPT_ARCH) && strcmp(m->arch, s_arch))
		return differs(err, "--arch", m->arch, s_arch);
	m->arch = s_arch;
	if (VM_GIVEN(cfg, OPT_ACCEL) && strcmp(m->accel, s_accel))
		return differs(err, "--accel", m->accel, s_accel);
	m->accel = s_accel;
	if (VM_GIVEN(cfg, OPT_MEMORY) && m->memory != memory) {
		snprintf(a, sizeof(a), "%llu MiB", (unsigned long long)(m->memory >> 20));
		snprintf(b, sizeof(b), "%llu MiB", (unsigned long long)(memory >> 20));
		return differs(err, "--memory", a, b);
	}
	m->memory = memory;
	if (VM_GIVEN(cfg, OPT_CPUS) && m->cpus != cpus) {
		snprintf(a, sizeof(a), "%u", m->cpus);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)cpus);
		return differs(err, "--cpus", a, b);
	}
	m->cpus = (unsigned)cpus;
	if (VM_GIVEN(cfg, OPT_RNG) && !rng)
		return differs(err, "--rng", "given", "none");
	m->rng = rng;
	if (VM_GIVEN(cfg, OPT_AGENT) && !agent)
		return differs(err, "--agent", "given", "none");
	m->agent = agent;
	if (VM_GIVEN(cfg, OPT_VIRTIO_TRANSPORT) && m->virtio_mmio != mmio)
		return differs(err, "--virtio-transport", m->virtio_mmio ? "mmio" : "pci",
		               mmio ? "mmio" : "pci");
	m->virtio_mmio = mmio;
	if (VM_GIVEN(cfg, OPT_DISK) && m->nr_disks != nr_disks) {
		snprintf(a, sizeof(a), "%u times", m->nr_disks);
		snprintf(b, sizeof(b), "%u disks", nr_disks);
		return differs(err, "--disk", a, b);
	}
	if (!VM_GIVEN(cfg, OPT_DISK)) {
		for (unsigned i = 0; i < nr_disks; i++)
			m->disks[i] = disks[i];
		m->nr_disks = nr_disks;
	}
	if (VM_GIVEN(cfg, OPT_NET) && m->nr_nets != nr_nets) {
		snprintf(a, sizeof(a), "%u times", m->nr_nets);
		snprintf(b, sizeof(b), "%u network cards", nr_nets);
		return differs(err, "--net", a, b);
	}
	if (!VM_GIVEN(cfg, OPT_NET)) {
		for (unsigned i = 0; i < nr_nets; i++)
			m->nets[i] = nets[i];
		m->nr_nets = nr_nets;
	}
	if ((r = get_str(o, "virtio_console", &s, err)) < 0)
		return r;
	if (VM_GIVEN(cfg, OPT_VIRTIO_CONSOLE) != (s != NULL) && VM_GIVEN(cfg, OPT_VIRTIO_CONSOLE))
		return differs(err, "--virtio-console", yes_no(true), "none");
	if (!VM_GIVEN(cfg, OPT_VIRTIO_CONSOLE))
		m->virtio_console = s;

		/* The host's side: what the command line says, else what was saved. */
#define SAVED_STR(opt, key, field)                      \
	do {                                            \
		if ((r = get_str(o, key, &s, err)) < 0) \
			return r;                       \
		if (!VM_GIVEN(cfg, opt))                \
			m->field = s;                   \
	} while (0)
	SAVED_STR(OPT_KERNEL, "kernel", kernel);
	SAVED_STR(OPT_INITRD, "initrd", initrd);
	SAVED_STR(OPT_CMDLINE, "cmdline", cmdline);
	SAVED_STR(OPT_FIRMWARE, "firmware", firmware);
	SAVED_STR(OPT_CONSOLE, "console", console);
#undef SAVED_STR
	if (!m->console)
		m->console = "stdio";
	if (!VM_GIVEN(cfg, OPT_BOOT))
		m->boot = !strcmp(s_boot, "disk") ? VM_BOOT_DISK : VM_BOOT_KERNEL;
	if (!VM_GIVEN(cfg, OPT_ON_RESET))
		m->on_reset = !strcmp(s_on_reset, "reboot") ? VM_ON_RESET_REBOOT : VM_ON_RESET_EXIT;
	if (!VM_GIVEN(cfg, OPT_JIT))
		m->jit = jit;
	if (!VM_GIVEN(cfg, OPT_JIT_CACHE))
		m->jit_cache = jit_cache;
	if (m->agent && strcmp(m->arch, "riscv64"))
		return malformed(err, "agent", "is set for an x86_64 machine");
	return 0;
}

void vm_config_release(struct vm_config *cfg)
{
	json_object_put(cfg->saved);
	cfg->saved = NULL;
}
