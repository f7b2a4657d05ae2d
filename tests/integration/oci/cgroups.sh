#!/bin/bash
# cgroups on this host's layout (v1 controllers + cgroup2 "unified" on hybrid
# hosts): every limit observed from inside the container, OOM kill at the
# memory limit, a fork bomb stopped by pids.max, cgroupsPath forms, removal.
. "$(dirname "$0")/lib.sh"
setup

mode=$("$OCI" features | sed -n 's/.*"io.virtkit.oci.cgroup.mode": "\(.*\)".*/\1/p')
diag "cgroup layout: $mode"
case $mode in
v1 | hybrid) ;;
*) echo "1..0 # SKIP these checks read v1 controller files; this host's cgroup layout is $mode (cgroupv2.sh covers v2)"; exit 0 ;;
esac

run_in() {
	name=$1; shift
	B=$(make_bundle "$name" "$@")
	oci run --bundle "$B" "$name" 2>&1
}

# memory: limit, reservation, swap (memory+swap), observed through the cgroup mount
if needs_cgroup_files "memory limit, reservation, swap, swappiness" memory \
	memory.limit_in_bytes memory.soft_limit_in_bytes memory.memsw.limit_in_bytes memory.swappiness; then
out=$(run_in mem 'linux.resources.memory={"limit":67108864,"reservation":33554432,"swap":134217728,"swappiness":10}' \
	'process.args=["/bin/sh","-c","cd /sys/fs/cgroup/memory; cat memory.limit_in_bytes memory.soft_limit_in_bytes memory.memsw.limit_in_bytes memory.swappiness"]' | tr '\n' ' ')
[ "$out" = "67108864 33554432 134217728 10 " ] && ok "memory limit, reservation, swap, swappiness" || not_ok "memory settings" "$out"
fi

# kernelTCP: the v1 TCP buffer limit (crun and runc 1.1 write it; it used to be ignored)
if needs_cgroup_files "memory kernelTCP" memory memory.kmem.tcp.limit_in_bytes; then
out=$(run_in kmemtcp 'linux.resources.memory={"limit":67108864,"kernelTCP":16777216}' \
	'process.args=["cat","/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes"]')
[ "$out" = 16777216 ] && ok "memory kernelTCP: memory.kmem.tcp.limit_in_bytes" || not_ok "kernelTCP" "$out"
fi

# memory limit -> the process over it is OOM-killed
if needs_cgroup_files "OOM kill" memory memory.memsw.limit_in_bytes memory.oom_control; then
B=$(make_bundle oom "mounts+={\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$TMP\",\"options\":[\"rbind\"]}" \
	'linux.resources.memory={"limit":33554432,"swap":33554432}' \
	'process.args=["/bin/sh","-c","dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null; echo child=$? > /out/oom.txt; sleep 60"]')
oci run -d --bundle "$B" oom
wait_for test -s "$TMP/oom.txt"
kills=$(sed -n 's/^oom_kill //p' $(cg memory oom)/memory.oom_control)
grep -q "child=137" "$TMP/oom.txt" && [ "${kills:-0}" -ge 1 ] && ok "writing past memory.limit gets the process OOM-killed (oom_kill=$kills)" || \
	not_ok "OOM kill" "$(cat "$TMP/oom.txt" 2>&1) $(cat $(cg memory oom)/memory.oom_control)"
oci delete -f oom
fi

# pids: a fork bomb stops at pids.max
if needs_cgroup_files "fork bomb" pids pids.max pids.current pids.events; then
B=$(make_bundle bomb "mounts+={\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$TMP\",\"options\":[\"rbind\"]}" \
	'linux.resources.pids={"limit":25}' \
	'process.args=["/bin/sh","-c","b() { b | b & }; b 2>/dev/null; sleep 1; echo bombed > /out/bomb.txt; sleep 60"]')
oci run -d --bundle "$B" bomb
wait_for test -s "$TMP/bomb.txt"
cur=$(cat $(cg pids bomb)/pids.current 2>/dev/null); ev=$(sed -n 's/^max //p' $(cg pids bomb)/pids.events 2>/dev/null)
[ -n "$cur" ] && [ "$cur" -le 25 ] && [ "${ev:-0}" -gt 0 ] && ok "a fork bomb stops at pids.limit (current=$cur, refused forks=$ev)" || not_ok "fork bomb" "cur=$cur events=$ev"
oci delete -f bomb && check "the fork bomb is gone after delete --force" assert_clean bomb
fi

# cpu
if needs_cgroup_files "cpu shares, quota, period" cpu cpu.shares cpu.cfs_quota_us cpu.cfs_period_us; then
out=$(run_in cpu 'linux.resources.cpu={"shares":512,"quota":20000,"period":100000}' \
	'process.args=["/bin/sh","-c","cd /sys/fs/cgroup/cpu; cat cpu.shares cpu.cfs_quota_us cpu.cfs_period_us"]' | tr '\n' ' ')
[ "$out" = "512 20000 100000 " ] && ok "cpu shares, quota, period" || not_ok "cpu" "$out"
fi
if needs_cgroup_files "cpuset" cpuset cpuset.cpus cpuset.mems; then
out=$(run_in cpuset 'linux.resources.cpu={"cpus":"0","mems":"0"}' 'process.args=["/bin/sh","-c","grep -E \"^(Cpus|Mems)_allowed_list\" /proc/self/status"]' | tr -s '\t\n' '  ')
[ "$out" = "Cpus_allowed_list: 0 Mems_allowed_list: 0 " ] && ok "cpuset: the process may only run on cpu 0" || not_ok "cpuset" "$out"
fi

# blkio
# the first whole disk in /proc/partitions
set -- $(awk 'NR > 2 && $4 !~ /[0-9]$/ {print $1, $2; exit}' /proc/partitions)
maj=${1:-254}; min=${2:-0}
if needs_cgroup_files "blkio throttling" blkio blkio.throttle.read_bps_device blkio.throttle.write_iops_device; then
out=$(run_in blkio "linux.resources.blockIO={\"throttleReadBpsDevice\":[{\"major\":$maj,\"minor\":$min,\"rate\":1048576}],\"throttleWriteIOPSDevice\":[{\"major\":$maj,\"minor\":$min,\"rate\":100}]}" \
	'process.args=["/bin/sh","-c","cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device"]' | tr '\n' ' ')
[ "$out" = "$maj:$min 1048576 $maj:$min 100 " ] && ok "blkio throttling on $maj:$min" || not_ok "blkio throttle" "$out"
fi
# A weight needs a proportional-share scheduler: blkio.weight (CFQ, old kernels)
# or blkio.bfq.weight (BFQ). With mq-deadline or none neither file exists; then
# the runtime must refuse the weight (never ignore it) and name the file.
if wfile=$(host_cgroup_file blkio blkio.weight blkio.bfq.weight); then
	out=$(run_in blkw 'linux.resources.blockIO={"weight":300}' \
		"process.args=[\"/bin/cat\",\"/sys/fs/cgroup/blkio/$wfile\"]")
	echo "$out" | grep -q 300 && ok "blkio weight ($wfile: ${out%% *})" || not_ok "blkio weight" "$out"
else
	skip "blkio weight" "this host's blkio controller has neither blkio.weight nor blkio.bfq.weight (no disk uses BFQ; schedulers: $(sed 's/.*\[\(.*\)\].*/\1/' /sys/block/*/queue/scheduler 2>/dev/null | sort -u | paste -sd,))"
	if [ -d /sys/fs/cgroup/blkio ]; then
		out=$(run_in blkw 'linux.resources.blockIO={"weight":300}' 'process.args=["/bin/true"]')
		echo "$out" | grep -q "blkio.*weight" && ok "a blkio weight this host cannot apply fails, naming the file" || not_ok "blkio weight refused" "$out"
		check "the refused blkio weight leaves nothing behind" assert_clean blkw
	fi
fi

# hugetlb: on a hybrid host it lives in the unified (v2) hierarchy
if [ -e /sys/fs/cgroup/hugetlb ] || grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	out=$(run_in huge 'linux.resources.hugepageLimits=[{"pageSize":"2MB","limit":4194304}]' \
		'process.args=["/bin/sh","-c","cat /sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/unified/hugetlb.2MB.max"]')
	[ "$out" = 4194304 ] && ok "hugetlb 2MB limit ($mode: $( [ -e /sys/fs/cgroup/hugetlb ] && echo v1 || echo unified v2))" || not_ok "hugetlb" "$out"
else
	skip "hugetlb" "no hugetlb controller on this host"
fi

# unified (v2 files by name) on the hybrid v2 hierarchy
if [ "$mode" = hybrid ]; then
	out=$(run_in unif 'linux.resources.unified={"cgroup.max.descendants":"7"}' 'process.args=["cat","/sys/fs/cgroup/unified/cgroup.max.descendants"]')
	[ "$out" = 7 ] && ok "linux.resources.unified on the hybrid host's cgroup2" || not_ok "unified" "$out"
fi
out=$(run_in nocontroller 'linux.resources.unified={"bogus.file":"1"}' 'process.args=["/bin/true"]')
echo "$out" | grep -q "bogus.file" && ok "an unknown unified key fails, naming it" || not_ok "bad unified key" "$out"
check "failed cgroup setup leaves nothing behind" assert_clean nocontroller

# cgroupsPath forms
B=$(make_bundle nested "linux.cgroupsPath=/vkoci-nest-$$/a/b" 'process.args=["/bin/sleep","60"]')
oci run -d --bundle "$B" nested
[ -d /sys/fs/cgroup/memory/vkoci-nest-$$/a/b ] && [ -d /sys/fs/cgroup/unified/vkoci-nest-$$/a/b ] && ok "absolute cgroupsPath in every hierarchy" || not_ok "absolute cgroupsPath"
oci delete -f nested
[ ! -e /sys/fs/cgroup/memory/vkoci-nest-$$ ] && [ ! -e /sys/fs/cgroup/pids/vkoci-nest-$$ ] && ok "delete removes the cgroup and the parents it created" || not_ok "parents removed"
own=$(sed -n 's/^[0-9]*:pids:\(.*\)/\1/p' /proc/self/cgroup)
B=$(make_bundle rel "linux.cgroupsPath=vkoci-rel-$$" 'process.args=["/bin/sleep","60"]')
oci run -d --bundle "$B" rel
[ -d "/sys/fs/cgroup/pids${own%/}/vkoci-rel-$$" ] && ok "relative cgroupsPath below the runtime's own cgroup" || not_ok "relative cgroupsPath" "$(ls /sys/fs/cgroup/pids$own)"
oci delete -f rel
B=$(make_bundle sd "linux.cgroupsPath=vkoci$$-test.slice:vk:sd1" 'process.args=["/bin/sleep","60"]')
timeout 20 "$OCI" --root "$ROOT" --systemd-cgroup run -d --bundle "$B" sd1
[ -d /sys/fs/cgroup/memory/vkoci$$.slice/vkoci$$-test.slice/vk-sd1.scope ] && ok "--systemd-cgroup: slice:prefix:name maps to cgroupfs" || not_ok "systemd cgroup path" "$(ls /sys/fs/cgroup/memory)"
oci delete -f sd1
[ ! -e /sys/fs/cgroup/memory/vkoci$$.slice ] && ok "systemd-style path removed" || not_ok "systemd path removed"
out=$(run_in badpath 'linux.cgroupsPath=/../../etc' 'process.args=["/bin/true"]')
echo "$out" | grep -q "invalid cgroupsPath" && ok "cgroupsPath escaping the hierarchy is refused" || not_ok "cgroupsPath .." "$out"
done_testing
