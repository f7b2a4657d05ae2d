#!/bin/sh
# Print the folder holding a ready guest for ARCH (riscv64 or x86_64): a kernel and
# initramfs.cpio.gz. Looks in $VK_SHARED/guests/ARCH, ../shared/guests/ARCH, then the cache of
# scripts/build-guest-ARCH.sh. With --build, builds the guest when none is found.
# Exit status 1 (and a reason on stderr) when there is none.
set -u
arch=${1:-riscv64}
build=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/virtkit/guests/$arch
case $arch in
riscv64) kernel=Image ;;
x86_64) kernel=bzImage ;;
*) echo "find-guest: unknown arch '$arch'" >&2; exit 2 ;;
esac
for d in ${VK_SHARED:+"$VK_SHARED/guests/$arch"} "$here/../shared/guests/$arch" "$cache"; do
	if [ -f "$d/$kernel" ] && [ -f "$d/initramfs.cpio.gz" ]; then
		(cd "$d" && pwd)
		exit 0
	fi
done
if [ "$build" = "--build" ] && [ -x "$here/scripts/build-guest-$arch.sh" ]; then
	"$here/scripts/build-guest-$arch.sh" "$cache" >&2 || exit 1
	echo "$cache"
	exit 0
fi
echo "no $arch guest found (looked in \$VK_SHARED, ../shared and $cache; scripts/build-guest-$arch.sh builds one)" >&2
exit 1
