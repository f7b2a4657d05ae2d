#!/bin/bash
# SPDX-License-Identifier: MIT
# Saving, restoring and snapshots of a VM through virtkitd (issue 15), on the shared
# riscv64 guest under the real virtkit-vm: `virtkit save` stops it (shutoff, saved), `virtkit
# restore FILE` brings back that instance without a reboot (what it wrote to tmpfs is
# there, one ready marker in the console log), 20 cycles in a row; refusals (not running,
# already running, a file no instance was saved to, a corrupt file, relative paths);
# snapshots of a VM with a read-only disk (create, list, restore after a forced stop,
# delete), refused with the reason for a VM with a writable disk; undefine removes them.
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
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
wait_for_long() {
	local i=0
	while [ $i -lt 300 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
reason_of() { vk --format json info "$1" 2>/dev/null | json reason; }
ready_count() { "$VKC" --socket "$SOCK" logs "$1" | grep -c VIRTKIT-GUEST-READY; }
booted() { [ "$(ready_count "$1")" -ge 1 ]; }

truncate -s 1M "$T/disk.img"
truncate -s 1M "$T/ro.img"
guest_json() { # NAME DISK READONLY
	cat <<JSON
{"name":"$1","type":"vm","arch":"riscv64","memory":"128M","cpus":1,
 "kernel":"$G/Image","initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0",
 "disks":[{"path":"$2","readonly":$3}],"rng":true}
JSON
}
guest_json guest "$T/disk.img" false >"$T/guest.json"
guest_json snapper "$T/ro.img" true >"$T/snapper.json"

# --- save and restore through the CLI ---------------------------------------------------
check "define the guest" vk define "$T/guest.json"
check "start it" vk start guest
check "the guest boots" wait_for_long booted guest
check "it writes to its tmpfs" console_expect guest "echo kept-\$((6*7)) > /tmp/m; echo wrote" "wrote"
out=$(vk save guest "$T/guest.vks" 2>&1)
check_eq "virtkit save: exit 0" 0 $?
diag "$out"
check_eq "the instance is shut off, reason saved" "shutoff saved" "$(state_of guest) $(reason_of guest)"
check "the state file exists" test -s "$T/guest.vks"
out=$(vk restore "$T/guest.vks" 2>&1)
check_eq "virtkit restore FILE: exit 0 ($out)" 0 $?
check_eq "running, reason restored" "running restored" "$(state_of guest) $(reason_of guest)"
check "the guest's memory came back (no reboot)" console_expect guest "cat /tmp/m" "kept-42"
check_eq "one ready marker in the console log: it did not boot again" 1 "$(ready_count guest)"
ok_cycles=0
for i in $(seq 1 19); do
	vk save guest "$T/guest.vks" >/dev/null 2>&1 &&
		state_is guest shutoff &&
		vk restore "$T/guest.vks" >/dev/null 2>&1 &&
		console_expect guest "echo cycle-$i-\$(cat /tmp/m)" "cycle-$i-kept-42" >/dev/null &&
		ok_cycles=$((ok_cycles + 1))
done
check_eq "19 more save/restore cycles: 20 in a row" 19 "$ok_cycles"

# --- refusals ----------------------------------------------------------------------------
out=$(vk restore "$T/guest.vks" 2>&1)
rc=$?
check_eq "restore of a running instance: conflict (exit 5: $out)" 5 "$rc"
out=$(vk restore "$T/nothing-here.vks" 2>&1)
rc=$?
check "restore of a file no instance was saved to: not found (exit $rc: $out)" \
	sh -c "[ $rc -eq 4 ] && echo \"$out\" | grep -q 'no instance was saved'"
resp=$(api POST /1.0/instances/guest/save -d '{"path":"relative.vks"}')
check_eq "HTTP save with a relative path: 400" 400 "$(echo "$resp" | tail -n 1)"
resp=$(api POST /1.0/instances/guest/save -d '{"path":"/tmp/x","speed":1}')
check_eq "HTTP save with an unknown field: 400" 400 "$(echo "$resp" | tail -n 1)"
check "save again (for the corrupt-file case)" vk save guest "$T/guest.vks"
python3 - "$T/guest.vks" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x55
open(p, 'wb').write(b)
PY
out=$(vk restore "$T/guest.vks" 2>&1)
rc=$?
check "a corrupt state file: refused with the reason (exit $rc: $out)" \
	sh -c "[ $rc -ne 0 ] && echo \"$out\" | grep -q 'checksum mismatch'"
check_eq "and the instance stays shut off" shutoff "$(state_of guest)"
out=$(vk save guest "$T/again.vks" 2>&1)
rc=$?
check_eq "save of a shut-off instance: conflict (exit 5: $out)" 5 "$rc"

# --- snapshots ---------------------------------------------------------------------------
check "start the guest again (a plain boot)" vk start guest
out=$(vk snapshot create guest s1 2>&1)
rc=$?
check "a snapshot of a VM with a writable raw disk is refused with the reason (exit $rc: $out)" \
	sh -c "[ $rc -eq 5 ] && echo \"$out\" | grep -q 'writable raw disk'"
check_eq "and the guest goes on" running "$(state_of guest)"
check "define a guest with a read-only disk" vk define "$T/snapper.json"
check "start it" vk start snapper
check "it boots" wait_for_long booted snapper
check "it writes a marker" console_expect snapper "echo before-snap > /tmp/a; echo ok-a" "ok-a"
check "snapshot create snapper s1" vk snapshot create snapper s1
check_eq "it goes on running" running "$(state_of snapper)"
check "it writes after the snapshot" console_expect snapper "echo after > /tmp/b; echo ok-b" "ok-b"
check "snapshot list shows s1" sh -c "$VKC --socket $SOCK --format json snapshot list snapper | grep -q '\"name\":\"s1\"'"
out=$(vk snapshot create snapper s1 2>&1)
check_eq "a second s1: conflict ($out)" 5 $?
out=$(vk snapshot restore snapper s1 2>&1)
check_eq "snapshot restore of a running VM: conflict ($out)" 5 $?
check "force-stop it" vk stop --force snapper
check "snapshot restore snapper s1" vk snapshot restore snapper s1
check_eq "running, restored" "running restored" "$(state_of snapper) $(reason_of snapper)"
check "the snapshot's memory: the marker written before it" console_expect snapper "cat /tmp/a" "before-snap"
check "and not what came after" console_expect snapper "ls /tmp/b 2>/dev/null || echo no-b" "no-b"
out=$(vk snapshot restore snapper nope 2>&1)
check_eq "restore of a snapshot that does not exist: not found ($out)" 4 $?
check_eq "HTTP: PUT on snapshots: 405" 405 "$(api PUT /1.0/instances/snapper/snapshots | tail -n 1)"
check_eq "HTTP: GET on one snapshot: 405" 405 "$(api GET /1.0/instances/snapper/snapshots/s1 | tail -n 1)"
check_eq "HTTP: an invalid snapshot name in the path: 400" 400 \
	"$(api DELETE /1.0/instances/snapper/snapshots/-x | tail -n 1)"
check_eq "HTTP: an invalid snapshot name in the body: 400" 400 \
	"$(api POST /1.0/instances/snapper/snapshots -d '{"name":"../x"}' | tail -n 1)"
check_eq "HTTP: a path under a snapshot other than restore: 404" 404 \
	"$(api POST /1.0/instances/snapper/snapshots/s1/revert | tail -n 1)"
check "snapshot delete snapper s1" vk snapshot delete snapper s1
check "the list is empty" sh -c "$VKC --socket $SOCK --format json snapshot list snapper | grep -q '\"snapshots\":\\[\\]'"
check "snapshot create with a generated name" vk snapshot create snapper
uuid=$(vk --format json info snapper | json uuid)
check "its file is in the state folder" sh -c "ls $T/state/snapshots/$uuid/snap-*.vks"
check "kill both" vk kill snapper guest
check "undefine the snapper" vk undefine snapper

# --- snapshots of a VM with a writable qcow2 disk: an overlay keeps the disk's moment ------
check "make a qcow2 disk" "$VM_BINARY" image create "$T/q.qcow2" --format qcow2 --size 1M
sed -e 's/"name":"snapper"/"name":"qguest"/' \
	-e "s|\"path\":\"$T/ro.img\",\"readonly\":true|\"path\":\"$T/q.qcow2\",\"format\":\"qcow2\"|" \
	"$T/snapper.json" >"$T/qguest.json"
disk_of() { vk --format json info qguest | json definition.disks.0.path; }
# The guest's view of its disk's first bytes, past its page cache.
read_disk='echo 3 > /proc/sys/vm/drop_caches; echo "disk:$(head -c 6 /dev/vda)"'
check "define a guest with a writable qcow2 disk" vk define "$T/qguest.json"
check "start it" vk start qguest
check "it boots" wait_for_long booted qguest
check "it writes disk-A to its disk, and a marker to tmpfs" console_expect qguest \
	"echo mem-\$((3*3)) > /tmp/a; echo disk-A | dd of=/dev/vda conv=fsync 2>/dev/null; echo done-\$((1+1))" "done-2"
out=$(vk snapshot create qguest q1 2>&1)
check_eq "snapshot create qguest q1: exit 0 ($out)" 0 $?
check_eq "the definition's disk is the overlay now" "$T/q.q1.qcow2" "$(disk_of)"
check "the overlay's backing file is the disk's image" sh -c \
	"'$VM_BINARY' image info '$T/q.q1.qcow2' --format qcow2 | grep -q '$T/q.qcow2'"
check "it writes disk-B over disk-A" console_expect qguest \
	"echo disk-B | dd of=/dev/vda conv=fsync 2>/dev/null; $read_disk" "disk:disk-B"
check "disk-B went to the overlay" grep -q disk-B "$T/q.q1.qcow2"
check "the image keeps disk-A, without disk-B" sh -c "grep -q disk-A $T/q.qcow2 && ! grep -q disk-B $T/q.qcow2"
check "force-stop it" vk stop --force qguest
out=$(vk snapshot restore qguest q1 2>&1)
check_eq "snapshot restore qguest q1: exit 0 ($out)" 0 $?
check_eq "running, restored" "running restored" "$(state_of qguest) $(reason_of qguest)"
check "its disk reads disk-A again (the snapshot's moment)" console_expect qguest "$read_disk" "disk:disk-A"
check "and its memory is the snapshot's" console_expect qguest "cat /tmp/a" "mem-9"
case "$(disk_of)" in
$T/q.r*.qcow2) ok "it runs on a new overlay over the snapshot's image ($(disk_of))" ;;
*) not_ok "it runs on a new overlay over the snapshot's image" "$(disk_of)" ;;
esac
check "a second restore finds the image unchanged: write disk-C now" console_expect qguest \
	"echo disk-C | dd of=/dev/vda conv=fsync 2>/dev/null; $read_disk" "disk:disk-C"
check "kill it" vk kill qguest
check "restore q1 again" vk snapshot restore qguest q1
check "disk-A again, not disk-C" console_expect qguest "$read_disk" "disk:disk-A"
check "kill it again" vk kill qguest
check "undefine qguest" vk undefine qguest
check "its disk images stay (the user's data)" test -s "$T/q.q1.qcow2"
check "its snapshots went with it" sh -c "[ ! -e $T/state/snapshots/$uuid ]"
check "undefine the guest" vk undefine guest
check_stop "the daemon stops cleanly"
done_testing
