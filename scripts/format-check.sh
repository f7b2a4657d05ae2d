#!/bin/sh
# Check that every tracked C source follows .clang-format. TAP output: one line.
# All files go to one clang-format process (one per file took most of the test's time);
# when that finds a difference, each file is checked alone to name the ones to fix.
set -u
cd "${1:-.}" || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests bench -name '*.[ch]' 2>/dev/null)
existing=
n=0
for f in $files; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	existing="$existing $f"
done
echo "1..1"
# shellcheck disable=SC2086 # file names are git's: no blanks
if clang-format --dry-run -Werror $existing >/dev/null 2>&1; then
	echo "ok 1 - clang-format: $n files formatted"
	exit 0
fi
bad=0
for f in $existing; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad=$((bad + 1))
		echo "# not formatted: $f (run: clang-format -i $f)"
	fi
done
echo "not ok 1 - clang-format: $bad of $n files need formatting"
exit 1
