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
if ! has_ns user || ! has_ns cgroup; then
	diag "this kernel lacks user or cgroup namespaces: the failure steps run without them"
	FULL=("${FULL[@]:4}")
fi
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
# The runtime killed (SIGKILL) half way through create, at points held open
# with VIRTKIT_OCI_WAIT_AT (debug builds): state shows it stopped, or created
# once its process waits for start, and a plain delete cleans up. Hooks are
# run from a copy of sleep under $TMP so that their processes can be told
# from anybody else's.
cp /bin/sleep "$TMP/hooksleep"
hook_procs() { pgrep -f "^$TMP/hooksleep" | tr '\n' ' '; }
# kill_create_at POINT ID BUNDLE: start create, wait until it is held at POINT, SIGKILL it.
kill_create_at() {
	local point=$1 id=$2 b=$3 pid
	rm -f "$TMP/never" "$TMP/never.held"
	VIRTKIT_OCI_WAIT_AT=$point:$TMP/never "$OCI" --root "$ROOT" create --bundle "$b" "$id" \
		</dev/null >/dev/null 2>&1 &
	pid=$!
	wait_for test -e "$TMP/never.held" || { kill -9 $pid; wait $pid; return 1; }
	kill -9 $pid
	wait $pid 2>/dev/null
	return 0
}
B5=$(make_bundle held 'process.args=["/bin/true"]')
for point in state-dir:stopped cgroups:stopped ready:created; do
	p=${point%%:*} want=${point#*:}
	if ! kill_create_at "$p" "killed-$p" "$B5"; then
		not_ok "create held at '$p'" "it never got there"
		continue
	fi
	# (its container process dies with it, a moment later)
	wait_for eval '[ "$(status_of "killed-$p")" = "$want" ]'
	got=$(status_of "killed-$p")
	[ "$got" = "$want" ] && ok "a create killed at '$p' shows as $want" ||
		not_ok "a create killed at '$p' shows as $want" "got '$got': $(oci state "killed-$p" 2>&1)"
	check "delete after a create killed at '$p'" oci delete "killed-$p"
	check "nothing left after a create killed at '$p'" assert_clean "killed-$p" held
done
# killed while its createRuntime hook runs: delete cleans up, the hook dies with it
B4=$(make_bundle slowhook "hooks.createRuntime+={\"path\":\"$TMP/hooksleep\",\"args\":[\"$TMP/hooksleep\",\"30\"]}" 'process.args=["/bin/true"]')
"$OCI" --root "$ROOT" create --bundle "$B4" killed </dev/null >/dev/null 2>&1 &
pid=$!
wait_for eval '[ -n "$(hook_procs)" ]'
kill -9 $pid
wait $pid 2>/dev/null
wait_for eval '[ -z "$(hook_procs)" ]'
[ -z "$(hook_procs)" ] && ok "the hook dies with the runtime" || not_ok "the hook dies with the runtime" "left: $(hook_procs)"
wait_for eval '[ "$(status_of killed)" = stopped ]'
[ "$(status_of killed)" = stopped ] && ok "a create killed in a hook shows as stopped" || not_ok "killed create state" "$(oci state killed 2>&1)"
oci delete killed
check "delete cleans up after a killed create" assert_clean killed slowhook
# a hook past its timeout is killed with everything it started
B6=$(make_bundle hooktimeout "hooks.createRuntime+={\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$TMP/hooksleep 31 & $TMP/hooksleep 32; :\"],\"timeout\":1}" 'process.args=["/bin/true"]')
# (output to a file: a command substitution would wait for whatever holds its pipe)
oci create --bundle "$B6" hooktimeout >"$TMP/hookto" 2>&1
out=$(cat "$TMP/hookto")
echo "$out" | grep -q "createRuntime hook /bin/sh timed out after 1 s" && ok "a hook past its timeout fails create" || not_ok "hook timeout" "$out"
wait_for eval '[ -z "$(hook_procs)" ]'
[ -z "$(hook_procs)" ] && ok "a timed-out hook's children are killed too" || not_ok "a timed-out hook's children are killed too" "left: $(hook_procs)"
check "nothing left after a hook timeout" assert_clean hooktimeout hooktimeout
# two force-deletes of one running container at once: one deletes it, the other
# waits and finds it gone; nothing left
B7=$(make_bundle twodel 'process.args=["sleep","60"]')
oci run -d --bundle "$B7" twodel </dev/null >/dev/null 2>&1
[ "$(status_of twodel)" = running ] || not_ok "twodel runs" "$(oci state twodel 2>&1)"
oci delete -f twodel >"$TMP/del1" 2>&1 & d1=$!
oci delete -f twodel >"$TMP/del2" 2>&1 & d2=$!
wait $d1; r1=$?
wait $d2; r2=$?
bad=""
for f in 1 2; do
	out=$(cat "$TMP/del$f")
	[ -z "$out" ] || echo "$out" | grep -q "container does not exist" || bad="$bad del$f: $out"
done
{ [ $r1 = 0 ] || [ $r2 = 0 ]; } && [ -z "$bad" ] && ok "concurrent force-deletes: one deletes, the other finds it gone" ||
	not_ok "concurrent force-deletes" "rc $r1 $r2$bad"
check "nothing left after concurrent deletes" assert_clean twodel twodel
done_testing
