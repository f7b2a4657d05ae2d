#!/bin/bash
# Namespaces: each type created (observed from inside against the host), the
# user namespace's id maps, time offsets, and joining namespaces by path.
. "$(dirname "$0")/lib.sh"
setup

NS_ALL='linux.namespaces=[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]'

# ns_inside BUNDLE ID TYPE: the namespace link of the container's process.
ns_inside() { oci run --bundle "$1" "$2" 2>&1; }

for t in pid net ipc uts mnt cgroup; do
	if ! has_ns "$t"; then
		skip "$t namespace" "this kernel has no $t namespaces (/proc/self/ns/$t)"
		continue
	fi
	B=$(make_bundle "ns-$t" "$NS_ALL" "process.args=[\"readlink\",\"/proc/self/ns/$t\"]")
	in=$(oci run --bundle "$B" "ns-$t")
	host=$(readlink /proc/self/ns/$t)
	[ -n "$in" ] && [ "$in" != "$host" ] && ok "$t namespace is the container's own ($in)" || not_ok "$t namespace" "in=$in host=$host"
done
B=$(make_bundle ns-none 'linux.namespaces=[{"type":"pid"},{"type":"mount"}]' 'hostname-' \
	'process.args=["readlink","/proc/self/ns/net"]')
in=$(oci run --bundle "$B" ns-none)
[ "$in" = "$(readlink /proc/self/ns/net)" ] && ok "without a network namespace the host's is shared" || not_ok "shared netns" "$in"

B=$(make_bundle pid1 'process.args=["/bin/sh","-c","echo $$; ps | wc -l"]')
out=$(oci run --bundle "$B" pid1 | tr '\n' ' ')
[ "$out" = "1 4 " ] && ok "pid namespace: the process is pid 1 and sees only itself" || not_ok "pid ns" "$out"
B=$(make_bundle net 'process.args=["/bin/sh","-c","ls /sys/class/net"]')
out=$(oci run --bundle "$B" net | tr '\n' ' ')
[ "$out" = "lo " ] && ok "network namespace: only lo" || not_ok "net ns" "$out"
# As runc and crun: a new network namespace gets its loopback up (with
# 127.0.0.1); a namespace joined by path is left as it is.
B=$(make_bundle lo 'process.args=["/bin/sh","-c","cat /sys/class/net/lo/flags; ip -4 addr show lo | grep -o \"inet [0-9.]*\""]')
out=$(oci run --bundle "$B" lo 2>&1 | tr '\n' ' ')
[ "$out" = "0x9 inet 127.0.0.1 " ] && ok "network namespace: lo is up with 127.0.0.1" || not_ok "lo up" "$out"
unshare --net sleep 300 &
holder=$!; CLEANUP_PIDS="$CLEANUP_PIDS $holder"
wait_for sh -c "[ \"\$(readlink /proc/$holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
B=$(make_bundle lojoin "linux.namespaces-=$(printf '{"type":"network"}')" "linux.namespaces+={\"type\":\"network\",\"path\":\"/proc/$holder/ns/net\"}" \
	'process.args=["cat","/sys/class/net/lo/flags"]')
out=$(oci run --bundle "$B" lojoin 2>&1)
[ "$out" = 0x8 ] && nsenter --net=/proc/$holder/ns/net ip -o link show lo | grep -q "<LOOPBACK>" && \
	ok "a network namespace joined by path keeps its lo as it was (down)" || not_ok "joined netns lo" "$out"
kill $holder; wait $holder 2>/dev/null
B=$(make_bundle uts 'hostname=box1' 'domainname=example.test' 'process.args=["/bin/sh","-c","hostname; cat /proc/sys/kernel/domainname"]')
out=$(oci run --bundle "$B" uts | tr '\n' ' ')
[ "$out" = "box1 example.test " ] && ok "uts namespace: hostname and domainname" || not_ok "uts" "$out"
B=$(make_bundle cgns "$NS_ALL" 'process.args=["cat","/proc/self/cgroup"]')
out=$(oci run --bundle "$B" cgns)
echo "$out" | grep -q -v ':/$' && not_ok "cgroup namespace: every cgroup is / inside" "$out" || ok "cgroup namespace: every cgroup is / inside"
hostmni=$(cat /proc/sys/kernel/shmmni)
B=$(make_bundle ipc 'linux.sysctl={"kernel.shmmni":"1234"}' 'process.args=["cat","/proc/sys/kernel/shmmni"]')
out=$(oci run --bundle "$B" ipc)
[ "$out" = 1234 ] && [ "$(cat /proc/sys/kernel/shmmni)" = "$hostmni" ] && ok "ipc namespace: its sysctl is the container's own" || not_ok "ipc ns" "$out"


# time namespace with offsets
if [ -e /proc/self/ns/time ]; then
	B=$(make_bundle timens 'linux.namespaces+={"type":"time"}' 'linux.timeOffsets={"boottime":{"secs":86400,"nanosecs":0},"monotonic":{"secs":-5,"nanosecs":0}}' \
		'process.args=["cut","-d.","-f1","/proc/uptime"]')
	in=$(oci run --bundle "$B" timens); host=$(cut -d. -f1 /proc/uptime)
	[ -n "$in" ] && [ $((in - host)) -ge 86399 ] && [ $((in - host)) -le 86401 ] && ok "time namespace: boottime offset (+$((in - host)) s)" || not_ok "time ns" "in=$in host=$host"
else
	skip "time namespace" "kernel without time namespaces"
fi

# user namespace with a 65536-id map
if ! has_ns user; then
	skip "user namespace" "this kernel has no user namespaces (/proc/self/ns/user)"
else
B=$(make_bundle userns 'linux.namespaces+={"type":"user"}' \
	'linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}]' \
	'linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]' \
	"mounts+={\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$TMP/uout\",\"options\":[\"rbind\"]}" \
	'process.args=["/bin/sh","-c","id -u; cat /proc/self/uid_map; touch /out/file; ls /dev/null"]')
mkdir -p "$TMP/uout" "$ROOTFS/out"; chown 100000:100000 "$TMP/uout"
out=$(oci run --bundle "$B" userns 2>&1)
echo "$out" | head -1 | grep -qx 0 && echo "$out" | grep -q "0 *100000 *65536" && ok "user namespace: root inside, mapped to 100000" || not_ok "user ns" "$out"
[ "$(stat -c %u "$TMP/uout/file" 2>/dev/null)" = 100000 ] && ok "user namespace: files created inside belong to host uid 100000" || not_ok "userns file owner" "$(ls -ln "$TMP/uout")"
echo "$out" | grep -q "^/dev/null" && ok "user namespace: default devices bound from the host" || not_ok "userns devices" "$out"
check "user namespace container leaves nothing behind" assert_clean userns
fi

# joining namespaces by path
B=$(make_bundle target 'hostname=target' 'process.args=["/bin/sleep","300"]')
oci run -d --bundle "$B" target
tpid=$(oci state target | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
B=$(make_bundle joiner "linux.namespaces=[{\"type\":\"pid\",\"path\":\"/proc/$tpid/ns/pid\"},{\"type\":\"network\",\"path\":\"/proc/$tpid/ns/net\"},{\"type\":\"ipc\",\"path\":\"/proc/$tpid/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/$tpid/ns/uts\"},{\"type\":\"mount\"}]" \
	'hostname-' 'process.args=["/bin/sh","-c","hostname; readlink /proc/self/ns/net; ps | grep -c \"[s]leep 300\""]')
out=$(oci run --bundle "$B" joiner 2>&1 | tr '\n' ' ')
want="target $(readlink /proc/$tpid/ns/net) 1 "
[ "$out" = "$want" ] && ok "join pid, network, ipc and uts namespaces by path" || not_ok "join by path" "got '$out' want '$want'"
B=$(make_bundle badpath 'linux.namespaces=[{"type":"network","path":"/proc/self/ns/uts"},{"type":"mount"}]' 'hostname-' 'process.args=["/bin/true"]')
oci run --bundle "$B" badpath 2>"$TMP/err" && not_ok "joining a namespace of the wrong type fails" || \
	{ grep -q "not a network namespace" "$TMP/err" && ok "joining a namespace of the wrong type fails clearly" || not_ok "wrong ns type" "$(cat "$TMP/err")"; }
check "failed join leaves nothing behind" assert_clean badpath
oci delete -f target
done_testing
