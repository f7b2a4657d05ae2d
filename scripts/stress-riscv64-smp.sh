#!/bin/sh
# Stress the riscv64 hart threads: boot the shared guest's selftest with 4 harts (one host
# thread each) N times in a row (default 20), as tests/integration/vm/boot-riscv64.sh does
# once; every boot must pass. Usage: scripts/stress-riscv64-smp.sh [BUILD] [N] [HARTS]
# (docs/testing.md). A TSan build (build-tsan) works too.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-20}
harts=${3:-4}
cpus=""
i=0
while [ $i -lt "$n" ]; do
	cpus="$cpus $harts"
	i=$((i + 1))
done
out=$(CPUS="$cpus" VK_SRC="$here" VK_BUILD="$here/$build" VK_VM="$here/$build/src/vm/virtkit-vm" \
	"$here/tests/integration/vm/boot-riscv64.sh")
# Every diagnostic line: a failed boot's console tail too.
echo "$out" | grep -E '^(not ok|# )' || true
passed=$(echo "$out" | grep -c '^ok')
failed=$(echo "$out" | grep -c '^not ok')
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
