#!/bin/bash
# SPDX-License-Identifier: MIT
# Crash consistency: ITER times (at least 50), a client defines, starts, stops and
# undefines instances while the daemon is killed with SIGKILL at a random moment. After
# each restart: every definition the daemon acknowledged is there, intact; every
# acknowledged undefine stuck; nothing is left half-way (starting/stopping); the database
# passes SQLite's integrity check.
. "$(dirname "$0")/lib.sh"
ITER=${ITER:-50}
TO=10
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

# One round of client work on instances a-N and b-N; acknowledgements go to $T/acks.
client() {
	local i=$1 out
	out=$(api POST /1.0/instances -d "$(vm_json "a-$i" "\"description\":\"round $i\"")")
	[ "${out##*$'\n'}" = 201 ] && echo "defined a-$i" >>"$T/acks"
	api POST "/1.0/instances/a-$i/start" >/dev/null
	api POST "/1.0/instances/a-$i/stop" -d '{"timeout":5}' >/dev/null
	out=$(api POST /1.0/instances -d "$(vm_json "b-$i" "\"description\":\"round $i\"")")
	[ "${out##*$'\n'}" = 201 ] && echo "defined b-$i" >>"$T/acks"
	api POST "/1.0/instances/b-$i/start" >/dev/null
	if [ "$i" -gt 0 ]; then
		# Sent but unanswered, an undefine may or may not have happened.
		echo "undefining a-$((i - 1))" >>"$T/acks"
		out=$(api DELETE "/1.0/instances/a-$((i - 1))")
		[ "${out##*$'\n'}" = 200 ] && echo "undefined a-$((i - 1))" >>"$T/acks"
	fi
}

# The daemon's view against the acknowledgements.
verify() {
	curl -s --max-time 10 --unix-socket "$SOCK" http://x/1.0/instances >"$T/list.json" || {
		echo "the daemon does not answer"
		return 1
	}
	python3 - "$T/list.json" "$T/acks" <<'EOF'
import json, sys
inst = {i["name"]: i for i in json.load(open(sys.argv[1]))["instances"]}
want = {}
for line in open(sys.argv[2]):
    verb, name = line.split()
    want[name] = {"defined": True, "undefined": False}.get(verb)
bad = [n for n, present in want.items() if present is not None and present != (n in inst)]
if bad:
    sys.exit("acknowledged but not so after the crash: %s" % bad)
odd = [n + "=" + i["state"] for n, i in inst.items() if i["state"] in ("starting", "stopping")]
if odd:
    sys.exit("left half-way: %s" % odd)
EOF
}

: >"$T/acks"
lost=0
for i in $(seq 1 "$ITER"); do
	client "$i" &
	cpid=$!
	# A random moment inside the round (it takes about 50 to 300 ms here).
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	daemon_kill9
	wait "$cpid" 2>/dev/null
	daemon_start || { lost=1; break; }
	if ! msg=$(verify 2>&1); then
		not_ok "round $i: consistent after kill -9" "$msg
$(tail -n 5 "$T/acks")
$(python3 -c 'import json,sys; print([(i["name"], i["state"]) for i in json.load(open(sys.argv[1]))["instances"]][-6:])' "$T/list.json")
$(sqlite3 "$T/state/virtkit.db" 'select seq, instance, event, state from events order by seq desc limit 12')"
		lost=1
		break
	fi
	# A definition must come back whole: its description is intact.
	if grep -qx "defined b-$i" "$T/acks"; then
		msg=$(api GET "/1.0/instances/b-$i" | sed '$d' | json definition.description 2>&1)
		if [ "$msg" != "round $i" ]; then
			not_ok "round $i: definition intact" "$msg"
			lost=1
			break
		fi
	fi
done
[ $lost = 0 ] && ok "$ITER rounds of kill -9 during define/start/stop/undefine: no acknowledged change lost"
diag "$(grep -c '^defined' "$T/acks") defines and $(grep -c '^undefined' "$T/acks") undefines acknowledged"
check_eq "SQLite integrity check" ok "$(sqlite3 "$T/state/virtkit.db" 'PRAGMA integrity_check')"
check "the daemon still answers and lists" api GET /1.0/instances
# Stop what still runs, so teardown has little to do.
for n in $(curl -s --unix-socket "$SOCK" 'http://x/1.0/instances?state=running' | python3 -c '
import json, sys; print(" ".join(i["name"] for i in json.load(sys.stdin)["instances"]))'); do
	api POST "/1.0/instances/$n/kill" >/dev/null
done
check_eq "everything stopped" "" "$(curl -s --unix-socket "$SOCK" 'http://x/1.0/instances?state=running' | json instances | tr -d '[]')"
check_stop "the daemon stops cleanly"
done_testing
