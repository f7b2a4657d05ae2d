#!/bin/sh
# SPDX-License-Identifier: MIT
# The short fuzz run of `make check`: build the libFuzzer harnesses with clang into a folder
# of this build (scripts/fuzz.sh) and run each for SECONDS, or the NAME=SECONDS given for
# it, from a fixed seed (FUZZ_SEED, default 1) and the seeds alone. TAP: one line with every
# harness's number of executions; a skip with the reason when clang or libFuzzer is missing.
#   run-short.sh SRC BUILD [SECONDS] [NAME=SECONDS]...
set -u
src=$1
build=$2
secs=${3:-25}
shift 2
[ $# -gt 0 ] && shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "1..1"
# The same inputs on every run of the same tree (a fixed seed, from the seeds alone):
# `make check` is not where new crashes are looked for, `make fuzz` is.
FUZZ_BUILD=$build FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_FRESH=1 "$src/scripts/fuzz.sh" "$secs" "$@" >"$log" 2>&1
rc=$?
sed 's/^/# /' "$log" | grep -v '^# #[0-9]' | tail -n 40
if [ $rc -eq 77 ]; then
	echo "ok 1 - libFuzzer run # SKIP $(sed -n 's/^fuzz: skip: //p' "$log" | sed -n 1p)"
	exit 0
fi
summary=$(grep '^fuzz: .* executions' "$log" | sed 's/^fuzz: //' | paste -sd ';' -)
if [ $rc -eq 0 ] && [ -n "$summary" ]; then
	echo "ok 1 - libFuzzer: $summary"
	exit 0
fi
# The failures' own lines last (CI shows the end of the output).
grep -E '^fuzz: .*(FAILED|: input |: SUMMARY|ERROR)' "$log" | sed 's/^/# /'
echo "not ok 1 - libFuzzer run failed (exit $rc) ${summary}"
exit 1
