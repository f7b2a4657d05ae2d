#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 the daemon while instances run, restart it: the same instances in the same
# states, the same workload processes (not restarted), consoles that still work, and
# exits that happened while the daemon was down recorded with their reason.
. "$(dirname "$0")/lib.sh"
setup
have_ct=1
pick_oci_runtime || have_ct=0
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

pid_of() { vk --format json info "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runtime"].get("pid", 0))'; }
states() { vk --format json list --all | python3 -c '
import json, sys; print(" ".join("%s=%s/%s" % (i["name"], i["state"], i["reason"]) for i in json.load(sys.stdin)))'; }

for n in vm-run vm-paused vm-dies vm-crashes vm-off; do vm_json $n | vk define - >/dev/null; done
for n in vm-run vm-paused vm-dies vm-crashes; do vk start $n >/dev/null; done
vk pause vm-paused >/dev/null
if [ $have_ct = 1 ]; then
	ct_json ct-run "$CT_SHELL" true | vk launch - >/dev/null
	check_eq "the container runs" running "$(state_of ct-run)"
fi
check "a console works before the crash" console_expect vm-run "echo before" "before"
before=$(states)
pid_run=$(pid_of vm-run)
pid_paused=$(pid_of vm-paused)
[ $have_ct = 1 ] && pid_ct=$(pid_of ct-run)

daemon_kill9
# While the daemon is down: one guest powers off, one dies with an error.
for n in vm-dies vm-crashes; do
	uuid=$(sqlite3 "$T/state/virtkit.db" "select uuid from instances where name='$n'")
	cmd=poweroff
	[ $n = vm-crashes ] && cmd=crash
	python3 - "$T/run/instances/$uuid/console.sock" "$cmd" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.3)
EOF
done
sleep 0.5
check "the workloads outlived the daemon" kill -0 "$pid_run" "$pid_paused"

daemon_start
after=$(states)
expect_after=$(printf '%s\n' "$before" | sed 's#vm-dies=running/booted#vm-dies=shutoff/shutdown#; s#vm-crashes=running/booted#vm-crashes=crashed/error#')
check_eq "after the restart: same instances, same states; exits while down recorded" "$expect_after" "$after"
check_eq "the running VM kept its process" "$pid_run" "$(pid_of vm-run)"
check_eq "the paused VM kept its process" "$pid_paused" "$(pid_of vm-paused)"
check "the console of the reattached VM works" console_expect vm-run "echo after-restart" "after-restart"
check "the paused VM resumes" vk resume vm-paused
check "its console works" console_expect vm-paused "echo resumed" "resumed"
if [ $have_ct = 1 ]; then
	check_eq "the container kept its process" "$pid_ct" "$(pid_of ct-run)"
	check "the container's console works" console_expect ct-run "echo ct-after" "ct-after"
	check "the container stops" vk stop ct-run --timeout 20
else
	skip "container reattach" "$OCI_WHY"
fi
check "the reattached VM stops" vk stop vm-run
check_eq "and its exit is seen" "shutoff/shutdown" \
	"$(vk --format json info vm-run | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"] + "/" + o["reason"])')"

# Killed again while a start is under way: the next daemon settles it either way.
vk start vm-off >/dev/null &
sleep 0.05
daemon_kill9
wait
daemon_start
st=$(state_of vm-off)
case $st in
running | shutoff) ok "a start cut by kill -9 settles as running or shutoff ($st)" ;;
*) not_ok "a start cut by kill -9 settles as running or shutoff" "state: $st" ;;
esac
daemon_kill9
daemon_start
check_eq "a second restart in a row keeps everything" running "$(state_of vm-paused)"
# Killed while a stop is under way, and the workload gone by the restart: it was stopped
# (shutoff/shutdown), not crashed (the guest ignores the power-down, so the stop waits).
daemon_kill9
FAKE_VM_IGNORE_POWERDOWN=1 daemon_start
vm_json vm-stopping | vk define - >/dev/null
vk start vm-stopping >/dev/null
pid_stopping=$(pid_of vm-stopping)
uuid=$(sqlite3 "$T/state/virtkit.db" "select uuid from instances where name='vm-stopping'")
vk stop vm-stopping --timeout 60 >/dev/null 2>&1 &
stop_pid=$!
wait_for state_is vm-stopping stopping
daemon_kill9
kill -9 "$pid_stopping"
wait "$stop_pid" 2>/dev/null
wait_for test -f "$T/run/instances/$uuid/exit"
daemon_start
check_eq "a stop cut by kill -9, the VM gone by the restart: shutoff (shutdown)" "shutoff/shutdown" \
	"$(vk --format json info vm-stopping | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"] + "/" + o["reason"])')"
for n in vm-paused vm-off; do vk kill $n >/dev/null 2>&1; done
check_eq "nothing runs any more" "" "$(vk list | sed 1d)"
check_stop "the daemon stops cleanly"
done_testing
