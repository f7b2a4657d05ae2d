#!/bin/bash
# Podman as a real client: `podman --runtime <virtkit-oci>` on an image
# imported offline from the test's busybox rootfs, with private storage,
# runroot, tmpdir and runtime state under the test's temporary directory.
# Covers run --rm (with and without --tty), exit codes, exec, pause and
# unpause, stop, resource limits, and that rm leaves nothing behind.
. "$(dirname "$0")/lib.sh"
setup

if ! command -v podman >/dev/null || ! command -v conmon >/dev/null && [ ! -x /usr/libexec/podman/conmon ] && [ ! -x /usr/bin/conmon ]; then
	skip "podman" "podman (with conmon) is not installed"
	done_testing; exit 0
fi
# A wrapper so that every call podman makes (its cleanup process too) uses
# this test's state root; it also records what podman asked for.
cat >"$TMP/runtime" <<EOS
#!/bin/sh
echo "\$*" >> "$TMP/runtime.log"
exec "$OCI" --root "$TMP/ocistate" "\$@"
EOS
chmod 755 "$TMP/runtime"
cat >"$TMP/containers.conf" <<EOS
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOS
export CONTAINERS_CONF=$TMP/containers.conf
PARENT=/vkoci-podman-$$
# Podman's lock file is always /dev/shm/libpod_lock: remove it afterwards only
# if this test made it (a podman on the host may be using it).
LOCK_EXISTED=$([ -e /dev/shm/libpod_lock ] && echo 1)
pm() {
	timeout -k 5 60 podman --root "$TMP/storage" --runroot "$TMP/runroot" --tmpdir "$TMP/pmtmp" \
		--storage-driver vfs --runtime "$TMP/runtime" "$@"
}
prun() { pm run --network none --cgroup-parent "$PARENT" "$@"; }
podman_teardown() {
	prc=$?
	pm rm -a -f -t 0 >/dev/null 2>&1
	for d in /sys/fs/cgroup/*"$PARENT" /sys/fs/cgroup"$PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -z "$LOCK_EXISTED" ] && rm -f /dev/shm/libpod_lock
	(exit $prc)
	teardown
}
trap podman_teardown EXIT

tar -C "$ROOTFS" -cf "$TMP/busybox.tar" .
pm import "$TMP/busybox.tar" localhost/vkoci-busybox >/dev/null 2>&1 && ok "podman import of the busybox rootfs" || not_ok "podman import"
out=$(prun --rm localhost/vkoci-busybox echo hello-from-podman 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = hello-from-podman ] && ok "podman run --rm" || not_ok "podman run --rm" "rc=$rc $out"
grep -q "^create --bundle" "$TMP/runtime.log" && grep -q "^start " "$TMP/runtime.log" && ok "podman drove virtkit-oci (create, start, delete)" || not_ok "runtime used" "$(cat "$TMP/runtime.log")"
prun --rm localhost/vkoci-busybox sh -c 'exit 3'; rc=$?
[ $rc = 3 ] && ok "podman run passes the exit status" || not_ok "exit status" "rc=$rc"
out=$(prun --rm -t localhost/vkoci-busybox sh -c 'tty; [ -t 1 ] && echo is-a-tty' 2>&1 | tr -d '\r')
echo "$out" | grep -q "^/dev/pts/0$" && echo "$out" | grep -q is-a-tty && ok "podman run --rm --tty (console socket)" || not_ok "podman run -t" "$out"
prun --rm localhost/vkoci-busybox /no/such/program 2>"$TMP/err"; rc=$?
[ $rc = 127 ] && ok "podman maps a missing program to 127" || not_ok "missing program" "rc=$rc $(cat "$TMP/err")"
out=$(prun --rm -m 64m --pids-limit 50 localhost/vkoci-busybox sh -c 'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes 2>/dev/null || cat memory.max; cat pids/pids.max 2>/dev/null || cat pids.max' 2>&1 | tr '\n' ' ')
[ "$out" = "67108864 50 " ] && ok "podman run -m 64m --pids-limit 50" || not_ok "podman limits" "$out"

id=$(prun -d --name vk1 localhost/vkoci-busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' 2>/dev/null)
[ -n "$id" ] && [ "$(pm inspect -f '{{.State.Status}}' vk1)" = running ] && ok "podman run -d" || not_ok "podman run -d" "$id"
[ -d "$TMP/ocistate/$id" ] && ok "the container's state is under the test's runtime root" || not_ok "state location" "$(ls "$TMP/ocistate")"
out=$(pm exec vk1 sh -c 'echo exec-$((40+2))' 2>&1)
[ "$out" = exec-42 ] && ok "podman exec" || not_ok "podman exec" "$out"
pm exec vk1 sh -c 'exit 4'; rc=$?
[ $rc = 4 ] && ok "podman exec passes the exit status" || not_ok "exec status" "rc=$rc"
out=$(pm exec -t vk1 tty 2>&1 | tr -d '\r')
echo "$out" | grep -q "^/dev/pts/" && ok "podman exec --tty" || not_ok "podman exec -t" "$out"
pm pause vk1 >/dev/null && [ "$(pm inspect -f '{{.State.Status}}' vk1)" = paused ] && \
	"$OCI" --root "$TMP/ocistate" state "$id" | grep -q '"status": "paused"' && ok "podman pause (freezer)" || not_ok "podman pause"
pm unpause vk1 >/dev/null && [ "$(pm inspect -f '{{.State.Status}}' vk1)" = running ] && ok "podman unpause" || not_ok "podman unpause"
pm stop -t 5 vk1 >/dev/null && [ "$(pm inspect -f '{{.State.ExitCode}}' vk1)" = 0 ] && ok "podman stop (SIGTERM reaches the container)" || not_ok "podman stop" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' vk1)"
pm rm vk1 >/dev/null && [ ! -e "$TMP/ocistate/$id" ] && [ -z "$(ls -d /sys/fs/cgroup/*"$PARENT"/libpod-"$id" 2>/dev/null)" ] && \
	ok "podman rm: no state, no cgroups left" || not_ok "podman rm leftovers" "$(ls "$TMP/ocistate"; ls -d /sys/fs/cgroup/*"$PARENT"/* 2>/dev/null)"
id=$(prun -d localhost/vkoci-busybox sleep 300 2>/dev/null)
pm stop -t 1 "$id" >/dev/null 2>&1; [ "$(pm inspect -f '{{.State.ExitCode}}' "$id")" = 137 ] && ok "podman stop falls back to SIGKILL (137)" || not_ok "stop SIGKILL"
pm rm "$id" >/dev/null
[ -z "$(ls "$TMP/ocistate" 2>/dev/null)" ] && ok "no runtime state left after the podman tests" || not_ok "state left" "$(ls "$TMP/ocistate")"
done_testing
