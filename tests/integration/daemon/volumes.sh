#!/bin/bash
# SPDX-License-Identifier: MIT
# The storage pool "default" end to end, with the real virtkit-vm (its `image` command
# makes the images) and QEMU's tools as the judge: create, list, info (agreeing with
# `qemu-img info`), resize, delete; a linked clone is a qcow2 overlay on its base; bad
# input gets a clear error and leaves nothing behind; a volume cannot be deleted while a
# VM's definition attaches it or while it is a base; VM definitions attach volumes (JSON
# disks[].volume, libvirt <disk type='volume'>) and qcow2 files (<driver type='qcow2'>),
# both ways; the daemon's disk and virtio-slot limits are virtkit-vm's; and the riscv64
# guest started by the daemon from a volume overlay passes its selftest with the base
# byte-identical afterwards.
. "$(dirname "$0")/lib.sh"
setup
VM_BINARY=$VK_BUILD/src/vm/virtkit-vm
G=$VK_SHARED/guests/riscv64
[ -x "$VM_BINARY" ] || { echo "1..0 # SKIP $VM_BINARY is not built"; exit 0; }
command -v qemu-img >/dev/null || { echo "1..0 # SKIP qemu-img is not installed (qemu-utils)"; exit 0; }
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
P=$T/state/pools/default

rc_of() { "$@" >/dev/null 2>&1; echo $?; }
# qinfo FILE KEY: a key of `qemu-img info --output=json`.
qinfo() { qemu-img info -U --output=json "$1" | json "$2"; }
vinfo() { vk --format json volume info "$1" | json "$2"; }
pool_state() { (ls -A "$P"; vk --format json volume list | python3 -c '
import json, sys; print(sorted(v["name"] for v in json.load(sys.stdin)))') 2>&1; }

# --- create, list, info, resize ------------------------------------------------------------
check "create a qcow2 volume" vk volume create base --size 64M
check "create a raw volume" vk volume create scratch --size 1M --format raw
check_eq "its file is raw, of that size" "raw 1048576" \
	"$(qinfo "$P/scratch" format) $(qinfo "$P/scratch" virtual-size)"
check "create a linked clone" vk volume create web1 --from base
check_eq "the clone is a qcow2 overlay whose backing file is the base" \
	"qcow2 base $P/base qcow2" \
	"$(qinfo "$P/web1" format) $(qinfo "$P/web1" backing-filename) $(qinfo "$P/web1" full-backing-filename) $(qinfo "$P/web1" backing-filename-format)"
check_eq "list shows the three, the clone with its base" "base qcow2 -|scratch raw -|web1 qcow2 base" \
	"$(vk --format json volume list | python3 -c '
import json, sys
print("|".join("%s %s %s" % (v["name"], v["format"], v.get("base", {}).get("volume", "-"))
               for v in json.load(sys.stdin)))')"
agree=1
for v in base scratch web1; do
	for k in format virtual-size actual-size cluster-size backing-filename backing-filename-format; do
		a=$(qinfo "$P/$v" "$k"); b=$(vk --format json volume info "$v" | json "image.$k")
		[ "$a" = "$b" ] || { agree=0; diag "$v $k: qemu-img $a, virtkit $b"; }
	done
	[ "$(qinfo "$P/$v" virtual-size)" = "$(vinfo "$v" capacity)" ] || agree=0
	[ "$(qinfo "$P/$v" actual-size)" = "$(vinfo "$v" allocation)" ] || agree=0
done
check_eq "qemu-img info agrees with virtkit volume info (format, sizes, clusters, backing)" 1 "$agree"
check "volume info for people" sh -c "$VKC --socket $SOCK volume info web1 | grep -q '^Base: *base (qcow2)'"
check "grow a qcow2 volume" vk volume resize web1 96M
check_eq "qemu-img sees the new size" 100663296 "$(qinfo "$P/web1" virtual-size)"
check_eq "shrinking is refused: exit 1" 1 "$(rc_of vk volume resize web1 32M)"
check_eq "a base cannot be resized (its clones would change): exit 5" 5 "$(rc_of vk volume resize base 128M)"
check "a linked clone of an image file, its qcow2 format said" \
	sh -c "qemu-img create -q -f qcow2 '$T/golden.qcow2' 8M && $VKC --socket $SOCK volume create fromfile --from '$T/golden.qcow2' --from-format qcow2"
check_eq "the overlay's backing file is the file itself" "$T/golden.qcow2" "$(qinfo "$P/fromfile" backing-filename)"

# --- bad input: a clear error, exit status, nothing left behind -------------------------------
before=$(pool_state)
bad() { # bad NAME EXPECTED-EXIT GREP CLI-ARGS...
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$(vk volume create "$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$pat"; then ok "$name"
	else not_ok "$name" "exit $rc: $out"; fi
}
bad "size 0" 2 "--size must be more than 0" v0 --size 0
out=$(api POST /1.0/pools/default/volumes -d '{"name":"v0","size":0}')
check "HTTP: size 0 is a 400 naming the range" \
	sh -c "printf '%s' \"\$1\" | grep -q \"'size' must be between 512 bytes and 64 TiB\" && [ \"\$(printf '%s' \"\$1\" | tail -n 1)\" = 400 ]" sh "$out"
bad "an impossible size (1 PiB)" 1 "must be between" vbig --size 1048576G
bad "size not in sectors" 1 "whole number of 512-byte sectors" vodd --size 1000
bad "a size that is not one" 2 "invalid size '12Q'" vq --size 12Q
bad "a name with a '/'" 1 "'name' must be 1 to 63 letters" a/b --size 1M
bad "a name starting with '.'" 1 "'name' must be" .hidden --size 1M
bad "an existing name: exit 5" 5 "volume 'base' already exists" base --size 1M
bad "an unknown base: exit 4" 4 "no base volume 'nosuch'" v1 --from nosuch
bad "a missing base file" 4 "No such file or directory" v2 --from "$T/nosuch.img"
bad "a qcow2 file without its format is refused, not guessed" 1 "starts with a qcow2 header" v3 --from "$T/golden.qcow2"
bad "raw overlays do not exist" 1 "a linked clone is a qcow2 overlay" v4 --from base --format raw
bad "a clone smaller than its base" 1 "cannot be smaller than its base" v5 --from base --size 1M
check_eq "nothing was left behind (files and volumes)" "$before" "$(pool_state)"
check_eq "an unknown volume: info exits 4" 4 "$(rc_of vk volume info nosuch)"
check_eq "resize exits 4" 4 "$(rc_of vk volume resize nosuch 1G)"
check_eq "delete exits 4" 4 "$(rc_of vk volume delete nosuch)"
check_eq "HTTP: another pool is a 404" 404 "$(api GET /1.0/pools/other/volumes | tail -n 1)"
check_eq "HTTP: an unknown field is a 400" 400 \
	"$(api POST /1.0/pools/default/volumes -d '{"name":"x","size":"1M","preallocate":true}' | tail -n 1)"

# --- attached volumes -----------------------------------------------------------------------
cat >"$T/att.json" <<EOF
{"name":"att","type":"vm","arch":"riscv64","kernel":"$T/kernel",
 "disks":[{"volume":"web1"},{"path":"$T/golden.qcow2","format":"qcow2","readonly":true}]}
EOF
check "define a VM attaching a volume and a qcow2 file" vk define "$T/att.json"
out=$(vk volume delete web1 2>&1)
check_eq "deleting an attached volume: exit 5" 5 "$?"
check "naming the instance" sh -c "printf '%s' \"\$1\" | grep -q \"attached to instance 'att'\"" sh "$out"
check_eq "the volume stays" 1 "$([ -f "$P/web1" ] && vk volume info web1 >/dev/null 2>&1 && echo 1)"
out=$(vk volume delete base 2>&1)
check "a base cannot be deleted while a clone uses it" sh -c "printf '%s' \"\$1\" | grep -q \"base of volume 'web1'\"" sh "$out"
check_eq "used_by lists the VM" '["att"]' "$(vk --format json volume info web1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["used_by"]))')"
check_eq "a definition naming an unknown volume is refused: exit 4" 4 \
	"$(echo '{"name":"nov","type":"vm","arch":"riscv64","kernel":"/k","disks":[{"volume":"nosuch"}]}' | rc_of vk define -)"
check_eq "a disk format other than the volume's is refused: exit 1" 1 \
	"$(echo '{"name":"nov","type":"vm","arch":"riscv64","kernel":"/k","disks":[{"volume":"web1","format":"raw"}]}' | rc_of vk define -)"

# --- libvirt domain XML, both ways -------------------------------------------------------------
vk dumpxml att >"$T/att.xml"
check "export: <disk type='volume'> with <source pool='default' volume='web1'/>" \
	python3 - "$T/att.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot().findall('devices/disk')
assert d[0].get('type') == 'volume', d[0].attrib
assert d[0].find('source').attrib == {'pool': 'default', 'volume': 'web1'}
assert d[1].get('type') == 'file' and d[1].find('driver').get('type') == 'qcow2'
EOF
def0=$(vk --format json info att | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["definition"], sort_keys=True))')
vk undefine att >/dev/null
check "the export defines again" vk define "$T/att.xml"
check_eq "to the same definition" "$def0" \
	"$(vk --format json info att | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["definition"], sort_keys=True))')"
cat >"$T/virsh.xml" <<EOF
<domain type='qemu'><name>vx</name><memory unit='MiB'>128</memory>
  <os><type arch='riscv64' machine='virt'>hvm</type><kernel>$T/kernel</kernel></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>
      <source pool='default' volume='web1'/><target dev='vda' bus='virtio'/></disk>
  </devices></domain>
EOF
check "a libvirt document with a volume disk defines" vk define "$T/virsh.xml"
check_eq "its disk is the volume, qcow2" '[{"volume": "web1", "format": "qcow2", "readonly": false}]' \
	"$(vk --format json info vx | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["definition"]["disks"]))')"
vk undefine vx >/dev/null
sed -e "s/pool='default'/pool='images'/" -e 's/<name>vx/<name>vy/' "$T/virsh.xml" >"$T/other-pool.xml"
out=$(vk define "$T/other-pool.xml" 2>&1)
check "another pool is refused, naming the element" \
	sh -c "printf '%s' \"\$1\" | grep -q \"/domain/devices/disk/source: storage pool 'images' does not exist\"" sh "$out"

# --- limits: virtkit-vm's ------------------------------------------------------------------------
disks() { python3 -c "import json; print(json.dumps([{'path': '$T/kernel', 'readonly': True}] * $1))"; }
check_eq "9 disks are refused" 1 \
	"$(echo "{\"name\":\"l9\",\"type\":\"vm\",\"arch\":\"x86_64\",\"kernel\":\"/k\",\"disks\":$(disks 9)}" | rc_of vk define -)"
out=$(echo "{\"name\":\"lrv\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\",\"disks\":$(disks 6),\"networks\":[{},{}],\"rng\":true}" | vk define - 2>&1)
check "riscv64: 6 disks, 2 networks and the rng do not fit its 8 virtio slots" \
	sh -c "printf '%s' \"\$1\" | grep -q 'riscv64 board has 8 virtio slots, and 6 disks, 2 networks and the rng need 9'" sh "$out"
check "riscv64: 5 disks, 2 networks and the rng do" \
	sh -c "echo '{\"name\":\"lrv\",\"type\":\"vm\",\"arch\":\"riscv64\",\"kernel\":\"/k\",\"disks\":$(disks 5),\"networks\":[{},{}],\"rng\":true}' | $VKC --socket $SOCK define -"
check "x86_64: 8 disks, 4 networks and the rng (on PCI)" \
	sh -c "echo '{\"name\":\"lx\",\"type\":\"vm\",\"arch\":\"x86_64\",\"kernel\":\"/k\",\"disks\":$(disks 8),\"networks\":[{},{},{},{}],\"rng\":true}' | $VKC --socket $SOCK define -"
check_eq "x86_64: 5 networks are refused" 1 \
	"$(echo '{"name":"l5","type":"vm","arch":"x86_64","kernel":"/k","networks":[{},{},{},{},{}]}' | rc_of vk define -)"
vk undefine lrv lx >/dev/null

# --- the guest on a volume overlay --------------------------------------------------------------
guest_ok=1
if [ ! -f "$G/Image" ] || [ ! -f "$G/initramfs.cpio.gz" ]; then
	guest_ok=0; why="the shared riscv64 guest is not in $G"
fi
if [ $guest_ok = 1 ]; then
	qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' "$P/base" >/dev/null
	sum0=$(sha256sum <"$P/base")
	vk volume create vm1-disk --from base >/dev/null
	cat >"$T/guest.json" <<EOF
{"name":"guest","type":"vm","arch":"riscv64","memory":"128M","kernel":"$G/Image",
 "initrd":"$G/initramfs.cpio.gz","cmdline":"console=ttyS0 vk.mode=selftest",
 "disks":[{"volume":"vm1-disk"}],"networks":[{"type":"user"}],"rng":true}
EOF
	check "define the guest on the overlay volume" vk define "$T/guest.json"
	check "start it" vk start guest
	check_eq "a running VM's volume cannot be deleted: exit 5" 5 "$(rc_of vk volume delete vm1-disk)"
	check_eq "nor resized: exit 5" 5 "$(rc_of vk volume resize vm1-disk 1G)"
	sed -e 's/"guest"/"writer"/' -e 's/"vm1-disk"/"base"/' "$T/guest.json" >"$T/writer.json"
	vk define "$T/writer.json" >/dev/null
	out=$(vk start writer 2>&1)
	check "a VM cannot start with a base attached read-write" \
		sh -c "printf '%s' \"\$1\" | grep -q \"volume 'base' is the base of volume\"" sh "$out"
	vk undefine writer >/dev/null
	done_boot() { [ "$(state_of guest)" = shutoff ]; }
	i=0; while [ $i -lt 300 ] && ! done_boot; do sleep 1; i=$((i + 1)); done
	log=$(vk logs guest)
	check "the guest's selftest passes on the volume overlay" \
		sh -c "printf '%s' \"\$1\" | grep -q 'SELFTEST 6 passed, 0 failed'" sh "$log"
	printf '%s\n' "$log" | grep -E 'SELFTEST|not ok' | head -n 10 | while read -r l; do diag "$l"; done
	check_eq "the base volume is byte-identical afterwards" "$sum0" "$(sha256sum <"$P/base")"
	check "qemu-img check finds no error in the overlay" qemu-img check -q "$P/vm1-disk"
	qemu-img convert -f qcow2 -O raw "$P/vm1-disk" "$T/over.raw"
	check "the overlay holds the guest's write, the rest comes from the base" python3 - "$T/over.raw" <<'EOF'
import sys
raw = open(sys.argv[1], 'rb').read(8192)
assert b'virtkit-block-check' in raw[:512], raw[:64]
assert raw[4096:8192] == b'\x5a' * 4096
EOF
	check "once stopped, its volume can be deleted with the VM gone" \
		sh -c "$VKC --socket $SOCK undefine guest >/dev/null && $VKC --socket $SOCK volume delete vm1-disk >/dev/null && [ ! -e '$P/vm1-disk' ]"
else
	skip "the guest's selftest on a volume overlay" "$why"
fi

# --- a daemon restart keeps the pool; delete ----------------------------------------------------------
check_stop "the daemon stops"
daemon_start
check_eq "after a restart the volumes are there" "base fromfile scratch web1" \
	"$(vk --format json volume list | python3 -c 'import json,sys; print(" ".join(v["name"] for v in json.load(sys.stdin)))')"
vk undefine att >/dev/null
check "once detached, the clone is deleted, then its base" vk volume delete web1 base
check_eq "their files are gone" "fromfile scratch" "$(ls "$P" | paste -sd' ')"
check_eq "the file base of a clone is untouched" qcow2 "$(qinfo "$T/golden.qcow2" format)"
check_stop "the daemon stops cleanly"
done_testing
