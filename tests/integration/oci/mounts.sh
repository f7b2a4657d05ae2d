#!/bin/bash
# The root filesystem: readonly root, the spec's mounts and their options,
# masked and readonly paths, devices and /dev symlinks, sysctls, the cgroup
# mount, and mount targets that try to leave the root through symlinks.
. "$(dirname "$0")/lib.sh"
setup

# run_in NAME EDITS... -- prints the container's output (stdout+stderr).
run_in() {
	name=$1; shift
	B=$(make_bundle "$name" "$@")
	oci run --bundle "$B" "$name" 2>&1
}

out=$(run_in rootro 'root.readonly=true' 'process.args=["/bin/sh","-c","touch /x 2>&1; touch /dev/shm/ok && echo shm-ok"]')
echo "$out" | grep -q "Read-only file system" && echo "$out" | grep -q shm-ok && ok "root.readonly: / is readonly, /dev/shm is not" || not_ok "readonly root" "$out"
out=$(run_in rootrw 'root.readonly=false' 'process.args=["/bin/sh","-c","touch /rw-test && echo ok"]')
[ "$out" = ok ] && [ -e "$ROOTFS/rw-test" ] && ok "root.readonly=false: writes reach the rootfs" || not_ok "rw root" "$out"
rm -f "$ROOTFS/rw-test"

out=$(run_in masked 'process.args=["/bin/sh","-c","cat /proc/keys | wc -c; ls /proc/acpi | wc -l; grep -c \" /proc/keys \" /proc/self/mountinfo"]' | tr '\n' ' ')
[ "$out" = "0 0 1 " ] && ok "maskedPaths: files read empty, directories are empty" || not_ok "masked paths" "$out"
out=$(run_in ropaths 'process.args=["/bin/sh","-c","grep -E \" /proc/(sys|bus|irq) \" /proc/self/mountinfo"]')
[ "$(echo "$out" | grep -c ' ro,')" = 3 ] && ok "readonlyPaths: /proc/sys, /proc/bus, /proc/irq are readonly" || not_ok "readonly paths" "$out"

out=$(run_in devs 'linux.devices=[{"path":"/dev/mynull","type":"c","major":1,"minor":3,"fileMode":438,"uid":1000,"gid":1000}]' \
	'process.args=["/bin/sh","-c","stat -c \"%n %t:%T %a %u\" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mynull; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/mynull && echo wrote"]')
echo "$out" | grep -q "^/dev/null 1:3 666 0" && echo "$out" | grep -q "^/dev/tty 5:0 666" && \
	echo "$out" | grep -q "^/dev/urandom 1:9" && ok "default devices" || not_ok "default devices" "$out"
echo "$out" | grep -q "^/dev/mynull 1:3 666 1000" && echo "$out" | grep -q wrote && ok "linux.devices: node, mode, owner, allowed in the device cgroup" || not_ok "linux.devices" "$out"
echo "$out" | tr '\n' ' ' | grep -q "/proc/self/fd /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 pts/ptmx" && ok "/dev symlinks" || not_ok "/dev symlinks" "$out"
out=$(run_in devdeny "$(fuse_node_mount)" "process.args=[\"/bin/sh\",\"-c\",\"$OPEN_FUSE\"]")
[ "$out" = fuse-denied ] && ok "device cgroup denies a device not on the list (c 10:229)" || not_ok "device cgroup deny" "$out"
out=$(run_in devallow "$(fuse_node_mount)" 'linux.resources.devices+={"allow":true,"type":"c","major":10,"minor":229,"access":"rw"}' \
	"process.args=[\"/bin/sh\",\"-c\",\"$OPEN_FUSE\"]")
[ "$out" = fuse-open ] && ok "device cgroup allows it once a rule does" || not_ok "device cgroup allow" "$out"

mkdir -p "$TMP/share"; echo hostdata >"$TMP/share/f"
out=$(run_in bindro "mounts+={\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$TMP/share\",\"options\":[\"rbind\",\"ro\",\"nosuid\"]}" \
	'process.args=["/bin/sh","-c","cat /data/f; touch /data/g 2>&1; grep \" /data \" /proc/self/mountinfo"]')
echo "$out" | grep -q hostdata && echo "$out" | grep -q "Read-only" && echo "$out" | grep -q " /data ro,nosuid" && ok "bind mount with ro,nosuid" || not_ok "bind ro" "$out"
echo content >"$TMP/share/single"
out=$(run_in bindfile "mounts+={\"destination\":\"/etc/single\",\"type\":\"bind\",\"source\":\"$TMP/share/single\",\"options\":[\"bind\"]}" 'process.args=["cat","/etc/single"]')
[ "$out" = content ] && ok "bind mount of a file" || not_ok "bind file" "$out"
out=$(run_in tmpfs 'mounts+={"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["size=1m","mode=700","noexec"]}' \
	'process.args=["/bin/sh","-c","grep \" /scratch \" /proc/self/mountinfo; stat -c %a /scratch"]')
echo "$out" | grep -q "noexec.*size=1024k" && echo "$out" | grep -qx 700 && ok "tmpfs mount with size, mode, noexec" || not_ok "tmpfs" "$out"
out=$(run_in dev-mounts 'process.args=["/bin/sh","-c","grep -E \" /dev/(pts|shm|mqueue) \" /proc/self/mountinfo | sed \"s/^[^ ]* [^ ]* [^ ]* [^ ]* \\([^ ]*\\).* - \\([^ ]*\\) .*/\\1 \\2/\" | sort"]' | tr '\n' ' ')
[ "$out" = "/dev/mqueue mqueue /dev/pts devpts /dev/shm tmpfs " ] && ok "devpts, shm and mqueue mounts" || not_ok "dev mounts" "$out"
# What the "cgroup" mount shows depends on the layout: one directory per v1
# hierarchy (and "unified" on hybrid hosts), or the container's v2 cgroup.
layout=$(cgroup_layout)
out=$(run_in cgmount 'linux.resources.memory={"limit":123731968}' 'process.args=["/bin/sh","-c","ls /sys/fs/cgroup | tr \"\\n\" \" \"; echo; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"]')
case $layout in
hybrid) want="cpu .*memory .*pids .*unified" ;;
v1) want="cpu .*memory .*pids " ;;
*) want="cgroup.procs .*memory.max" ;;
esac
if [ "$layout" = v2 ] && ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
	skip "cgroup mount" "no memory controller in this host's cgroup2"
else
	echo "$out" | grep -q "$want" && echo "$out" | grep -q "^123731968$" && ok "cgroup mount shows the container's own cgroups ($layout)" || not_ok "cgroup mount" "$out"
fi

out=$(run_in propshared 'linux.rootfsPropagation=rshared' 'process.args=["/bin/sh","-c","awk \"\\$5 == \\\"/\\\"\" /proc/self/mountinfo"]')
echo "$out" | grep -q "shared:" && ok "rootfsPropagation rshared: / is a shared mount" || not_ok "rshared" "$out"
out=$(run_in propprivate 'linux.rootfsPropagation=rprivate' 'process.args=["/bin/sh","-c","awk \"\\$5 == \\\"/\\\"\" /proc/self/mountinfo"]')
[ -n "$out" ] && ! echo "$out" | grep -qE "shared:|master:" && ok "rootfsPropagation rprivate: / propagates nothing" || not_ok "rprivate" "$out"
# unbindable: the root is bound first, then made unbindable (runc's order);
# making the host's "/" unbindable first made the bind fail with EINVAL.
for p in unbindable runbindable; do
	out=$(run_in "prop$p" "linux.rootfsPropagation=$p" "mounts+={\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$TMP/share\",\"options\":[\"rbind\"]}" \
		'process.args=["/bin/sh","-c","awk \"\\$5 == \\\"/\\\" || \\$5 == \\\"/data\\\"\" /proc/self/mountinfo"]')
	n=$(echo "$out" | grep -c unbindable)
	case $p in unbindable) want=1 ;; *) want=2 ;; esac
	[ "$n" = "$want" ] && echo "$out" | awk '$5 == "/"' | grep -q unbindable && ok "rootfsPropagation $p: the container starts and / is unbindable" || not_ok "$p" "$out"
	check "rootfsPropagation $p leaves nothing behind" assert_clean "prop$p"
done
check "propagation changes leave the host's mounts alone" assert_clean propprivate
hostfwd=$(cat /proc/sys/net/ipv4/ip_forward)
out=$(run_in sysctl "linux.sysctl={\"net.ipv4.ip_forward\":\"$((1 - hostfwd))\"}" 'process.args=["cat","/proc/sys/net/ipv4/ip_forward"]')
[ "$out" = $((1 - hostfwd)) ] && [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$hostfwd" ] && ok "linux.sysctl in the container's network namespace" || not_ok "sysctl" "$out"
out=$(run_in sysctlbad 'linux.sysctl={"vm.swappiness":"10"}' 'process.args=["/bin/true"]')
echo "$out" | grep -q "not namespaced" && ok "a host-wide sysctl is refused" || not_ok "host sysctl refused" "$out"
check "refused sysctl leaves nothing behind" assert_clean sysctlbad

# mount targets that try to escape the root through symlinks
mkdir -p "$TMP/hostdir"
ln -s "$TMP/hostdir" "$ROOTFS/escape"
out=$(run_in escape 'mounts+={"destination":"/escape/sub","type":"tmpfs","source":"tmpfs"}' 'process.args=["/bin/true"]')
[ ! -e "$TMP/hostdir/sub" ] && [ -d "$ROOTFS$TMP/hostdir/sub" ] && ok "a symlinked mount target resolves inside the rootfs (openat2 RESOLVE_IN_ROOT)" || not_ok "symlink escape" "$out $(ls "$TMP/hostdir")"
rm -rf "$ROOTFS/escape" "${ROOTFS:?}/tmp/vkoci."*
mkdir -p "$TMP/r2"; cp -a "$ROOTFS/." "$TMP/r2/"; rmdir "$TMP/r2/proc"; mkdir -p "$TMP/r2/fakeproc"; ln -s /fakeproc "$TMP/r2/proc"
B=$(make_bundle procsym "root.path=$TMP/r2" 'process.args=["/bin/true"]')
out=$(oci run --bundle "$B" procsym 2>&1)
echo "$out" | grep -q "symlink" && ok "/proc on a symlink target is refused" || not_ok "/proc symlink target" "$out"
check "refused /proc mount leaves nothing behind" assert_clean procsym
out=$(run_in nomount 'mounts+={"destination":"/x","type":"nosuchfs","source":"none"}' 'process.args=["/bin/true"]')
echo "$out" | grep -q "cannot mount none on /x (type nosuchfs)" && ok "a failing mount names the mount" || not_ok "bad mount message" "$out"
check "failed mount leaves nothing behind" assert_clean nomount
out=$(run_in nopivot 'process.args=["/bin/sh","-c","echo in; cat /etc/issue"]')
B=$(make_bundle nopivot2 'process.args=["cat","/etc/issue"]')
out=$(oci run --no-pivot --bundle "$B" nopivot2 2>&1)
[ "$out" = "virtkit test rootfs" ] && ok "--no-pivot (MS_MOVE + chroot)" || not_ok "--no-pivot" "$out"
done_testing
