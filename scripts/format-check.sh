#!/bin/sh
# Check that every tracked C source follows .clang-format. TAP output: one line per file.
set -u
cd "${1:-.}" || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests bench -name '*.[ch]' 2>/dev/null)
n=0; bad=0
for f in $files; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		:
	else
		bad=$((bad + 1))
		echo "# not formatted: $f (run: clang-format -i $f)"
	fi
done
echo "1..1"
if [ "$bad" -eq 0 ]; then
	echo "ok 1 - clang-format: $n files formatted"
else
	echo "not ok 1 - clang-format: $bad of $n files need formatting"
	exit 1
fi
