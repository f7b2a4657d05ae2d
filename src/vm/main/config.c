/* SPDX-License-Identifier: MIT */
/* `virtkit-vm run` option parsing into struct vm_config (the machine, the control socket, --stats). */
#include "vm/main/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
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
        {"help", no_argument, NULL, OPT_HELP},
        {"jit", required_argument, NULL, OPT_JIT},
        {"jit-cache", required_argument, NULL, OPT_JIT_CACHE},
        {"overcommit", no_argument, NULL, OPT_OVERCOMMIT},
        {"agent", no_argument, NULL, OPT_AGENT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"boot", required_argument, NULL, OPT_BOOT},
        {"restore", required_argument, NULL, OPT_RESTORE},
        {"incoming", required_argument, NULL, OPT_INCOMING},
        {NULL, 0, NULL, 0},
};

void vm_config_usage(FILE *out)
{
	fprintf(out,
	        "virtkit-vm run [--arch riscv64|x86_64] [--accel kvm|emu] [--memory SIZE]\n"
	        "                      [--overcommit] [--quiet]\n"
	        "                      [--cpus N] [--boot kernel|disk] [--kernel FILE]\n"
	        "                      [--initrd FILE] [--cmdline TEXT] [--firmware FILE|none]\n"
	        "                      [--disk PATH[,format=raw|qcow2][,readonly]"
	        "[,cache=none|writeback][,serial=ID]]...\n"
	        "                      [--net "
	        "user[,hostfwd=tcp:127.0.0.1:HP-:GP]|tap,ifname=NAME|echo]...\n"
	        "                      [--rng] [--console stdio|pty|socket:PATH|file:PATH|null]\n"
	        "                      [--virtio-console CHARDEV] [--agent] [--stats]\n"
	        "                      [--control PATH] [--on-reset exit|reboot]\n"
	        "                      [--virtio-transport pci|mmio] (x86_64)\n"
	        "                      [--jit on|off] [--jit-cache SIZE] (riscv64) [--help]\n"
	        "       virtkit-vm run --restore FILE | --incoming unix:PATH|tcp:HOST:PORT "
	        "[options]\n");
}

/*
 * --boot kernel (the default with --kernel): the firmware enters --kernel. --boot disk (the
 * default without --kernel): the firmware and a boot loader find the kernel on the first disk;
 * a --kernel given then is the boot loader (riscv64 only: the x86 board has no BIOS).
 */
static int check_boot(struct vm_machine_config *m, const char *boot, struct vk_error *err)
{
	if (!boot)
		boot = m->kernel ? "kernel" : "disk";
	if (!strcmp(boot, "kernel")) {
		m->boot = VM_BOOT_KERNEL;
		if (!m->kernel)
			return vk_error_set(err, EINVAL,
			                    "--kernel is required, or --disk to boot from a disk");
		return 0;
	}
	m->boot = VM_BOOT_DISK;
	if (m->nr_disks == 0)
		return vk_error_set(err, EINVAL,
		                    "--kernel is required, or --disk to boot from a disk");
	if (!strcmp(m->arch, "x86_64"))
		return vk_error_set(err, EINVAL,
		                    "x86_64 guests boot a --kernel: the PC board has no BIOS to "
		                    "boot from a disk");
	if (m->initrd)
		return vk_error_set(err, EINVAL,
		                    "--initrd goes with --boot kernel: a disk boot loads its own");
	return 0;
}

int vm_config_parse(struct vm_config *cfg, int argc, char **argv, struct vk_error *err)
{
	struct vm_machine_config *m = &cfg->machine;
	const char *boot = NULL;
	uint64_t v;
	int c, r;

	memset(cfg, 0, sizeof(*cfg));
	m->memory = 256ull << 20;
	m->cpus = 1;
	m->console = "stdio";
#if defined(__x86_64__)
	m->jit = true;
#endif
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", run_options, NULL)) != -1) {
		if (c >= OPT_ARCH && c < OPT_ARCH + 64)
			cfg->given |= 1ull << (c - OPT_ARCH);
		switch (c) {
		case OPT_ARCH:
			if (strcmp(optarg, "riscv64") && strcmp(optarg, "x86_64"))
				return vk_error_set(
				        err, EINVAL,
				        "unknown architecture '%s' (expected riscv64 or x86_64)",
				        optarg);
			m->arch = optarg;
			break;
		case OPT_ACCEL:
			if (strcmp(optarg, "kvm") && strcmp(optarg, "emu") && strcmp(optarg, "tcg"))
				return vk_error_set(
				        err, EINVAL,
				        "unknown accelerator '%s' (expected kvm or emu)", optarg);
			m->accel = strcmp(optarg, "tcg") ? optarg : "emu";
			break;
		case OPT_MEMORY:
			r = vk_parse_size(optarg, &m->memory, err);
			if (r < 0)
				return vk_error_prefix(err, "--memory");
			if (m->memory < (1ull << 20))
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
			m->cpus = (unsigned)v;
			break;
		case OPT_KERNEL:
			m->kernel = optarg;
			break;
		case OPT_INITRD:
			m->initrd = optarg;
			break;
		case OPT_CMDLINE:
			m->cmdline = optarg;
			break;
		case OPT_FIRMWARE:
			m->firmware = optarg;
			break;
		case OPT_DISK:
			if (m->nr_disks == VM_MAX_DISKS)
				return vk_error_set(err, E2BIG,
				                    "too many --disk options (limit %d)",
				                    VM_MAX_DISKS);
			m->disks[m->nr_disks++] = optarg;
			break;
		case OPT_NET:
			if (m->nr_nets == VM_MAX_NETS)
				return vk_error_set(err, E2BIG, "too many --net options (limit %d)",
				                    VM_MAX_NETS);
			m->nets[m->nr_nets++] = optarg;
			break;
		case OPT_RNG:
			m->rng = true;
			break;
		case OPT_CONSOLE:
			m->console = optarg;
			break;
		case OPT_CONTROL:
			cfg->control = optarg;
			break;
		case OPT_ON_RESET:
			if (!strcmp(optarg, "exit"))
				m->on_reset = VM_ON_RESET_EXIT;
			else if (!strcmp(optarg, "reboot"))
				m->on_reset = VM_ON_RESET_REBOOT;
			else
				return vk_error_set(err, EINVAL,
				                    "--on-reset '%s': expected exit or reboot",
				                    optarg);
			break;
		case OPT_VIRTIO_CONSOLE:
			m->virtio_console = optarg;
			break;
		case OPT_STATS:
			cfg->stats = true;
			break;
		case OPT_HELP:
			cfg->help = true;
			return 0;
		case OPT_VIRTIO_TRANSPORT:
			if (strcmp(optarg, "pci") && strcmp(optarg, "mmio"))
				return vk_error_set(err, EINVAL,
				                    "--virtio-transport '%s': expected pci or mmio",
				                    optarg);
			m->virtio_mmio = !strcmp(optarg, "mmio");
			break;
		case OPT_JIT:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return vk_error_set(err, EINVAL, "--jit '%s': expected on or off",
				                    optarg);
			m->jit = !strcmp(optarg, "on");
			break;
		case OPT_JIT_CACHE:
			r = vk_parse_size(optarg, &m->jit_cache, err);
			if (r < 0)
				return vk_error_prefix(err, "--jit-cache");
			if (m->jit_cache < (1ull << 20) || m->jit_cache > (2ull << 30))
				return vk_error_set(err, EINVAL,
				                    "--jit-cache %s is out of range (1M to 2G)",
				                    optarg);
			break;
		case OPT_AGENT:
			m->agent = true;
			break;
		case OPT_OVERCOMMIT:
			cfg->overcommit = true;
			break;
		case OPT_QUIET:
			cfg->quiet = true;
			break;
		case OPT_BOOT:
			if (!strcmp(optarg, "kernel"))
				boot = "kernel";
			else if (!strcmp(optarg, "disk"))
				boot = "disk";
			else
				return vk_error_set(err, EINVAL,
				                    "--boot '%s': expected kernel or disk", optarg);
			break;
		case OPT_RESTORE:
			cfg->restore = optarg;
			break;
		case OPT_INCOMING:
			cfg->incoming = optarg;
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
	if (cfg->restore && cfg->incoming)
		return vk_error_set(err, EINVAL,
		                    "--restore and --incoming both say where the machine comes "
		                    "from: give one");
	if (cfg->restore || cfg->incoming)
		return 0; /* the rest is checked against the saved configuration (config-saved.c) */
	if (!m->arch)
		m->arch = vm_default_arch();
	if (!m->accel)
		m->accel = strcmp(m->arch, vm_default_arch()) == 0 && strcmp(m->arch, "x86_64") == 0
		                   ? "kvm"
		                   : "emu";
	if (!strcmp(m->arch, "riscv64") && !strcmp(m->accel, "kvm"))
		return vk_error_set(err, EINVAL,
		                    "riscv64 guests run only on the software CPU (--accel emu)");
	if (!strcmp(m->arch, "x86_64") && !strcmp(m->accel, "emu"))
		return vk_error_set(err, EINVAL,
		                    "x86_64 guests run only on KVM (--accel kvm); use --arch "
		                    "riscv64 for emulation");
	if (m->agent && strcmp(m->arch, "riscv64"))
		return vk_error_set(
		        err, EINVAL,
		        "--agent is for riscv64 guests (x86_64 guests power off through "
		        "ACPI)");
	return check_boot(m, boot, err);
}
