#!/bin/bash
# cgroup v2 code paths on a host whose controllers sit on v1: in a private
# mount namespace the v1 hierarchies are unmounted and cgroup2 is mounted on
# /sys/fs/cgroup, so virtkit-oci sees a pure v2 layout. Checked there: the
# eBPF device filter, the freezer (cgroup.freeze), hugetlb on v2, a clear
# error for controllers v2 does not have, and removal.
if [ -z "${VKOCI_V2_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
	command -v unshare >/dev/null || { echo "1..0 # SKIP no unshare(1)"; exit 0; }
	VKOCI_V2_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_root
for m in $(awk '$5 ~ "^/sys/fs/cgroup/" {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
umount -l /sys/fs/cgroup 2>/dev/null
if ! mount -t cgroup2 none /sys/fs/cgroup; then
	echo "1..0 # SKIP cannot mount cgroup2 here"
	exit 0
fi
setup

mode=$("$OCI" features | sed -n 's/.*"io.virtkit.oci.cgroup.mode": "\(.*\)".*/\1/p')
[ "$mode" = v2 ] && ok "the layout reads as cgroup v2" || not_ok "v2 layout" "$mode"

B=$(make_bundle devs "$(fuse_node_mount)" \
	"process.args=[\"/bin/sh\",\"-c\",\"$OPEN_FUSE; echo x > /dev/null && echo null-ok; head -c1 /dev/zero | wc -c\"]")
out=$(oci run --bundle "$B" devs 2>&1 | tr '\n' ' ')
[ "$out" = "fuse-denied null-ok 1 " ] && ok "eBPF device filter: c 10:229 denied, /dev/null and /dev/zero allowed" || not_ok "eBPF device filter" "$out"
B=$(make_bundle devsall 'linux.resources.devices=[{"allow":true,"access":"rwm"}]' "$(fuse_node_mount)" \
	"process.args=[\"/bin/sh\",\"-c\",\"$OPEN_FUSE\"]")
out=$(oci run --bundle "$B" devsall 2>&1)
[ "$out" = fuse-open ] && ok "eBPF device filter: an allow-all rule lets it through" || not_ok "allow all" "$out"
B=$(make_bundle devsro 'linux.resources.devices=[{"allow":false,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":5,"access":"w"}]' \
	'process.args=["/bin/sh","-c","head -c1 /dev/zero | wc -c; echo x > /dev/zero 2>/dev/null && echo zero-writable || echo zero-readonly"]')
out=$(oci run --bundle "$B" devsro 2>&1 | tr '\n' ' ')
# the default allow list comes after the spec's rules (as runc), so c 1:5 stays rw
[ "$out" = "1 zero-writable " ] && ok "eBPF device filter: defaults follow the spec's rules" || not_ok "rule order" "$out"

B=$(make_bundle frz "mounts+={\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$TMP\",\"options\":[\"rbind\"]}" \
	'process.args=["/bin/sh","-c","i=0; while :; do i=$((i+1)); echo $i > /out/c.tmp; mv /out/c.tmp /out/count; done"]')
oci run -d --bundle "$B" frz
wait_for test -s "$TMP/count"
oci pause frz && [ "$(cat /sys/fs/cgroup$CG_PREFIX/frz/cgroup.freeze)" = 1 ] && [ "$(status_of frz)" = paused ] && ok "pause writes cgroup.freeze" || not_ok "v2 pause"
a=$(cat "$TMP/count"); sleep 0.3; b=$(cat "$TMP/count")
[ "$a" = "$b" ] && ok "frozen on v2" || not_ok "frozen on v2" "$a $b"
oci resume frz && wait_for sh -c "[ \"\$(cat $TMP/count)\" != $b ]"; c=$(cat "$TMP/count")
[ "$c" != "$b" ] && ok "resume thaws on v2" || not_ok "v2 resume" "$b $c"
oci delete -f frz
check "v2 container removed" assert_clean frz

if grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers; then
	B=$(make_bundle huge 'linux.resources.hugepageLimits=[{"pageSize":"2MB","limit":2097152}]' 'process.args=["cat","/sys/fs/cgroup/hugetlb.2MB.max"]')
	out=$(oci run --bundle "$B" huge 2>&1)
	[ "$out" = 2097152 ] && ok "hugetlb.2MB.max on v2" || not_ok "v2 hugetlb" "$out"
else
	skip "hugetlb on v2" "no hugetlb controller in cgroup2 here"
fi
# v2 has no TCP buffer limit: kernelTCP is refused (as crun), never ignored.
if grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
	B=$(make_bundle kmemtcp 'linux.resources.memory={"kernelTCP":16777216}' 'process.args=["/bin/true"]')
	out=$(oci run --bundle "$B" kmemtcp 2>&1)
	echo "$out" | grep -q "linux.resources.memory.kernelTCP is not supported on cgroup v2" && ok "kernelTCP on v2: clear error" || not_ok "v2 kernelTCP" "$out"
	check "refused kernelTCP leaves nothing behind" assert_clean kmemtcp
else
	skip "kernelTCP on v2" "the memory controller is bound to v1 on this host, not in cgroup2's cgroup.controllers"
fi
if ! grep -qw pids /sys/fs/cgroup/cgroup.controllers; then
	B=$(make_bundle nopids 'linux.resources.pids={"limit":10}' 'process.args=["/bin/true"]')
	out=$(oci run --bundle "$B" nopids 2>&1)
	echo "$out" | grep -q "pids cgroup controller is not available" && ok "a controller v2 lacks here (pids): clear error" || not_ok "missing controller" "$out"
	check "missing controller leaves nothing behind" assert_clean nopids
else
	B=$(make_bundle pids 'linux.resources.pids={"limit":10}' 'process.args=["cat","/sys/fs/cgroup/pids.max"]')
	out=$(oci run --bundle "$B" pids 2>&1)
	[ "$out" = 10 ] && ok "pids.max on v2" || not_ok "v2 pids" "$out"
fi
done_testing
