/* SPDX-License-Identifier: MIT */
/* Loading firmware, kernel, initrd and device tree for the riscv64 virt board; HTIF. */
#include "vm/board/riscv-boot.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/board/riscv-virt.h"
#include "vm/boot/elf.h"
#include "vm/boot/riscv-image.h"
#include "vm/chardev.h"
#include "vm/machine.h"
#include "vm/mem.h"

#define MiB               (1ull << 20)
#define BOOT_FILE_MAX     (1ull << 30)
#define FW_DYNAMIC_MAGIC  0x4942534full /* "OSBI" */
#define FW_DYNAMIC_VER    2
#define FW_DYNAMIC_NEXT_S 1

/* OpenSBI's struct fw_dynamic_info (version 2), all fields XLEN wide. */
struct fw_dynamic_info {
	uint64_t magic, version, next_addr, next_mode, options, boot_hart;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static int read_image(const char *what, const char *path, uint8_t **buf, size_t *len,
                      struct vk_error *err)
{
	int r = vk_read_file(path, BOOT_FILE_MAX, buf, len, err);

	if (r < 0)
		return vk_error_prefix(err, "cannot load %s", what);
	return 0;
}

static int put(struct vm_mem *mem, const char *what, uint64_t gpa, const void *data, size_t len,
               struct vk_error *err)
{
	if (vm_mem_write(mem, gpa, data, len) < 0)
		return vk_error_set(err, ENOMEM,
		                    "the %s (%zu bytes at 0x%llx) does not fit in guest RAM: "
		                    "give the guest more --memory",
		                    what, len, (unsigned long long)gpa);
	return 0;
}

/* Load a bare-metal ELF and find its HTIF symbols. */
static int load_bare_metal(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                           struct vm_mem *mem, uint64_t *end, struct vk_error *err)
{
	struct elf_info img;
	int r;

	if (!elf_is_elf(boot->kernel, boot->kernel_len))
		return vk_error_set(err, ENOEXEC,
		                    "kernel '%s' is not an ELF file: --firmware none boots only "
		                    "bare-metal ELF programs (a Linux Image needs SBI firmware)",
		                    cfg->kernel);
	r = elf_load(cfg->kernel, boot->kernel, boot->kernel_len, EM_RISCV, mem, &img, err);
	if (r < 0)
		return vk_error_prefix(err, "cannot load kernel");
	boot->entry = img.entry;
	*end = img.high;
	boot->htif = elf_find_symbol(cfg->kernel, boot->kernel, boot->kernel_len, "tohost",
	                             &boot->tohost, NULL) == 0;
	if (boot->htif && elf_find_symbol(cfg->kernel, boot->kernel, boot->kernel_len, "fromhost",
	                                  &boot->fromhost, NULL) < 0)
		boot->fromhost = boot->tohost + 8;
	if (boot->htif &&
	    (!vm_mem_translate(mem, boot->tohost, 8) || !vm_mem_translate(mem, boot->fromhost, 8)))
		return vk_error_set(err, EINVAL, "kernel '%s': tohost/fromhost are not in RAM",
		                    cfg->kernel);
	return 0;
}

/* What a firmware file is, for --stats and for --boot disk: OpenSBI wants a payload. */
static const char *firmware_kind(const uint8_t *buf, size_t len)
{
	if (memmem(buf, len, "OpenSBI v", 9))
		return "opensbi";
	if (memmem(buf, len, "U-Boot 20", 9))
		return "u-boot";
	return "unknown";
}

/*
 * Firmware at the start of RAM, entered in M-mode: an ELF is loaded by its headers, anything
 * else copied raw. It must end below limit (the payload's 2 MiB, or the device tree when there
 * is no payload). *end is where it ends.
 */
static int load_firmware(struct riscv_boot *boot, const char *path, struct vm_mem *mem,
                         uint64_t limit, uint64_t *end, struct vk_error *err)
{
	struct elf_info img;
	int r;

	if (elf_is_elf(boot->firmware, boot->firmware_len)) {
		r = elf_load(path, boot->firmware, boot->firmware_len, EM_RISCV, mem, &img, err);
		if (r < 0)
			return vk_error_prefix(err, "cannot load firmware");
		if (img.high > limit)
			return vk_error_set(
			        err, EINVAL,
			        "firmware '%s' (up to 0x%llx) overlaps the %s at 0x%llx", path,
			        (unsigned long long)img.high,
			        boot->payload ? "kernel" : "device tree",
			        (unsigned long long)limit);
		boot->entry = img.entry;
		boot->firmware_elf = true;
		*end = img.high;
		return 0;
	}
	boot->firmware_elf = false;
	if (boot->firmware_len == 0 || boot->firmware_len > limit - VIRT_DRAM_BASE)
		return vk_error_set(err, EINVAL,
		                    "firmware '%s' is %zu bytes: expected a firmware image of at "
		                    "most %llu KiB%s",
		                    path, boot->firmware_len,
		                    (unsigned long long)((limit - VIRT_DRAM_BASE) >> 10),
		                    boot->payload ? " (the kernel starts 2 MiB into RAM)"
		                                  : ": give the guest more --memory");
	boot->entry = VIRT_DRAM_BASE;
	*end = VIRT_DRAM_BASE + boot->firmware_len;
	return put(mem, "firmware", VIRT_DRAM_BASE, boot->firmware, boot->firmware_len, err);
}

/* A Linux Image at DRAM + 2 MiB with room for its bss. */
static int load_linux(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                      struct vm_mem *mem, uint64_t *kernel_end, struct vk_error *err)
{
	uint64_t base = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;
	struct riscv_image_info info;
	int r;

	r = riscv_image_parse(boot->payload, boot->kernel, boot->kernel_len, &info, err);
	if (r < 0)
		return r;
	if (info.image_size > cfg->memory || base + info.image_size > VIRT_DRAM_BASE + cfg->memory)
		return vk_error_set(
		        err, ENOMEM,
		        "kernel '%s' needs %llu MiB from RAM offset 2 MiB but the guest has "
		        "%llu MiB: give it more --memory",
		        boot->payload, (unsigned long long)(info.image_size >> 20) + 1,
		        (unsigned long long)(cfg->memory >> 20));
	r = put(mem, "kernel", base, boot->kernel, boot->kernel_len, err);
	if (r < 0)
		return r;
	/*
	 * The rest of image_size is the kernel's bss: make sure a reboot sees zeroes.
	 * It is in RAM (checked above) but may be empty, at the very end of RAM,
	 * where translate gives NULL.
	 */
	if (info.image_size > boot->kernel_len)
		memset(vm_mem_translate(mem, base + boot->kernel_len,
		                        info.image_size - boot->kernel_len),
		       0, info.image_size - boot->kernel_len);
	boot->kernel_entry = base;
	*kernel_end = base + info.image_size;
	return 0;
}

/* An ELF payload by its program headers, every segment above the firmware's 2 MiB. */
static int load_kernel_elf(struct riscv_boot *boot, struct vm_mem *mem, uint64_t *kernel_end,
                           struct vk_error *err)
{
	uint64_t min = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;
	struct elf_info img;
	Elf64_Ehdr eh;
	int r;

	r = elf_check_exec(boot->payload, boot->kernel, boot->kernel_len, EM_RISCV, &eh, err);
	if (r < 0)
		return vk_error_prefix(err, "cannot load kernel");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr(boot->kernel, &eh, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz > 0 && ph.p_paddr < min)
			return vk_error_set(
			        err, ENOEXEC,
			        "kernel '%s': segment %u at 0x%llx lies in the firmware's "
			        "first 2 MiB of RAM: link it at 0x%llx or above",
			        boot->payload, i, (unsigned long long)ph.p_paddr,
			        (unsigned long long)min);
	}
	r = elf_load_segments(boot->payload, boot->kernel, boot->kernel_len, &eh, mem, min, &img,
	                      err);
	if (r < 0)
		return vk_error_prefix(err, "cannot load kernel");
	if (img.nr_segments == 0 || eh.e_entry < img.low || eh.e_entry >= img.high)
		return vk_error_set(
		        err, ENOEXEC,
		        "kernel '%s': its entry point 0x%llx is not in a loaded segment",
		        boot->payload, (unsigned long long)eh.e_entry);
	boot->kernel_entry = eh.e_entry;
	*kernel_end = img.high;
	return 0;
}

/* A flat binary without a header (U-Boot's u-boot.bin): at DRAM + 2 MiB, entered there. */
static int load_kernel_flat(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                            struct vm_mem *mem, uint64_t *kernel_end, struct vk_error *err)
{
	uint64_t base = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;

	if (boot->kernel_len > cfg->memory - VK_MIN(cfg->memory, VIRT_KERNEL_OFFSET))
		return vk_error_set(err, ENOMEM,
		                    "kernel '%s' (%zu KiB) does not fit in guest RAM above 2 MiB: "
		                    "give the guest more --memory",
		                    boot->payload, boot->kernel_len >> 10);
	boot->kernel_entry = base;
	*kernel_end = base + boot->kernel_len;
	return put(mem, "kernel", base, boot->kernel, boot->kernel_len, err);
}

/* The payload the firmware enters in S-mode, by what the file is. */
static int load_kernel(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                       struct vm_mem *mem, uint64_t *kernel_end, struct vk_error *err)
{
	int r;

	r = riscv_kernel_identify(boot->payload, boot->kernel, boot->kernel_len, &boot->kernel_kind,
	                          err);
	if (r < 0)
		return r;
	switch (boot->kernel_kind) {
	case RISCV_KERNEL_LINUX:
		return load_linux(boot, cfg, mem, kernel_end, err);
	case RISCV_KERNEL_ELF:
		return load_kernel_elf(boot, mem, kernel_end, err);
	case RISCV_KERNEL_FLAT:
		break;
	}
	return load_kernel_flat(boot, cfg, mem, kernel_end, err);
}

/*
 * Which file the firmware enters: --kernel, or for a disk boot through OpenSBI without one,
 * Debian's S-mode U-Boot (whose distro boot finds extlinux.conf on the disk). A firmware that
 * is not OpenSBI (U-Boot in M-mode) boots the disk by itself.
 */
static int choose_payload(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                          struct vk_error *err)
{
	boot->payload = cfg->kernel;
	if (cfg->kernel || !boot->firmware)
		return 0;
	if (strcmp(boot->firmware_kind, "opensbi") != 0)
		return 0;
	if (access(RISCV_DEFAULT_UBOOT, R_OK) != 0)
		return vk_error_set(err, ENOENT,
		                    "booting from a disk through OpenSBI needs U-Boot, and %s is "
		                    "missing: install Debian's 'u-boot-qemu' package or pass "
		                    "--kernel with an S-mode boot loader",
		                    RISCV_DEFAULT_UBOOT);
	/* Debian's qemu-riscv64 U-Boot reads extlinux.conf to 0x8c100000 (its pxefile_addr_r). */
	if (cfg->memory < RISCV_UBOOT_MIN_MEMORY)
		return vk_error_set(
		        err, ENOMEM,
		        "booting from a disk through U-Boot needs --memory %lluM or more "
		        "(U-Boot loads its files up to 0x8c100000)",
		        (unsigned long long)(RISCV_UBOOT_MIN_MEMORY >> 20));
	boot->payload = RISCV_DEFAULT_UBOOT;
	return 0;
}

static int read_files(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                      struct vk_error *err)
{
	const char *fw = cfg->firmware ? cfg->firmware : RISCV_DEFAULT_FIRMWARE;
	int r;

	boot->firmware_kind = "none";
	if (strcmp(fw, "none") != 0) {
		r = vk_read_file(fw, BOOT_FILE_MAX, &boot->firmware, &boot->firmware_len, err);
		if (r < 0 && !cfg->firmware && r == -ENOENT)
			return vk_error_set(err, ENOENT,
			                    "the default firmware %s is missing: install Debian's "
			                    "'opensbi' package or pass --firmware",
			                    RISCV_DEFAULT_FIRMWARE);
		if (r < 0)
			return vk_error_prefix(err, "cannot load firmware");
		boot->firmware_kind = firmware_kind(boot->firmware, boot->firmware_len);
	} else if (!cfg->kernel) {
		return vk_error_set(err, EINVAL,
		                    "--firmware none boots a bare-metal --kernel: booting from a "
		                    "disk needs firmware");
	}
	r = choose_payload(boot, cfg, err);
	if (r < 0)
		return r;
	if (boot->payload) {
		r = read_image("kernel", boot->payload, &boot->kernel, &boot->kernel_len, err);
		if (r < 0)
			return r;
	}
	if (cfg->initrd) {
		r = read_image("initrd", cfg->initrd, &boot->initrd, &boot->initrd_len, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The device tree and fw_dynamic_info share the topmost 2 MiB-aligned block. */
static int place_fdt(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                     struct vk_error *err)
{
	uint64_t ram_end = VIRT_DRAM_BASE + cfg->memory;

	if (cfg->memory < 4 * MiB)
		return vk_error_set(err, ENOMEM, "--memory must be at least 4M to boot");
	boot->fdt_addr =
	        align_down(ram_end - VIRT_FDT_MAX_SIZE - sizeof(struct fw_dynamic_info), 2 * MiB);
	return 0;
}

/* Firmware, then the payload it enters (if any). *end: where the last of them ends. */
static int load_programs(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                         struct vm_mem *mem, uint64_t *end, struct vk_error *err)
{
	uint64_t limit = boot->payload ? VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET : boot->fdt_addr;
	int r;

	if (!boot->firmware)
		return load_bare_metal(boot, cfg, mem, end, err);
	r = load_firmware(boot, cfg->firmware ? cfg->firmware : RISCV_DEFAULT_FIRMWARE, mem, limit,
	                  end, err);
	if (r == 0 && boot->payload)
		r = load_kernel(boot, cfg, mem, end, err);
	return r;
}

static int boot_place(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                      struct vm_mem *mem, unsigned nr_virtio, struct vk_error *err)
{
	uint64_t kernel_end = VIRT_DRAM_BASE, initrd_start = 0, initrd_end = 0;
	struct riscv_fdt_params fp;
	uint8_t *fdt;
	int r;

	boot->dyninfo_addr = 0;
	boot->kernel_entry = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;
	boot->htif = false;
	r = place_fdt(boot, cfg, err);
	if (r == 0)
		r = load_programs(boot, cfg, mem, &kernel_end, err);
	if (r < 0)
		return r;
	if (boot->fdt_addr < kernel_end)
		return vk_error_set(
		        err, ENOMEM,
		        "guest RAM (%llu MiB) is too small for the kernel and the device "
		        "tree: give it more --memory",
		        (unsigned long long)(cfg->memory >> 20));

	if (boot->initrd) {
		uint64_t want = kernel_end > VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET
		                        ? VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET +
		                                  VK_MIN(cfg->memory / 2, 128 * MiB)
		                        : kernel_end;
		initrd_start = align_up(VK_MAX(want, kernel_end), 4096);
		if (initrd_start + boot->initrd_len > boot->fdt_addr)
			initrd_start = align_up(kernel_end, 4096);
		initrd_end = initrd_start + boot->initrd_len;
		if (initrd_end > boot->fdt_addr)
			return vk_error_set(
			        err, ENOMEM,
			        "initrd '%s' (%zu KiB) does not fit in guest RAM above the "
			        "kernel: give the guest more --memory",
			        cfg->initrd, boot->initrd_len >> 10);
		r = put(mem, "initrd", initrd_start, boot->initrd, boot->initrd_len, err);
		if (r < 0)
			return r;
	}

	fp = (struct riscv_fdt_params){
	        .ram_base = VIRT_DRAM_BASE,
	        .ram_size = cfg->memory,
	        .nr_harts = cfg->cpus,
	        .isa = "rv64imafdc_zicsr_zifencei_zihintpause",
	        .mmu_type = "riscv,sv48",
	        .bootargs = cfg->cmdline,
	        .initrd_start = initrd_start,
	        .initrd_end = initrd_end,
	        .nr_virtio = nr_virtio,
	};
	fdt = vm_mem_translate(mem, boot->fdt_addr, VIRT_FDT_MAX_SIZE);
	if (!fdt)
		return vk_error_set(err, ENOMEM, "no room for the device tree");
	r = riscv_fdt_build(&fp, fdt, VIRT_FDT_MAX_SIZE, err);
	if (r < 0)
		return r;

	if (boot->firmware) {
		struct fw_dynamic_info info = {
		        .magic = FW_DYNAMIC_MAGIC,
		        .version = FW_DYNAMIC_VER,
		        .next_addr = boot->kernel_entry,
		        .next_mode = FW_DYNAMIC_NEXT_S,
		        .options = 0,
		        .boot_hart = UINT64_MAX, /* any hart may boot */
		};
		boot->dyninfo_addr = boot->fdt_addr + VIRT_FDT_MAX_SIZE;
		r = put(mem, "boot information", boot->dyninfo_addr, &info, sizeof(info), err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void boot_drop_files(struct riscv_boot *boot)
{
	free(boot->kernel);
	free(boot->initrd);
	free(boot->firmware);
	boot->kernel = boot->initrd = boot->firmware = NULL;
	boot->kernel_len = boot->initrd_len = boot->firmware_len = 0;
}

/*
 * The files are read for each (re)boot and dropped once copied into RAM: keeping them
 * would cost their size in RSS for the whole run (5 MiB for the test guest).
 */
int riscv_boot_load(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                    struct vm_mem *mem, unsigned nr_virtio, struct vk_error *err)
{
	int r = read_files(boot, cfg, err);

	if (r == 0)
		r = boot_place(boot, cfg, mem, nr_virtio, err);
	boot_drop_files(boot);
	return r;
}

void riscv_boot_describe(const struct riscv_boot *boot, char *buf, size_t size)
{
	if (!boot->firmware_kind) {
		snprintf(buf, size, "boot=none");
		return;
	}
	if (strcmp(boot->firmware_kind, "none") == 0) {
		snprintf(buf, size, "firmware=none kernel=elf entry=0x%llx%s",
		         (unsigned long long)boot->entry, boot->htif ? " htif=yes" : "");
		return;
	}
	if (!boot->payload) {
		snprintf(buf, size, "firmware=%s,%s kernel=none", boot->firmware_kind,
		         boot->firmware_elf ? "elf" : "binary");
		return;
	}
	snprintf(buf, size, "firmware=%s,%s kernel=%s entry=0x%llx payload=%s", boot->firmware_kind,
	         boot->firmware_elf ? "elf" : "binary", riscv_kernel_kind_name(boot->kernel_kind),
	         (unsigned long long)boot->kernel_entry, boot->payload);
}

void riscv_boot_free(struct riscv_boot *boot)
{
	boot_drop_files(boot);
	memset(boot, 0, sizeof(*boot));
}

/* ---- HTIF (Berkeley host-target interface, as riscv-tests and spike use it) ---- */

#define HTIF_DEV_SYSCALL 0
#define HTIF_DEV_CONSOLE 1
#define HTIF_SYS_WRITE   64
#define HTIF_WRITE_MAX   4096

static void htif_syscall(struct vm_mem *mem, uint64_t magic, struct chardev *console)
{
	uint64_t args[4];
	int64_t ret = -ENOSYS;

	if (vm_mem_read(mem, magic, args, sizeof(args)) < 0)
		return;
	if (args[0] == HTIF_SYS_WRITE && (args[1] == 1 || args[1] == 2)) {
		uint64_t len = VK_MIN(args[3], (uint64_t)HTIF_WRITE_MAX);
		void *p = vm_mem_translate(mem, args[2], len);
		if (p) {
			chardev_write(console, p, (size_t)len);
			ret = (int64_t)len;
		} else {
			ret = -EFAULT;
		}
	}
	if (vm_mem_write(mem, magic, &ret, sizeof(ret)) < 0)
		return;
}

bool riscv_boot_htif_poll(struct riscv_boot *boot, struct vm_mem *mem, struct chardev *console,
                          int *status)
{
	uint64_t tohost, reply, zero = 0;
	unsigned dev, cmd;
	uint64_t payload;

	if (vm_mem_read(mem, boot->tohost, &tohost, 8) < 0 || tohost == 0)
		return false;
	dev = (unsigned)(tohost >> 56);
	cmd = (unsigned)(tohost >> 48) & 0xff;
	payload = tohost & ((1ull << 48) - 1);
	if (vm_mem_write(mem, boot->tohost, &zero, 8) < 0)
		return false;
	if (dev == HTIF_DEV_SYSCALL && cmd == 0 && (payload & 1)) {
		uint64_t code = payload >> 1;
		*status = code == 0 ? 0 : (int)VK_MIN(code, 255u);
		return true;
	}
	if (dev == HTIF_DEV_SYSCALL && cmd == 0)
		htif_syscall(mem, payload, console);
	else if (dev == HTIF_DEV_CONSOLE && cmd == 1) {
		uint8_t c = (uint8_t)payload;
		chardev_write(console, &c, 1);
	}
	reply = ((uint64_t)dev << 56) | ((uint64_t)cmd << 48) | 1;
	if (vm_mem_write(mem, boot->fromhost, &reply, 8) < 0)
		return false;
	return false;
}
