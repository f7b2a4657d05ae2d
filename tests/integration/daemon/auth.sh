#!/bin/bash
# SPDX-License-Identifier: MIT
# Who may use the API: root and members of the socket's group. Others cannot connect
# (socket mode 0660), and even through a socket opened to everyone the daemon's peer
# credential check (SO_PEERCRED) refuses them with 403.
. "$(dirname "$0")/lib.sh"
setup
command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) is missing"; exit 0; }
nobody_uid=$(id -u nobody 2>/dev/null) || { echo "1..0 # SKIP no user 'nobody'"; exit 0; }
nogroup=$(getent group nogroup | cut -d: -f3)
[ -n "$nogroup" ] || { echo "1..0 # SKIP no group 'nogroup'"; exit 0; }
other_gid=54321
mkdir -m 1777 "$T/pub"

as_nobody() { setpriv --reuid="$nobody_uid" --regid="$other_gid" --clear-groups "$@"; }
as_member() { setpriv --reuid="$nobody_uid" --regid="$other_gid" --groups="$nogroup" "$@"; }
# code CMD...: the status curl (run by CMD) gets; the body goes to $T/pub/body.$uid.
code() {
	"$@" sh -c 'curl -s -o "$1/body.$(id -u)" -w "%{http_code}" --max-time 10 --unix-socket "$2" http://x/1.0' \
		sh "$T/pub" "$SOCK"
}

daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
check_eq "the socket is mode 0660" 660 "$(stat -c %a "$SOCK")"
check_eq "root is served" 200 "$(code env)"
as_nobody curl -s --max-time 10 --unix-socket "$SOCK" http://x/1.0 >/dev/null 2>&1
check_eq "an unauthorized user cannot connect (curl: couldn't connect)" 7 $?
out=$(as_nobody "$VKC" --socket "$SOCK" list 2>&1)
rc=$?
check_eq "the CLI run by an unauthorized user exits 3" 3 "$rc"
check "and says permission denied" sh -c "printf '%s' '$out' | grep -q 'Permission denied'"
diag "$out"
daemon_stop >/dev/null 2>&1

# A socket anyone may open: the credential check is what refuses.
daemon_start --socket-mode 0666
check_eq "the socket is mode 0666" 666 "$(stat -c %a "$SOCK")"
check_eq "through an open socket an unauthorized user gets 403" 403 "$(code as_nobody)"
check "the refusal is a JSON error" python3 -c '
import json, sys; e = json.load(open(sys.argv[1]))["error"]; assert e["code"] == 403 and e["message"]' "$T/pub/body.$nobody_uid"
check_eq "nothing was defined by the refused user" 403 "$(as_nobody curl -s -o /dev/null -w '%{http_code}' \
	--unix-socket "$SOCK" http://x/1.0/instances -d "$(vm_json intruder)")"
check_eq "root is still served" 200 "$(code env)"
daemon_stop >/dev/null 2>&1

# The socket's group: its members are served (primary or supplementary group).
daemon_start --socket-group nogroup
check_eq "the socket belongs to the group" nogroup "$(stat -c %G "$SOCK")"
check_eq "a member (supplementary group) is served" 200 "$(code as_member)"
check_eq "a member (primary group) is served" 200 \
	"$(code setpriv --reuid="$nobody_uid" --regid="$nogroup" --clear-groups)"
check_eq "a non-member still cannot connect" 000 "$(code as_nobody)"
check_eq "no instance was defined by anyone refused" 0 \
	"$(curl -s --unix-socket "$SOCK" http://x/1.0/instances | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["instances"]))')"
check_stop "the daemon stops cleanly"
done_testing
