#!/bin/sh
# Run every benchmark in bench/*/run (each prints its figures and ratios against its peer).
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
status=0
found=0
for b in "$here"/bench/*/run; do
	[ -x "$b" ] || continue
	found=1
	echo "== $(basename "$(dirname "$b")")"
	VK_BUILD="$here/$build" VK_SRC="$here" "$b" || status=1
done
[ $found -eq 1 ] || echo "no benchmarks yet"
exit $status
