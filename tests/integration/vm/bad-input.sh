#!/bin/sh
# Bad input to virtkit-vm gets a clear one-line error and a non-zero exit, never a crash or a
# hang: missing, truncated, compressed and foreign kernels, boot options that do not fit,
# memory too small, unknown options, bad sizes, a guest that executes garbage.
. "$VK_SRC/tests/lib/tap.sh"
tap_tmpdir
guest=$("$VK_SRC/scripts/find-guest.sh" riscv64 2>/dev/null)

# expect_error NAME PATTERN ARGS...: exit status 1..125 (not a signal), stderr matches PATTERN.
expect_error() {
	name=$1
	pattern=$2
	shift 2
	timeout 60 "$VK_VM" "$@" </dev/null >"$TAP_TMP/out" 2>"$TAP_TMP/err"
	rc=$?
	if [ $rc -ge 1 ] && [ $rc -le 125 ] && grep -q -- "$pattern" "$TAP_TMP/err"; then
		tap_ok "$name (exit $rc: $(head -n 1 "$TAP_TMP/err"))"
	else
		tap_fail "$name (exit $rc)"
		sed 's/^/# stderr: /' "$TAP_TMP/err" | head -n 5
	fi
}

rv="run --arch riscv64 --memory 64M --console null"
expect_error "missing kernel file" "cannot load kernel: cannot open '$TAP_TMP/nope': No such file" $rv --kernel "$TAP_TMP/nope"
expect_error "no --kernel" "kernel is required" $rv
expect_error "unknown option" "unknown option '--frobnicate'" $rv --kernel x --frobnicate
expect_error "bad memory size" "invalid size '12Q'" run --arch riscv64 --memory 12Q --kernel x
# Guest RAM beyond the host's RAM + swap: refused with both numbers, as /proc/meminfo has them.
ram=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
swap=$(awk '/^SwapTotal:/ {print int($2 / 1024)}' /proc/meminfo)
expect_error "--memory 1T beyond the host: refused with RAM and swap" \
	"--memory 1 TiB is more than this host has: RAM $ram MiB + swap $swap MiB (--overcommit" \
	run --arch riscv64 --memory 1T --kernel "$TAP_TMP/nope"
expect_error "--overcommit lets it past the memory check (then the missing kernel)" \
	"cannot open '$TAP_TMP/nope'" run --arch riscv64 --memory 1T --overcommit --console null \
	--kernel "$TAP_TMP/nope"
expect_error "zero cpus" "cpus '0'" $rv --cpus 0 --kernel x
expect_error "unknown arch" "unknown architecture 'mips'" run --arch mips --kernel x
# A file without a recognised header is entered as a flat binary (boot-firmware.py); what a
# firmware would have to unpack first is refused by name.
head -c 100 /dev/urandom | gzip -c >"$TAP_TMP/Image.gz"
expect_error "gzip-compressed kernel" "gzip-compressed (an Image.gz?)" $rv --kernel "$TAP_TMP/Image.gz"
: >"$TAP_TMP/empty"
expect_error "empty kernel" "is an empty file" $rv --kernel "$TAP_TMP/empty"
{ head -c 514 /dev/zero; printf HdrS; head -c 600 /dev/zero; } >"$TAP_TMP/bzImage"
expect_error "x86 bzImage as riscv64 kernel" "x86 bzImage: boot it with --arch x86_64" $rv --kernel "$TAP_TMP/bzImage"
{ printf '\047\005\031\126'; head -c 200 /dev/zero; } >"$TAP_TMP/uImage"
expect_error "U-Boot uImage as kernel" "U-Boot legacy image (uImage)" $rv --kernel "$TAP_TMP/uImage"
{ printf 'MZ'; head -c 200 /dev/zero; } >"$TAP_TMP/app.efi"
expect_error "EFI application without a Linux header" "PE/EFI executable" $rv --kernel "$TAP_TMP/app.efi"
fwelf=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf
if [ -f "$fwelf" ]; then
	expect_error "ELF kernel inside the firmware's 2 MiB" "lies in the firmware's first 2 MiB" $rv --kernel "$fwelf"
else
	tap_skip "ELF kernel inside the firmware's 2 MiB" "$fwelf is missing (Debian's opensbi)"
fi
truncate -s 1M "$TAP_TMP/d.img"
expect_error "--boot disk without a disk" "or --disk to boot from a disk" $rv --boot disk
expect_error "--boot floppy" "expected kernel or disk" $rv --boot floppy --disk "$TAP_TMP/d.img"
expect_error "--boot kernel without a kernel" "kernel is required" $rv --boot kernel --disk "$TAP_TMP/d.img"
expect_error "--initrd on a disk boot" "initrd goes with --boot kernel" $rv --disk "$TAP_TMP/d.img" --initrd x
if [ -f /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin ]; then
	expect_error "disk boot through U-Boot in too little memory" "needs --memory 256M or more" \
		run --arch riscv64 --memory 192M --console null --disk "$TAP_TMP/d.img"
else
	tap_skip "disk boot through U-Boot in too little memory" "Debian's u-boot-qemu is not installed"
fi
expect_error "disk boot without firmware" "booting from a disk needs firmware" $rv --firmware none --disk "$TAP_TMP/d.img"
expect_error "x86_64 disk boot" "no BIOS" run --arch x86_64 --disk "$TAP_TMP/d.img"
{ printf 'MZ'; head -c 8 /dev/urandom; } >"$TAP_TMP/tiny"
expect_error "EFI-stub kernel smaller than a header" "too small to be a kernel" $rv --kernel "$TAP_TMP/tiny"
expect_error "x86 ELF as kernel" "is an ELF file" $rv --kernel /bin/true
expect_error "x86 ELF as bare-metal program" "not.*RISC-V\|machine" $rv --firmware none --kernel /bin/true
expect_error "missing firmware" "cannot load firmware" $rv --firmware "$TAP_TMP/nofw" --kernel /bin/true
expect_error "missing disk image" "$TAP_TMP/nodisk" $rv --kernel /bin/true --disk "$TAP_TMP/nodisk"
truncate -s 1000 "$TAP_TMP/odd.img"
expect_error "disk size not a multiple of 512" "512" $rv --kernel /bin/true --disk "$TAP_TMP/odd.img"
expect_error "non-loopback host forward" "127.0.0.1\|loopback" $rv --kernel /bin/true --net "user,hostfwd=tcp:0.0.0.0:2222-:22"
expect_error "unknown net backend" "bogus" $rv --kernel /bin/true --net bogus
expect_error "bad console spec" "console" $rv --kernel /bin/true --console "nonsense:x"

if [ -n "$guest" ]; then
	expect_error "memory too small for kernel and initrd" "more --memory" \
		run --arch riscv64 --memory 8M --console null --kernel "$guest/Image" \
		--initrd "$guest/initramfs.cpio.gz"
	head -c 40 "$guest/Image" >"$TAP_TMP/cutImage"
	# Only an EFI-stub Image says what it is before its header's magic (at 0x38).
	if [ "$(head -c 2 "$TAP_TMP/cutImage")" = MZ ]; then
		expect_error "Image cut inside its header" "too small to be a kernel" $rv --kernel "$TAP_TMP/cutImage"
	else
		tap_skip "Image cut inside its header" "this Image has no EFI stub: 40 bytes of it are a flat binary"
	fi
else
	tap_skip "memory too small for kernel and initrd" "no riscv64 guest"
	tap_skip "Image cut inside its header" "no riscv64 guest"
fi

# Firmware that is garbage: the hart traps on the first instruction, and again at the trap
# vector (mtvec is 0 at reset, where there is no RAM); the run must end by itself with a clear
# reason and never crash the VMM. All-ones and all-zero words are both illegal instructions.
printf '%56s' '' | tr ' ' '\000' >"$TAP_TMP/fake-Image"
printf 'RSC\005\000\000\000\000' >>"$TAP_TMP/fake-Image"
head -c 65536 /dev/zero | tr '\000' '\377' >"$TAP_TMP/ones.bin"
head -c 65536 /dev/zero >"$TAP_TMP/zeros.bin"
expect_error "firmware of all-ones words" "guest fatal error" $rv --firmware "$TAP_TMP/ones.bin" \
	--kernel "$TAP_TMP/fake-Image"
expect_error "firmware of all-zero words" "guest fatal error" $rv --firmware "$TAP_TMP/zeros.bin" \
	--kernel "$TAP_TMP/fake-Image"
# A kernel (no bss) that ends exactly where RAM ends: refused for want of room for the
# device tree, without touching memory past the end on the way.
cp "$TAP_TMP/fake-Image" "$TAP_TMP/full-Image"
truncate -s 2M "$TAP_TMP/full-Image"
expect_error "kernel ending exactly at the end of RAM" "more --memory" run --arch riscv64 \
	--memory 4M --console null --firmware "$TAP_TMP/zeros.bin" --kernel "$TAP_TMP/full-Image"
tap_done
