#!/bin/bash
# checkpoint and restore through the real CRIU (Debian's criu): a container
# counting in a file is checkpointed (it stops counting, it is gone), then
# restored, and counts on from where it stopped, without starting again.
# Runs only where `criu check` passes; otherwise skips with CRIU's own
# reason (CRIU 3.17 fails on some kernels' vDSO layout).
. "$(dirname "$0")/lib.sh"
need_root
CRIU=$(command -v criu || echo /usr/sbin/criu)
if [ ! -x "$CRIU" ]; then
	echo "1..0 # SKIP criu is not installed (Debian package criu)"
	exit 0
fi
if ! why=$("$CRIU" check 2>&1); then
	echo "1..0 # SKIP criu check fails on this machine, CRIU says: $(echo "$why" | tr '\n' ' ' | sed 's/ *$//')"
	exit 0
fi
setup
B=$(make_bundle count 'process.args=["/bin/sh","-c","i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done"]' \
	'linux.maskedPaths=[]')
count() { cat "$ROOTFS/tmp/count" 2>/dev/null || echo 0; }
oci run -d --bundle "$B" count </dev/null >/dev/null 2>&1
started() { [ "$(count)" -ge 3 ]; }
wait_for started && ok "the container counts" || not_ok "counting" "$(count)"
out=$(oci --criu "$CRIU" checkpoint --image-path "$TMP/img" count 2>&1); rc=$?
[ $rc = 0 ] && ok "checkpoint through CRIU" || not_ok "checkpoint" "rc=$rc $out $(tail -5 "$TMP/img/dump.log")"
at=$(count)
sleep 0.5
[ "$(count)" = "$at" ] && ok "it stopped counting at $at" || not_ok "stopped" "$at -> $(count)"
check "the container is gone, nothing left" assert_clean count
out=$(oci --criu "$CRIU" restore -d --bundle "$B" --image-path "$TMP/img" count 2>&1); rc=$?
[ $rc = 0 ] && ok "restore through CRIU" || not_ok "restore" "rc=$rc $out $(tail -5 "$TMP/img/restore.log")"
goes_on() { [ "$(count)" -gt "$((at + 2))" ]; }
wait_for goes_on && ok "it counts on from $at (now $(count)): no restart" || not_ok "counts on" "$at -> $(count)"
[ "$(status_of count)" = running ] && ok "state: running" || not_ok "state" "$(oci state count 2>&1)"
check "delete" oci delete -f count
check "nothing left" assert_clean count
done_testing
