#!/bin/bash
# virtkit-oci lifecycle: spec, run exit codes, create/start/state/list/ps,
# exec, kill and signals, pause/resume, update, events, delete, error cases.
. "$(dirname "$0")/lib.sh"
setup

OUT=$TMP/out
mkdir -p "$OUT"
OUTMNT='mounts+={"destination":"/out","type":"bind","source":"'$OUT'","options":["rbind","rw"]}'

# spec
mkdir -p "$TMP/specdir"
if "$OCI" spec --bundle "$TMP/specdir" && python3 -c "import json,sys; c=json.load(open(sys.argv[1])); assert c['ociVersion'].startswith('1.') and c['root']['path']=='rootfs'" "$TMP/specdir/config.json"; then
	ok "spec writes a default config.json"
else
	not_ok "spec writes a default config.json"
fi
if ! "$OCI" spec --bundle "$TMP/specdir" 2>/dev/null; then ok "spec refuses to overwrite config.json"; else not_ok "spec refuses to overwrite config.json"; fi

# run: exit status, output, cleanup
B=$(make_bundle true 'process.args=["/bin/true"]')
oci run --bundle "$B" t-true; rc=$?
[ $rc = 0 ] && ok "run /bin/true exits 0" || not_ok "run /bin/true exits 0" "rc=$rc"
check "run leaves nothing behind" assert_clean t-true true
B=$(make_bundle exit7 'process.args=["/bin/sh","-c","echo hello from the container; exit 7"]')
out=$(oci run --bundle "$B" t-exit7); rc=$?
[ $rc = 7 ] && ok "run returns the container's exit status" || not_ok "run returns the container's exit status" "rc=$rc"
[ "$out" = "hello from the container" ] && ok "run passes the container's stdout" || not_ok "run passes the container's stdout" "$out"


# create / start / state / list / ps
B=$(make_bundle long "$OUTMNT" 'process.args=["/bin/sh","-c","echo started > /out/started; trap \"echo term > /out/term; exit 3\" TERM; while :; do sleep 0.1; done"]')
if oci create --bundle "$B" --pid-file "$TMP/c1.pid" c1; then ok "create"; else not_ok "create"; fi
[ "$(status_of c1)" = created ] && ok "state: created" || not_ok "state: created" "$(oci state c1)"
pid=$(cat "$TMP/c1.pid" 2>/dev/null)
oci state c1 | grep -q "\"pid\": $pid" && ok "pid-file matches the state's pid ($pid)" || not_ok "pid-file matches the state pid"
[ ! -e "$OUT/started" ] && ok "the process waits for start" || not_ok "the process waits for start"
oci list | grep -q "^c1 .*created" && ok "list shows the created container" || not_ok "list shows the created container" "$(oci list)"
oci list --format json | python3 -c "import json,sys; l=json.load(sys.stdin); assert l[0]['id']=='c1'" && ok "list --format json" || not_ok "list --format json"
if oci start c1 && wait_for test -e "$OUT/started"; then ok "start runs the process"; else not_ok "start runs the process"; fi
[ "$(status_of c1)" = running ] && ok "state: running" || not_ok "state: running"
oci start c1 2>"$TMP/err"; grep -q "already running" "$TMP/err" && ok "start twice is refused" || not_ok "start twice is refused" "$(cat "$TMP/err")"
oci ps --format json c1 | grep -q "$pid" && ok "ps --format json lists the init pid" || not_ok "ps json" "$(oci ps --format json c1)"
oci ps c1 | grep -q "^UID.*PID" && ok "ps (table) prints ps output" || not_ok "ps table" "$(oci ps c1)"

# exec
out=$(oci exec c1 sh -c 'echo $((6*7)); exit 4'); rc=$?
[ "$out" = 42 ] && [ $rc = 4 ] && ok "exec: output and exit status" || not_ok "exec output/status" "out=$out rc=$rc"
out=$(oci exec -e FOO=bar --cwd /etc c1 sh -c 'echo $FOO $(pwd)')
[ "$out" = "bar /etc" ] && ok "exec --env --cwd" || not_ok "exec --env --cwd" "$out"
out=$(oci exec --user 1000:1000 c1 id -u)
[ "$out" = 1000 ] && ok "exec --user" || not_ok "exec --user" "$out"
cat >"$TMP/proc.json" <<EOP
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/sh", "-c", "echo from process.json"], "env": ["PATH=/bin"], "cwd": "/"}
EOP
out=$(oci exec --process "$TMP/proc.json" c1)
[ "$out" = "from process.json" ] && ok "exec --process" || not_ok "exec --process" "$out"
oci exec c1 nosuchcmd 2>"$TMP/err"; rc=$?
grep -q 'executable file not found in $PATH' "$TMP/err" && [ $rc != 0 ] && ok "exec of a missing program: runc's message" || not_ok "exec missing program" "$(cat "$TMP/err")"
oci exec -d --pid-file "$TMP/exec.pid" c1 sleep 30 && epid=$(cat "$TMP/exec.pid") && kill -0 "$epid" && ok "exec --detach --pid-file" || not_ok "exec --detach"
pidcount=$(oci ps --format json c1 | tr ',' '\n' | grep -c '[0-9]')
[ "$pidcount" -ge 2 ] && ok "ps sees the exec'd process" || not_ok "ps sees the exec'd process" "$(oci ps --format json c1)"

# pause / resume (the freezer: v1 freezer.state or v2 cgroup.freeze)
if ctr_cg_file long freezer.state cgroup.freeze >/dev/null; then
oci exec -d c1 sh -c 'i=0; while :; do i=$((i+1)); echo $i > /out/c.tmp; mv /out/c.tmp /out/count; done'
wait_for test -s "$OUT/count"
if oci pause c1 && [ "$(status_of c1)" = paused ]; then ok "pause: state paused"; else not_ok "pause"; fi
a=$(cat "$OUT/count"); sleep 0.3; b=$(cat "$OUT/count")
[ "$a" = "$b" ] && ok "paused processes do not run ($a)" || not_ok "paused processes do not run" "$a -> $b"
oci resume c1 && wait_for sh -c "[ \"\$(cat $OUT/count)\" != $b ]"; c=$(cat "$OUT/count")
[ "$c" != "$b" ] && [ "$(status_of c1)" = running ] && ok "resume: runs again ($b -> $c)" || not_ok "resume" "$b -> $c"
oci resume c1 2>/dev/null && not_ok "resume of a running container is refused" || ok "resume of a running container is refused"
else
	skip "pause and resume" "the container's cgroup has neither freezer.state nor cgroup.freeze (layout: $(cgroup_layout))"
fi

# update and events (memory and pids limits, v1 or v2 file names)
mem=$(ctr_cg_file long memory.limit_in_bytes memory.max); pids=$(ctr_cg_file long pids.max)
if [ -n "$mem" ] && [ -n "$pids" ]; then
oci update --memory 200M --pids-limit 77 c1 && \
	[ "$(cat "$mem")" = $((200 * 1024 * 1024)) ] && \
	[ "$(cat "$pids")" = 77 ] && ok "update --memory --pids-limit" || not_ok "update"
echo '{"pids":{"limit":88}}' | oci update --resources - c1 && [ "$(cat "$pids")" = 88 ] && \
	ok "update --resources -" || not_ok "update --resources -"
oci events --stats c1 | python3 -c "import json,sys; e=json.load(sys.stdin); assert e['type']=='stats' and e['data']['memory']['usage']['usage']>0 and e['data']['pids']['current']>=2" && \
	ok "events --stats: memory and pids" || not_ok "events --stats" "$(oci events --stats c1)"
else
	skip "update and events --stats" "the container's cgroup lacks a memory limit file or pids.max (layout: $(cgroup_layout))"
fi

# kill and delete
oci delete c1 2>"$TMP/err"; grep -q "that is not stopped: running" "$TMP/err" && ok "delete of a running container is refused" || not_ok "delete running refused" "$(cat "$TMP/err")"
oci kill c1 TERM && wait_for test -e "$OUT/term" && ok "kill TERM reaches the container's handler" || not_ok "kill TERM"
wait_for sh -c "[ \"\$(timeout 5 $OCI --root $ROOT state c1 | grep -c stopped)\" = 1 ]" && ok "state: stopped after exit" || not_ok "state stopped" "$(oci state c1)"
oci kill c1 KILL 2>"$TMP/err"; grep -q "container not running" "$TMP/err" && ok "kill of a stopped container: 'container not running'" || not_ok "kill stopped" "$(cat "$TMP/err")"
kill -0 "$epid" 2>/dev/null && not_ok "exec'd processes died with the pid namespace" || ok "exec'd processes died with the pid namespace"
# as runc: ps of a stopped container lists what is left in its cgroup (containerd asks)
out=$(oci ps --format json c1 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "[]" ] && ok "ps --format json of a stopped container: []" || not_ok "ps stopped" "rc=$rc $out"
oci delete c1 && ok "delete a stopped container" || not_ok "delete stopped"
check "delete leaves nothing behind" assert_clean c1 long

# kill --all and delete --force
B=$(make_bundle sleeper 'process.args=["/bin/sleep","600"]')
oci run -d --bundle "$B" c2 && oci exec -d c2 sleep 601
# Its two processes by pid (another build's run of this test on the machine
# has sleeps of the same name), each gone once it no longer runs its sleep.
c2pids=$(oci ps --format json c2 | tr -d '[] ' | tr ',' ' ')
c2alive() {
	for p in $c2pids; do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q 'sleep 60[01] ' && echo "$p"
	done
}
[ "$(echo $c2pids | wc -w)" = 2 ] && oci kill --all c2 KILL && wait_for eval '[ -z "$(c2alive)" ]' &&
	ok "kill --all signals every process" || not_ok "kill --all" "pids: $c2pids, left: $(c2alive)"
oci delete -f c2
oci run -d --bundle "$B" c3
oci delete --force c3 && ok "delete --force of a running container" || not_ok "delete --force"
check "delete --force leaves nothing behind" assert_clean c3 sleeper
oci create --bundle "$B" c4 && oci delete c4 && ok "delete of a created container" || not_ok "delete created"
check "no leftovers of a created+deleted container" assert_clean c4 sleeper

# errors
oci state nope 2>"$TMP/err"; rc=$?
grep -q "container does not exist" "$TMP/err" && [ $rc = 1 ] && ok "state of an unknown id: 'container does not exist', exit 1" || not_ok "unknown id" "rc=$rc $(cat "$TMP/err")"
# runc: --force makes a missing container no error (containerd's shim deletes
# with --force on every teardown); without --force it stays one.
out=$(oci delete --force nope 2>&1); rc=$?
[ $rc = 0 ] && [ -z "$out" ] && ok "delete --force of an unknown id: exit 0, no message" || not_ok "delete --force unknown id" "rc=$rc $out"
oci delete nope 2>"$TMP/err"; rc=$?
grep -q "container does not exist" "$TMP/err" && [ $rc = 1 ] && ok "delete of an unknown id without --force: exit 1" || not_ok "delete unknown id" "rc=$rc $(cat "$TMP/err")"
oci delete --force 'bad/id' 2>"$TMP/err" && not_ok "delete --force of an invalid id is still refused" || ok "delete --force of an invalid id is still refused"
oci run -d --bundle "$B" dup && oci run --bundle "$B" dup 2>"$TMP/err"; grep -q "container with id exists: dup" "$TMP/err" && ok "duplicate id is refused" || not_ok "duplicate id" "$(cat "$TMP/err")"
oci delete -f dup
oci run --bundle "$B" 'bad/id' 2>/dev/null && not_ok "invalid id refused" || ok "invalid id refused"
"$OCI" --version | grep -q "spec: 1.0" && ok "--version" || not_ok "--version"
"$OCI" features | python3 -c "import json,sys; f=json.load(sys.stdin); assert 'user' in f['linux']['namespaces'] and f['linux']['cgroup']['v1'] and 'SCMP_ACT_ERRNO' in f['linux']['seccomp']['actions'] and 'CAP_SYS_ADMIN' in f['linux']['capabilities']" && ok "features" || not_ok "features"
oci --log "$TMP/log.json" --log-format json state nope 2>/dev/null
python3 -c "import json,sys; l=json.loads(open(sys.argv[1]).readline()); assert l['level']=='error' and 'does not exist' in l['msg']" "$TMP/log.json" && ok "--log-format json writes JSON lines" || not_ok "--log json" "$(cat "$TMP/log.json")"
done_testing
