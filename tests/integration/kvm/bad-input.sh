#!/bin/sh
# Bad input to the x86-64 KVM machine: a clear one-line error and a non-zero exit, never a crash
# or a hang. No KVM device, no permission, a device that is not KVM, kernels that are neither
# bzImage nor PVH ELF (or are broken ones), an initrd too large for the memory, memory too small
# for the kernel, bad --cpus / --memory / --virtio-transport values, missing files.
. "$VK_SRC/tests/lib/tap.sh"
. "$VK_SRC/tests/integration/kvm/lib-kvm.sh"
[ -n "${1:-}" ] && X86_GUESTS=$1
tap_tmpdir
G=$X86_GUESTS

# expect_error NAME PATTERN ARGS...: exit status 1..125 (not a signal), stderr matches PATTERN.
expect_error() {
	name=$1
	pattern=$2
	shift 2
	timeout -k 5 60 "$@" </dev/null >"$TAP_TMP/out" 2>"$TAP_TMP/err"
	rc=$?
	if [ $rc -ge 1 ] && [ $rc -le 125 ] && grep -q -- "$pattern" "$TAP_TMP/err"; then
		tap_ok "$name (exit $rc: $(head -n 1 "$TAP_TMP/err"))"
	else
		tap_fail "$name (exit $rc)"
		sed 's/^/# stderr: /' "$TAP_TMP/err" | head -n 5
	fi
}

x86="run --arch x86_64 --memory 64M --console null"
kernel=$G/hello.elf
[ -f "$kernel" ] || kernel=/bin/true

expect_error "no KVM device" "cannot open $TAP_TMP/nokvm: no such device" \
	env VIRTKIT_KVM_DEVICE="$TAP_TMP/nokvm" "$VK_VM" $x86 --kernel "$kernel"
expect_error "a device that is not KVM" "KVM API version" \
	env VIRTKIT_KVM_DEVICE=/dev/null "$VK_VM" $x86 --kernel "$kernel"
if [ -e /dev/kvm ] && [ "$(id -u)" -eq 0 ] && [ "$(stat -c %a /dev/kvm)" = 600 ]; then
	cp "$kernel" "$TAP_TMP/k" && chmod 755 "$TAP_TMP"
	chmod 644 "$TAP_TMP/k"
	expect_error "no permission on /dev/kvm (as user nobody)" "permission denied" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$VK_VM" $x86 --kernel "$TAP_TMP/k"
else
	tap_skip "no permission on /dev/kvm" "needs root and a /dev/kvm of mode 600"
fi

kvm_probe
if [ "$KVM_CLASS" = unavailable ]; then
	tap_skip "bad kernels, initrds and sizes on KVM" "$KVM_SUMMARY"
	tap_done
fi

expect_error "missing kernel" "cannot load kernel" "$VK_VM" $x86 --kernel "$TAP_TMP/nope"
head -c 4096 /dev/urandom >"$TAP_TMP/random"
expect_error "random bytes as kernel" "neither a bzImage" "$VK_VM" $x86 --kernel "$TAP_TMP/random"
head -c 100 /dev/urandom >"$TAP_TMP/short"
expect_error "100 bytes as kernel" "too small to be a kernel" "$VK_VM" $x86 --kernel "$TAP_TMP/short"
expect_error "a program as kernel (position-independent ELF)" "not an ELF executable" \
	"$VK_VM" $x86 --kernel /bin/true
[ -f "$G/bz.elf" ] && expect_error "ELF executable without a PVH note" "without a PVH entry note" \
	"$VK_VM" $x86 --kernel "$G/bz.elf"
if [ -f "$G/bzImage" ]; then
	head -c 1500 "$G/bzImage" >"$TAP_TMP/cut"
	expect_error "bzImage cut after its setup code, too little memory" "more --memory" \
		"$VK_VM" run --console null --kernel "$TAP_TMP/cut" --memory 2M
	head -c 900 "$G/bzImage" >"$TAP_TMP/cut2"
	expect_error "bzImage cut inside its setup code" "truncated" "$VK_VM" $x86 --kernel "$TAP_TMP/cut2"
	# Boot protocol 2.11 (no 64-bit entry): patch the version at 0x206.
	cp "$G/bzImage" "$TAP_TMP/old"
	printf '\013\002' | dd of="$TAP_TMP/old" bs=1 seek=518 conv=notrunc 2>/dev/null
	expect_error "bzImage with boot protocol 2.11" "boot protocol 2.11" "$VK_VM" $x86 --kernel "$TAP_TMP/old"
	# A 32-bit kernel: clear XLF_KERNEL_64 at 0x236.
	cp "$G/bzImage" "$TAP_TMP/k32"
	printf '\000' | dd of="$TAP_TMP/k32" bs=1 seek=566 conv=notrunc 2>/dev/null
	expect_error "32-bit bzImage" "not a 64-bit kernel" "$VK_VM" $x86 --kernel "$TAP_TMP/k32"
	expect_error "memory too small for the kernel" "more --memory" \
		"$VK_VM" run --memory 2M --console null --kernel "$G/bzImage"
fi
truncate -s 40M "$TAP_TMP/big-initrd"
expect_error "initrd larger than the memory" "larger than the guest RAM.*more --memory" \
	"$VK_VM" run --memory 32M --console null --kernel "$kernel" --initrd "$TAP_TMP/big-initrd"
truncate -s 30M "$TAP_TMP/initrd30"
expect_error "initrd that fits the memory but not beside the kernel" "does not fit.*more --memory" \
	"$VK_VM" run --memory 32M --console null --kernel "${G}/bzImage" --initrd "$TAP_TMP/initrd30"
expect_error "missing initrd" "cannot load initrd" "$VK_VM" $x86 --kernel "$kernel" --initrd "$TAP_TMP/nope"
expect_error "--cpus 0" "cpus '0'" "$VK_VM" $x86 --cpus 0 --kernel "$kernel"
expect_error "--cpus 65 (above the board's limit)" "cpus '65'" "$VK_VM" $x86 --cpus 65 --kernel "$kernel"
expect_error "--memory not a multiple of 4 KiB" "multiple of 4 KiB" \
	"$VK_VM" run --memory 3000001 --console null --kernel "$kernel"
expect_error "--virtio-transport bogus" "expected pci or mmio" \
	"$VK_VM" $x86 --virtio-transport bogus --kernel "$kernel"
expect_error "missing disk image" "$TAP_TMP/nodisk" "$VK_VM" $x86 --kernel "$kernel" --disk "$TAP_TMP/nodisk"
expect_error "x86_64 on the software CPU" "only on KVM" "$VK_VM" run --arch x86_64 --accel emu --kernel "$kernel"
tap_done
