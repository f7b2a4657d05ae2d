#!/bin/bash
# Terminals: the pty master handed over --console-socket (SCM_RIGHTS) for
# create/start and exec --tty, consoleSize, /dev/console, input and output
# through the pty, and the foreground proxy of run without a socket.
. "$(dirname "$0")/lib.sh"
setup

# recv NAME [INPUT]: start a receiver on $TMP/NAME.sock writing $TMP/NAME.out
recv() {
	python3 "$HERE/console-recv.py" "$TMP/$1.sock" "$TMP/$1.out" "${2:-}" &
	RECV=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $RECV"
	wait_for test -S "$TMP/$1.sock"
}

B=$(make_bundle tty 'process.terminal=true' 'process.consoleSize={"height":30,"width":100}' \
	'process.args=["/bin/sh","-c","tty; stty size; stat -c \"%t:%T\" /dev/console; [ -t 0 ] && echo stdin-is-a-tty"]')
recv tty
if oci create --console-socket "$TMP/tty.sock" --bundle "$B" tty && oci start tty; then ok "create + start with --console-socket"; else not_ok "create/start with console socket"; fi
wait $RECV
out=$(tr -d '\r' <"$TMP/tty.out")
echo "$out" | grep -q "^/dev/pts/0$" && ok "the process's terminal is the container's /dev/pts/0" || not_ok "tty name" "$out"
echo "$out" | grep -q "^30 100$" && ok "consoleSize sets the window size" || not_ok "consoleSize" "$out"
echo "$out" | grep -q "^88:0$" && ok "/dev/console is the pty (136:0)" || not_ok "/dev/console" "$out"
echo "$out" | grep -q stdin-is-a-tty && ok "stdin is the terminal" || not_ok "stdin tty" "$out"
grep -q "/dev/pts/0" "$TMP/tty.out.name" && ok "the SCM_RIGHTS message carries the pty name" || not_ok "message" "$(cat "$TMP/tty.out.name")"
oci delete -f tty

B=$(make_bundle ttyin 'process.terminal=true' 'process.args=["/bin/sh","-c","read line; echo got:$line"]')
recv ttyin "typed-text
"
oci run -d --console-socket "$TMP/ttyin.sock" --bundle "$B" ttyin
wait $RECV
grep -q "got:typed-text" "$TMP/ttyin.out" && ok "input typed into the pty reaches the process" || not_ok "tty input" "$(cat "$TMP/ttyin.out")"
oci delete -f ttyin

B=$(make_bundle ttyexec 'process.args=["/bin/sleep","60"]')
oci run -d --bundle "$B" ttyexec
recv ex
oci exec -t -d --console-socket "$TMP/ex.sock" ttyexec sh -c 'tty; echo exec-tty' 
wait $RECV
grep -q "exec-tty" "$TMP/ex.out" && grep -q "/dev/pts/" "$TMP/ex.out" && ok "exec --tty --console-socket" || not_ok "exec tty" "$(cat "$TMP/ex.out")"
oci delete -f ttyexec

B=$(make_bundle ttynosock 'process.terminal=true' 'process.args=["/bin/true"]')
oci create --bundle "$B" ttynosock 2>"$TMP/err"
grep -q "needs --console-socket" "$TMP/err" && ok "terminal without --console-socket on create: clear error" || not_ok "no socket" "$(cat "$TMP/err")"
check "no leftovers" assert_clean ttynosock
oci create --console-socket "$TMP/nonexistent.sock" --bundle "$B" ttybad 2>"$TMP/err"
grep -q "cannot connect to --console-socket" "$TMP/err" && ok "unreachable console socket: clear error" || not_ok "bad socket" "$(cat "$TMP/err")"
check "no leftovers after a bad console socket" assert_clean ttybad ttynosock

B=$(make_bundle proxy 'process.terminal=true' 'process.args=["/bin/sh","-c","read l; echo got:$l; tty"]')
out=$(echo proxied | oci run --bundle "$B" proxy 2>&1 | tr -d '\r')
echo "$out" | grep -q "got:proxied" && echo "$out" | grep -q "/dev/pts/0" && ok "run with a terminal and no socket proxies stdin/stdout" || not_ok "tty proxy" "$out"
done_testing
