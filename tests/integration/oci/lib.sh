# Shared helpers for the virtkit-oci integration tests (sourced; POSIX sh + bash).
# TAP output, a busybox rootfs built from Debian's busybox-static, bundles made
# from `virtkit-oci spec` plus edits (cfg.py), and cleanup that runs even when
# a test fails: every container under the test's --root is force-deleted and
# the temporary directory removed.

VK_BUILD=${VK_BUILD:-$(pwd)}
VK_SRC=${VK_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
OCI=${OCI:-$VK_BUILD/src/oci/virtkit-oci}
HERE=$VK_SRC/tests/integration/oci
CFG="python3 $HERE/cfg.py"
T=${T:-20} # seconds any single runtime command may take

_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() {
	_n=$((_n + 1)); _failed=$((_failed + 1))
	echo "not ok $_n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
# check NAME CMD...: ok when CMD succeeds.
check() {
	_name=$1; shift
	if _out=$("$@" 2>&1); then ok "$_name"; else not_ok "$_name" "$_out"; fi
}
done_testing() { echo "1..$_n"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 0
	fi
}

# The runtime with this test's state root and a timeout.
oci() { timeout -k 5 "$T" "$OCI" --root "$ROOT" "$@"; }

setup() {
	need_root
	[ -x "$OCI" ] || { echo "1..0 # SKIP $OCI not built"; exit 0; }
	[ -x /bin/busybox ] || { echo "1..0 # SKIP busybox-static not installed"; exit 0; }
	TMP=$(mktemp -d /tmp/vkoci.XXXXXX)
	chmod 755 "$TMP"
	ROOT=$TMP/state
	ROOTFS=$TMP/rootfs
	make_rootfs "$ROOTFS"
	MOUNTS_BEFORE=$(watched_mounts)
	trap teardown EXIT
	trap 'exit 1' INT TERM
}

teardown() {
	rc=$?
	if [ -d "$ROOT" ]; then
		for id in $(ls "$ROOT" 2>/dev/null); do
			timeout 20 "$OCI" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
		done
	fi
	for p in ${CLEANUP_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
	grep -q "$TMP" /proc/self/mountinfo && awk -v t="$TMP" '$5 ~ "^"t {print $5}' \
		/proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$TMP"
	# A failed test may leave empty cgroup directories of this run behind.
	for d in /sys/fs/cgroup/*"$CG_PREFIX" /sys/fs/cgroup"$CG_PREFIX"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	exit $rc
}

# A busybox root filesystem with relative applet links.
make_rootfs() {
	d=$1
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/tmp" "$d/etc" "$d/root" "$d/usr" \
		"$d/var/tmp" "$d/home/user"
	cp /bin/busybox "$d/bin/busybox"
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$d/bin/$a"
	done
	ln -s bin "$d/sbin"
	ln -s ../bin "$d/usr/bin"
	ln -s ../bin "$d/usr/sbin"
	chmod 1777 "$d/tmp"
	cat >"$d/etc/passwd" <<EOP
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOP
	cat >"$d/etc/group" <<EOP
root:x:0:
user:x:1000:
nobody:x:65534:
EOP
	echo "virtkit test rootfs" >"$d/etc/issue"
}

# Containers get cgroups below a prefix of this test run, so that parallel
# runs (another build's tests) never share a cgroup.
CG_PREFIX=/vkoci-test-$$

# make_bundle NAME [cfg edits...]: $TMP/NAME with config.json using $ROOTFS.
make_bundle() {
	b=$TMP/$1
	mkdir -p "$b"
	"$OCI" spec --bundle "$b" >/dev/null || return 1
	$CFG "$b/config.json" "root.path=$ROOTFS" "process.terminal=false" \
		"linux.cgroupsPath=$CG_PREFIX/$1" "${@:2}"
	echo "$b"
}

# cg CONTROLLER NAME: the container's cgroup directory in a hierarchy.
cg() { echo "/sys/fs/cgroup/$1$CG_PREFIX/$2"; }

# A world-accessible node of a device no container is allowed by default
# (/dev/fuse, c 10:229): opening it fails only because of the device cgroup.
# Prints the mounts edit that shows it in the container as /devtest/fuse.
fuse_node_mount() {
	mkdir -p "$TMP/devnode"
	[ -e "$TMP/devnode/fuse" ] || { mknod "$TMP/devnode/fuse" c 10 229 && chmod 666 "$TMP/devnode/fuse"; }
	echo "mounts+={\"destination\":\"/devtest\",\"type\":\"bind\",\"source\":\"$TMP/devnode\",\"options\":[\"rbind\"]}"
}
OPEN_FUSE='(: < /devtest/fuse) 2>/dev/null && echo fuse-open || echo fuse-denied'

# host_cgroup_file CONTROLLER FILE...: the first FILE that a new cgroup in this
# host's v1 hierarchy of CONTROLLER has, or nothing. Which files exist depends on
# the kernel and its configuration (blkio.weight needs the CFQ or BFQ scheduler,
# memory.memsw.* swap accounting, cpu.cfs_* CFS bandwidth), and the root cgroup
# lacks the limit files, so a scratch child cgroup is asked. Tests check before
# they read one, and skip with the file's name when the host lacks it.
host_cgroup_file() {
	_c=$1; shift
	_d=/sys/fs/cgroup/$_c$CG_PREFIX-probe
	mkdir -p "$_d" 2>/dev/null || return 1
	_found=""
	for _f in "$@"; do
		[ -e "$_d/$_f" ] && { _found=$_f; break; }
	done
	rmdir "$_d" /sys/fs/cgroup/$_c$CG_PREFIX 2>/dev/null
	[ -n "$_found" ] && echo "$_found"
}

# needs_cgroup_files NAME CONTROLLER FILE...: true when the host has every FILE;
# otherwise prints a skip for test NAME naming the first missing file.
needs_cgroup_files() {
	_name=$1; _c=$2; shift 2
	for _need in "$@"; do
		if ! host_cgroup_file "$_c" "$_need" >/dev/null; then
			skip "$_name" "a cgroup in this host's $_c hierarchy has no $_need"
			return 1
		fi
	done
	return 0
}

# The mounts a runtime bug could leave behind in this (the host's) mount
# namespace: on /, /proc, /sys or /dev and below, or below this test's
# directory; as "mountpoint root" lines. Not the whole table: on a shared
# machine other programs' mounts come and go while a test runs.
watched_mounts() {
	awk -v t="$TMP" '$5 == "/" || $5 ~ "^/(proc|sys|dev)(/|$)" || (t != "" && index($5, t) == 1) {print $5, $4}' \
		/proc/self/mountinfo | sort
}

# v1, hybrid or v2: the cgroup layout as the runtime sees this host.
cgroup_layout() { "$OCI" features | sed -n 's/.*"io.virtkit.oci.cgroup.mode": "\(.*\)".*/\1/p'; }

# ctr_cg_file NAME FILE...: the first FILE the cgroup of bundle NAME's running
# container has, in whichever hierarchy (memory.limit_in_bytes on v1,
# memory.max on v2); nothing when it has none of them.
ctr_cg_file() {
	_b=$1; shift
	for _f in "$@"; do
		for _d in /sys/fs/cgroup/*"$CG_PREFIX/$_b" /sys/fs/cgroup"$CG_PREFIX/$_b"; do
			[ -e "$_d/$_f" ] && { echo "$_d/$_f"; return 0; }
		done
	done
	return 1
}

# has_ns TYPE: the kernel has that namespace type (user, cgroup, ipc, time...).
has_ns() { [ -e "/proc/self/ns/$1" ]; }

# The cgroup directories a container id would have (default cgroupsPath /<id>).
cgroup_dirs() { ls -d /sys/fs/cgroup/*"$CG_PREFIX/$1" /sys/fs/cgroup"$CG_PREFIX/$1" 2>/dev/null; }

# Nothing of container $1 (made from bundle $2, default $1) left: state,
# cgroups, mounts, processes. Processes are this test's runtime commands (and
# container processes not yet exec'd, which keep their command line): those
# with --root $ROOT. The id alone would also match another build's run of the
# same test on this machine, which uses the same ids.
assert_clean() {
	id=$1
	bundle=${2:-$1}
	problems=""
	[ -e "$ROOT/$id" ] && problems="$problems state-dir"
	[ -n "$(cgroup_dirs "$bundle")" ] && problems="$problems cgroups:$(cgroup_dirs "$bundle" | tr '\n' ' ')"
	grep -q "$TMP" /proc/self/mountinfo && problems="$problems mounts"
	_now=$(watched_mounts)
	[ "$_now" != "$MOUNTS_BEFORE" ] && problems="$problems mounts-changed:$(diff <(echo "$MOUNTS_BEFORE") <(echo "$_now") | grep '^[<>]' | tr '\n' ' ')"
	_procs=$(pgrep -f -- "--root $ROOT .* $id\$" | tr '\n' ' ')
	[ -n "$_procs" ] && problems="$problems processes:$_procs"
	[ -z "$problems" ] && return 0
	echo "left behind:$problems"
	return 1
}

# wait_for CMD...: retry for up to 10 s.
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

status_of() { oci state "$1" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }
