#!/bin/bash
# SPDX-License-Identifier: MIT
# Migration of a VM between two virtkitd on this host (issue 15), on the shared riscv64 guest
# under the real virtkit-vm: `virtkit migrate NAME --to SOCKET` moves the running guest with
# its definition (no reboot: what it wrote to tmpfs is there; its disk, a shared file, is
# written by the destination afterwards); --live and --keep-source; a paused VM arrives
# paused, and a paused VM saved and restored comes back paused. Failures leave the guest
# running on the source with the reason and nothing at the destination: nobody listening,
# the name taken there, a destination whose virtkit-vm refuses the machine (a wrapper that
# gives it another --memory). Skips (with the reason) while virtkit-vm cannot boot the guest.
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
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

# The destination: a second daemon (own socket, state and run folders). Its virtkit-vm is a
# wrapper that, while $T/break exists, receives with another --memory than was sent.
SOCK2=$T/d2.sock
cat >"$T/vm-wrap" <<EOF
#!/bin/sh
[ -e "$T/break" ] && exec "$VM_BINARY" "\$@" --memory 64M
exec "$VM_BINARY" "\$@"
EOF
chmod +x "$T/vm-wrap"
"$VKD" --socket "$SOCK2" --state-dir "$T/state2" --run-dir "$T/run2" \
	--vm-binary "$T/vm-wrap" --oci-runtime /nonexistent >>"$T/daemon2.log" 2>&1 &
D2_PID=$!
CLEANUP_PIDS="$D2_PID"
# The destination's shims too, whatever happens (lib.sh's teardown knows the first daemon's).
teardown2() {
	local rc=$? f
	for f in "$T"/run2/instances/*/shim.pid; do
		[ -f "$f" ] && kill -9 -- "-$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	(exit $rc) # teardown exits with the status it finds
	teardown
}
trap teardown2 EXIT
vk2() { timeout -k 5 "$TO" "$VKC" --socket "$SOCK2" "$@"; }
wait_for vk2 list >/dev/null || { echo "1..0 # SKIP the second virtkitd does not start"; exit 1; }

wait_for_long() {
	local i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
info_of() { "$1" --format json info "$2" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(v["state"], v["reason"])'; }
booted() { vk logs "$1" | grep -q VIRTKIT-GUEST-READY; }
# on2 CMD...: a lib.sh helper (console_expect) against the destination.
on2() { (SOCK=$SOCK2; "$@"); }
vm_processes() { pgrep -f -- "$VM_BINARY run .*$T/$1/" | wc -l; }

dd if=/dev/zero of="$T/disk.img" bs=1M count=1 status=none
cat >"$T/guest.json" <<JSON
{"name":"guest","type":"vm","arch":"riscv64","memory":"128M","cpus":1,
 "kernel":"$G/Image","initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "disks":[{"path":"$T/disk.img","format":"raw"}],"rng":true}
JSON

check "define the guest on the first daemon" vk define "$T/guest.json"
check "start it" vk start guest
check "the guest boots" wait_for_long booted guest
check "it writes to its tmpfs" console_expect guest "echo kept-\$((6*7)) > /tmp/m; echo wrote-\$((2+2))" "wrote-4"

# --- failures: the guest goes on where it was, nothing is left at the destination --------
out=$(vk migrate guest --to "$T/nobody.sock" 2>&1)
rc=$?
check "nobody listening: refused with the reason (exit $rc: $out)" \
	sh -c "[ $rc -ne 0 ] && echo \"$out\" | grep -q 'no virtkitd answers'"
check_eq "and the guest runs on the source" "running booted" "$(info_of vk guest)"
sed 's/"memory":"128M"/"memory":"64M"/' "$T/guest.json" >"$T/other.json"
check "the destination has another instance called guest" vk2 define "$T/other.json"
out=$(vk migrate guest --to "$SOCK2" 2>&1)
rc=$?
check "the name taken there: a conflict with the reason (exit $rc: $out)" \
	sh -c "[ $rc -eq 5 ] && echo \"$out\" | grep -q 'refused the definition'"
check_eq "the destination's own instance is untouched" "64M" \
	"$(vk2 --format json info guest | python3 -c 'import json,sys; print(json.load(sys.stdin)["definition"]["memory"] >> 20)')M"
check "undefine it there" vk2 undefine guest
touch "$T/break"
out=$(vk migrate guest --to "$SOCK2" 2>&1)
rc=$?
rm -f "$T/break"
check "the destination's virtkit-vm refuses the machine: the reason (exit $rc: $out)" \
	sh -c "[ $rc -ne 0 ] && echo \"$out\" | grep -q 'does not match' && echo \"$out\" | grep -q 'goes on running here'"
check_eq "the guest runs on the source" "running booted" "$(info_of vk guest)"
check "and still answers, with its memory" console_expect guest "cat /tmp/m" "kept-42"
check "the destination forgot the definition" sh -c "! $VKC --socket $SOCK2 info guest"
check_eq "and no virtkit-vm of it runs there" 0 "$(vm_processes run2)"

# --- migrate (stop-and-copy), then back --live with --keep-source ------------------------
out=$(vk migrate guest --to "$SOCK2" 2>&1)
check_eq "virtkit migrate guest --to D2: exit 0 ($out)" 0 $?
check "the source no longer defines it" sh -c "! $VKC --socket $SOCK info guest"
check_eq "the source's virtkit-vm has ended" 0 "$(vm_processes run)"
check_eq "the destination runs it: running, reason migrated" "running migrated" "$(info_of vk2 guest)"
check "its memory came along (no reboot)" on2 console_expect guest "cat /tmp/m" "kept-42"
check "the destination's guest writes the shared disk" on2 console_expect guest \
	"echo disk-mark-\$((7*6)) | dd of=/dev/vda conv=fsync 2>/dev/null; echo synced-\$((1+1))" "synced-2"
check "the write reached the image file" grep -q disk-mark-42 "$T/disk.img"
out=$(vk2 migrate guest --to "$SOCK" --live --keep-source 2>&1)
check_eq "back with --live --keep-source: exit 0 ($out)" 0 $?
check_eq "the first daemon runs it again" "running migrated" "$(info_of vk guest)"
check_eq "the second keeps the definition, shut off" "shutoff migrated" "$(info_of vk2 guest)"
check "its memory came back too" console_expect guest "cat /tmp/m" "kept-42"
check "undefine the kept copy" vk2 undefine guest

# --- a paused VM stays paused ------------------------------------------------------------
check "pause it" vk pause guest
out=$(vk migrate guest --to "$SOCK2" 2>&1)
check_eq "migrate the paused VM: exit 0 ($out)" 0 $?
check_eq "it arrives paused" "paused migrated" "$(info_of vk2 guest)"
check "resume it there" vk2 resume guest
check "it goes on with its memory" on2 console_expect guest "cat /tmp/m" "kept-42"
check "pause it again" vk2 pause guest
check "save the paused VM" vk2 save guest "$T/paused.vks"
check "restore it" vk2 restore "$T/paused.vks"
check_eq "it comes back paused" "paused restored" "$(info_of vk2 guest)"
check "resume it" vk2 resume guest
check "it goes on with its memory" on2 console_expect guest "cat /tmp/m" "kept-42"

# --- requests the API refuses ------------------------------------------------------------
api2() { (SOCK=$SOCK2; api "$@"); }
check_eq "HTTP migrate without 'to': 400" 400 "$(api2 POST /1.0/instances/guest/migrate -d '{}' | tail -n 1)"
check_eq "HTTP migrate to a relative path: 400" 400 \
	"$(api2 POST /1.0/instances/guest/migrate -d '{"to":"d.sock"}' | tail -n 1)"
check_eq "HTTP migrate with an unknown field: 400" 400 \
	"$(api2 POST /1.0/instances/guest/migrate -d '{"to":"/x","fast":true}' | tail -n 1)"
check_eq "HTTP confirm of an instance that waits for no migration: 409" 409 \
	"$(api2 POST /1.0/instances/guest/incoming/confirm | tail -n 1)"
check_eq "HTTP receive into a running instance: 409" 409 "$(api2 POST /1.0/instances/guest/incoming | tail -n 1)"
check_eq "HTTP GET on incoming: 405" 405 "$(api2 GET /1.0/instances/guest/incoming | tail -n 1)"
check "kill it" vk2 kill guest
check "undefine it" vk2 undefine guest
kill -TERM "$D2_PID"
wait "$D2_PID"
check_eq "the second daemon stops cleanly" 0 $?
CLEANUP_PIDS=
if grep -E -A8 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/daemon2.log" >"$T/san2"; then
	not_ok "no sanitizer report from the second virtkitd" "$(head -n 30 "$T/san2")"
else
	ok "no sanitizer report from the second virtkitd"
fi
check_stop "the daemon stops cleanly"
done_testing
