# Shared helpers for the virtkitd tests (sourced by bash scripts). TAP output; every test
# runs its own daemon with its own --socket, --state-dir and --run-dir in a temporary
# folder, and teardown (on any exit) stops the daemon, every shim and workload it
# started, every container under its OCI root, and removes the folder.

VK_BUILD=${VK_BUILD:-$(pwd)}
VK_SRC=${VK_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
VK_SHARED=${VK_SHARED:-$VK_SRC/../shared}
VKD=$VK_BUILD/src/daemon/virtkitd
VKC=$VK_BUILD/src/cli/virtkit
FAKE_VM=$VK_BUILD/tests/integration/daemon/fake-vm
HERE=$VK_SRC/tests/integration/daemon
TO=${TO:-60} # seconds any single client command may take

_n=0
_failed=0
ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() {
	_n=$((_n + 1)); _failed=$((_failed + 1))
	echo "not ok $_n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/# /'
	return 0
}
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2
got:      $3"; fi
}
# check_stop NAME: daemon_stop as a test.
check_stop() {
	if daemon_stop >"$T/stop.out" 2>&1; then ok "$1"; else not_ok "$1" "$(cat "$T/stop.out")"; fi
}
done_testing() {
	# Sanitizer reports of the daemon or its shims (ASan/UBSan builds) fail the test.
	if [ -f "$T/daemon.log" ]; then
		local rep
		rep=$(grep -E -A8 'AddressSanitizer|LeakSanitizer|runtime error:|shim ended abnormally' \
			"$T/daemon.log" | head -n 30)
		if [ -n "$rep" ]; then not_ok "no sanitizer report from virtkitd or its shims" "$rep"
		else ok "no sanitizer report from virtkitd or its shims"; fi
	fi
	echo "1..$_n"
	[ $_failed -eq 0 ]
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 0
	fi
}

setup() {
	need_root
	for b in "$VKD" "$VKC" "$FAKE_VM"; do
		[ -x "$b" ] || { echo "1..0 # SKIP $b not built"; exit 0; }
	done
	# Short: unix socket paths must fit in 108 bytes.
	T=$(mktemp -d /tmp/vkd.XXXXXX)
	chmod 755 "$T"
	SOCK=$T/s.sock
	export VIRTKIT_SOCKET=$SOCK
	# The client's own configuration (remotes, its certificate): the test's, not the user's.
	export VIRTKIT_CONFIG=$T/config
	touch "$T/kernel"
	DAEMON_PID=
	trap teardown EXIT
	trap 'exit 1' INT TERM
}

# Kill every process a shim of this test started (each shim leads its own session).
kill_shims() {
	local f pid
	for f in "$T"/run/instances/*/shim.pid; do
		[ -f "$f" ] || continue
		pid=$(cut -d' ' -f1 "$f")
		[ -n "$pid" ] && kill -9 -- "-$pid" 2>/dev/null
	done
}

# Daemons of this test (their --socket is in $T) that teardown was not told
# about: a daemon_start inside $(...) sets DAEMON_PID in that subshell only, and
# such a daemon outlived the test with its folder gone.
unrecorded_daemons() {
	local p
	for p in $(pgrep -f -- "virtkitd --socket $T/"); do
		case " $DAEMON_PID ${CLEANUP_PIDS:-} " in
		*" $p "*) ;;
		*) echo "$p" ;;
		esac
	done
}

teardown() {
	local rc=$? id strays
	strays=$(unrecorded_daemons)
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	for p in ${CLEANUP_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
	if [ -n "$strays" ]; then
		# shellcheck disable=SC2086
		kill -9 $strays 2>/dev/null
		echo "# teardown: virtkitd (pid $(echo $strays)) was running unrecorded (started in a subshell?): killed; the test fails"
		rc=1
	fi
	kill_shims
	if [ -n "${OCI_RUNTIME:-}" ] && [ -d "$T/run/oci" ]; then
		for id in $(ls "$T/run/oci" 2>/dev/null); do
			timeout 20 "$OCI_RUNTIME" --root "$T/run/oci" delete -f "$id" >/dev/null 2>&1
		done
	fi
	wait 2>/dev/null
	rm -rf "$T"
	exit $rc
}

# daemon_start [EXTRA ARGS...]: start virtkitd and wait until it answers (10 s at most).
daemon_start() {
	"$VKD" --socket "$SOCK" --state-dir "$T/state" --run-dir "$T/run" \
		--vm-binary "${VM_BINARY:-$FAKE_VM}" --oci-runtime "${OCI_RUNTIME:-/nonexistent}" \
		"$@" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	local i=0
	while [ $i -lt 100 ]; do
		curl -sf --max-time 2 --unix-socket "$SOCK" http://x/1.0 >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	diag "virtkitd did not come up:"
	diag "$(tail -n 20 "$T/daemon.log")"
	return 1
}

daemon_kill9() {
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# daemon_stop: SIGTERM, and the daemon must exit cleanly (status 0) within 20 s.
# Call it in the test's own shell (not in $(...)): it waits for its child.
daemon_stop() {
	local pid=$DAEMON_PID i=0 rc
	DAEMON_PID=
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		echo "virtkitd did not exit within 20 s of SIGTERM"
		return 1
	fi
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || { echo "virtkitd exited with status $rc"; tail -n 30 "$T/daemon.log"; }
	return $rc
}

vk() { timeout -k 5 "$TO" "$VKC" --socket "$SOCK" "$@"; }
# api METHOD PATH [curl args...]: prints the body, then the status on the last line.
api() {
	local m=$1 p=$2
	shift 2
	timeout -k 5 "$TO" curl -s --max-time "$TO" --unix-socket "$SOCK" -X "$m" -w '\n%{http_code}' \
		"http://virtkit$p" "$@"
}
# json FIELD: read a JSON document on stdin and print a field (dotted path).
json() { python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(v if not isinstance(v, bool) else str(v).lower())' "$1"; }
state_of() { vk --format json info "$1" 2>/dev/null | json state; }

# wait_for CMD...: retry for up to 10 s.
wait_for() {
	local i=0
	while [ $i -lt 100 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
state_is() { [ "$(state_of "$1")" = "$2" ]; }

# vm_json NAME [extra JSON members]: a fake-VM definition.
vm_json() {
	echo "{\"name\":\"$1\",\"type\":\"vm\",\"arch\":\"riscv64\",\"memory\":\"128M\",\"kernel\":\"$T/kernel\",\"cmdline\":\"console=ttyS0\"${2:+,$2}}"
}

# A busybox root filesystem with relative applet links.
make_rootfs() {
	local d=$1 a
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/tmp" "$d/etc" "$d/root"
	cp /bin/busybox "$d/bin/busybox"
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$d/bin/$a"
	done
	chmod 1777 "$d/tmp"
	echo "root:x:0:0:root:/root:/bin/sh" >"$d/etc/passwd"
	echo "root:x:0:" >"$d/etc/group"
}

# Choose the OCI runtime: virtkit-oci when it runs a container here, else runc (said so).
pick_oci_runtime() {
	local oci=$VK_BUILD/src/oci/virtkit-oci b=$T/probe-bundle
	OCI_RUNTIME=
	[ -x /bin/busybox ] || { OCI_WHY="busybox-static is not installed"; return 1; }
	make_rootfs "$T/rootfs"
	if [ -x "$oci" ]; then
		mkdir -p "$b"
		if timeout 20 "$oci" spec --bundle "$b" >/dev/null 2>&1 &&
			python3 - "$b/config.json" "$T/rootfs" <<'EOF' &&
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2]}
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(sys.argv[1], "w"))
EOF
			timeout 30 "$oci" --root "$T/probe-root" run --bundle "$b" "probe-$$" >/dev/null 2>&1; then
			OCI_RUNTIME=$oci
			diag "container runtime: $oci"
			return 0
		fi
		timeout 20 "$oci" --root "$T/probe-root" delete -f "probe-$$" >/dev/null 2>&1
		OCI_WHY="virtkit-oci cannot run a container here yet"
	else
		OCI_WHY="virtkit-oci is not built"
	fi
	if command -v runc >/dev/null 2>&1; then
		OCI_RUNTIME=$(command -v runc)
		diag "container runtime: runc (fallback: $OCI_WHY)"
		return 0
	fi
	OCI_WHY="$OCI_WHY, and runc is not installed"
	return 1
}

# ct_json NAME ARGS-JSON [TERMINAL] [extra]: a container definition on $T/rootfs.
ct_json() {
	echo "{\"name\":\"$1\",\"type\":\"container\",\"rootfs\":\"$T/rootfs\",\"process\":{\"args\":$2,\"terminal\":${3:-true}}${4:+,$4}}"
}

# A shell that leaves on SIGTERM (pid 1 ignores signals it has no handler for).
CT_SHELL='["/bin/sh","-c","trap \"exit 0\" TERM; while :; do read -r l || sleep 1; [ -n \"$l\" ] && eval \"$l\"; done"]'

# console_expect NAME SEND EXPECT: attach (raw HTTP upgrade), type SEND, wait for EXPECT.
console_expect() {
	timeout -k 5 40 python3 "$HERE/console.py" "$SOCK" "$1" "$2" "$3"
}
