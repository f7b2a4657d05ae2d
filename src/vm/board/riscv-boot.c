/* SPDX-License-Identifier: MIT */
/* Loading firmware, kernel, initrd and device tree for the riscv64 virt board; HTIF. */
#include "vm/board/riscv-boot.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
                           struct vm_mem *mem, struct vk_error *err)
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

/* Firmware at the start of RAM: an ELF is loaded by its headers, anything else copied raw. */
static int load_firmware(struct riscv_boot *boot, const char *path, struct vm_mem *mem,
                         struct vk_error *err)
{
	struct elf_info img;
	int r;

	if (elf_is_elf(boot->firmware, boot->firmware_len)) {
		r = elf_load(path, boot->firmware, boot->firmware_len, EM_RISCV, mem, &img, err);
		if (r < 0)
			return vk_error_prefix(err, "cannot load firmware");
		if (img.high > VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET)
			return vk_error_set(err, EINVAL,
			                    "firmware '%s' overlaps the kernel at 0x%llx", path,
			                    VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET);
		boot->entry = img.entry;
		return 0;
	}
	if (boot->firmware_len == 0 || boot->firmware_len > VIRT_KERNEL_OFFSET)
		return vk_error_set(
		        err, EINVAL,
		        "firmware '%s' is %zu bytes: expected a firmware image of at most 2 MiB",
		        path, boot->firmware_len);
	boot->entry = VIRT_DRAM_BASE;
	return put(mem, "firmware", VIRT_DRAM_BASE, boot->firmware, boot->firmware_len, err);
}

/* The kernel: a RISC-V Image at DRAM + 2 MiB. Returns the end of its footprint. */
static int load_kernel(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                       struct vm_mem *mem, uint64_t *kernel_end, struct vk_error *err)
{
	uint64_t base = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET;
	struct riscv_image_info info;
	int r;

	if (elf_is_elf(boot->kernel, boot->kernel_len))
		return vk_error_set(
		        err, ENOEXEC,
		        "kernel '%s' is an ELF file: pass the flat Image (arch/riscv/boot/Image), "
		        "or an ELF program with --firmware none",
		        cfg->kernel);
	r = riscv_image_parse(cfg->kernel, boot->kernel, boot->kernel_len, &info, err);
	if (r < 0)
		return r;
	if (info.image_size > cfg->memory || base + info.image_size > VIRT_DRAM_BASE + cfg->memory)
		return vk_error_set(
		        err, ENOMEM,
		        "kernel '%s' needs %llu MiB from RAM offset 2 MiB but the guest has "
		        "%llu MiB: give it more --memory",
		        cfg->kernel, (unsigned long long)(info.image_size >> 20) + 1,
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
	*kernel_end = base + info.image_size;
	return 0;
}

static int read_files(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                      struct vk_error *err)
{
	const char *fw = cfg->firmware ? cfg->firmware : RISCV_DEFAULT_FIRMWARE;
	int r;

	r = read_image("kernel", cfg->kernel, &boot->kernel, &boot->kernel_len, err);
	if (r < 0)
		return r;
	if (cfg->initrd) {
		r = read_image("initrd", cfg->initrd, &boot->initrd, &boot->initrd_len, err);
		if (r < 0)
			return r;
	}
	if (strcmp(fw, "none") != 0) {
		r = vk_read_file(fw, BOOT_FILE_MAX, &boot->firmware, &boot->firmware_len, err);
		if (r < 0 && !cfg->firmware && r == -ENOENT)
			return vk_error_set(err, ENOENT,
			                    "the default firmware %s is missing: install Debian's "
			                    "'opensbi' package or pass --firmware",
			                    RISCV_DEFAULT_FIRMWARE);
		if (r < 0)
			return vk_error_prefix(err, "cannot load firmware");
	}
	return 0;
}

static int boot_place(struct riscv_boot *boot, const struct vm_machine_config *cfg,
                      struct vm_mem *mem, unsigned nr_virtio, struct vk_error *err)
{
	uint64_t ram_end = VIRT_DRAM_BASE + cfg->memory;
	uint64_t kernel_end = VIRT_DRAM_BASE, initrd_start = 0, initrd_end = 0;
	struct riscv_fdt_params fp;
	uint8_t *fdt;
	int r;

	boot->dyninfo_addr = 0;
	boot->htif = false;
	if (!boot->firmware) {
		r = load_bare_metal(boot, cfg, mem, err);
		if (r < 0)
			return r;
	} else {
		r = load_firmware(boot, cfg->firmware ? cfg->firmware : RISCV_DEFAULT_FIRMWARE, mem,
		                  err);
		if (r == 0)
			r = load_kernel(boot, cfg, mem, &kernel_end, err);
		if (r < 0)
			return r;
	}

	/* The device tree and fw_dynamic_info share the topmost 2 MiB-aligned block. */
	if (cfg->memory < 4 * MiB)
		return vk_error_set(err, ENOMEM, "--memory must be at least 4M to boot");
	boot->fdt_addr =
	        align_down(ram_end - VIRT_FDT_MAX_SIZE - sizeof(struct fw_dynamic_info), 2 * MiB);
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
	        .isa = "rv64imafdc_zicsr_zifencei",
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
		        .next_addr = VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET,
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
