#!/bin/sh
# Run every test of a build folder and print the summary line CI reads.
# Extra arguments go to `meson test` (e.g. --suite unit).
set -u
build=${1:-build}
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)
# A log of an earlier run must not stand for this one (meson writes none when it runs
# nothing, e.g. names that match no test).
rm -f "$build/meson-logs/testlog.json"
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 "$here/scripts/test-summary.py" "$build/meson-logs/testlog.json"
src=$?
[ $rc -eq 0 ] && [ $src -eq 0 ]
