#!/bin/bash
# SPDX-License-Identifier: MIT
# Saving, restoring and snapshots of a container through virtkitd (issue 15), with
# virtkit-oci and the stand-in criu (tests/integration/oci/criu-standin, first in the
# daemon's PATH as `criu`): CRIU cannot run on this machine's kernel (the real run is
# tests/integration/oci/criu-real.sh). `virtkit save` checkpoints it (shutoff, reason
# saved, nothing of it left in the runtime or the cgroups), `virtkit restore` brings it back
# through `virtkit-oci restore` in its cgroups; a snapshot (CRIU's images + a tar of the
# rootfs, taken paused) lets it run on, and its restore puts the rootfs back; CRIU failing
# on save or restore: the reason, the container as it was or nothing left.
. "$(dirname "$0")/lib.sh"
setup
if ! pick_oci_runtime; then
	echo "1..0 # SKIP no container runtime: $OCI_WHY"
	exit 0
fi
if [ "$OCI_RUNTIME" != "$VK_BUILD/src/oci/virtkit-oci" ]; then
	echo "1..0 # SKIP the stand-in criu needs virtkit-oci (runc talks to CRIU over RPC): $OCI_WHY"
	exit 0
fi
mkdir -p "$T/bin"
ln -s "$VK_SRC/tests/integration/oci/criu-standin" "$T/bin/criu"
export PATH=$T/bin:$PATH CRIU_STANDIN_LOG=$T/criu.log CRIU_STANDIN_FAIL_FILE=$T/criu-fail
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
last_criu() { tail -n 1 "$CRIU_STANDIN_LOG"; }
reason_of() { vk --format json info "$1" 2>/dev/null | json reason; }
pid_of() { vk --format json info "$1" 2>/dev/null | json runtime.pid; }
uuid_of() { vk --format json info "$1" 2>/dev/null | json uuid; }
cg_dirs() { ls -d /sys/fs/cgroup/*/virtkit/"$1" /sys/fs/cgroup/virtkit/"$1" 2>/dev/null; }
# ct NAME ROOTFS: a container that runs until stopped, without a terminal, no network.
ct() {
	echo "{\"name\":\"$1\",\"type\":\"container\",\"rootfs\":\"$2\",\"network\":\"none\",\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"trap 'exit 0' TERM; while :; do sleep 1; done\"],\"terminal\":false}}"
}
make_rootfs "$T/r1"
ct c1 "$T/r1" >"$T/c1.json"
check "launch a container" vk launch "$T/c1.json"
U=$(uuid_of c1)
P=$(pid_of c1)

# --- save: checkpoint, the container stops, nothing of it left
out=$(vk save c1 "$T/c1.save" 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "Saved 'c1' to $T/c1.save (.*); it is stopped" && ok "virtkit save: exit 0 ($out)" || not_ok "virtkit save" "rc=$rc $out"
case "$(last_criu)" in "dump --images-dir $T/c1.save/criu --work-dir $T/c1.save/criu --log-file dump.log "*"--tree $P "*) ok "through virtkit-oci checkpoint: criu dump of the container's process ($P) into FILE/criu" ;;
*) not_ok "criu dump command" "$(last_criu)" ;; esac
[ "$(state_of c1)" = shutoff ] && [ "$(reason_of c1)" = saved ] && ok "the instance is shut off, reason saved" || not_ok "state after save" "$(state_of c1) $(reason_of c1)"
[ -f "$T/c1.save/criu/inventory.img" ] && [ ! -e "$T/c1.save/rootfs.tar" ] && ok "FILE holds CRIU's images, no rootfs (a save leaves the rootfs as it is)" || not_ok "save folder" "$(ls -R "$T/c1.save")"
[ ! -e "$T/run/oci/$U" ] && [ -z "$(cg_dirs "$U")" ] && ok "the runtime has no container and no cgroup of it left" || not_ok "left after save" "$(ls "$T/run/oci") $(cg_dirs "$U")"
out=$(vk save c1 "$T/c1b.save" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "not running" && ok "save of a stopped container: refused ($out)" || not_ok "save stopped" "rc=$rc $out"

# --- restore
out=$(vk restore "$T/c1.save" 2>&1); rc=$?
[ $rc = 0 ] && ok "virtkit restore FILE: exit 0" || not_ok "virtkit restore" "rc=$rc $out $(tail -5 "$T/daemon.log")"
case "$(last_criu)" in "restore --images-dir $T/c1.save/criu --work-dir $T/c1.save/criu --log-file restore.log -v4 --root $T/run/oci/$U/criu-root "*"--restore-detached --restore-sibling "*) ok "through virtkit-oci restore: criu restore from FILE/criu into the container's criu-root" ;;
*) not_ok "criu restore command" "$(last_criu)" ;; esac
[ "$(state_of c1)" = running ] && [ "$(reason_of c1)" = restored ] && ok "running, reason restored" || not_ok "state after restore" "$(state_of c1) $(reason_of c1)"
R=$(pid_of c1)
grep -q "/virtkit/$U\$" "/proc/$R/cgroup" 2>/dev/null && ok "the restored process ($R) is in the container's cgroups" || not_ok "restored cgroups" "pid=$R $(cat /proc/$R/cgroup 2>&1)"
grep -q "criu-root" /proc/self/mountinfo && not_ok "criu-root left mounted" || ok "no criu-root mount left"
check "stop the restored container" vk stop c1
[ "$(state_of c1)" = shutoff ] && [ ! -e "$T/run/oci/$U" ] && [ -z "$(cg_dirs "$U")" ] && ok "stopped: nothing left in the runtime or the cgroups" || not_ok "after stop" "$(state_of c1) $(cg_dirs "$U")"

# --- CRIU failing
check "start c1 again" vk start c1
P=$(pid_of c1)
echo dump >"$T/criu-fail"
out=$(vk save c1 "$T/c1f.save" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "criu dump failed (exit status 1): stand-in criu: dumping failed as asked" && ok "save with CRIU failing: its reason ($out)" || not_ok "save failing" "rc=$rc $out"
[ "$(state_of c1)" = running ] && [ "$(pid_of c1)" = "$P" ] && ok "the container runs on, same process" || not_ok "state after failed save" "$(state_of c1)"
[ ! -e "$T/c1f.save" ] && ok "no half-written save folder" || not_ok "save folder left" "$(ls -R "$T/c1f.save")"
rm -f "$T/criu-fail"
check "save it" vk save c1 "$T/c1c.save"
echo restore >"$T/criu-fail"
out=$(vk restore "$T/c1c.save" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "criu restore failed (exit status 1): stand-in criu: restoring failed as asked" && ok "restore with CRIU failing: its reason ($out)" || not_ok "restore failing" "rc=$rc $out"
[ "$(state_of c1)" = shutoff ] && ok "the instance is shut off" || not_ok "state after failed restore" "$(state_of c1)"
[ ! -e "$T/run/oci/$U" ] && [ -z "$(cg_dirs "$U")" ] && ! grep -q criu-root /proc/self/mountinfo && ok "nothing left: no runtime state, cgroup or mount" || not_ok "left after failed restore" "$(ls "$T/run/oci") $(cg_dirs "$U")"
rm -f "$T/criu-fail"
check "the same saved state restores once CRIU works" vk restore "$T/c1c.save"
out=$(vk save c1 "$T/c1c.save" 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "exists: a container is saved to a new folder" && ok "save to an existing folder: refused ($out)" || not_ok "save to existing" "rc=$rc $out"

# --- snapshots: CRIU images + the rootfs, the container runs on
make_rootfs "$T/r2"
ct c2 "$T/r2" >"$T/c2.json"
check "launch c2" vk launch "$T/c2.json"
U2=$(uuid_of c2)
P2=$(pid_of c2)
echo before >"$T/r2/data"
out=$(vk snapshot create c2 s1 2>&1); rc=$?
[ $rc = 0 ] && ok "snapshot create c2 s1" || not_ok "snapshot create" "rc=$rc $out"
SNAP=$T/state/snapshots/$U2/s1.vks
case "$(last_criu)" in "dump --images-dir $SNAP/criu "*"--tree $P2 --leave-running --freeze-cgroup "*) ok "criu dump --leave-running through the frozen cgroup (paused while the rootfs was taken)" ;;
*) not_ok "snapshot criu command" "$(last_criu)" ;; esac
[ "$(state_of c2)" = running ] && [ "$(pid_of c2)" = "$P2" ] && ok "the container runs on (same process, resumed)" || not_ok "after snapshot" "$(state_of c2)"
tar -xOf "$SNAP/rootfs.tar" data 2>/dev/null | grep -qx before && tar -tf "$SNAP/rootfs.tar" | grep -qx bin/busybox &&
	ok "the snapshot holds the rootfs (rootfs.tar: data, bin/busybox)" || not_ok "rootfs.tar" "$(tar -tf "$SNAP/rootfs.tar" 2>&1 | head)"
list=$(vk snapshot list c2 2>&1)
echo "$list" | grep -q "s1" && ok "snapshot list shows s1" || not_ok "snapshot list" "$list"
bytes=$(api GET "/1.0/instances/c2/snapshots" | head -n 1 | json snapshots.0.bytes)
[ "${bytes:-0}" -gt 1000000 ] && ok "its size counts the folder ($bytes bytes)" || not_ok "snapshot bytes" "$bytes"
check "pause c2" vk pause c2
check "snapshot create c2 s2 while paused" vk snapshot create c2 s2
[ "$(state_of c2)" = paused ] && ok "it stays paused" || not_ok "paused after snapshot" "$(state_of c2)"
check "resume c2" vk resume c2
echo after >"$T/r2/data"
touch "$T/r2/new-file"
out=$(vk snapshot restore c2 s1 2>&1); rc=$?
[ $rc != 0 ] && ok "snapshot restore of a running container is refused ($out)" || not_ok "restore while running" "$out"
[ "$(cat "$T/r2/data")" = after ] && ok "and its rootfs is untouched" || not_ok "rootfs touched by a refused restore"
check "stop --force c2" vk stop --force c2
check "snapshot restore c2 s1" vk snapshot restore c2 s1
[ "$(state_of c2)" = running ] && [ "$(reason_of c2)" = restored ] && ok "c2 runs again, restored" || not_ok "after snapshot restore" "$(state_of c2) $(reason_of c2)"
[ "$(cat "$T/r2/data")" = before ] && [ ! -e "$T/r2/new-file" ] && [ -x "$T/r2/bin/busybox" ] &&
	ok "its rootfs is the snapshot's again (data=before, the later file gone)" || not_ok "rootfs after snapshot restore" "$(cat "$T/r2/data") $(ls "$T/r2")"
case "$(last_criu)" in "restore --images-dir $SNAP/criu "*) ok "criu restore from the snapshot's images" ;; *) not_ok "snapshot restore criu command" "$(last_criu)" ;; esac
check "snapshot delete c2 s1" vk snapshot delete c2 s1
[ ! -e "$SNAP" ] && ! vk snapshot list c2 | grep -q "s1" && ok "s1 is gone (folder and list)" || not_ok "snapshot delete" "$(ls "$T/state/snapshots/$U2")"
# A snapshot whose rootfs.tar is damaged: the restore fails, the rootfs stays as it was.
check "snapshot create c2 s3" vk snapshot create c2 s3
TAR=$T/state/snapshots/$U2/s3.vks/rootfs.tar
cp "$TAR" "$T/s3.tar"
echo kept >"$T/r2/data"
check "stop --force c2 (again)" vk stop --force c2
# Cut between two entries: a whole archive to libarchive and GNU tar; its end is missing.
truncate -s 65536 "$TAR"
out=$(vk snapshot restore c2 s3 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "rootfs.tar' is cut short" && ok "a rootfs.tar cut between two entries is refused ($out)" || not_ok "cut rootfs.tar restored" "rc=$rc $out"
# The 100th entry's header checksum damaged: the unpack fails after writing part of the tree.
python3 - "$T/s3.tar" "$TAR" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    at = t.getmembers()[100].offset
data = bytearray(open(sys.argv[1], 'rb').read())
data[at + 148:at + 156] = b'0000000\0'
open(sys.argv[2], 'wb').write(data)
PY
out=$(vk snapshot restore c2 s3 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "rootfs.tar: a broken tar stream" && ok "a rootfs.tar damaged half-way is refused ($out)" || not_ok "damaged rootfs.tar restored" "rc=$rc $out"
[ "$(cat "$T/r2/data")" = kept ] && [ -x "$T/r2/bin/busybox" ] && [ ! -e "$T/r2.restoring" ] &&
	ok "the rootfs is as it was (data=kept, busybox there, no staging folder left)" || not_ok "rootfs after a failed restore" "$(cat "$T/r2/data") $(ls "$T")"
[ "$(state_of c2)" != running ] && ok "c2 did not start ($(state_of c2))" || not_ok "c2 after a failed restore" "$(state_of c2)"
check "kill c1" vk kill c1
check "undefine c2" vk undefine c2
[ ! -e "$T/state/snapshots/$U2" ] && ok "undefine removes its snapshots" || not_ok "snapshots after undefine" "$(ls "$T/state/snapshots/$U2")"
done_testing
