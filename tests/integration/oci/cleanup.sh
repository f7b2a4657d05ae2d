#!/bin/bash
# Failures leave nothing behind: a failure is injected at every step of
# create/run (VIRTKIT_OCI_FAIL_AT, honoured by debug builds only), and after
# each: no state directory, no cgroup, no mount, no process.
. "$(dirname "$0")/lib.sh"
setup

B=$(make_bundle probe 'process.args=["/bin/true"]')
if VIRTKIT_OCI_FAIL_AT=state oci run --bundle "$B" probe 2>/dev/null; then
	skip "failure injection" "this build has no VIRTKIT_OCI_FAIL_AT (release build)"
	done_testing
	exit 0
fi

LOG=$TMP/hooklog
mkdir -p "$LOG"
# A config that goes through every step: user namespace, hooks, mounts, limits.
FULL=('linux.namespaces+={"type":"user"}' 'linux.namespaces+={"type":"cgroup"}'
	'linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}]'
	'linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}]'
	'linux.resources.memory={"limit":268435456}' 'linux.resources.pids={"limit":100}'
	"hooks.createRuntime+={\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo ran >> $LOG/createRuntime\"]}"
	'process.args=["/bin/sleep","30"]')
B=$(make_bundle full "${FULL[@]}")
for step in state cgroup cgroup-apply clone userns mounts devices hooks pivot rootfs ready pid-file start process; do
	out=$(VIRTKIT_OCI_FAIL_AT=$step oci run --pid-file "$TMP/pidfile" --bundle "$B" "fail-$step" 2>&1); rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q "injected failure at $step"; then
		ok "run fails at '$step' with its error"
	else
		not_ok "run fails at '$step'" "rc=$rc $out"
	fi
	check "nothing left after a failure at '$step'" assert_clean "fail-$step" full
	[ -e "$TMP/pidfile" ] && not_ok "pid file removed after '$step'" && rm -f "$TMP/pidfile"
done
# create then start: the failure after start leaves a stopped container for delete
for step in state cgroup clone mounts pivot ready; do
	VIRTKIT_OCI_FAIL_AT=$step oci create --bundle "$B" "cfail-$step" 2>/dev/null
	check "create: nothing left after a failure at '$step'" assert_clean "cfail-$step" full
done
oci create --bundle "$B" late
VIRTKIT_OCI_FAIL_AT=process oci start late 2>/dev/null
# start itself does not inject; make the process fail by its own config instead
B2=$(make_bundle latefail 'process.args=["/does-not-exist"]')
oci create --bundle "$B2" latefail 2>"$TMP/err"
grep -q 'exec: "/does-not-exist": stat /does-not-exist: no such file or directory' "$TMP/err" && ok "a missing program fails create, with runc's message" || not_ok "missing program at create" "$(cat "$TMP/err")"
check "nothing left after it" assert_clean latefail
B3=$(make_bundle baduser 'process.user={"uid":12345678,"gid":0}' 'linux.namespaces+={"type":"user"}' \
	'linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}]' 'linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}]' \
	'process.args=["/bin/true"]')
oci create --bundle "$B3" baduser && oci start baduser 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && grep -q "cannot switch to uid 12345678" "$TMP/err" && ok "start reports a failure of the process setup (unmapped uid)" || not_ok "start failure" "rc=$rc $(cat "$TMP/err")"
[ "$(status_of baduser)" = stopped ] && ok "the container is stopped after a failed start" || not_ok "stopped after failed start" "$(oci state baduser)"
oci delete baduser
check "delete after a failed start leaves nothing" assert_clean baduser baduser
oci delete -f late
# the runtime killed half way (SIGKILL) while creating: delete cleans up
B4=$(make_bundle slowhook 'hooks.createRuntime+={"path":"/bin/sleep","args":["sleep","30"]}' 'process.args=["/bin/true"]')
sh -c 'timeout -s KILL 1 "$@"; true' sh "$OCI" --root "$ROOT" create --bundle "$B4" killed >/dev/null 2>&1
sleep 0.3
[ "$(status_of killed)" = stopped ] || [ "$(status_of killed)" = creating ] && ok "a create killed half way shows as $(status_of killed)" || not_ok "killed create state" "$(oci state killed 2>&1)"
oci delete -f killed && pkill -f "sleep 30" 2>/dev/null
check "delete cleans up after a killed create" assert_clean killed slowhook
done_testing
