#!/bin/bash
# SPDX-License-Identifier: MIT
# The CLI and API follow the field's conventions (issue 19): options after the command,
# --help everywhere, --format json alone on stdout, one error prefix, human units, several
# instances per command, lookup by UUID, edit with $EDITOR, define --update, logs by lines
# and --follow, timestamped daemon log lines, failed starts logged, the host view, and
# events --count/--timeout ending with status 0.
. "$(dirname "$0")/lib.sh"
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
VM=$VK_BUILD/src/vm/virtkit-vm

rc_of() { "$@" >/dev/null 2>&1; echo $?; }
# has TEXT PATTERN: TEXT matches the (basic) regular expression.
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
# is_json: stdin is exactly one JSON document (nothing else on stdout).
is_json() { python3 -c 'import json,sys; json.load(sys.stdin)'; }
vkj() { vk "$@" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'; }

vm_json a >"$T/a.json"
vm_json b >"$T/b.json"
vk define "$T/a.json" >/dev/null
vk define "$T/b.json" >/dev/null

# --- options after the command; --format json alone on stdout ----------------------------
check "list --format json (after the command) parses as JSON" \
	sh -c "$VKC list --all --format json --socket $SOCK | python3 -c 'import json,sys; l=json.load(sys.stdin); assert {i[\"name\"] for i in l} == {\"a\",\"b\"}, l'"
check "--format=json and --socket=PATH after the command" \
	sh -c "$VKC list --format=json --all --socket=$SOCK | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 2'"
check "--format json before the command still works" sh -c "$VKC --socket $SOCK --format json list --all | python3 -c 'import json,sys; json.load(sys.stdin)'"
out=$(vk version --format json)
check "version --format json: one JSON document, client and daemon" \
	python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["client"]["version"] and o["daemon"]["server"] == "virtkitd", o' "$out"
for c in info stats; do
	vk start a >/dev/null 2>&1
	check "$c --format json parses" sh -c "$VKC --socket $SOCK $c a --format json | python3 -c 'import json,sys; json.load(sys.stdin)'"
done
check "host --format json parses" sh -c "$VKC --socket $SOCK host --format json | python3 -c 'import json,sys; json.load(sys.stdin)'"
check "start --format json: a JSON array of results" \
	sh -c "$VKC --socket $SOCK start a b --format json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); assert [x[\"instance\"] for x in r] == [\"a\",\"b\"] and r[0][\"ok\"] is False and r[1][\"ok\"] is True, r'"
check_eq "unknown --format value: usage error" 2 "$(rc_of vk list --format yaml)"

# --- short options after the command are the command's --------------------------------
vk start b >/dev/null 2>&1
check "stop -f after the command is --force" vk stop b -f
check_eq "and stopped it by force (reason destroyed)" destroyed "$(vk info b --format json | json reason)"
check_eq "-f before the command is --format, not --force" 2 "$(rc_of vk -f force start b)"

# --- --help on every command of virtkit and virtkit-vm ----------------------------------
cmds=$("$VKC" help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}')
bad=
for c in $cmds; do
	out=$("$VKC" "$c" --help 2>&1) && printf '%s' "$out" | head -n1 | grep -q "^Usage: virtkit $c" || bad="$bad $c"
done
check_eq "every command answers --help with its usage (exit 0)" "" "$bad"
check "there are commands to check" test "$(echo $cmds | wc -w)" -ge 20
check "virtkit help COMMAND" sh -c "$VKC help stop | grep -q -- '--timeout'"
check "virtkit-vm --help" sh -c "$VM --help | grep -q '^usage: virtkit-vm run'"
check "virtkit-vm run --help (exit 0, run's usage)" sh -c "$VM run --help | grep -q -- '--kernel'"
check "virtkit-vm probe --help" sh -c "$VM probe --help | grep -q -- '--format'"
check "virtkit-vm probe --format json is one JSON object like --json" \
	sh -c "a=\$($VM probe --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"available\"])') &&
	       b=\$($VM probe --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"available\"])') && [ \"\$a\" = \"\$b\" ]"

# --- one error prefix; sizes in human units ---------------------------------------------
: >"$T/empty-kernel"
echo "{\"name\":\"real\",\"type\":\"vm\",\"arch\":\"riscv64\",\"memory\":\"64M\",\"kernel\":\"$T/empty-kernel\",\"firmware\":\"none\"}" >"$T/real.json"
vk define "$T/real.json" >/dev/null
daemon_stop >/dev/null 2>&1
VM_BINARY=$VM daemon_start
err=$(vk start real 2>&1)
check_eq "a failed start: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
check_eq "with one program prefix (virtkit:), the inner one dropped" "1 0" \
	"$(printf '%s' "$err" | grep -o 'virtkit: ' | wc -l) $(printf '%s' "$err" | grep -c 'virtkit-vm: ')"
check "naming the kernel" has "$err" empty-kernel
diag "$err"
check "the failed start is in the daemon's log with its reason" \
	grep -q "cannot start instance 'real'.*empty-kernel" "$T/daemon.log"
check "daemon log lines start with an ISO 8601 time" \
	sh -c "grep 'virtkitd: ' '$T/daemon.log' | grep -vqE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z virtkitd: ' && exit 1; grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z virtkitd: info: listening' '$T/daemon.log'"
# The host view, from this daemon (its virtkit-vm is the real one).
host=$(vk host --format json)
check_eq "GET /1.0/host answers 200" 200 "$(api GET /1.0/host | tail -n1)"
check_eq "host: the KVM verdict is the probe's" \
	"$($VM probe --json | json classification)" "$(printf '%s' "$host" | json kvm.classification)"
check_eq "host: CPU count" "$(nproc)" "$(printf '%s' "$host" | json cpu.count)"
check_eq "host: memory total" "$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))" \
	"$(printf '%s' "$host" | json memory.total_bytes)"
check_eq "host: instances by state, as the list says" \
	"$(vk list --all --format json | python3 -c 'import json,sys; from collections import Counter; l=json.load(sys.stdin); print(len(l), sorted(Counter(i["state"] for i in l).items()))')" \
	"$(printf '%s' "$host" | python3 -c 'import json,sys; i=json.load(sys.stdin)["instances"]; print(i["total"], sorted(i["by_state"].items()))')"
check_eq "host: versions of the daemon and virtkit-vm" "0.1.0 $($VM --version)" \
	"$(printf '%s' "$host" | json versions.virtkitd) $(printf '%s' "$host" | json versions.virtkit-vm)"
check_eq "host: architectures" "riscv64 x86_64" \
	"$(printf '%s' "$host" | python3 -c 'import json,sys; print(" ".join(a["arch"] for a in json.load(sys.stdin)["architectures"]))')"
check "host: the table names KVM and memory" sh -c "$VKC --socket $SOCK host | grep -q '^Memory: .*GiB total'"
vk undefine real >/dev/null
daemon_stop >/dev/null 2>&1
daemon_start

echo '{"name":"small","type":"vm","arch":"riscv64","memory":"8M","kernel":"/k"}' >"$T/small.json"
out=$(vk define "$T/small.json" 2>&1)
check "a size out of range is said in binary units" has "$out" 'between 16 MiB and 64 GiB'
diag "$out"
echo "{\"name\":\"units\",\"type\":\"vm\",\"arch\":\"riscv64\",\"memory\":\"192 MiB\",\"kernel\":\"$T/kernel\"}" >"$T/units.json"
check "sizes are accepted as '192 MiB'" vk define "$T/units.json"
check_eq "and stored as bytes" 201326592 "$(vk info units --format json | json definition.memory)"
check "info shows it in MiB" sh -c "$VKC --socket $SOCK info units | grep -q 'Memory: *192 MiB'"
vk start a >/dev/null 2>&1
check "stats shows memory in MiB, as info does" sh -c "$VKC --socket $SOCK stats a | grep -q '^memory *128 MiB'"
check "virtkit-vm --memory takes 64MiB" sh -c "! $VM run --arch riscv64 --memory 64MiB --kernel /nonexistent 2>&1 | grep -q 'invalid size'"

# --- several instances per command; names or UUIDs ------------------------------------
vk stop a b >/dev/null 2>&1
check "start a b starts both" vk start a b
check_eq "both running" "running running" "$(state_of a) $(state_of b)"
check_eq "stop a nosuch b: the highest status of them (4, not found)" 4 "$(rc_of vk stop a nosuch b)"
check_eq "and a and b stopped" "shutoff shutoff" "$(state_of a) $(state_of b)"
out=$(vk start a nosuch b 2>&1)
check_eq "each name is reported" "2 1" \
	"$(printf '%s\n' "$out" | grep -c '^Started instance') $(printf '%s\n' "$out" | grep -c "^virtkit: instance 'nosuch' not found")"
check_eq "and the others were still acted on" "running running" "$(state_of a) $(state_of b)"
check "pause a b" vk pause a b
check "resume a b" vk resume a b
check "kill a b" vk kill a b
uuid=$(vk info a --format json | json uuid)
UUID=$(printf '%s' "$uuid" | tr a-f A-F)
check_eq "info by UUID (upper case too)" a "$(vk info "$UUID" --format json | json name)"
check "start by UUID" vk start "$uuid"
check_eq "it started a" running "$(state_of a)"
check_eq "API: GET /1.0/instances/UUID" a "$(api GET /1.0/instances/$uuid | head -n1 | json name)"
check "events filtered by UUID" sh -c "$VKC --socket $SOCK events $uuid --since 0 --count 1 --timeout 5 --format json | grep -q '\"instance\":\"a\"'"
vk kill a >/dev/null

# --- edit and define --update --------------------------------------------------------
cat >"$T/ed-cpus.sh" <<'EOF'
#!/bin/sh
sed -i 's/"cpus": *1/"cpus": 3/' "$1"
EOF
cat >"$T/ed-bad.sh" <<'EOF'
#!/bin/sh
sed -i 's/"cpus": *[0-9]*/"cpus": 999/' "$1"
EOF
cat >"$T/ed-xml.sh" <<'EOF'
#!/bin/sh
sed -i 's#<vcpu>[0-9]*</vcpu>#<vcpu>2</vcpu>#' "$1"
EOF
chmod +x "$T"/ed-*.sh
check "edit (EDITOR=script) updates the definition" env EDITOR="$T/ed-cpus.sh" "$VKC" --socket "$SOCK" edit a
check_eq "cpus is 3" 3 "$(vk info a --format json | json definition.cpus)"
out=$(EDITOR="$T/ed-bad.sh" vk edit a 2>&1)
check_eq "an invalid edit fails (exit 1)" 1 "$(EDITOR="$T/ed-bad.sh" rc_of vk edit a)"
check_eq "and leaves the instance unchanged" 3 "$(vk info a --format json | json definition.cpus)"
check "saying why" has "$out" "^virtkit: invalid definition: 'cpus' must be between 1 and 64"
check "and where the edited copy is" has "$out" "^virtkit: instance 'a' is unchanged; the edited copy is kept in '/"
rm -f /tmp/virtkit-edit-*.json
check_eq "an editor that changes nothing: no update event" "" \
	"$(before=$(api GET /1.0 | head -n1 | json event_seq); EDITOR=true vk edit a >/dev/null; after=$(api GET /1.0 | head -n1 | json event_seq); [ "$before" = "$after" ] || echo changed)"
check "edit --xml" env EDITOR="$T/ed-xml.sh" "$VKC" --socket "$SOCK" edit a --xml
check_eq "cpus is 2 after the XML edit" 2 "$(vk info a --format json | json definition.cpus)"
check_eq "define of an existing name: exit 5" 5 "$(rc_of vk define "$T/a.json")"
vm_json a '"cpus":4' >"$T/a4.json"
check "define --update replaces it" sh -c "$VKC --socket $SOCK define '$T/a4.json' --update | grep -q '^Updated instance'"
check_eq "cpus is 4, uuid kept" "4 $uuid" "$(vk info a --format json | json definition.cpus) $(vk info a --format json | json uuid)"
vm_json newone >"$T/new.json"
check "define --update of a new name defines it" sh -c "$VKC --socket $SOCK define -u '$T/new.json' | grep -q '^Defined instance'"

# --- logs: lines, --follow ------------------------------------------------------------
vk start a >/dev/null
printf 'echo first-line\necho second-line\n' | vk console a >/dev/null 2>&1
check "logs --tail 1: the last line only" sh -c "[ \"\$($VKC --socket $SOCK logs a --tail 1 | wc -l)\" -le 1 ]"
printf 'echo last-line\n' | vk console a >/dev/null 2>&1
last2=$(vk logs a --tail 3)
check "logs --tail 3: three lines, the newest ones" sh -c "printf '%s\n' '$last2' | grep -q last-line && [ \$(printf '%s\n' '$last2' | wc -l) -eq 3 ] && ! printf '%s' '$last2' | grep -q first-line"
check_eq "API ?lines=2 gives 2 lines" 2 "$(api GET '/1.0/instances/a/logs?lines=2' | sed '$d' | wc -l)"
check_eq "API ?tail=BYTES still counts bytes" 7 \
	"$(curl -s --max-time 10 --unix-socket "$SOCK" 'http://x/1.0/instances/a/logs?tail=7' | wc -c)"
"$VKC" --socket "$SOCK" logs a --follow --tail 1 >"$T/follow.out" 2>&1 &
FPID=$!
CLEANUP_PIDS="$FPID"
wait_for grep -q . "$T/follow.out"
printf 'echo written-after-follow\n' | vk console a >/dev/null 2>&1
check "logs --follow receives a line written after it started" wait_for grep -q '^written-after-follow' "$T/follow.out"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
check "and it did not print the older lines" sh -c "! grep -q first-line '$T/follow.out'"
vk kill a >/dev/null

# --- events --count/--timeout --------------------------------------------------------
out=$(vk events --count 100 --timeout 1 2>&1 >/dev/null)
check_eq "events --count 100 --timeout 1: exit 0 when fewer came" 0 "$(rc_of vk events --count 100 --timeout 1)"
check "and says how many came" has "$out" '^virtkit: 0 of 100 events arrived within 1 s'
out=$(vk events --since 0 --count 3 --timeout 5 --format json 2>/dev/null)
check_eq "events --format json: NDJSON alone on stdout" 3 "$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)))')"

check_stop "the daemon stops cleanly"
done_testing
