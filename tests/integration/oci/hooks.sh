#!/bin/bash
# OCI hooks: each kind runs at its point of the lifecycle, in the right
# namespace, with the state on stdin, its args and env; failures and
# timeouts abort create and leave nothing behind; poststart failures warn.
. "$(dirname "$0")/lib.sh"
setup

LOG=$TMP/hooks
mkdir -p "$LOG"
# A host-side hook script: records its kind, the state it got and its mount ns.
cat >"$TMP/hook.sh" <<EOS
#!/bin/sh
kind=\$1
cat > "$LOG/\$kind.json"
readlink /proc/self/ns/mnt > "$LOG/\$kind.ns"
echo "\$kind \$HOOKVAR" >> "$LOG/order"
EOS
chmod 755 "$TMP/hook.sh"
hook() { echo "{\"path\":\"$TMP/hook.sh\",\"args\":[\"hook.sh\",\"$1\"],\"env\":[\"HOOKVAR=v-$1\"]}"; }
# startContainer runs after pivot_root: its path is inside the container.
mkdir -p "$ROOTFS/out"
B=$(make_bundle hooked "mounts+={\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$LOG\",\"options\":[\"rbind\"]}" \
	"hooks.prestart+=$(hook prestart)" "hooks.createRuntime+=$(hook createRuntime)" \
	"hooks.createContainer+=$(hook createContainer)" \
	'hooks.startContainer+={"path":"/bin/sh","args":["sh","-c","cat > /out/startContainer.json; readlink /proc/self/ns/mnt > /out/startContainer.ns; echo startContainer >> /out/order"]}' \
	"hooks.poststart+=$(hook poststart)" "hooks.poststop+=$(hook poststop)" \
	'process.args=["/bin/sh","-c","echo process >> /out/order; sleep 60"]')
oci create --bundle "$B" hooked
order=$(cut -d' ' -f1 "$LOG/order" 2>/dev/null | tr '\n' ' ')
[ "$order" = "prestart createRuntime createContainer " ] && ok "create runs prestart, createRuntime, createContainer in order" || not_ok "create hooks" "$order"
oci start hooked || diag "start failed: $(cat "$TMP/starterr" 2>/dev/null)"
wait_for grep -q process "$LOG/order"
wait_for grep -q poststart "$LOG/order"
order=$(cut -d' ' -f1 "$LOG/order" | tr '\n' ' ')
case "$order" in
"prestart createRuntime createContainer startContainer process poststart "|"prestart createRuntime createContainer startContainer poststart process ")
	ok "start runs startContainer before the process, poststart after" ;;
*) not_ok "start hooks" "$order" ;;
esac
hostns=$(readlink /proc/self/ns/mnt)
[ "$(cat "$LOG/prestart.ns")" = "$hostns" ] && [ "$(cat "$LOG/createRuntime.ns")" = "$hostns" ] && [ "$(cat "$LOG/poststart.ns")" = "$hostns" ] && \
	ok "prestart, createRuntime, poststart run in the runtime's mount namespace" || not_ok "runtime ns hooks"
[ "$(cat "$LOG/createContainer.ns")" != "$hostns" ] && [ "$(cat "$LOG/startContainer.ns")" = "$(cat "$LOG/createContainer.ns")" ] && \
	ok "createContainer and startContainer run in the container's mount namespace" || not_ok "container ns hooks"
python3 - "$LOG" <<'EOP' && ok "hooks get the state on stdin (status creating/created/running, pid, bundle)" || not_ok "hook state"
import json, sys
d = sys.argv[1]
st = {k: json.load(open('%s/%s.json' % (d, k))) for k in ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart']}
assert st['createRuntime']['status'] == 'creating', st['createRuntime']
assert st['startContainer']['status'] == 'created', st['startContainer']
assert st['poststart']['status'] == 'running'
assert all(s['id'] == 'hooked' and s['pid'] > 0 for s in st.values())
assert st['prestart']['pid'] == st['poststart']['pid']
assert st['prestart']['bundle'].endswith('/hooked')
EOP
grep -q "createRuntime v-createRuntime" "$LOG/order" && ok "hooks get their args and env" || not_ok "hook env" "$(cat "$LOG/order")"
oci delete -f hooked
grep -q "^poststop" "$LOG/order" && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['status']=='stopped'" "$LOG/poststop.json" && \
	ok "delete runs poststop with status stopped" || not_ok "poststop"
rm -f "$LOG/order"
B=$(make_bundle runhooks "hooks.poststart+=$(hook poststart)" "hooks.poststop+=$(hook poststop)" 'process.args=["/bin/true"]')
oci run --bundle "$B" runhooks
[ "$(cut -d' ' -f1 "$LOG/order" | tr '\n' ' ')" = "poststart poststop " ] && ok "run: poststart and poststop" || not_ok "run hooks" "$(cat "$LOG/order")"

B=$(make_bundle hookfail 'hooks.createRuntime+={"path":"/bin/false"}' 'process.args=["/bin/true"]')
oci run --bundle "$B" hookfail 2>"$TMP/err"; rc=$?
[ $rc != 0 ] && grep -q "createRuntime hook /bin/false failed with exit status 1" "$TMP/err" && ok "a failing createRuntime hook fails create, naming it" || not_ok "hook failure" "$(cat "$TMP/err")"
check "failed hook leaves nothing behind" assert_clean hookfail
B=$(make_bundle hooktimeout 'hooks.createContainer+={"path":"/bin/sleep","args":["sleep","30"],"timeout":1}' 'process.args=["/bin/true"]')
oci run --bundle "$B" hooktimeout 2>"$TMP/err"
grep -q "createContainer hook /bin/sleep timed out after 1 s" "$TMP/err" && ok "hook timeout" || not_ok "hook timeout" "$(cat "$TMP/err")"
check "timed out hook leaves nothing behind" assert_clean hooktimeout
B=$(make_bundle poststartfail 'hooks.poststart+={"path":"/bin/false"}' 'process.args=["/bin/sh","-c","echo ran"]')
out=$(oci run --bundle "$B" poststartfail 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "warning: poststart hook /bin/false failed" && echo "$out" | grep -q ran && \
	ok "a failing poststart hook is a warning" || not_ok "poststart failure" "$out rc=$rc"
# Spec: poststart hooks run after the user-specified process is executed. The
# hook checks that the container's pid already runs the program (its
# /proc/PID/exe is busybox, not the runtime or the init stub); create+start
# and run, a few times each. A startContainer hook (it runs after start
# connected, before the exec) holds the exec back for a moment, so that a
# poststart run too early would see the runtime still there.
cat >"$TMP/exe-hook.sh" <<EOS
#!/bin/sh
pid=\$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
if [ /proc/\$pid/exe -ef "$ROOTFS/bin/busybox" ]; then echo execd; else echo "not-yet:\$(readlink /proc/\$pid/exe)"; fi >> "$LOG/exe"
EOS
chmod 755 "$TMP/exe-hook.sh"
rm -f "$LOG/exe"
SLOWSTART='hooks.startContainer+={"path":"/bin/sleep","args":["sleep","0.3"]}'
B=$(make_bundle exeorder "$SLOWSTART" "hooks.poststart+={\"path\":\"$TMP/exe-hook.sh\"}" 'process.args=["/bin/sleep","30"]')
# without a pid namespace the program is exec'd by a sealed copy of the runtime, not the stub
B2=$(make_bundle exeorder2 "$SLOWSTART" "hooks.poststart+={\"path\":\"$TMP/exe-hook.sh\"}" 'process.args=["/bin/sleep","30"]' \
	'linux.namespaces-={"type":"pid"}')
for i in 1 2; do
	oci create --bundle "$B" exeorder && oci start exeorder && oci delete -f exeorder
	oci run --bundle "$B" -d exeorder && oci delete -f exeorder
	oci create --bundle "$B2" exeorder2 && oci start exeorder2 && oci delete -f exeorder2
done
[ "$(sort "$LOG/exe" 2>/dev/null | uniq -c | tr -s ' ')" = " 6 execd" ] && \
	ok "poststart runs after the container's program was executed (6 of 6)" || not_ok "poststart order" "$(sort "$LOG/exe" 2>/dev/null | uniq -c)"

# Spec: a failing poststart or poststop hook is a warning, and the hooks after
# it still run (each failure warned about), with create/start and with run.
rm -f "$LOG/order"
B=$(make_bundle hookchain 'hooks.poststart+={"path":"/bin/false"}' "hooks.poststart+=$(hook poststart)" \
	'hooks.poststart+={"path":"/bin/sh","args":["sh","-c","exit 3"]}' "hooks.poststart+=$(hook poststart2)" \
	'hooks.poststop+={"path":"/bin/false"}' "hooks.poststop+=$(hook poststop)" 'process.args=["/bin/sleep","30"]')
oci create --bundle "$B" hookchain && out=$(oci start hookchain 2>&1); rc=$?
[ $rc = 0 ] && [ "$(cut -d' ' -f1 "$LOG/order" 2>/dev/null | tr '\n' ' ')" = "poststart poststart2 " ] && \
	echo "$out" | grep -q "warning: poststart hook /bin/false failed with exit status 1" && \
	echo "$out" | grep -q "warning: poststart hook /bin/sh failed with exit status 3" && \
	ok "start: the poststart hooks after a failing one still run, each failure a warning" || \
	not_ok "poststart chain" "rc=$rc order=$(cat "$LOG/order" 2>/dev/null) out=$out"
out=$(oci delete -f hookchain 2>&1); rc=$?
[ $rc = 0 ] && grep -q "^poststop" "$LOG/order" && echo "$out" | grep -q "warning: poststop hook /bin/false failed" && \
	ok "delete: the poststop hooks after a failing one still run" || not_ok "poststop chain" "rc=$rc order=$(cat "$LOG/order") out=$out"
check "delete with failing poststop hooks leaves nothing behind" assert_clean hookchain
rm -f "$LOG/order"
B=$(make_bundle runchain 'hooks.poststart+={"path":"/bin/false"}' "hooks.poststart+=$(hook poststart)" \
	'hooks.poststop+={"path":"/bin/false"}' "hooks.poststop+=$(hook poststop)" 'process.args=["/bin/true"]')
out=$(oci run --bundle "$B" runchain 2>&1); rc=$?
[ $rc = 0 ] && [ "$(cut -d' ' -f1 "$LOG/order" 2>/dev/null | tr '\n' ' ')" = "poststart poststop " ] && \
	ok "run: poststart and poststop hooks after failing ones still run" || not_ok "run hook chain" "rc=$rc order=$(cat "$LOG/order" 2>/dev/null) out=$out"
check "run with failing poststop hooks leaves nothing behind" assert_clean runchain
B=$(make_bundle badhook 'hooks.prestart+={"path":"relative/hook"}' 'process.args=["/bin/true"]')
oci run --bundle "$B" badhook 2>"$TMP/err"
grep -q "hooks.prestart\[0\].path: must be an absolute path" "$TMP/err" && ok "a relative hook path is refused with its field path" || not_ok "bad hook path" "$(cat "$TMP/err")"
done_testing
