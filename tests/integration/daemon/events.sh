#!/bin/bash
# SPDX-License-Identifier: MIT
# Lifecycle events: a subscriber attached before the actions (virtkit events) and one
# replaying from a sequence number (GET /1.0/events?since=) both see every event, in
# order, with increasing sequence numbers, as NDJSON.
. "$(dirname "$0")/lib.sh"
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

seq0=$(curl -s --unix-socket "$SOCK" http://x/1.0 | json event_seq)
# A live subscriber: events of vm1 only, exits after 8 of them (or fails after 40 s).
vk --format json events vm1 --count 8 --timeout 40 >"$T/live.ndjson" 2>"$T/live.err" &
live=$!
CLEANUP_PIDS="$live"
sleep 0.5 # the subscription is open once `virtkit events` has its answer header

vm_json vm1 >"$T/vm1.json"
vm_json other >"$T/other.json"
vk define "$T/vm1.json" >/dev/null
vk define "$T/other.json" >/dev/null # another instance's events are filtered out
vk start vm1 >/dev/null
vk pause vm1 >/dev/null
vk resume vm1 >/dev/null
vk stop vm1 >/dev/null
vk undefine vm1 >/dev/null

expected="defined:shutoff starting:starting started:running paused:paused resumed:running stopping:stopping stopped:shutoff undefined:shutoff"
summary='import json, sys
evs = [json.loads(l) for l in sys.stdin if l.strip()]
seqs = [e["seq"] for e in evs]
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "sequence numbers not increasing"
print(" ".join("%s:%s" % (e["event"], e["state"]) for e in evs if e["instance"] == "vm1"))'

i=0
while kill -0 "$live" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
wait "$live"
check_eq "the live subscriber exits once it has its events" 0 $?
check_eq "live events of vm1 arrive in order" "$expected" "$(python3 -c "$summary" <"$T/live.ndjson")"
check "the live stream holds no other instance" \
	sh -c "! grep -q '\"instance\":\"other\"' '$T/live.ndjson'"

curl -s --max-time 5 --unix-socket "$SOCK" "http://x/1.0/events?since=$seq0&follow=0" >"$T/replay.ndjson"
check_eq "replay with ?since= gives the same order" "$expected" "$(python3 -c "$summary" <"$T/replay.ndjson")"
check "every replayed event carries seq, time, instance, uuid, type, event, state, reason (and how a stop ended)" \
	python3 -c '
import json, sys
base = {"seq", "time", "instance", "uuid", "type", "event", "state", "reason"}
for l in open(sys.argv[1]):
    e = json.loads(l)
    extra = set(e) - base
    assert base <= set(e) and (not extra or (e["event"] in ("stopped", "crashed") and
                                             extra in ({"exit_code"}, {"signal"}))), e
' "$T/replay.ndjson"

# The store keeps events across a restart.
check_stop "the daemon stops"
daemon_start
curl -s --max-time 5 --unix-socket "$SOCK" "http://x/1.0/events?since=$seq0&follow=0" >"$T/replay2.ndjson"
check_eq "after a restart the event log is still there" "$expected" \
	"$(python3 -c "$summary" <"$T/replay2.ndjson")"
check_stop "the daemon stops with no subscriber left hanging"
done_testing
