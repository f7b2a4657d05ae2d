#!/bin/sh
# Build virtkit's riscv64 test guest from Debian packages: a Linux 6.1 Image
# (linux-source-6.1, `make ARCH=riscv tinyconfig` + scripts/guest/riscv64/kernel.config-fragment,
# gcc-riscv64-linux-gnu) and initramfs.cpio.gz (static busybox from Debian's source package,
# plus our /init and /etc/selftest). The equivalent of ../shared/guests/riscv64. Also disk.img:
# the same kernel and busybox as a bootable disk (ext4 root, extlinux.conf; made by
# scripts/build-disk-riscv64.sh), which `virtkit-vm run --arch riscv64 --disk disk.img` boots.
#
# usage: scripts/build-guest-riscv64.sh [--force-build] [--no-cache] [OUTDIR]
#   OUTDIR defaults to ~/.cache/virtkit/guests/riscv64 (where scripts/find-guest.sh looks).
#   Without --force-build an existing guest is used instead of building: OUTDIR when it is up to
#   date, else $VK_SHARED/guests/riscv64 or ../shared/guests/riscv64 (copied into OUTDIR).
#   --no-cache also rebuilds the kernel and busybox instead of taking them from the cache.
#
# Caching: OUTDIR/.inputs records a hash of the inputs (this script, the config fragment, init,
# selftest); the kernel and busybox builds are also cached under
# ~/.cache/virtkit/guests/riscv64-build/ by a hash that adds the package versions.
# Missing build packages are installed with apt-get (root or sudo); a deb-src entry for the
# mirror already configured is added when none exists, for `apt-get source busybox`.
# The kernel takes about 7 minutes on two cores; run it under `nice` on a shared machine.
set -eu

force=0
nocache=0
outdir=
for arg in "$@"; do
	case $arg in
	--force-build) force=1 ;;
	--no-cache) force=1 nocache=1 ;;
	-h | --help)
		sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "build-guest-riscv64: unknown option '$arg'" >&2
		exit 2
		;;
	*) outdir=$arg ;;
	esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
inputs="$here/scripts/guest/riscv64"
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/guests
outdir=${outdir:-$cache_root/riscv64}
work=$cache_root/riscv64-build
cross=riscv64-linux-gnu-
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

say() {
	printf '[build-guest-riscv64 %4ss] %s\n' "$(($(date +%s) - start))" "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

hash_of() {
	cat "$@" | sha256sum | cut -c1-16
}

# --- 1. an existing guest -------------------------------------------------------------------

key=$(hash_of "$0" "$inputs/kernel.config-fragment" "$inputs/init" "$inputs/selftest")
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# disk.img from the Image and initramfs in OUTDIR, unless it is newer than both and the
# scripts that make it. A guest without its disk image is still a guest: a failure is reported,
# not fatal.
make_disk() {
	for f in "$outdir/Image" "$outdir/initramfs.cpio.gz" "$here/scripts/build-disk-riscv64.sh" \
		"$inputs/init" "$inputs/selftest"; do
		[ -f "$outdir/disk.img" ] && [ "$outdir/disk.img" -nt "$f" ] || {
			say "disk.img: ext4 root + extlinux.conf (scripts/build-disk-riscv64.sh)"
			"$here/scripts/build-disk-riscv64.sh" "$outdir" "$outdir/disk.img" ||
				say "disk.img: not made (the reason is above)"
			return 0
		}
	done
}

if [ $force = 0 ] && [ -f "$outdir/Image" ] && [ -f "$outdir/initramfs.cpio.gz" ] &&
	[ -f "$outdir/.inputs" ]; then
	if grep -qx "key=$key" "$outdir/.inputs" || grep -q '^copied-from=' "$outdir/.inputs"; then
		make_disk
		say "up to date: $outdir"
		exit 0
	fi
fi
if [ $force = 0 ]; then
	for d in ${VK_SHARED:+"$VK_SHARED/guests/riscv64"} "$here/../shared/guests/riscv64"; do
		if [ -f "$d/Image" ] && [ -f "$d/initramfs.cpio.gz" ]; then
			d=$(cd "$d" && pwd)
			if [ "$d" != "$outdir" ]; then
				cp "$d/Image" "$d/initramfs.cpio.gz" "$outdir/"
				chmod u+w "$outdir/Image" "$outdir/initramfs.cpio.gz"
			fi
			echo "copied-from=$d" >"$outdir/.inputs"
			make_disk
			say "using the existing guest in $d (--force-build builds one)"
			exit 0
		fi
	done
fi

# --- 2. packages ----------------------------------------------------------------------------

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) for: $*"
	fi
}

pkgs="gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1 make bc flex bison
xz-utils dpkg-dev python3 gzip fdisk e2fsprogs"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing build packages:$missing"
	as_root apt-get update -qq
	mkdir -p "$cache_root"
	# shellcheck disable=SC2086
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >"$cache_root/apt.log" 2>&1; then
		tail -n 20 "$cache_root/apt.log" >&2
		die "apt-get install failed (log: $cache_root/apt.log)"
	fi
fi

# A deb-src entry for the mirror the system already uses (deb822 .sources or one-line .list).
has_deb_src() {
	grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_deb_src; then
	say "adding a deb-src entry for the configured Debian mirror"
	src_entry=$(python3 - <<'EOF'
import glob, re
out = []
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in re.split(r'\n\s*\n', open(path).read()):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r'^([A-Za-z-]+):\s*(.*)$', line)
            if m:
                fields[m.group(1)] = m.group(2)
        if 'deb' in fields.get('Types', '').split() and 'URIs' in fields and \
                fields.get('Enabled', 'yes') != 'no':
            fields['Types'] = 'deb-src'
            out.append('\n'.join('%s: %s' % (k, fields[k]) for k in
                                 ('Types', 'URIs', 'Suites', 'Components', 'Signed-By')
                                 if k in fields))
            break
    if out:
        break
if out:
    print('FORMAT=sources')
    print(out[0])
else:
    for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            if re.match(r'^\s*deb\s', line):
                print('FORMAT=list')
                print(re.sub(r'^\s*deb\s', 'deb-src ', line))
                raise SystemExit
EOF
)
	case $src_entry in
	FORMAT=sources*) file=/etc/apt/sources.list.d/virtkit-deb-src.sources ;;
	FORMAT=list*) file=/etc/apt/sources.list.d/virtkit-deb-src.list ;;
	*) die "no Debian mirror found in /etc/apt to add a deb-src entry for" ;;
	esac
	printf '%s\n' "$src_entry" | sed 1d | as_root tee "$file" >/dev/null
fi
if [ -z "$(apt-cache showsrc busybox 2>/dev/null)" ]; then
	say "apt-get update (for the busybox source)"
	as_root apt-get update -qq
fi

ver() {
	dpkg-query -W -f='${Version}' "$1"
}
gcc_ver=$(ver gcc-riscv64-linux-gnu)
linux_ver=$(ver linux-source-6.1)
mkdir -p "$work"

# --- 3. the kernel --------------------------------------------------------------------------

# Run make in the background and report progress every 20 s from its log.
make_with_progress() {
	what=$1
	log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		sleep 20 &
		wait $! || true
		kill -0 $pid 2>/dev/null || break
		say "  $what: $(grep -cE '^  (CC|AS|LD|AR)' "$log" || true) files compiled so far"
	done
	if ! wait $pid; then
		tail -n 30 "$log" >&2
		die "$what failed (full log: $log)"
	fi
}

kkey=$(printf '%s %s\n' "$linux_ver" "$gcc_ver" | cat - "$inputs/kernel.config-fragment" |
	sha256sum | cut -c1-16)
kdir=$work/kernel-$kkey
if [ $nocache = 1 ] || [ ! -f "$kdir/Image" ]; then
	say "kernel: unpacking linux-source-6.1 $linux_ver"
	rm -rf "$kdir"
	mkdir -p "$kdir"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$kdir"
	src=$kdir/linux-source-6.1
	say "kernel: tinyconfig + kernel.config-fragment"
	make -C "$src" -s ARCH=riscv CROSS_COMPILE=$cross tinyconfig >"$kdir/config.log" 2>&1
	(cd "$src" && ARCH=riscv CROSS_COMPILE=$cross scripts/kconfig/merge_config.sh -m .config \
		"$inputs/kernel.config-fragment") >>"$kdir/config.log" 2>&1
	make -C "$src" -s ARCH=riscv CROSS_COMPILE=$cross olddefconfig >>"$kdir/config.log" 2>&1
	# Say which =y options Kconfig dropped (unmet dependencies). The SBI console ones need
	# RISCV_SBI_V01, which tinyconfig leaves off: the shared guest lacks them the same way.
	lost=$(grep -E '^CONFIG_[A-Z0-9_]+=y' "$inputs/kernel.config-fragment" |
		while read -r line; do grep -qx "$line" "$src/.config" || echo "${line%=y}"; done)
	[ -z "$lost" ] || say "kernel: not enabled (unmet dependencies): $(echo "$lost" | tr "\n" " ")"
	say "kernel: building Image with $jobs jobs (about 7 minutes on two cores)"
	make_with_progress kernel "$kdir/build.log" \
		make -C "$src" ARCH=riscv CROSS_COMPILE=$cross -j"$jobs" Image
	cp "$src/arch/riscv/boot/Image" "$src/.config" "$kdir/"
	rm -rf "$src"
	say "kernel: done"
else
	say "kernel: cached ($kdir)"
fi

# --- 4. busybox -----------------------------------------------------------------------------

bb_src_ver=$(apt-cache showsrc busybox 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
[ -n "$bb_src_ver" ] || die "busybox: no source package found (is the deb-src entry working?)"
bkey=$(printf 'busybox %s %s static\n' "$bb_src_ver" "$gcc_ver" | sha256sum | cut -c1-16)
bdir=$work/busybox-$bkey
if [ $nocache = 1 ] || [ ! -f "$bdir/busybox" ]; then
	say "busybox: apt-get source busybox ($bb_src_ver)"
	rm -rf "$bdir"
	mkdir -p "$bdir/src"
	(cd "$bdir/src" && apt-get source -qq "busybox=$bb_src_ver") >"$bdir/source.log" 2>&1 ||
		{
			tail -n 20 "$bdir/source.log" >&2
			die "busybox: apt-get source failed"
		}
	src=$(find "$bdir/src" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
	[ -n "$src" ] || die "busybox: no source tree after apt-get source"
	say "busybox: defconfig, static, building"
	make -C "$src" -s defconfig >"$bdir/build.log" 2>&1
	sed -i 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' "$src/.config"
	grep -qx 'CONFIG_STATIC=y' "$src/.config" || die "busybox: could not set CONFIG_STATIC"
	make_with_progress busybox "$bdir/build.log" \
		make -C "$src" CROSS_COMPILE=$cross -j"$jobs" busybox busybox.links
	cp "$src/busybox" "$src/busybox.links" "$src/.config" "$bdir/"
	rm -rf "$bdir/src"
	say "busybox: done"
else
	say "busybox: cached ($bdir)"
fi

# --- 5. initramfs and output ----------------------------------------------------------------

say "initramfs: busybox + applet links + /init + /etc/selftest"
tmp=$(mktemp -d "$work/initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/initramfs.cpio" "$bdir/busybox" "$bdir/busybox.links" "$inputs/init" \
	"$inputs/selftest" <<'EOF'
# A reproducible newc cpio (owner root, mtime 0): every applet is a symlink in /bin.
import os, sys
out, busybox, links, init, selftest = sys.argv[1:]
entries = []
for d in ['bin', 'dev', 'etc', 'mnt', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'usr/bin',
          'usr/sbin']:
    entries.append((d, 0o040755, b''))
entries.append(('bin/busybox', 0o100755, open(busybox, 'rb').read()))
names = sorted({os.path.basename(l.strip()) for l in open(links) if l.strip()} - {'busybox'})
for n in names:
    entries.append(('bin/' + n, 0o120777, b'busybox'))
entries.append(('init', 0o100755, open(init, 'rb').read()))
entries.append(('etc/selftest', 0o100644, open(selftest, 'rb').read()))
entries.append(('TRAILER!!!', 0, b''))
with open(out, 'wb') as f:
    for ino, (name, mode, data) in enumerate(entries, 1):
        nlink = 2 if mode & 0o040000 else 1
        hdr = '070701' + ''.join('%08X' % v for v in (
            ino if name != 'TRAILER!!!' else 0, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
            len(name) + 1, 0))
        f.write(hdr.encode() + name.encode() + b'\0')
        f.write(b'\0' * (-(110 + len(name) + 1) % 4))
        f.write(data)
        f.write(b'\0' * (-len(data) % 4))
print('%d applet links' % len(names), file=sys.stderr)
EOF
gzip -9n <"$tmp/initramfs.cpio" >"$tmp/initramfs.cpio.gz"
cp "$kdir/Image" "$tmp/Image"
mv "$tmp/Image" "$tmp/initramfs.cpio.gz" "$outdir/"
{
	echo "key=$key"
	echo "linux-source-6.1=$linux_ver"
	echo "gcc-riscv64-linux-gnu=$gcc_ver"
	echo "busybox-source=$bb_src_ver"
} >"$outdir/.inputs"
make_disk
say "done: $outdir/Image, $outdir/initramfs.cpio.gz and $outdir/disk.img"
