#!/bin/sh
# Real Linux on the x86-64 KVM machine. Runs only where `virtkit-vm probe` says KVM is
# hardware-accelerated; elsewhere every check prints "# SKIP" with the measured reason
# (on kvm_pvm hosts a Linux boot is emulated at ~1 MIPS and dies on XRSTOR/INT3).
#
#   1-3  the shared guest (../shared/guests/x86_64): bzImage over virtio-pci, the PVH vmlinux,
#        and the bzImage over virtio-mmio (virtio_mmio.device= added by the VMM), each with
#        a disk, user networking and an entropy device, to "SELFTEST n passed, 0 failed";
#        and SMP: the guest must see every vCPU
#   4    Debian's linux-image-cloud-amd64 (apt-get download) with a busybox initramfs that
#        loads the virtio-pci modules and checks /dev/vda, eth0 and /dev/hwrng
#   5    the same kernel has no MP table parser: ACPI (MADT) must show it every vCPU, and its
#        `poweroff -f` must end the run through ACPI S5 (the run uses --on-reset reboot, so a
#        reset would boot again instead of ending it)
#   6    the same kernel over virtio-mmio: it ignores virtio_mmio.device= (no
#        VIRTIO_MMIO_CMDLINE_DEVICES) and must find the devices in the DSDT (LNRO0005)
#
# Run it alone from a build:  tests/integration/kvm/linux-boot.sh   (VK_BUILD defaults to
# ./build; set VK_BUILD=/path/to/build-dir otherwise). LINUX_TIMEOUT (seconds, default 120)
# bounds each boot. Exit status 0 when nothing failed.
# Offline hosts: VK_CLOUD_KERNEL and VK_CLOUD_INITRD name a ready vmlinuz and initramfs (a
# run with network leaves both in ~/.cache/virtkit/debian-cloud-kernel/prepared/).
# VK_LINUX_FORCE=1 runs the boots even when probe does not say hardware-accelerated.
# VK_CLOUD_PREPARE_ONLY=1 only downloads the cloud kernel and builds its initramfs into
# ~/.cache/virtkit/debian-cloud-kernel/prepared/ (for bundle.sh), then exits.
set -u
: "${VK_SRC:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$VK_SRC/tests/lib/tap.sh"
. "$VK_SRC/tests/integration/kvm/lib-kvm.sh"
tap_tmpdir
T=${LINUX_TIMEOUT:-120}
CPUS=2

names="shared bzImage over virtio-pci: SELFTEST 0 failed
shared PVH vmlinux over virtio-pci: SELFTEST 0 failed
shared bzImage over virtio-mmio: SELFTEST 0 failed
shared bzImage: the guest sees all $CPUS vCPUs
Debian cloud kernel with virtio-pci modules: disk, network and rng found
Debian cloud kernel: ACPI shows all $CPUS vCPUs, poweroff ends the run through S5
Debian cloud kernel over virtio-mmio found through ACPI: disk, network and rng found"

skip_all() {
	echo "$names" | while IFS= read -r n; do echo "ok - $n # SKIP $1"; done
	n=$(echo "$names" | wc -l)
	echo "1..$n"
	exit 0
}

[ -x "$VK_VM" ] || [ "${VK_CLOUD_PREPARE_ONLY:-0}" = 1 ] || skip_all "$VK_VM is not built"
[ "${VK_CLOUD_PREPARE_ONLY:-0}" = 1 ] || kvm_probe
prepare_only() { [ "${VK_CLOUD_PREPARE_ONLY:-0}" = 1 ]; }
if ! prepare_only; then
	tap_diag "$KVM_SUMMARY"
	[ "$KVM_CLASS" = hardware-accelerated ] || [ "${VK_LINUX_FORCE:-0}" = 1 ] || skip_all "$KVM_SUMMARY"
fi

# selftest_boot NAME KERNEL [EXTRA ARGS...]: boot the shared guest in selftest mode.
selftest_boot() {
	_sb=$1
	_sb_kernel=$2
	shift 2
	truncate -s 64M "$TAP_TMP/$_sb.img"
	run_guest "$_sb" 0 "$T" --memory 256M --cpus $CPUS --kernel "$_sb_kernel" \
		--initrd "$guest/initramfs.cpio.gz" --cmdline "console=ttyS0 vk.mode=selftest" \
		--disk "$TAP_TMP/$_sb.img" --net user --rng "$@"
}

selftest_report() {
	if [ "$RUN_RC" -eq 0 ] && grep -q 'SELFTEST [0-9]* passed, 0 failed' "$RUN_OUT"; then
		tap_ok "$1 ($(grep -o 'SELFTEST [0-9]* passed, 0 failed' "$RUN_OUT"))"
	else
		tap_fail "$1 (exit $RUN_RC)"
		grep -a 'ok -\|SELFTEST\|Kernel panic\|not syncing' "$RUN_OUT" | tr -d '\r' | sed 's/^/# console: /'
		tail -n 20 "$RUN_OUT" | tr -d '\r' | sed 's/^/# console: /'
		tail -n 10 "$RUN_ERR" | sed 's/^/# stderr: /'
	fi
}

guest=$("$VK_SRC/scripts/find-guest.sh" x86_64 2>/dev/null)
if prepare_only; then
	:
elif [ -n "$guest" ] && [ -f "$guest/vmlinux" ]; then
	selftest_boot pci "$guest/bzImage"
	selftest_report "shared bzImage over virtio-pci"
	pci_out=$RUN_OUT
	selftest_boot pvh "$guest/vmlinux"
	selftest_report "shared PVH vmlinux over virtio-pci"
	selftest_boot mmio "$guest/bzImage" --virtio-transport mmio
	selftest_report "shared bzImage over virtio-mmio"
	seen=$(grep -a -o 'Brought up [0-9]* node[s]*, [0-9]* CPU' "$pci_out" | grep -o '[0-9]* CPU' | grep -o '[0-9]*')
	if [ "${seen:-0}" = "$CPUS" ]; then
		tap_ok "shared bzImage: the guest sees all $CPUS vCPUs (MP table, INIT/SIPI)"
	else
		tap_fail "shared bzImage: the guest sees all $CPUS vCPUs (saw ${seen:-none})"
		grep -a 'smpboot\|CPU\|mptable\|MP-table' "$pci_out" | head -n 15 | tr -d '\r' | sed 's/^/# console: /'
	fi
else
	for n in "shared bzImage over virtio-pci" "shared PVH vmlinux over virtio-pci" \
		"shared bzImage over virtio-mmio" "shared bzImage: the guest sees all vCPUs"; do
		tap_skip "$n" "no x86_64 guest with a vmlinux (looked with scripts/find-guest.sh)"
	done
fi

# ---- Debian's cloud kernel with the virtio-pci modules loaded from an initramfs ----
cloud_kernel() {
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/debian-cloud-kernel
	mkdir -p "$cache" || return 1
	deb=$(ls "$cache"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | grep -v dbg | head -n 1)
	if [ -z "$deb" ]; then
		pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
		[ -n "$pkg" ] || { echo "apt-cache knows no linux-image-cloud-amd64" >&2; return 1; }
		(cd "$cache" && timeout 300 apt-get download "$pkg") >&2 || return 1
		deb=$(ls "$cache"/linux-image-*-cloud-amd64_*.deb | head -n 1)
	fi
	rm -rf "$TAP_TMP/deb" && mkdir -p "$TAP_TMP/deb" && dpkg-deb -x "$deb" "$TAP_TMP/deb" || return 1
	echo "$deb"
}

build_cloud_initramfs() {
	root=$TAP_TMP/initramfs
	moddir=$(ls -d "$TAP_TMP"/deb/lib/modules/* | head -n 1)
	ver=$(basename "$moddir")
	rm -rf "$root" && mkdir -p "$root/bin" "$root/lib/modules" "$root/dev" "$root/proc" "$root/sys"
	cp /bin/busybox "$root/bin/busybox" || return 1
	# The modules and everything they depend on, in load order (modules.dep is "m: deps").
	order=$(python3 - "$moddir" virtio_pci virtio_mmio virtio_blk virtio_net virtio_rng <<'PY'
# Load order from each module's own .modinfo "depends=" (the package ships no modules.dep).
import lzma, os, re, sys
moddir, wanted = sys.argv[1], sys.argv[2:]
mods = {}
for top, _, files in os.walk(os.path.join(moddir, 'kernel')):
    for f in files:
        if '.ko' in f:
            mods[f.split('.ko')[0].replace('-', '_')] = os.path.join(top, f)
def depends(path):
    data = open(path, 'rb').read()
    if path.endswith('.xz'):
        data = lzma.decompress(data)
    m = re.search(rb'\0depends=([^\0]*)\0', data)
    return [d.replace('-', '_') for d in m.group(1).decode().split(',') if d] if m else []
out = []
def visit(name):
    for d in depends(mods[name]):
        if d in mods:
            visit(d)
    if mods[name] not in out:
        out.append(mods[name])
for w in wanted:
    if w in mods:
        visit(w)
print('\n'.join(os.path.relpath(p, moddir) for p in out))
PY
	) || return 1
	i=0
	load=""
	for m in $order; do
		i=$((i + 1))
		f=$(printf '%02d-%s' $i "$(basename "$m" | sed 's/\.ko.*//')").ko
		case $m in
		*.xz) xz -dc "$moddir/$m" >"$root/lib/modules/$f" ;;
		*.zst) zstd -qdc "$moddir/$m" >"$root/lib/modules/$f" ;;
		*) cp "$moddir/$m" "$root/lib/modules/$f" ;;
		esac || return 1
		load="$load $f"
	done
	cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in$load; do insmod /lib/modules/\$m || echo "insmod \$m failed"; done
sleep 1
echo "virtio devices: \$(ls /sys/bus/virtio/devices | wc -l)"
[ -b /dev/vda ] && dd if=/dev/vda bs=512 count=1 2>/dev/null | grep -q VIRTKIT-CLOUD && echo "CLOUD vda ok"
ip link show eth0 >/dev/null 2>&1 && echo "CLOUD eth0 ok"
[ -c /dev/hwrng ] && dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c | grep -q 16 && echo "CLOUD hwrng ok"
echo "CLOUD cpus online \$(cat /sys/devices/system/cpu/online)"
[ -d /sys/firmware/acpi/tables ] && echo "CLOUD acpi tables: \$(ls /sys/firmware/acpi/tables | tr '\n' ' ')"
echo "CLOUD-KERNEL-DONE kernel \$(uname -r)"
poweroff -f
INIT
	chmod 755 "$root/init"
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$TAP_TMP/cloud.cpio.gz"
}

name="Debian cloud kernel with virtio-pci modules: disk, network and rng found"
acpi_name="Debian cloud kernel: ACPI shows all $CPUS vCPUs, poweroff ends the run through S5"
mmio_name="Debian cloud kernel over virtio-mmio found through ACPI: disk, network and rng found"
prepared=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/debian-cloud-kernel/prepared
if [ -n "${VK_CLOUD_KERNEL:-}" ] && [ -f "$VK_CLOUD_KERNEL" ] && [ -f "${VK_CLOUD_INITRD:-}" ]; then
	vmlinuz=$VK_CLOUD_KERNEL
	cp "$VK_CLOUD_INITRD" "$TAP_TMP/cloud.cpio.gz"
	deb=$vmlinuz
elif ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	for n in "$name" "$acpi_name" "$mmio_name"; do tap_skip "$n" "needs apt-get and dpkg-deb"; done
elif ! deb=$(cloud_kernel 2>"$TAP_TMP/apt.err"); then
	for n in "$name" "$acpi_name" "$mmio_name"; do
		tap_skip "$n" "cannot download linux-image-cloud-amd64: $(tail -n 1 "$TAP_TMP/apt.err")"
	done
elif ! build_cloud_initramfs; then
	for n in "$name" "$acpi_name" "$mmio_name"; do
		tap_fail "$n (cannot build the initramfs from $deb)"
	done
else
	vmlinuz=$(ls "$TAP_TMP"/deb/boot/vmlinuz-* | head -n 1)
	mkdir -p "$prepared" && cp "$vmlinuz" "$prepared/vmlinuz" &&
		cp "$TAP_TMP/cloud.cpio.gz" "$prepared/initramfs.cpio.gz"
fi
if prepare_only; then
	[ -f "$prepared/initramfs.cpio.gz" ] && [ -n "${vmlinuz:-}" ] && echo "prepared: $prepared" && exit 0
	echo "cannot prepare the cloud kernel" >&2
	exit 1
fi
if [ -n "${vmlinuz:-}" ]; then
	truncate -s 16M "$TAP_TMP/cloud.img"
	printf 'VIRTKIT-CLOUD' | dd of="$TAP_TMP/cloud.img" conv=notrunc 2>/dev/null
	run_guest cloud 0 "$T" --memory 512M --cpus $CPUS --kernel "$vmlinuz" \
		--initrd "$TAP_TMP/cloud.cpio.gz" --cmdline "console=ttyS0 panic=-1" \
		--disk "$TAP_TMP/cloud.img" --net user --rng --on-reset reboot
	if [ "$RUN_RC" -eq 0 ] && grep -q 'CLOUD vda ok' "$RUN_OUT" && grep -q 'CLOUD eth0 ok' "$RUN_OUT" &&
		grep -q 'CLOUD hwrng ok' "$RUN_OUT"; then
		tap_ok "$name ($(basename "$deb"))"
	else
		tap_fail "$name (exit $RUN_RC, $(basename "$deb"))"
		grep -a 'CLOUD\|virtio devices\|insmod\|Kernel panic' "$RUN_OUT" | tr -d '\r' | sed 's/^/# console: /'
		tail -n 20 "$RUN_OUT" | tr -d '\r' | sed 's/^/# console: /'
		tail -n 10 "$RUN_ERR" | sed 's/^/# stderr: /'
	fi
	name=$acpi_name
	online=$(tr -d '\r' <"$RUN_OUT" | sed -n 's/^CLOUD cpus online //p' | head -n 1)
	boots=$(grep -c 'CLOUD-KERNEL-DONE' "$RUN_OUT")
	if [ "$RUN_RC" -eq 0 ] && [ "$online" = "0-$((CPUS - 1))" ] && [ "$boots" = 1 ] &&
		grep -q 'CLOUD acpi tables: .*APIC.*FACP' "$RUN_OUT"; then
		tap_ok "$name (cpus online $online)"
	else
		tap_fail "$name (exit $RUN_RC, cpus online '${online:-?}', $boots boots)"
		grep -a 'CLOUD\|ACPI\|smpboot\|reboot: \|Power down' "$RUN_OUT" | tr -d '\r' | head -n 30 |
			sed 's/^/# console: /'
	fi
	printf 'VIRTKIT-CLOUD' | dd of="$TAP_TMP/cloud.img" conv=notrunc 2>/dev/null
	run_guest cloud-mmio 0 "$T" --memory 512M --cpus $CPUS --kernel "$vmlinuz" \
		--initrd "$TAP_TMP/cloud.cpio.gz" --cmdline "console=ttyS0 panic=-1" \
		--disk "$TAP_TMP/cloud.img" --net user --rng --virtio-transport mmio
	if [ "$RUN_RC" -eq 0 ] && grep -q 'CLOUD vda ok' "$RUN_OUT" && grep -q 'CLOUD eth0 ok' "$RUN_OUT" &&
		grep -q 'CLOUD hwrng ok' "$RUN_OUT"; then
		tap_ok "$mmio_name"
	else
		tap_fail "$mmio_name (exit $RUN_RC)"
		grep -a 'CLOUD\|virtio\|LNRO\|insmod\|Kernel panic' "$RUN_OUT" | tr -d '\r' | head -n 30 |
			sed 's/^/# console: /'
	fi
fi
tap_done
