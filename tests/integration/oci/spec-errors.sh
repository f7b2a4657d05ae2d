#!/bin/bash
# Malformed config.json: every error names the offending field path, the
# command exits 1, and nothing is created.
. "$(dirname "$0")/lib.sh"
setup

# bad NAME WANT EDITS...: run with the edits; stderr must contain WANT.
bad() {
	name=$1 want=$2; shift 2
	B=$(make_bundle "$name" 'process.args=["/bin/true"]' "$@")
	oci run --bundle "$B" "$name" 2>"$TMP/err"; rc=$?
	if [ $rc = 1 ] && grep -qF -- "$want" "$TMP/err" && [ ! -e "$ROOT/$name" ]; then
		ok "$want"
	else
		not_ok "$want" "rc=$rc $(cat "$TMP/err")"
	fi
}

bad limit "config.json: linux.resources.memory.limit: expected an integer, got a string" 'linux.resources.memory={"limit":"big"}'
bad args "config.json: process.args: expected an array, got a string" 'process.args="sh"'
bad opt "config.json: mounts[1].options[0]: expected a string, got an integer" 'mounts[1].options[0]=5'
bad nstype "config.json: linux.namespaces[0].type: unknown namespace type 'bogus'" 'linux.namespaces[0].type=bogus'
bad rlimit "config.json: process.rlimits[0].type: unknown rlimit 'RLIMIT_BOGUS'" 'process.rlimits[0].type=RLIMIT_BOGUS'
bad version "config.json: ociVersion: unsupported version '2.0.0'" 'ociVersion=2.0.0'
bad noroot "config.json: root: required field is missing" 'root-'
bad uid "config.json: process.user.uid: expected a non-negative integer" 'process.user.uid=-1'
bad mapsize "config.json: linux.uidMappings[0]: size must be positive" 'linux.uidMappings=[{"containerID":0,"hostID":1000,"size":0}]'
bad arch "config.json: linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_PDP11'" 'linux.seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_PDP11"]}'
bad cwd "config.json: process.cwd: must be an absolute path" 'process.cwd=relative'
bad uts "config.json: hostname: setting the hostname needs a uts namespace" 'linux.namespaces=[{"type":"mount"}]' 'hostname=x'
bad dev "config.json: linux.devices[0].type: must be one of c, b, u, p" 'linux.devices=[{"path":"/dev/x","type":"q","major":1,"minor":1}]'
bad swappiness "config.json: linux.resources.memory.swappiness: must be between 0 and 100" 'linux.resources.memory={"swappiness":101}'
bad access "config.json: linux.resources.devices[1]: access must be a combination of r, w and m" 'linux.resources.devices+={"allow":true,"access":"rwx"}'
bad rootfs "config.json: root.path: cannot use root filesystem" 'root.path=/nonexistent/rootfs'
bad mtype "config.json: mounts[7]: a mount needs a type or the bind option" 'mounts+={"destination":"/x"}'
bad fraction "config.json: linux.resources.pids.limit: expected an integer, got a number with a fraction" 'linux.resources.pids={"limit":1.5}'
bad noproc "config.json: process: required to create a container" 'process-'
bad idmapping "config.json: mounts[0].options[0]: option 'idmap' is not supported" 'mounts[0].options=["idmap"]'
B=$(make_bundle syntax 'process.args=["/bin/true"]')
printf '{"ociVersion": "1.0.2",\n  "root": {"path": "rootfs",}\n}\n' >"$B/config.json"
oci run --bundle "$B" syntax 2>"$TMP/err"
grep -q "config.json: invalid JSON at line 2 column" "$TMP/err" && ok "a JSON syntax error gives its line and column" || not_ok "syntax error" "$(cat "$TMP/err")"
oci run --bundle "$TMP/nonexistent" nob 2>"$TMP/err"
grep -q "cannot use bundle '$TMP/nonexistent'" "$TMP/err" && ok "a missing bundle is named" || not_ok "missing bundle" "$(cat "$TMP/err")"
[ -z "$(ls "$ROOT" 2>/dev/null)" ] && ok "no state left by any of them" || not_ok "state left" "$(ls "$ROOT")"
done_testing
