#!/bin/bash
# SPDX-License-Identifier: MIT
# Honest stop semantics for VMs (issue 11): `virtkit stop` asks the guest and waits; a guest
# that does not power off in time makes the stop fail with the instance still running (never
# a kill behind the user's back), and `stop --force` pulls the plug and says so.
#   - with the fake virtkit-vm that ignores power-down requests: the CLI, the API, the events;
#   - with the shared riscv64 guest under the real virtkit-vm, defined with the documented
#     fields only: a file written without `sync` is on the disk image after `virtkit stop`;
#     with SysRq disabled in the guest, the stop fails and `stop --force` ends it.
. "$(dirname "$0")/lib.sh"
setup

# --- a guest that ignores the request (fake virtkit-vm) -------------------------------------
FAKE_VM_IGNORE_POWERDOWN=1 daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
vm_json deaf | vk define - >/dev/null
check "define and start a VM whose guest ignores power-down" vk start deaf
pid=$(vk --format json info deaf | json runtime.pid)
out=$(vk stop deaf --timeout 2 2>&1)
rc=$?
diag "$out"
check "stop fails after --timeout 2 (exit $rc)" [ "$rc" -ne 0 ]
check "saying it is still running and naming --force" sh -c \
	"printf '%s' \"\$1\" | grep -q \"instance 'deaf' is still running: its guest did not power off within 2 s.*virtkit stop --force\"" sh "$out"
check "and never 'Stopped'" sh -c "! printf '%s' \"\$1\" | grep -q Stopped" sh "$out"
check_eq "the instance is running again (booted)" "running booted" \
	"$(vk --format json info deaf | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
check "its virtkit-vm still runs" kill -0 "$pid"
check "a stop-failed event says so" sh -c "curl -s --max-time 10 --unix-socket $SOCK \
	'http://x/1.0/events?since=0&instance=deaf&follow=0' | grep -q '\"event\":\"stop-failed\",\"state\":\"running\"'"
out=$(api POST /1.0/instances/deaf/stop -d '{"timeout":1}')
check_eq "API: a graceful stop that times out is 504" 504 "$(printf '%s' "$out" | tail -n 1)"
check "API: with the same sentence" sh -c "printf '%s' \"\$1\" | grep -q 'is still running'" sh "$out"
check_eq "API: still running" running "$(state_of deaf)"
out=$(vk stop deaf --force 2>&1)
rc=$?
diag "$out"
check_eq "stop --force succeeds" 0 "$rc"
check "and says it pulled the plug" sh -c \
	"printf '%s' \"\$1\" | grep -q \"^Pulled the plug on instance 'deaf' (forced: its guest was not asked\"" sh "$out"
check_eq "shutoff (destroyed)" "shutoff destroyed" \
	"$(vk --format json info deaf | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
check "its virtkit-vm is gone" sh -c "! kill -0 $pid 2>/dev/null"
vk start deaf >/dev/null
out=$(api POST /1.0/instances/deaf/stop -d '{"force":true}')
check_eq "API: stop with force answers 200 and forced: true" "200 true" \
	"$(printf '%s' "$out" | tail -n 1) $(printf '%s' "$out" | sed '$d' | json forced)"
vm_json agent '"agent":true' | vk define - >/dev/null
vk start agent >/dev/null
check "\"agent\": true starts virtkit-vm with --agent" sh -c \
	"tr '\\0' ' ' </proc/$(vk --format json info agent | json runtime.pid)/cmdline | grep -q -- ' --agent '"
vk stop --force agent >/dev/null
out=$(vm_json x86 '"arch":"x86_64","agent":true' | vk define - 2>&1)
check "\"agent\" on an x86_64 VM is refused" sh -c "printf '%s' \"\$1\" | grep -q 'agent.*riscv64'" sh "$out"
out=$(vk --format json stop deaf 2>&1)
check "stopping a stopped VM still fails cleanly" sh -c "printf '%s' \"\$1\" | grep -q 'not running'" sh "$out"
check_stop "the daemon stops cleanly"

# --- the real guest (what is typed splits each marker with '', so only the output has it) ----------------------------------------------------------------------
VM_BINARY=$VK_BUILD/src/vm/virtkit-vm
G=$VK_SHARED/guests/riscv64
real=1
if [ ! -x "$VM_BINARY" ]; then
	skip "the real guest" "$VM_BINARY is not built"; real=0
elif [ ! -f "$G/Image" ] || [ ! -f "$G/initramfs.cpio.gz" ]; then
	skip "the real guest" "the shared riscv64 guest is not in $G"; real=0
elif ! command -v mkfs.ext4 >/dev/null || ! command -v debugfs >/dev/null; then
	skip "the real guest" "mkfs.ext4 and debugfs are missing (package e2fsprogs)"; real=0
fi
if [ $real = 1 ]; then
	daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
	wait_long() {
		local i=0
		while [ $i -lt 300 ]; do
			"$@" >/dev/null 2>&1 && return 0
			sleep 0.2
			i=$((i + 1))
		done
		return 1
	}
	booted() { [ "$("$VKC" --socket "$SOCK" logs guest | grep -c VIRTKIT-GUEST-READY)" -ge "$1" ]; }
	truncate -s 32M "$T/disk.img"
	mkfs.ext4 -q -F "$T/disk.img"
	# The fields documented before issue 11, nothing more.
	cat >"$T/guest.json" <<JSON
{"name":"guest","type":"vm","arch":"riscv64","memory":"128M","cpus":1,
 "kernel":"$G/Image","initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "disks":[{"path":"$T/disk.img"}]}
JSON
	check "define and start the shared guest" sh -c "$VKC --socket $SOCK define $T/guest.json && $VKC --socket $SOCK start guest"
	check "it boots" wait_long booted 1
	check "a file is written on its ext4 disk, without sync" console_expect guest \
		"mount /dev/vda /mnt && echo kept-after-stop > /mnt/file.txt && echo wrote''-it" "wrote-it"
	out=$(vk stop guest 2>&1)
	check_eq "virtkit stop: Stopped, exit 0" "Stopped instance 'guest' 0" "$out $?"
	check_eq "shutoff (shutdown): the guest powered off" "shutoff shutdown" \
		"$(vk --format json info guest | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
	got=$(debugfs -R 'cat /file.txt' "$T/disk.img" 2>/dev/null)
	check_eq "the file is on the disk image" kept-after-stop "$got"
	[ "$got" = kept-after-stop ] || diag "$("$VKC" --socket "$SOCK" logs guest | tail -n 25)"
	check "the console log shows the guest's SysRq power-off" sh -c \
		"$VKC --socket $SOCK logs guest | grep -q 'sysrq: Power Off'"

	vk start guest >/dev/null
	check "it boots again" wait_long booted 2
	check "SysRq disabled in the guest" console_expect guest \
		"echo 0 > /proc/sys/kernel/sysrq && echo sysrq''-off" "sysrq-off"
	pid=$(vk --format json info guest | json runtime.pid)
	out=$(vk stop guest --timeout 3 2>&1)
	rc=$?
	diag "$out"
	check "a guest that ignores the request: stop fails (exit $rc)" [ "$rc" -ne 0 ]
	check "still running, --force named" sh -c \
		"printf '%s' \"\$1\" | grep -q \"instance 'guest' is still running.*--force\"" sh "$out"
	check_eq "the VM still runs" "running" "$(state_of guest)"
	check "the same virtkit-vm process" kill -0 "$pid"
	# The guest took the break and the `s` as typing (no SysRq): Ctrl-U clears that line.
	check "its shell still answers" console_expect guest "$(printf '\025')echo still''-here" "still-here"
	out=$(vk stop guest --force 2>&1)
	check_eq "stop --force ends it and says so" \
		"Pulled the plug on instance 'guest' (forced: its guest was not asked to shut down and lost what it had not written) 0" \
		"$out $?"
	check_eq "shutoff (destroyed)" "shutoff destroyed" \
		"$(vk --format json info guest | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], o["reason"])')"
	check_stop "the daemon stops cleanly"
fi
done_testing
