#!/bin/bash
# SPDX-License-Identifier: MIT
# Containers through the manager as Podman users expect (issue 20): exec -it and shell on a
# real terminal, stats from the container's cgroup, the exit status in info, events and
# the API, stop with the stop signal then SIGKILL after the timeout (said), and exec into a
# paused container.
. "$(dirname "$0")/lib.sh"
setup
if ! pick_oci_runtime; then
	echo "1..0 # SKIP no container runtime: $OCI_WHY"
	exit 0
fi
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
rc_of() { "$@" >/dev/null 2>&1; echo $?; }

ct_json sh1 "$CT_SHELL" true >"$T/sh1.json"
vk launch "$T/sh1.json" >/dev/null

# --- exec -i / -t / -it, shell (python drives a pseudo-terminal) -----------------------
timeout -k 5 120 python3 "$HERE/exec-tty.py" "$VKC" "$SOCK" sh1 $((_n + 1)) 2>"$T/tty.err"
rc=$?
next=$(sed -n 's/^next //p' "$T/tty.err" | tail -n1)
if [ -n "$next" ]; then _n=$((next - 1)); else not_ok "exec-tty.py ran" "$(cat "$T/tty.err")"; fi
[ $rc -eq 0 ] || _failed=$((_failed + 1))
check_eq "exec without a terminal: piped input still works" "piped" "$(echo piped | vk exec sh1 -- cat)"
check_eq "exec -i with piped input" "in" "$(echo in | vk exec -i sh1 -- cat)"
check_eq "exec: the status passes through" 4 "$(rc_of vk exec sh1 -- sh -c 'exit 4')"
check "exec -t gives a terminal without one here" sh -c "$VKC --socket $SOCK exec -t sh1 -- tty </dev/null | grep -q '^/dev/pts/'"

# --- stats from the cgroup ------------------------------------------------------------
ct_json busy '["/bin/sh","-c","sleep 1000 & sleep 1000 & dd if=/dev/zero of=/tmp/f bs=64k count=64 2>/dev/null; while :; do sleep 1; done"]' false >"$T/busy.json"
vk launch "$T/busy.json" >/dev/null
pid=$(vk info busy --format json | json runtime.pid)
wait_for sh -c "[ \$(cat /proc/$pid/task/*/children 2>/dev/null | wc -w) -ge 3 ]"
cat >"$T/cgcheck.py" <<'EOF'
import json, os, subprocess, sys
pid, vkc, sock = sys.argv[1], sys.argv[2], sys.argv[3]
mounts = {}
unified = None
for line in open('/proc/self/mountinfo'):
    pre, post = line.split(' - ')
    f = pre.split()
    fstype, _, sup = post.split()[:3]
    if fstype == 'cgroup2' and unified is None:
        unified = f[4]
    elif fstype == 'cgroup':
        for c in sup.split(','):
            mounts.setdefault(c, f[4])
cg = {}
for line in open(f'/proc/{pid}/cgroup'):
    _, ctl, path = line.rstrip('\n').split(':', 2)
    for c in (ctl.split(',') if ctl else ['']):
        cg[c] = path
def rd(ctl, name):
    base = mounts.get(ctl) if ctl in mounts and ctl in cg else None
    path = (base + cg[ctl]) if base else (unified + cg[''])
    return open(os.path.join(path, name)).read()
def sample():
    s = {}
    if 'cpuacct' in mounts:
        s['cpu_ns'] = int(rd('cpuacct', 'cpuacct.usage'))
    else:
        s['cpu_ns'] = int(dict(l.split() for l in rd('', 'cpu.stat').splitlines())['usage_usec']) * 1000
    if 'memory' in mounts:
        s['memory_peak_bytes'] = int(rd('memory', 'memory.max_usage_in_bytes'))
    else:
        s['memory_peak_bytes'] = int(rd('', 'memory.peak'))
    s['pids'] = int(rd('pids' if 'pids' in mounts else '', 'pids.current'))
    return s
before = sample()
out = subprocess.run([vkc, '--socket', sock, 'stats', 'busy', '--format', 'json'], capture_output=True, text=True)
api = json.loads(out.stdout)
after = sample()
bad = [k for k in ('cpu_ns', 'memory_peak_bytes') if not before[k] <= api[k] <= after[k]]
if before['pids'] != after['pids'] or api['pids'] != before['pids']:
    bad.append('pids')
print(json.dumps({'version': api.get('cgroup_version'), 'before': before, 'api': api, 'after': after}))
sys.exit(1 if bad else 0)
EOF
out=$(python3 "$T/cgcheck.py" "$pid" "$VKC" "$SOCK")
check "stats: cpu, memory peak and pids match the cgroup's files (read before and after)" test $? -eq 0
diag "$out"
stats=$(vk stats busy --format json)
check_eq "stats: every process of the container counts (a shell, two sleeps)" 1 \
	"$(printf '%s' "$stats" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["pids"] >= 3))')"
check "stats: the fields of the API are there" python3 -c '
import json, sys
o = json.loads(sys.argv[1])
for k in ("cgroup", "cgroup_version", "cpu_ns", "memory_bytes", "pids", "io_read_bytes", "io_write_bytes"):
    assert k in o, k
assert o["cgroup_version"] in ("v1", "v2", "hybrid")' "$stats"
check "stats: the table shows memory in binary units" sh -c "$VKC --socket $SOCK stats busy | grep -qE '^memory_bytes +[0-9.]+ (KiB|MiB)'"
vk kill busy >/dev/null

# --- exit status ---------------------------------------------------------------------
seq0=$(api GET /1.0 | head -n1 | json event_seq)
ct_json three '["/bin/sh","-c","exit 3"]' false >"$T/three.json"
vk launch "$T/three.json" >/dev/null
wait_for sh -c "[ \"\$($VKC --socket $SOCK info three --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = shutoff ]"
info=$(vk info three --format json)
check_eq "sh -c 'exit 3': info says shutoff (exited), exit_code 3" "shutoff exited 3" \
	"$(printf '%s' "$info" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"], o["exit_code"])')"
ev=$(vk events three --since "$seq0" --count 4 --timeout 5 --format json 2>/dev/null | grep '"event":"stopped"')
check_eq "and its stopped event carries exit_code 3 (not a crash)" "stopped shutoff 3" \
	"$(printf '%s' "$ev" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["event"], o["state"], o["exit_code"])')"
check "the CLI's info shows it" sh -c "$VKC --socket $SOCK info three | grep -q 'exited with status 3'"
ct_json sig '["/bin/sh","-c","while :; do sleep 1; done"]' false >"$T/sig.json"
vk launch "$T/sig.json" >/dev/null
kill -KILL "$(vk info sig --format json | json runtime.pid)" # a signal the daemon did not send
wait_for sh -c "$VKC --socket $SOCK info sig --format json | grep -q '\"signal\"'"
check_eq "a container killed by a signal: shutoff (signal) with the signal" "shutoff signal 9" \
	"$(vk info sig --format json | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"], o.get("signal"))')"
# (In this shell, not in $(...): teardown must know the new daemon's pid.)
daemon_stop >/dev/null 2>&1
daemon_start >/dev/null
check_eq "the exit status survives a daemon restart" 3 "$(vk info three --format json | json exit_code)"

# --- stop: the stop signal, then SIGKILL after the timeout, said ----------------------------
ct_json stubborn '["/bin/sh","-c","trap \"\" TERM; while :; do sleep 1; done"]' false >"$T/stubborn.json"
vk launch "$T/stubborn.json" >/dev/null
out=$(vk stop stubborn --timeout 2 2>&1)
check_eq "a SIGTERM-ignoring container stops after the timeout" shutoff "$(state_of stubborn)"
check "and the CLI says it escalated" sh -c "printf '%s' \"\$1\" | grep -q \"did not stop within 2 s of SIGTERM: killed with SIGKILL\"" sh "$out"
diag "$out"
check_eq "killed by signal 9" 9 "$(vk info stubborn --format json | json signal)"
check "the daemon's log says so too" grep -q "instance 'stubborn' did not stop within 2 s of SIGTERM" "$T/daemon.log"
ct_json polite '["/bin/sh","-c","trap \"exit 0\" USR1; while :; do sleep 1; done"]' false '"stop_signal":"USR1"' >"$T/polite.json"
vk launch "$T/polite.json" >/dev/null
reply=$(api POST /1.0/instances/polite/stop | head -n1)
check_eq "the definition's stop_signal is sent; the default timeout is 10 s (Podman's)" "False SIGUSR1 10" \
	"$(printf '%s' "$reply" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["escalated"], o["stop_signal"], o["stop_timeout"])')"
check_eq "it left on its own: shutoff (shutdown)" "shutoff shutdown" \
	"$(vk info polite --format json | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"

# --- exec into a paused container -------------------------------------------------------
vk pause sh1 >/dev/null
out=$(vk exec sh1 -- true 2>&1)
check_eq "exec into a paused container: exit 5" 5 "$(rc_of vk exec sh1 -- true)"
check "saying it is paused" sh -c "printf '%s' \"\$1\" | grep -q \"instance 'sh1' is paused: resume it first\"" sh "$out"
vk resume sh1 >/dev/null
vk kill sh1 >/dev/null

check_stop "the daemon stops cleanly"

# --- a version 1 database (before exit statuses) is migrated in place -----------------------
mkdir -p "$T/old"
sqlite3 "$T/old/virtkit.db" "
CREATE TABLE instances (uuid TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL UNIQUE,
 type TEXT NOT NULL, definition TEXT NOT NULL, autostart INTEGER NOT NULL DEFAULT 0,
 state TEXT NOT NULL, reason TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL,
 instance TEXT NOT NULL, uuid TEXT NOT NULL, type TEXT NOT NULL,
 event TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL);
INSERT INTO instances VALUES ('0b8e7e3c-2f6a-4bb0-9e61-7c1d2a3b4c5d', 'old', 'vm',
 '{\"name\":\"old\",\"uuid\":\"0b8e7e3c-2f6a-4bb0-9e61-7c1d2a3b4c5d\",\"type\":\"vm\",\"arch\":\"riscv64\",\"accel\":\"emu\",\"memory\":134217728,\"cpus\":1,\"kernel\":\"/k\",\"disks\":[],\"networks\":[],\"rng\":false,\"on_reset\":\"exit\",\"console\":{\"log\":true}}',
 0, 'crashed', 'error', 0, 0);
INSERT INTO events (time_ms, instance, uuid, type, event, state, reason)
 VALUES (1, 'old', '0b8e7e3c-2f6a-4bb0-9e61-7c1d2a3b4c5d', 'vm', 'crashed', 'crashed', 'error');
PRAGMA user_version = 1;"
"$VKD" --socket "$T/old.sock" --state-dir "$T/old" --run-dir "$T/oldrun" \
	--vm-binary "$FAKE_VM" --no-autostart >>"$T/daemon.log" 2>&1 &
OLD_PID=$!
CLEANUP_PIDS="$OLD_PID"
wait_for curl -sf --unix-socket "$T/old.sock" http://x/1.0
check_eq "a version 1 database opens: its instance is there" "old crashed" \
	"$(curl -s --unix-socket "$T/old.sock" http://x/1.0/instances/old | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["name"], o["state"])')"
check_eq "its old events still read" crashed \
	"$(curl -s --max-time 5 --unix-socket "$T/old.sock" 'http://x/1.0/events?since=0&follow=0' | json event)"
kill -TERM "$OLD_PID"
wait "$OLD_PID"
check_eq "and it is version 3 now" 3 "$(sqlite3 "$T/old/virtkit.db" 'PRAGMA user_version')"
check "with the events' detail column (version 3: image events)" \
	sqlite3 "$T/old/virtkit.db" 'SELECT detail FROM events LIMIT 1'
check "and the images' tables" sqlite3 "$T/old/virtkit.db" 'SELECT count(*) FROM images'
done_testing
