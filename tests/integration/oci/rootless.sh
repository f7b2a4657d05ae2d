#!/bin/bash
# Rootless: an unprivileged user (uid 65534 through setpriv, no capabilities)
# runs a container from `spec --rootless`: a user namespace mapping it to
# root inside, no cgroups (no delegation here), host devices bound in.
. "$(dirname "$0")/lib.sh"
setup

U=65534
if ! command -v setpriv >/dev/null; then
	skip "rootless run" "setpriv (util-linux) is not installed"
	done_testing; exit 0
fi
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null)" = 0 ] || \
	[ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ]; then
	skip "rootless run" "unprivileged user namespaces are disabled on this kernel"
	done_testing; exit 0
fi
as_user() {
	(cd "$TMP" && timeout -k 5 "$T" setpriv --reuid=$U --regid=$U --clear-groups --inh-caps=-all \
		--bounding-set=-all env -i PATH=/usr/bin:/bin HOME=/ "$@")
}
RR=$TMP/rootless-state
mkdir -p "$RR" "$TMP/rl"
chown $U:$U "$RR" "$TMP/rl"
as_user "$OCI" spec --rootless --bundle "$TMP/rl" && ok "spec --rootless (as uid $U)" || not_ok "spec --rootless"
$CFG "$TMP/rl/config.json" "root.path=$ROOTFS" process.terminal=false \
	'process.args=["/bin/sh","-c","id -u; cat /proc/self/uid_map; hostname; echo $$; ls /dev/null && echo dev-ok; touch /dev/shm/x && echo shm-ok"]'
grep -q "\"hostID\": $U" "$TMP/rl/config.json" && ok "the rootless spec maps the caller's uid" || not_ok "rootless mapping"
out=$(as_user "$OCI" --root "$RR" run --bundle "$TMP/rl" rl1 2>&1); rc=$?
[ $rc = 0 ] && ok "an unprivileged user runs a container" || not_ok "rootless run" "rc=$rc $out"
echo "$out" | head -2 | tr -s ' \n' ' ' | grep -q "^0 0 $U 1 $" && ok "root inside is uid $U outside" || not_ok "rootless uid map" "$out"
echo "$out" | grep -qx virtkit && echo "$out" | grep -qx 1 && ok "own uts and pid namespaces" || not_ok "rootless namespaces" "$out"
echo "$out" | grep -q dev-ok && echo "$out" | grep -q shm-ok && ok "devices and tmpfs mounts inside the user namespace" || not_ok "rootless mounts" "$out"
[ -z "$(ls "$RR")" ] && ok "rootless run leaves no state" || not_ok "rootless state left" "$(ls "$RR")"
grep -q "$TMP" /proc/self/mountinfo && not_ok "rootless mounts left" || ok "rootless run leaves no mounts"
$CFG "$TMP/rl/config.json" 'process.args=["/bin/sleep","60"]'
as_user "$OCI" --root "$RR" run -d --bundle "$TMP/rl" rl2 && [ "$(as_user "$OCI" --root "$RR" state rl2 | grep -c running)" = 1 ] && \
	ok "rootless run -d + state" || not_ok "rootless detach"
out=$(as_user "$OCI" --root "$RR" exec rl2 id -u 2>&1)
[ "$out" = 0 ] && ok "rootless exec joins the user namespace" || not_ok "rootless exec" "$out"
as_user "$OCI" --root "$RR" delete -f rl2 && [ -z "$(ls "$RR")" ] && ok "rootless delete --force" || not_ok "rootless delete"
$CFG "$TMP/rl/config.json" 'linux.resources={"memory":{"limit":100000000}}' "linux.cgroupsPath=$CG_PREFIX/rl3"
out=$(as_user "$OCI" --root "$RR" run --bundle "$TMP/rl" rl3 2>&1)
echo "$out" | grep -q "rootless container: cannot create a cgroup for the memory limits" && ok "rootless limits without cgroup delegation: clear error" || not_ok "rootless limits" "$out"
[ -z "$(ls "$RR")" ] && ok "nothing left after it" || not_ok "state left after rootless failure"
$CFG "$TMP/rl/config.json" 'linux.resources-' 'linux.namespaces-=' 'linux.namespaces=[{"type":"pid"},{"type":"mount"}]' 'linux.uidMappings-' 'linux.gidMappings-' 'hostname-'
out=$(as_user "$OCI" --root "$RR" run --bundle "$TMP/rl" rl4 2>&1)
echo "$out" | grep -q "needs a user namespace" && ok "rootless without a user namespace: clear error" || not_ok "rootless without userns" "$out"
done_testing
