#!/bin/bash
# The mount namespace: one joined by path gets the whole root built in it
# (root.path, mounts, pivot_root), as runc and crun do; without one the
# container inherits the runtime's: its mounts are made there below root.path,
# the root is entered with chroot, delete (or a failed create) removes the
# mounts, and what would change the host's own files is refused.
. "$(dirname "$0")/lib.sh"
setup

NO_MNT='linux.namespaces-={"type":"mount"}'
NO_PATHS='linux.maskedPaths-'
NO_RO='linux.readonlyPaths-'
RW='root.readonly=false'
# how many mounts there are below the test's rootfs
rootfs_mounts() { awk -v r="$ROOTFS/" 'index($5, r) == 1' /proc/self/mountinfo | wc -l; }

# 1. A mount namespace joined by path: the container sees its root.path and its
# mounts, not the namespace's tree (the root was not built at all before).
unshare --mount --propagation private sleep 300 &
holder=$!; CLEANUP_PIDS="$CLEANUP_PIDS $holder"
wait_for sh -c "[ \"\$(readlink /proc/$holder/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]"
holder_ns=$(readlink /proc/$holder/ns/mnt)
B=$(make_bundle joinmnt "linux.namespaces-={\"type\":\"mount\"}" "linux.namespaces+={\"type\":\"mount\",\"path\":\"/proc/$holder/ns/mnt\"}" \
	'process.args=["/bin/sh","-c","cat /etc/issue; test -e /work -o -e /usr/lib && echo host-root-visible; awk \"\\$5 == \\\"/proc\\\" || \\$5 == \\\"/dev/pts\\\" {print \\$5}\" /proc/self/mountinfo; readlink /proc/self/ns/mnt; cat /proc/keys | wc -c"]')
out=$(oci run --bundle "$B" joinmnt 2>&1 | tr '\n' ' ')
[ "$out" = "virtkit test rootfs /proc /dev/pts $holder_ns 0 " ] && \
	ok "a mount namespace joined by path: root.path, mounts and masked paths, in that namespace" || not_ok "joined mount namespace" "got '$out'"
check "joining a mount namespace leaves the host's mounts alone" assert_clean joinmnt
kill $holder; wait $holder 2>/dev/null

# 2. No mount namespace: the runtime's is inherited.
B=$(make_bundle shared "$NO_MNT" "$NO_PATHS" "$NO_RO" "$RW" 'linux.sysctl={"net.core.somaxconn":"1234"}' \
	'process.args=["/bin/sh","-c","cat /etc/issue; test -e /work && echo host-root-visible; readlink /proc/self/ns/mnt; echo $(ls /proc/self/fd | wc -l) fds; ls /dev/null /dev/pts/ptmx; cat /proc/sys/net/core/somaxconn"]')
out=$(oci run --bundle "$B" shared 2>&1 | tr '\n' ' ')
[ "$out" = "virtkit test rootfs $(readlink /proc/self/ns/mnt) 4 fds /dev/null /dev/pts/ptmx 1234 " ] && \
	ok "no mount namespace: the runtime's, chroot into root.path with the spec's mounts, devices and sysctls" || not_ok "shared mount namespace" "got '$out'"
check "run without a mount namespace removes its mounts" assert_clean shared

B=$(make_bundle sharedlong "$NO_MNT" "$NO_PATHS" "$NO_RO" "$RW" 'process.args=["/bin/sleep","300"]')
oci create --bundle "$B" sharedlong && oci start sharedlong
n=$(rootfs_mounts)
[ "$n" -ge 5 ] && ok "while it runs its mounts are in the runtime's namespace below root.path ($n)" || not_ok "shared mounts visible" "$n"
oci delete -f sharedlong
check "delete --force removes them" assert_clean sharedlong
oci create --bundle "$B" sharedcreated && [ "$(rootfs_mounts)" -ge 5 ] && oci delete sharedcreated && \
	ok "create then delete" || not_ok "create then delete"
check "delete of a created container removes them" assert_clean sharedcreated

# The container renames a directory that holds one of its mounts: delete finds
# it by its mount ID and still removes it (and nothing else).
mkdir -p "$ROOTFS/a/b"
B=$(make_bundle sharedmv "$NO_MNT" "$NO_PATHS" "$NO_RO" "$RW" 'mounts+={"destination":"/a/b","type":"tmpfs","source":"tmpfs"}' \
	'process.args=["/bin/sh","-c","mv /a /a2 && ln -s /dev /a && touch /a2/b/moved && sleep 300"]')
oci run -d --bundle "$B" sharedmv
wait_for awk -v p="$ROOTFS/a2/b" '$5 == p {f=1} END {exit !f}' /proc/self/mountinfo
oci delete -f sharedmv 2>"$TMP/err"
rm -rf "$ROOTFS/a" "$ROOTFS/a2"
[ ! -s "$TMP/err" ] && assert_clean sharedmv >/dev/null && ok "a mount whose parent the container renamed is removed too" || \
	not_ok "renamed mount" "$(cat "$TMP/err") $(assert_clean sharedmv)"

# Refused: what would hide or lock the host's own files, and mounts a user
# namespace could not make here.
refused() {
	name=$1; want=$2; shift 2
	B=$(make_bundle "$name" "$NO_MNT" "$@" 'process.args=["/bin/echo","ran"]')
	out=$(oci run --bundle "$B" "$name" 2>&1); rc=$?
	[ $rc != 0 ] && echo "$out" | grep -qF "$want" && ! echo "$out" | grep -q ran && assert_clean "$name" >/dev/null && \
		ok "no mount namespace: $name refused, nothing left" || not_ok "refused $name" "rc=$rc $out $(assert_clean "$name")"
}
refused masked "linux.maskedPaths and linux.readonlyPaths need a mount namespace" "$NO_RO" "$RW"
refused rootro "root.readonly needs a mount namespace" "$NO_PATHS" "$NO_RO" 'root.readonly=true'
refused prop "linux.rootfsPropagation needs a mount namespace" "$NO_PATHS" "$NO_RO" "$RW" 'linux.rootfsPropagation=rslave'
refused userns "mounts need a mount namespace (linux.namespaces: mount) with a user namespace" "$NO_PATHS" "$NO_RO" "$RW" \
	'linux.namespaces+={"type":"user"}' 'linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}]' \
	'linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
refused devices "linux.devices without a mount namespace need a /dev mount" "$NO_PATHS" "$NO_RO" "$RW" \
	'mounts=[{"destination":"/proc","type":"proc","source":"proc"}]' 'linux.devices=[{"path":"/dev/mynull","type":"c","major":1,"minor":3}]'

# A create that fails after some of its mounts were made removes them.
for at in mounts devices hooks ready pid-file; do
	B=$(make_bundle "fail-$at" "$NO_MNT" "$NO_PATHS" "$NO_RO" "$RW" 'process.args=["/bin/true"]')
	out=$(VIRTKIT_OCI_FAIL_AT=$at oci create --bundle "$B" "fail-$at" 2>&1); rc=$?
	if [ $rc = 0 ]; then
		skip "failed create at $at removes its mounts" "this build has no VIRTKIT_OCI_FAIL_AT (release build)"
		oci delete -f "fail-$at"
		break
	fi
	echo "$out" | grep -q "injected failure at $at" && assert_clean "fail-$at" >/dev/null && \
		ok "a create failing at '$at' removes the mounts it made" || not_ok "failure at $at" "$out $(assert_clean "fail-$at")"
done
done_testing
