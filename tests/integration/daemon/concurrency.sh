#!/bin/bash
# SPDX-License-Identifier: MIT
# 50 concurrent clients (half through the virtkit CLI and libvirtkit, half through curl)
# define, list, start, stop and undefine their own instances while all of them fight
# over one shared instance: no lost or duplicated definition, no 5xx answer, no deadlock
# (everything finishes in time), a consistent store afterwards.
. "$(dirname "$0")/lib.sh"
CLIENTS=${CLIENTS:-50}
TO=90
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
vm_json shared | vk define - >/dev/null

client() {
	local i=$1 n out code
	for n in 1 2 3; do
		if [ $((i % 2)) = 0 ]; then
			vm_json "c-$i-$n" | vk define - >/dev/null 2>>"$T/cli-errors" ||
				echo "client $i: define c-$i-$n failed" >>"$T/errors"
		else
			out=$(api POST /1.0/instances -d "$(vm_json "c-$i-$n")")
			[ "${out##*$'\n'}" = 201 ] || echo "client $i: define c-$i-$n: $out" >>"$T/errors"
		fi
	done
	vk list --all >/dev/null || echo "client $i: list failed" >>"$T/errors"
	vk start "c-$i-1" >/dev/null || echo "client $i: start failed" >>"$T/errors"
	# The shared instance: every answer must be success or a 409 conflict, nothing else.
	for a in start pause resume stop; do
		code=$(api POST "/1.0/instances/shared/$a" | tail -n 1)
		case $code in
		200 | 409) ;;
		*) echo "client $i: shared/$a answered $code" >>"$T/errors" ;;
		esac
	done
	vk stop "c-$i-1" >/dev/null || echo "client $i: stop failed" >>"$T/errors"
	for n in 2 3; do
		code=$(api DELETE "/1.0/instances/c-$i-$n" | tail -n 1)
		[ "$code" = 200 ] || echo "client $i: undefine c-$i-$n answered $code" >>"$T/errors"
	done
	out=$(api GET /1.0/instances)
	[ "${out##*$'\n'}" = 200 ] || echo "client $i: list answered ${out##*$'\n'}" >>"$T/errors"
}

: >"$T/errors"
start=$(date +%s)
pids=
for i in $(seq 1 "$CLIENTS"); do
	client "$i" &
	pids="$pids $!"
done
CLEANUP_PIDS=$pids
# No deadlock: every client is done within 120 s.
deadline=$((start + 120))
for p in $pids; do
	while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt $deadline ]; do sleep 0.2; done
done
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "all $CLIENTS clients finished within 120 s (no deadlock)" 0 "$alive"
diag "took $(($(date +%s) - start)) s"
check_eq "no client saw an unexpected answer" "" "$(head -n 20 "$T/errors")"
names=$(curl -s --unix-socket "$SOCK" http://x/1.0/instances | python3 -c '
import json, sys; print(" ".join(sorted(i["name"] for i in json.load(sys.stdin)["instances"])))')
want=$(for i in $(seq 1 "$CLIENTS"); do echo "c-$i-1"; done; echo shared)
check_eq "exactly the expected instances remain" "$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$names"
check_eq "the store agrees with the daemon" "$(echo "$names" | wc -w)" \
	"$(sqlite3 "$T/state/virtkit.db" 'select count(*) from instances')"
check_eq "no duplicate names or uuids in the store" "0 0" \
	"$(sqlite3 "$T/state/virtkit.db" 'select count(*) - count(distinct name), count(*) - count(distinct uuid) from instances' | tr '|' ' ')"
check_eq "SQLite integrity check" ok "$(sqlite3 "$T/state/virtkit.db" 'PRAGMA integrity_check')"
st=$(state_of shared)
case $st in
shutoff | running | paused) ok "the shared instance ended in a stable state ($st)" ;;
*) not_ok "the shared instance ended in a stable state" "$st" ;;
esac
vk kill shared >/dev/null 2>&1
check_stop "the daemon stops cleanly after the storm"
daemon_start
check_eq "after a restart the same instances are there" "$names" "$(curl -s --unix-socket "$SOCK" \
	http://x/1.0/instances | python3 -c '
import json, sys; print(" ".join(sorted(i["name"] for i in json.load(sys.stdin)["instances"])))')"
check_stop "the daemon stops cleanly"
done_testing
