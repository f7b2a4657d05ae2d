#!/bin/sh
# Boot from a disk alone: the disk image of scripts/build-disk-riscv64.sh (ext4 root made
# without root privileges, /boot/extlinux/extlinux.conf, the guest's kernel and busybox) boots
# with nothing but --disk, through Debian's OpenSBI and U-Boot's distro boot, to
# "SELFTEST 6 passed, 0 failed"; the selftest's write lands in the scratch partition and the
# partition table survives; --stats names the boot loader it entered.
. "$VK_SRC/tests/lib/tap.sh"
tap_tmpdir

guest=$("$VK_SRC/scripts/find-guest.sh" riscv64 2>"$TAP_TMP/why")
uboot=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
if [ -z "$guest" ]; then
	tap_skip "riscv64 disk boot" "$(cat "$TAP_TMP/why")"
	tap_done
fi
if [ ! -f "$uboot" ]; then
	tap_skip "riscv64 disk boot" "$uboot is missing: install Debian's u-boot-qemu"
	tap_done
fi

disk=$TAP_TMP/disk.img
if "$VK_SRC/scripts/build-disk-riscv64.sh" --append vk.mode=selftest "$guest" "$disk" \
	2>"$TAP_TMP/build.log"; then
	tap_ok "build-disk-riscv64.sh makes a disk image ($(du -k "$disk" | cut -f1) KiB used)"
else
	tap_fail "build-disk-riscv64.sh makes a disk image"
	sed 's/^/# /' "$TAP_TMP/build.log"
	tap_done
fi

# shellcheck disable=SC2086 # VK_RV_CPU_ARGS is empty or two words
timeout 300 "$VK_VM" run --arch riscv64 --memory 256M $VK_RV_CPU_ARGS --disk "$disk" \
	--net user --rng --stats --console "file:$TAP_TMP/console.log" </dev/null \
	>"$TAP_TMP/out" 2>&1
rc=$?
if grep -q "Found /boot/extlinux/extlinux.conf" "$TAP_TMP/console.log"; then
	tap_ok "U-Boot's distro boot finds extlinux.conf on the disk"
else
	tap_fail "U-Boot's distro boot finds extlinux.conf on the disk"
fi
if grep -q "VFS: Mounted root (ext4 filesystem)" "$TAP_TMP/console.log"; then
	tap_ok "Linux mounts the disk's ext4 partition as its root"
else
	tap_fail "Linux mounts the disk's ext4 partition as its root"
fi
if grep -q "SELFTEST 6 passed, 0 failed" "$TAP_TMP/console.log"; then
	tap_ok "the selftest passes"
else
	tap_fail "the selftest passes"
	tail -n 40 "$TAP_TMP/console.log" "$TAP_TMP/out" | sed "s/^/# /"
fi
if [ $rc -eq 0 ]; then tap_ok "guest power-off ends the run with status 0"
else tap_fail "guest power-off ends the run with status 0: got $rc"; fi
if grep -q "stats: firmware=opensbi,binary kernel=flat-binary .*payload=$uboot" "$TAP_TMP/out"; then
	tap_ok "--stats: OpenSBI entered Debian's S-mode U-Boot"
else
	tap_fail "--stats: OpenSBI entered Debian's S-mode U-Boot"
	grep stats "$TAP_TMP/out" | sed "s/^/# /"
fi
# The scratch partition (after the 16 MiB root) holds the selftest's marker; the MBR is intact.
if dd if="$disk" bs=512 skip=$((17 * 2048)) count=1 2>/dev/null | grep -q virtkit-block-check; then
	tap_ok "the selftest's write reached the scratch partition"
else
	tap_fail "the selftest's write reached the scratch partition"
fi
if [ "$(dd if="$disk" bs=1 skip=510 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')" = 55aa ]; then
	tap_ok "the partition table is intact"
else
	tap_fail "the partition table is intact"
fi
tap_diag "$(grep 'stats: wall' "$TAP_TMP/out")"
tap_done
