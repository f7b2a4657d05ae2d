#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses (tests/fuzz, executables named fuzz-*) with clang, ASan and
# UBSan into build-fuzz/ (or $FUZZ_BUILD), then run each for SECONDS (default 120).
# The working corpus grows in <build>/corpus/<harness>, seeded from tests/fuzz/corpus/;
# crash inputs land in <build>/artifacts/. Exit status: 0 no crash, 1 crash or build
# failure, 77 when clang or its fuzzer runtime is missing (the reason is printed).
set -u
secs=${1:-120}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$here/build-fuzz}

skip() {
	echo "fuzz: skip: $*"
	exit 77
}

command -v clang >/dev/null 2>&1 || skip "clang is not installed (Debian: clang libclang-rt-14-dev)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
	>"$probe/p.c"
clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1 ||
	skip "clang cannot link libFuzzer with ASan/UBSan (Debian: libclang-rt-14-dev)"

if [ ! -f "$build/build.ninja" ]; then
	echo "fuzz: configuring $build (clang, ASan, UBSan, libFuzzer)"
	CC=clang meson setup "$build" "$here" -Dfuzzing=true -Dwerror=false \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >"$probe/setup.log" 2>&1 || {
		cat "$probe/setup.log"
		echo "fuzz: meson setup failed"
		exit 1
	}
fi
# The fuzz-* executables (not the replay drivers), as paths ninja can build.
targets=$(meson introspect --targets "$build" | python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz-") and not t["name"].endswith("-replay"):
        print(os.path.relpath(t["filename"][0], build))
' "$build")
[ -n "$targets" ] || {
	echo "fuzz: no harnesses found in $build"
	exit 1
}
echo "fuzz: building $(echo $targets | tr '\n' ' ')"
ninja -C "$build" $targets >"$probe/build.log" 2>&1 || {
	tail -n 40 "$probe/build.log"
	echo "fuzz: build failed"
	exit 1
}

status=0
mkdir -p "$build/artifacts"
for t in $targets; do
	name=$(basename "$t")
	seeds=$here/tests/fuzz/corpus/${name#fuzz-}
	corpus=$build/corpus/$name
	mkdir -p "$corpus"
	echo "fuzz: running $name for ${secs}s"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
		"$build/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/artifacts/$name-" "$corpus" $([ -d "$seeds" ] && echo "$seeds") \
		>"$build/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		tail -n 60 "$build/$name.log"
		echo "fuzz: $name FAILED (exit $rc) after ${execs:-?} executions; inputs in $build/artifacts/"
		status=1
	else
		echo "fuzz: $name: ${execs:-?} executions in ${secs}s, no crash (corpus $corpus)"
	fi
done
exit $status
