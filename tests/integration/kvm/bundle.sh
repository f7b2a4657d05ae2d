#!/bin/sh
# Pack what the KVM tests need into one folder that runs on another x86-64 Linux machine
# without building anything there (for a few minutes on a host with hardware KVM):
# virtkit-vm with its loader and libraries, the test guests, the shared x86_64 guest, and a
# prepared Debian cloud kernel + initramfs when a previous linux-boot.sh run left one.
#   tests/integration/kvm/bundle.sh BUILD_DIR [OUT_DIR]    (OUT_DIR defaults to BUILD_DIR/bundle)
# Then, on the other machine, from a checkout of the same tree:  sh OUT_DIR/device-check.sh
set -eu
src=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(cd "${1:?usage: bundle.sh BUILD_DIR [OUT_DIR]}" && pwd)
out=${2:-$build/bundle}
vm=$build/src/vm/virtkit-vm
rm -rf "$out"
mkdir -p "$out/lib" "$out/src/vm" "$out/shared/guests/x86_64" "$out/cloud" "$out/guests"
for l in /lib64/ld-linux-x86-64.so.2 $(ldd "$vm" | awk '/=>/ {print $3}'); do cp -L "$l" "$out/lib/"; done
cp "$vm" "$out/src/vm/virtkit-vm.real"
cat >"$out/src/vm/virtkit-vm" <<'WRAP'
#!/bin/sh
d=$(cd "$(dirname "$0")" && pwd)
exec "$d/../../lib/ld-linux-x86-64.so.2" --library-path "$d/../../lib" "$d/virtkit-vm.real" "$@"
WRAP
chmod +x "$out/src/vm/virtkit-vm"
cp "$build"/tests/guests/x86_64/*.elf "$build/tests/guests/x86_64/bzImage" "$out/guests/"
guest=$("$src/scripts/find-guest.sh" x86_64 2>/dev/null) &&
	cp "$guest/bzImage" "$guest/initramfs.cpio.gz" "$out/shared/guests/x86_64/" &&
	{ [ ! -f "$guest/vmlinux" ] || cp "$guest/vmlinux" "$out/shared/guests/x86_64/"; }
prepared=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/debian-cloud-kernel/prepared
[ -f "$prepared/vmlinuz" ] && cp "$prepared/vmlinuz" "$prepared/initramfs.cpio.gz" "$out/cloud/"
cat >"$out/device-check.sh" <<'CHECK'
#!/bin/sh
# Run from anywhere: the KVM tests with the bundled binary (the tree's scripts come from $VK_SRC).
B=$(cd "$(dirname "$0")" && pwd)
: "${VK_SRC:=$(cd "$B/../.." && pwd)}"
export VK_SRC VK_BUILD=$B VK_SHARED=$B/shared XDG_CACHE_HOME=$B/cache
[ -f "$B/cloud/vmlinuz" ] && export VK_CLOUD_KERNEL=$B/cloud/vmlinuz VK_CLOUD_INITRD=$B/cloud/initramfs.cpio.gz
echo "== host"; uname -r; ls -l /dev/kvm; grep -m1 -o -w 'vmx\|svm' /proc/cpuinfo; ls /sys/module | grep -i kvm
echo "== probe"; timeout 60 "$B/src/vm/virtkit-vm" probe
[ -e /dev/kvm ] || exit 0
echo "== guests"; timeout 200 sh "$VK_SRC/tests/integration/kvm/guests.sh" "$B/guests" 2>&1 | grep -v '^# console'
echo "== linux"; LINUX_TIMEOUT=${LINUX_TIMEOUT:-60} timeout 600 sh "$VK_SRC/tests/integration/kvm/linux-boot.sh"
if command -v python3 >/dev/null; then
	echo "== control"; timeout 100 python3 "$VK_SRC/tests/integration/kvm/control.py" "$B/guests"
fi
CHECK
chmod +x "$out/device-check.sh"
du -sh "$out"
