/* SPDX-License-Identifier: MIT */
/* `virtkit-vm run` option parsing into struct vm_config. */
#include "vm/main/config.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "common/util.h"

const char *vm_default_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "riscv64";
#endif
}

enum {
	OPT_ARCH = 256,
	OPT_ACCEL,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_FIRMWARE,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
	OPT_CONSOLE,
	OPT_CONTROL,
	OPT_ON_RESET,
	OPT_STATS,
	OPT_VIRTIO_TRANSPORT,
	OPT_VIRTIO_CONSOLE,
};

static const struct option run_options[] = {
        {"arch", required_argument, NULL, OPT_ARCH},
        {"accel", required_argument, NULL, OPT_ACCEL},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {"cpus", required_argument, NULL, OPT_CPUS},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"cmdline", required_argument, NULL, OPT_CMDLINE},
        {"append", required_argument, NULL, OPT_CMDLINE},
        {"firmware", required_argument, NULL, OPT_FIRMWARE},
        {"bios", required_argument, NULL, OPT_FIRMWARE},
        {"disk", required_argument, NULL, OPT_DISK},
        {"net", required_argument, NULL, OPT_NET},
        {"rng", no_argument, NULL, OPT_RNG},
        {"console", required_argument, NULL, OPT_CONSOLE},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"on-reset", required_argument, NULL, OPT_ON_RESET},
        {"stats", no_argument, NULL, OPT_STATS},
        {"virtio-console", required_argument, NULL, OPT_VIRTIO_CONSOLE},
        {"virtio-transport", required_argument, NULL, OPT_VIRTIO_TRANSPORT},
        {NULL, 0, NULL, 0},
};

int vm_config_parse(struct vm_config *cfg, int argc, char **argv, struct vk_error *err)
{
	uint64_t v;
	int c, r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->memory = 256ull << 20;
	cfg->cpus = 1;
	cfg->console = "stdio";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_ARCH:
			if (strcmp(optarg, "riscv64") && strcmp(optarg, "x86_64"))
				return vk_error_set(
				        err, EINVAL,
				        "unknown architecture '%s' (expected riscv64 or x86_64)",
				        optarg);
			cfg->arch = optarg;
			break;
		case OPT_ACCEL:
			if (strcmp(optarg, "kvm") && strcmp(optarg, "emu") && strcmp(optarg, "tcg"))
				return vk_error_set(
				        err, EINVAL,
				        "unknown accelerator '%s' (expected kvm or emu)", optarg);
			cfg->accel = strcmp(optarg, "tcg") ? optarg : "emu";
			break;
		case OPT_MEMORY:
			r = vk_parse_size(optarg, &cfg->memory, err);
			if (r < 0)
				return vk_error_prefix(err, "--memory");
			if (cfg->memory < (1ull << 20))
				return vk_error_set(err, EINVAL,
				                    "--memory %s is too small (at least 1M)",
				                    optarg);
			break;
		case OPT_CPUS:
			r = vk_parse_uint(optarg, 1, VM_MAX_CPUS, &v);
			if (r < 0)
				return vk_error_set(err, EINVAL,
				                    "--cpus '%s' is not a number from 1 to %d",
				                    optarg, VM_MAX_CPUS);
			cfg->cpus = (unsigned)v;
			break;
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_FIRMWARE:
			cfg->firmware = optarg;
			break;
		case OPT_DISK:
			if (cfg->nr_disks == VM_MAX_DISKS)
				return vk_error_set(err, E2BIG,
				                    "too many --disk options (limit %d)",
				                    VM_MAX_DISKS);
			cfg->disks[cfg->nr_disks++] = optarg;
			break;
		case OPT_NET:
			if (cfg->nr_nets == VM_MAX_NETS)
				return vk_error_set(err, E2BIG, "too many --net options (limit %d)",
				                    VM_MAX_NETS);
			cfg->nets[cfg->nr_nets++] = optarg;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_CONSOLE:
			cfg->console = optarg;
			break;
		case OPT_CONTROL:
			cfg->control = optarg;
			break;
		case OPT_ON_RESET:
			if (!strcmp(optarg, "exit"))
				cfg->on_reset = VM_ON_RESET_EXIT;
			else if (!strcmp(optarg, "reboot"))
				cfg->on_reset = VM_ON_RESET_REBOOT;
			else
				return vk_error_set(err, EINVAL,
				                    "--on-reset '%s': expected exit or reboot",
				                    optarg);
			break;
		case OPT_VIRTIO_CONSOLE:
			cfg->virtio_console = optarg;
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_VIRTIO_TRANSPORT:
			if (strcmp(optarg, "pci") && strcmp(optarg, "mmio"))
				return vk_error_set(err, EINVAL,
				                    "--virtio-transport '%s': expected pci or mmio",
				                    optarg);
			cfg->virtio_mmio = !strcmp(optarg, "mmio");
			break;
		case ':':
			return vk_error_set(err, EINVAL, "option '%s' needs a value",
			                    argv[optind - 1]);
		default:
			return vk_error_set(err, EINVAL,
			                    "unknown option '%s' (see virtkit-vm --help)",
			                    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return vk_error_set(err, EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!cfg->arch)
		cfg->arch = vm_default_arch();
	if (!cfg->accel)
		cfg->accel = strcmp(cfg->arch, vm_default_arch()) == 0 &&
		                             strcmp(cfg->arch, "x86_64") == 0
		                     ? "kvm"
		                     : "emu";
	if (!strcmp(cfg->arch, "riscv64") && !strcmp(cfg->accel, "kvm"))
		return vk_error_set(err, EINVAL,
		                    "riscv64 guests run only on the software CPU (--accel emu)");
	if (!strcmp(cfg->arch, "x86_64") && !strcmp(cfg->accel, "emu"))
		return vk_error_set(err, EINVAL,
		                    "x86_64 guests run only on KVM (--accel kvm); use --arch "
		                    "riscv64 for emulation");
	if (!cfg->kernel)
		return vk_error_set(err, EINVAL, "--kernel is required");
	return 0;
}
