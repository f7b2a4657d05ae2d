#!/bin/bash
# SPDX-License-Identifier: MIT
# The virtkit CLI end to end: the full lifecycle of a VM (fake virtkit-vm) and of a
# container (virtkit-oci, or runc while virtkit-oci cannot run one), console attach on a
# terminal with the Ctrl-] escape, exec, logs, --format json, autostart across a daemon
# restart, and the exit codes scripts rely on.
. "$(dirname "$0")/lib.sh"
setup
have_ct=1
pick_oci_runtime || have_ct=0
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

rc_of() { "$@" >/dev/null 2>&1; echo $?; }

# --- exit codes ----------------------------------------------------------------------
check_eq "usage error: exit 2" 2 "$(rc_of vk frobnicate)"
check_eq "unknown instance: exit 4" 4 "$(rc_of vk start nosuch)"
check_eq "daemon unreachable: exit 3" 3 "$(rc_of "$VKC" --socket "$T/none.sock" list)"
err=$("$VKC" --socket "$T/none.sock" list 2>&1)
check_eq "the error is one sentence, printed once" 1 "$(printf '%s\n' "$err" | grep -c 'virtkit:')"
diag "$err"

# --- a VM ---------------------------------------------------------------------------
vm_json vm1 >"$T/vm1.json"
check "define FILE (JSON)" vk define "$T/vm1.json"
check_eq "defining it again: exit 5" 5 "$(rc_of vk define "$T/vm1.json")"
check "list --all shows it" sh -c "$VKC --socket $SOCK list --all | grep -q '^vm1 .*shutoff'"
check_eq "list (running only) does not" "" "$(vk list | sed 1d)"
check "start" vk start vm1
check_eq "starting twice: exit 5" 5 "$(rc_of vk start vm1)"
check "info shows it running" sh -c "$VKC --socket $SOCK info vm1 | grep -q 'State: *running (booted)'"
check "--format json info parses" sh -c "$VKC --socket $SOCK --format json info vm1 | python3 -m json.tool >/dev/null"
check "stats" vk stats vm1
check "console on a terminal, left with Ctrl-]" \
	timeout 40 python3 "$HERE/tty-console.py" "$VKC" "$SOCK" vm1 "echo tty-hello" "tty-hello"
out=$(printf 'echo piped-hello\n' | vk console vm1 2>&1)
check "console with piped input prints the answer" sh -c "printf '%s' '$out' | grep -q '^piped-hello'"
check "several readers see the same console output" console_expect vm1 "echo multi" "multi" 3
check "logs" sh -c "$VKC --socket $SOCK logs vm1 | grep -q piped-hello"
check_eq "logs --tail N: the last N lines" "$(vk logs vm1 | tail -n 2)" "$(vk logs vm1 --tail 2)"
check "pause" vk pause vm1
check_eq "paused" paused "$(state_of vm1)"
check "resume" vk resume vm1
check "restart" vk restart vm1 --timeout 10
check_eq "running again" running "$(state_of vm1)"
check "stop" vk stop vm1
check_eq "stopped: shutoff" shutoff "$(state_of vm1)"
check_eq "stopping a stopped VM: exit 5" 5 "$(rc_of vk stop vm1)"
check "dumpxml" sh -c "$VKC --socket $SOCK dumpxml vm1 >'$T/vm1.xml' && grep -q '<name>vm1</name>' '$T/vm1.xml'"
check "undefine" vk undefine vm1
check "define FILE (libvirt XML)" vk define "$T/vm1.xml"
check "launch (define + start)" sh -c "vm='$(vm_json vm2)'; echo \"\$vm\" | $VKC --socket $SOCK launch -"
check_eq "launched VM runs" running "$(state_of vm2)"
out=$(vm_json vm-nok | sed "s#$T/kernel#$T/no-kernel#" | vk launch - 2>&1)
check_eq "a launch whose start fails: exit 1" 1 "$?"
check_eq "its error is one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check "naming the reason and that the definition stays" \
	sh -c "printf '%s' '$out' | grep 'no-kernel' | grep -q 'stays defined'"
check_eq "the instance stays defined" shutoff "$(state_of vm-nok)"
vk undefine vm-nok >/dev/null
check "a guest power-off is seen" sh -c "printf 'poweroff\n' | $VKC --socket $SOCK console vm2 >/dev/null 2>&1; true"
wait_for state_is vm2 shutoff
check_eq "after the guest powered off: shutoff (shutdown)" "shutoff shutdown" \
	"$(vk --format json info vm2 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
vk start vm2 >/dev/null
printf 'crash\n' | vk console vm2 >/dev/null 2>&1
wait_for state_is vm2 crashed
check_eq "a VM that dies with an error: crashed (error)" "crashed error" \
	"$(vk --format json info vm2 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
FAKE_VM_IGNORE_POWERDOWN=1
vm_json vm3 >"$T/vm3.json"
echo "{\"name\":\"bad\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"$T/missing-kernel\"}" >"$T/bad.json"
vk define "$T/bad.json" >/dev/null
out=$(vk start bad 2>&1)
check "a start failure says why" sh -c "printf '%s' \"$out\" | grep -q 'missing-kernel'"
diag "$out"
check_eq "and leaves it shutoff (failed)" "shutoff failed" \
	"$(vk --format json info bad | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"

# --- autostart across a daemon restart --------------------------------------------------
check "autostart on" vk autostart vm2 on
check_stop "the daemon stops on SIGTERM"
daemon_start
check "autostart starts it when the daemon starts" wait_for state_is vm2 running
vk kill vm2 >/dev/null
vk autostart vm2 off >/dev/null

# --- a container ----------------------------------------------------------------------
if [ $have_ct = 1 ]; then
	daemon_stop >/dev/null 2>&1
	daemon_start
	ct_json c1 "$CT_SHELL" true >"$T/c1.json"
	check "container: launch" vk launch "$T/c1.json"
	check_eq "container: running" running "$(state_of c1)"
	check "container: console reads its shell" console_expect c1 "echo ct-hello" "ct-hello"
	check_eq "container: exec passes the exit status" 7 "$(rc_of vk exec c1 -- sh -c 'exit 7')"
	check_eq "container: exec output" "out-err" \
		"$(vk exec c1 -- sh -c 'printf out; printf -- -err >&2' 2>&1)"
	check_eq "container: exec reads standard input" "piped" "$(echo piped | vk exec c1 -- cat)"
	check_eq "container: exec sees the container's hostname" c1 "$(vk exec c1 -- hostname)"
	check "container: pause" vk pause c1
	check_eq "container: paused" paused "$(state_of c1)"
	check "container: resume" vk resume c1
	check "container: stop (SIGTERM honoured)" vk stop c1 --timeout 20
	check_eq "container: shutoff (shutdown)" "shutoff shutdown" \
		"$(vk --format json info c1 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
	check "container: start again and kill" sh -c "$VKC --socket $SOCK start c1 && $VKC --socket $SOCK kill c1"
	check_eq "container: shutoff (destroyed)" destroyed \
		"$(vk --format json info c1 | json reason)"
	ct_json c2 '["/bin/sh","-c","echo batch-output; exit 3"]' false >"$T/c2.json"
	vk launch "$T/c2.json" >/dev/null
	wait_for state_is c2 shutoff
	check_eq "container: a non-zero exit is its answer, not a crash: shutoff (exited 3)" "shutoff exited 3" \
		"$(vk --format json info c2 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"], o["exit_code"])')"
	check "container: the log holds its output" sh -c "$VKC --socket $SOCK logs c2 | grep -q batch-output"
	check_eq "container: exec on a stopped one: exit 5" 5 "$(rc_of vk exec c2 -- true)"
	check "container: undefine" vk undefine c2
	check_eq "no runtime state left behind" "" "$(cd "$T/run" && find instances oci -mindepth 1 2>/dev/null)"
else
	skip "container lifecycle" "$OCI_WHY"
fi
# --- bash completion --------------------------------------------------------------------
comp() {
	PATH=$VK_BUILD/src/cli:$PATH bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _virtkit; echo "${COMPREPLY[*]}"' \
		sh "$VK_SRC/data/bash-completion/virtkit" "$@"
}
check_eq "bash completion: commands" "start stats stop" "$(comp virtkit st | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "bash completion: instance names from the daemon" "vm1 vm2" "$(comp virtkit --socket "$SOCK" start vm)"
check_eq "bash completion: autostart on|off" "on off" "$(comp virtkit autostart vm1 '')"
check_stop "the daemon stops cleanly"
done_testing
