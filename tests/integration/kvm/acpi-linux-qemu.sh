#!/bin/sh
# SPDX-License-Identifier: MIT
# Real Linux reads virtkit's ACPI tables, on any host: the x86 board's tables (acpi-dump,
# argument 1, for 2 vCPUs) are placed at 0xE0000 of a QEMU microvm (TCG, acpi=off, so QEMU
# builds none of its own) that boots Debian's cloud kernel, which has no MP table parser.
# Linux must find the RSDP, take the SMP configuration from our MADT and bring up both
# CPUs, accept the FADT (S0 and S5 supported, PM timer, the PCI host bridge windows, COM1
# in the DSDT), find a virtio-mmio disk through the DSDT alone (the kernel has no
# virtio_mmio.device= support; the device sits where QEMU's microvm puts its first
# transport, 0xfeb00000 on IRQ 5, level) and read it, and on poweroff enter S5. QEMU has
# none of virtkit's PM registers behind the tables (S5 itself is tested by the acpi test
# guest on KVM and by linux-boot.sh on hardware-accelerated hosts).
# Needs qemu-system-x86_64 and the cloud kernel prepared by linux-boot.sh (downloaded here
# with apt-get when missing); skips with the reason otherwise.
. "$VK_SRC/tests/lib/tap.sh"
dump=$1
tap_tmpdir
CPUS=2
name="Debian cloud kernel under QEMU reads the board's ACPI tables"

prepared=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/debian-cloud-kernel/prepared
if [ -n "${VK_CLOUD_KERNEL:-}" ] && [ -f "$VK_CLOUD_KERNEL" ] && [ -f "${VK_CLOUD_INITRD:-}" ]; then
	kernel=$VK_CLOUD_KERNEL initrd=$VK_CLOUD_INITRD
else
	kernel=$prepared/vmlinuz initrd=$prepared/initramfs.cpio.gz
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	tap_skip "$name" "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
	tap_done
fi
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ] || ! zcat "$initrd" | grep -aq 'poweroff -f' ||
	! zcat "$initrd" | grep -aq 'virtio_mmio.ko'; then
	VK_CLOUD_PREPARE_ONLY=1 timeout 400 sh "$VK_SRC/tests/integration/kvm/linux-boot.sh" \
		>"$TAP_TMP/prepare.log" 2>&1
fi
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
	tap_skip "$name" "no Debian cloud kernel: $(tail -n 1 "$TAP_TMP/prepare.log" 2>/dev/null)"
	tap_done
fi
if ! "$dump" "$TAP_TMP" $CPUS 2 1 0xfeb00000; then
	tap_fail "$name: acpi-dump"
	tap_done
fi

# QEMU does not power off on our S5 (nothing answers there): stop it once Linux is done.
log=$TAP_TMP/console.log
: >"$log"
truncate -s 16M "$TAP_TMP/disk.img"
printf 'VIRTKIT-CLOUD' | dd of="$TAP_TMP/disk.img" conv=notrunc 2>/dev/null
timeout 300 qemu-system-x86_64 \
	-M microvm,acpi=off,x-option-roms=off,isa-serial=on,rtc=on,pit=on,pic=on,auto-kernel-cmdline=off \
	-smp $CPUS -m 512M -display none -serial "file:$log" -monitor none -no-reboot -no-user-config \
	-nodefaults -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1" \
	-device loader,file="$TAP_TMP/region.dat",addr=0xe0000,force-raw=on \
	-drive if=none,id=d0,file="$TAP_TMP/disk.img",format=raw \
	-device virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0 </dev/null \
	>"$TAP_TMP/qemu.err" 2>&1 &
qemu=$!
i=0
while kill -0 $qemu 2>/dev/null && [ $i -lt 2400 ] &&
	! grep -aq 'reboot: Power down\|Kernel panic\|reboot: Restarting' "$log"; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
kill $qemu 2>/dev/null
wait $qemu
rc=$?
tr -d '\r' <"$log" >"$log.txt" 2>/dev/null
log=$log.txt

check() {
	if grep -q -- "$2" "$log"; then
		tap_ok "$1"
	else
		tap_fail "$1 (no '$2' in the console)"
	fi
}
if [ $rc -ne 0 ] && [ ! -s "$log" ]; then
	tap_fail "$name: QEMU ran (exit $rc)"
	tap_diag "$(tail -n 5 "$TAP_TMP/qemu.err")"
	tap_done
fi
tap_diag "$(grep -m 1 'Linux version' "$log" | cut -c 1-100)"
check "Linux finds the RSDP at 0xE0000 and the XSDT's tables" 'ACPI: RSDP 0x00000000000E0000 000024 (v02 VIRTKT)'
check "the SMP configuration comes from the MADT" 'ACPI: Using ACPI (MADT) for SMP configuration information'
check "the MADT's IOAPIC: id $CPUS, GSI 0-23" "IOAPIC\[0\]: apic_id $CPUS, .* GSI 0-23"
check "every vCPU is brought up" "smp: Brought up 1 node, $CPUS CPUs"
check "the FADT's PM timer" 'ACPI: PM-Timer IO Port: 0x608'
check "the AML loads; S5 is supported" 'ACPI: PM: (supports S0 S5)'
check "the DSDT's PCI host bridge and its _CRS windows" 'ACPI: PCI Root Bridge \[PCI0\] (domain 0000 \[bus 00\])'
check "the DSDT's COM1 (PnP)" 'pnp: PnP ACPI: found 1 devices'
check "userspace sees $CPUS CPUs online" "CLOUD cpus online 0-$((CPUS - 1))"
check "the DSDT's virtio-mmio device (LNRO0005): a disk that reads" 'CLOUD vda ok'
check "poweroff goes through ACPI S5" 'ACPI: PM: Preparing to enter system sleep state S5'
# The one error allowed: QEMU has no PM1_EN register behind the FADT's port (virtkit does).
errors=$(grep -i 'ACPI.*\(error\|warning\)\|firmware bug' "$log" |
	grep -v 'Could not disable RealTimeClock events')
if [ -z "$errors" ]; then
	tap_ok "no ACPI errors or firmware-bug warnings"
else
	tap_fail "no ACPI errors or firmware-bug warnings"
	tap_diag "$errors"
fi
if [ "$TAP_FAILED" -ne 0 ]; then
	tap_diag "$(grep -i 'acpi\|smp\|apic\|pci\|pnp\|CLOUD' "$log" | head -n 60)"
fi
tap_done
