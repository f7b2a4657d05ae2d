#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses (tests/fuzz, executables named fuzz-*) with clang, ASan and
# UBSan into build-fuzz/ (or $FUZZ_BUILD), then run each for SECONDS (default 120).
#   scripts/fuzz.sh [SECONDS] [NAME=SECONDS]... [NAME]...
# NAME=SECONDS gives harness fuzz-NAME another time (0 skips it); a bare NAME runs only the
# harnesses named so. The working corpus grows in <build>/corpus/<harness>, seeded from
# tests/fuzz/corpus/; crash inputs land in <build>/artifacts/. Exit status: 0 no crash,
# 1 crash or build failure, 77 when clang or its fuzzer runtime is missing (the reason is
# printed). FUZZ_SEED=N fixes libFuzzer's -seed (a new one each run otherwise) and
# FUZZ_FRESH=1 starts every harness from the seeds alone, in an empty working corpus: then a
# run does the same on every machine, up to where its time ends (make check's short run).
set -u
secs=${1:-120}
[ $# -gt 0 ] && shift
only=
times=
for a in "$@"; do
	case $a in
	*=*) times="$times $a" ;;
	*) only="$only $a" ;;
	esac
done

# Seconds for harness $1 (a name without the fuzz- prefix).
secs_for() {
	for t in $times; do
		[ "${t%%=*}" = "$1" ] && { echo "${t#*=}"; return; }
	done
	echo "$secs"
}
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
# Regenerate first when a meson.build changed, so that new harnesses are listed.
ninja -C "$build" build.ninja >"$probe/regen.log" 2>&1 || {
	cat "$probe/regen.log"
	echo "fuzz: meson regeneration failed"
	exit 1
}
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
	short=${name#fuzz-}
	if [ -n "$only" ] && ! echo " $only " | grep -q " $short "; then
		continue
	fi
	s=$(secs_for "$short")
	[ "$s" -gt 0 ] 2>/dev/null || continue
	seeds=$here/tests/fuzz/corpus/$short
	corpus=$build/corpus/$name
	if [ "${FUZZ_FRESH:-0}" = 1 ]; then
		corpus=$build/corpus-fresh/$name
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus"
	echo "fuzz: running $name for ${s}s"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
		"$build/$t" -max_total_time="$s" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
		-artifact_prefix="$build/artifacts/$name-" "$corpus" $([ -d "$seeds" ] && echo "$seeds") \
		>"$build/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		tail -n 60 "$build/$name.log"
		echo "fuzz: $name FAILED (exit $rc) after ${execs:-?} executions; inputs in $build/artifacts/"
		# What failed and the input, for a log read on a machine that is gone (CI).
		grep -E '^(SUMMARY:|==[0-9]+==ERROR|==[0-9]+== ERROR|fuzz-[a-z-]+: )' "$build/$name.log" |
			head -n 3 | sed "s/^/fuzz: $name: /"
		for a in $(sed -n 's/^artifact_prefix=.*Test unit written to //p' "$build/$name.log"); do
			echo "fuzz: $name: input $(basename "$a"), hex: $(head -c 256 "$a" | od -An -v -tx1 | tr -d ' \n')"
		done
		status=1
	else
		echo "fuzz: $name: ${execs:-?} executions in ${s}s, no crash (corpus $corpus)"
	fi
done
exit $status
