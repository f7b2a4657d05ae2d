#!/bin/bash
# SPDX-License-Identifier: MIT
# The real thing: the shared riscv64 guest (Linux + busybox) under the real virtkit-vm,
# managed by virtkitd: its full lifecycle through the CLI and through raw HTTP, the
# console reading the guest's shell, events in order, and reattach after kill -9.
# Skips (with the reason) while virtkit-vm cannot boot the guest.
. "$(dirname "$0")/lib.sh"
setup
VM_BINARY=$VK_BUILD/src/vm/virtkit-vm
G=$VK_SHARED/guests/riscv64
if [ ! -x "$VM_BINARY" ]; then
	echo "1..0 # SKIP $VM_BINARY is not built"
	exit 0
fi
if [ ! -f "$G/Image" ] || [ ! -f "$G/initramfs.cpio.gz" ]; then
	echo "1..0 # SKIP the shared riscv64 guest is not in $G"
	exit 0
fi
# Can it boot the guest at all? (vk.mode=poweroff prints a marker and powers off.)
timeout -k 5 60 "$VM_BINARY" run --arch riscv64 --memory 128M --kernel "$G/Image" \
	--initrd "$G/initramfs.cpio.gz" --cmdline "console=ttyS0 vk.mode=poweroff" \
	--console "file:$T/probe.log" </dev/null >"$T/probe.err" 2>&1
if ! grep -q VIRTKIT-GUEST-READY "$T/probe.log" 2>/dev/null; then
	echo "1..0 # SKIP virtkit-vm cannot boot the shared guest yet: $(tail -n 1 "$T/probe.err")"
	exit 0
fi
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
# wait_for_long CMD...: retry for up to 60 s (a boot under emulation on a busy machine).
wait_for_long() {
	local i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

truncate -s 1M "$T/disk.img"
cat >"$T/guest.json" <<EOF
{"name":"guest","type":"vm","arch":"riscv64","memory":"128M","cpus":1,
 "kernel":"$G/Image","initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "disks":[{"path":"$T/disk.img"}],"networks":[{"type":"user"}],"rng":true}
EOF
seq0=$(curl -s --unix-socket "$SOCK" http://x/1.0 | json event_seq)

# --- through the CLI ----------------------------------------------------------------
check "define the shared guest" vk define "$T/guest.json"
check "start it" vk start guest
check_eq "it runs" running "$(state_of guest)"
# Typed during the kernel's boot, input would be lost: wait for the guest's init first.
booted() { "$VKC" --socket "$SOCK" logs guest | grep -q VIRTKIT-GUEST-READY; }
check "the guest boots (its init's marker is in the console log)" wait_for_long booted
check "the console reads the guest's shell" console_expect guest "echo hello-from-\$(uname -m)" "hello-from-riscv64"
check "the guest sees its virtio disk" console_expect guest "ls /dev/vda && echo disk-ok" "disk-ok"
check "stats" vk stats guest
check "pause" vk pause guest
check_eq "paused" paused "$(state_of guest)"
check "resume" vk resume guest
check "the guest runs on after resume" console_expect guest "echo resumed-ok" "resumed-ok"

# --- kill -9 the daemon: the guest runs on -------------------------------------------
pid=$(vk --format json info guest | python3 -c 'import json,sys; print(json.load(sys.stdin)["runtime"]["pid"])')
daemon_kill9
check "the guest outlives the daemon" kill -0 "$pid"
daemon_start
check_eq "after the restart it is still running" running "$(state_of guest)"
check_eq "with the same virtkit-vm process" "$pid" \
	"$(vk --format json info guest | python3 -c 'import json,sys; print(json.load(sys.stdin)["runtime"]["pid"])')"
check "its console still works" console_expect guest "echo after-restart" "after-restart"
check "stop (graceful, then quit if the board cannot power down)" vk stop guest --timeout 10
check_eq "shutoff" shutoff "$(state_of guest)"
check "the console log has the guest's output" sh -c "$VKC --socket $SOCK logs guest | grep -q hello-from-riscv64"

# --- through raw HTTP --------------------------------------------------------------------
check_eq "HTTP: start" 200 "$(api POST /1.0/instances/guest/start | tail -n 1)"
wait_for_long sh -c "[ \$($VKC --socket $SOCK logs guest | grep -c VIRTKIT-GUEST-READY) -ge 2 ]"
check "HTTP: console upgrade reads the shell" console_expect guest "echo http-\$((6*7))" "http-42"
check "a guest power-off is noticed" console_expect guest "poweroff -f" "reboot: Power down"
wait_for state_is guest shutoff
check_eq "HTTP: the guest powered itself off: shutoff (shutdown)" "shutoff shutdown" \
	"$(api GET /1.0/instances/guest | sed '$d' | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
check_eq "HTTP: start again" 200 "$(api POST /1.0/instances/guest/start | tail -n 1)"
check_eq "HTTP: kill" 200 "$(api POST /1.0/instances/guest/kill | tail -n 1)"
check_eq "HTTP: undefine" 200 "$(api DELETE /1.0/instances/guest | tail -n 1)"

expected="defined starting started paused resumed stopping stopped starting started stopped starting started stopping stopped undefined"
got=$(curl -s --max-time 10 --unix-socket "$SOCK" "http://x/1.0/events?since=$seq0&follow=0" | python3 -c '
import json, sys; print(" ".join(json.loads(l)["event"] for l in sys.stdin if l.strip()))')
check_eq "events arrived in order" "$expected" "$got"
check_stop "the daemon stops cleanly"
done_testing
