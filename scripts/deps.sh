#!/bin/sh
# Install the Debian packages listed in deps/debian.txt that are not installed yet.
# Runs apt-get update at most once, and only when something is missing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
list="$here/deps/debian.txt"

# A package is present when it is installed, or when an installed package provides it
# (NodeSource's nodejs provides npm, and conflicts with Debian's).
provided=$(dpkg-query -W -f='${Status} ${Provides}\n' 2>/dev/null | grep '^install ok installed' |
	sed 's/^install ok installed //; s/ *([^)]*)//g; s/, */\n/g')
missing=""
for pkg in $(sed -e 's/#.*//' "$list"); do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" &&
		! printf '%s\n' "$provided" | grep -qx "$pkg"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $(sed -e 's/#.*//' "$list" | grep -c .) packages present"
	exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	sudo=sudo
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
