#!/bin/sh
# make run: boot the default guest to an interactive shell on this terminal.
# x86-64 on KVM when `virtkit-vm probe` says KVM is hardware-accelerated, the riscv64
# guest on the software CPU otherwise. Ctrl-A x quits.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
vm="$here/$build/src/vm/virtkit-vm"
[ -x "$vm" ] || { echo "make run: $vm is not built" >&2; exit 1; }

arch=riscv64
if "$vm" probe 2>/dev/null | grep -q "kvm: hardware-accelerated"; then
	if "$here/scripts/find-guest.sh" x86_64 >/dev/null 2>&1; then
		arch=x86_64
	fi
fi
guest=$("$here/scripts/find-guest.sh" "$arch" --build) || exit 1
disk=$(mktemp /tmp/virtkit-run-disk.XXXXXX)
trap 'rm -f "$disk"' EXIT
truncate -s 64M "$disk"

echo "make run: booting the $arch guest from $guest (Ctrl-A x quits)" >&2
if [ "$arch" = riscv64 ]; then
	"$vm" run --arch riscv64 --memory 256M --cpus 2 \
		--kernel "$guest/Image" --initrd "$guest/initramfs.cpio.gz" \
		--cmdline "console=ttyS0" --disk "$disk" --net user --rng --console stdio
else
	"$vm" run --arch x86_64 --memory 256M --cpus 2 \
		--kernel "$guest/bzImage" --initrd "$guest/initramfs.cpio.gz" \
		--cmdline "console=ttyS0" --disk "$disk" --net user --rng --console stdio
fi
