# Shared helpers for shell tests that speak TAP. Source it: . "$VK_SRC/tests/lib/tap.sh"
# Every check prints one "ok N - name" / "not ok N - name" line; skips carry a reason.
# tap_done prints the plan and sets the exit status.

TAP_N=0
TAP_FAILED=0
: "${VK_SRC:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${VK_BUILD:=$VK_SRC/build}"
: "${VK_SHARED:=$VK_SRC/../shared}"
VK_VM="$VK_BUILD/src/vm/virtkit-vm"
# The riscv64 CPU: VK_RV_JIT=on (translator) or off (interpreter); unset, the default.
VK_RV_CPU_ARGS=${VK_RV_JIT:+--jit $VK_RV_JIT}

tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
tap_skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
tap_diag() { echo "$*" | sed 's/^/# /'; }

# tap_check NAME COMMAND...: ok when the command succeeds.
tap_check() {
	name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name"; fi
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}

# A scratch folder removed on exit.
tap_tmpdir() {
	TAP_TMP=$(mktemp -d /tmp/virtkit-test.XXXXXX)
	trap 'rm -rf "$TAP_TMP"' EXIT
}
