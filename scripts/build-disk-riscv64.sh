#!/bin/sh
# Make a bootable riscv64 disk image from virtkit's test guest, without root privileges:
# an MBR (sfdisk) with partition 1, ext4 (mke2fs -d), holding the guest's busybox userland as
# the root file system plus /boot/Image and /boot/extlinux/extlinux.conf, and partition 2, a
# 1 MiB scratch area the selftest writes to. OpenSBI + U-Boot's distro boot (virtkit-vm run
# --arch riscv64 --disk IMG) finds extlinux.conf and boots Linux with root=/dev/vda1.
#
# usage: scripts/build-disk-riscv64.sh [--append TEXT] [--size MIB] GUEST_DIR OUT.img
#   GUEST_DIR   a guest folder (Image + initramfs.cpio.gz, as scripts/find-guest.sh prints);
#               its busybox and applet links come out of the initramfs, /init and
#               /etc/selftest from scripts/guest/riscv64/
#   --append    more kernel command line ("vk.mode=selftest" boots to the selftest)
#   --size      the root partition in MiB (default 16)
# The image is written to OUT.img.tmp and renamed at the end: a failed run leaves no OUT.img.
# Files in the image belong to whoever runs the script (mke2fs -d copies owners); the guest's
# busybox does not care.
set -eu

append=
size=16
while [ $# -gt 0 ]; do
	case $1 in
	--append) append=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "build-disk-riscv64: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { echo "usage: build-disk-riscv64.sh [--append TEXT] [--size MIB] GUEST_DIR OUT.img" >&2; exit 2; }
guest=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
inputs=$here/scripts/guest/riscv64

die() {
	echo "build-disk-riscv64: $*" >&2
	exit 1
}

for f in Image initramfs.cpio.gz; do
	[ -f "$guest/$f" ] || die "no $f in '$guest' (scripts/find-guest.sh riscv64 finds a guest)"
done
for t in sfdisk mke2fs python3; do
	command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null 2>&1 ||
		die "'$t' is missing: install Debian's fdisk, e2fsprogs and python3 packages"
done
case $size in '' | *[!0-9]*) die "--size '$size' is not a number of MiB" ;; esac
[ "$size" -ge 8 ] || die "--size $size: the root partition needs at least 8 MiB"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vk-disk.XXXXXX")
trap 'rm -rf "$tmp" "$out.tmp"' EXIT
root=$tmp/root
mkdir "$root"

# The initramfs's regular files, directories and symlinks, by name: nothing outside root.
python3 - "$guest/initramfs.cpio.gz" "$root" <<'EOF'
import gzip, os, stat, sys
src, root = sys.argv[1:]
data = gzip.open(src).read()
off = 0
while True:
    hdr = data[off:off + 110]
    if len(hdr) < 110 or hdr[:6] != b'070701':
        sys.exit('initramfs: not a newc cpio archive at byte %d' % off)
    f = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    mode, size, namesize = f[1], f[6], f[11]
    name = data[off + 110:off + 110 + namesize - 1].decode()
    off = (off + 110 + namesize + 3) & ~3
    body = data[off:off + size]
    off = (off + size + 3) & ~3
    if name == 'TRAILER!!!':
        break
    name = os.path.normpath(name.lstrip('/'))
    if name == '.' or name.startswith('..'):
        continue
    path = os.path.join(root, name)
    if stat.S_ISDIR(mode):
        os.makedirs(path, exist_ok=True)
    elif stat.S_ISLNK(mode):
        os.symlink(body.decode(), path)
    elif stat.S_ISREG(mode):
        with open(path, 'wb') as out:
            out.write(body)
        os.chmod(path, mode & 0o7777)
EOF
[ -x "$root/bin/busybox" ] || die "the initramfs of '$guest' has no /bin/busybox"
for d in dev proc sys tmp etc boot/extlinux; do mkdir -p "$root/$d"; done
cp "$inputs/init" "$root/init"
cp "$inputs/selftest" "$root/etc/selftest"
chmod 755 "$root/init"
cp "$guest/Image" "$root/boot/Image"
cat >"$root/boot/extlinux/extlinux.conf" <<EOF
# virtkit riscv64 guest: U-Boot's distro boot reads this file (doc/README.distro in U-Boot).
default virtkit
label virtkit
	menu label virtkit riscv64 guest (Linux, busybox)
	linux /boot/Image
	append console=ttyS0 root=/dev/vda1 rw rootwait init=/init vk.blk=/dev/vda2${append:+ $append}
EOF

# 1 MiB for the partition table, the root partition, 1 MiB scratch.
mib=$((1024 * 1024))
total=$((size + 2))
rm -f "$out.tmp"
truncate -s "${total}M" "$out.tmp"
printf 'label: dos\nstart=2048, size=%d, type=83, bootable\nstart=%d, size=2048, type=da\n' \
	$((size * 2048)) $(((size + 1) * 2048)) | sfdisk -q "$out.tmp" >/dev/null ||
	die "sfdisk could not write the partition table"
mke2fs -q -F -t ext4 -L virtkit-root -E offset=$mib -d "$root" "$out.tmp" "${size}M" ||
	die "mke2fs could not make the root file system (is --size $size large enough?)"
mv "$out.tmp" "$out"
echo "build-disk-riscv64: $out ($total MiB: root ext4 on partition 1, scratch on 2)" >&2
