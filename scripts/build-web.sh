#!/bin/sh
# Build the web console into BUILD/web (make web; the browser test calls it too).
# Front-end libraries come from npm at build time (web/package.json, web/package-lock.json,
# installed with `npm ci` into BUILD/web-npm); nothing of theirs is kept in the repository.
# Exit status 77 (skip) with the reason on stderr when npm or node is missing, or npm cannot
# install the packages (no registry).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
for t in node npm; do
	command -v $t >/dev/null 2>&1 || { echo "build-web: $t is not installed (deps/debian.txt: npm)" >&2; exit 77; }
done
npmdir=$build/web-npm
mkdir -p "$npmdir"
# npm ci again only when the lock file changed.
if ! cmp -s "$here/web/package-lock.json" "$npmdir/package-lock.json" 2>/dev/null ||
	[ ! -d "$npmdir/node_modules" ]; then
	cp "$here/web/package.json" "$here/web/package-lock.json" "$npmdir/"
	(cd "$npmdir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || {
		echo "build-web: npm ci failed (is the npm registry reachable?)" >&2
		exit 77
	}
fi
node "$here/web/build.mjs" "$npmdir/node_modules" "$build/web"
