#!/bin/bash
# SPDX-License-Identifier: MIT
# Remotes (issue 17), two virtkitd on one host (127.0.0.1 only), each with its own state,
# socket and port: the CLI adds the second as a remote with a join token (the token's
# fingerprint checked before it is sent), then lists, starts, execs in, attaches to and
# stops a container there by REMOTE:NAME, follows its events over TLS, switches the default
# remote; a pinned certificate that changes is refused; a client the server does not trust
# gets 403 until it is trusted.
. "$(dirname "$0")/lib.sh"
setup
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl is not installed"; exit 0; }
have_ct=1
pick_oci_runtime || { have_ct=0; diag "no container runtime ($OCI_WHY): a fake VM stands in"; }

# The remote daemon "b" (the test's main daemon: its shims are cleaned up by teardown).
daemon_start --listen 127.0.0.1:0 || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
SOCK_B=$SOCK
PORT_B=$(vk host --format json | json tls.address | sed 's/.*://')
FP_B=$(vk host --format json | json tls.fingerprint)
vkb() { timeout -k 5 "$TO" "$VKC" --socket "$SOCK_B" "$@"; }

# The local daemon "a": another socket, state and run folder.
SOCK_A=$T/a.sock
"$VKD" --socket "$SOCK_A" --state-dir "$T/state-a" --run-dir "$T/run-a" --vm-binary "$FAKE_VM" \
	--oci-runtime "${OCI_RUNTIME:-/nonexistent}" --listen 127.0.0.1:0 >>"$T/daemon-a.log" 2>&1 &
CLEANUP_PIDS="$!"
wait_for curl -sf --unix-socket "$SOCK_A" http://x/1.0 || not_ok "the second virtkitd starts"
FP_A=$(timeout 10 "$VKC" --socket "$SOCK_A" host --format json | json tls.fingerprint)
[ "$FP_A" != "$FP_B" ] && ok "two daemons, two server certificates" ||
	not_ok "two daemons, two server certificates" "$FP_A / $FP_B"

# The client: local is "a"; its configuration in the test folder.
export VIRTKIT_SOCKET=$SOCK_A VIRTKIT_CONFIG=$T/config
v() { timeout -k 5 "$TO" "$VKC" "$@"; }
has() { printf '%s\n' "$1" | grep -q -- "$2"; } # has TEXT PATTERN
rc_of() { "$@" >/dev/null 2>&1; echo $?; }

# --- remote add with a token ----------------------------------------------------------------
tok_a=$(timeout 10 "$VKC" --socket "$SOCK_A" trust token wrong-server 2>/dev/null)
out=$(v remote add b "https://127.0.0.1:$PORT_B" --token "$tok_a" 2>&1)
check_eq "a token of another server: refused before it is sent (exit 1)" 1 $?
check "... saying so" has "$out" 'not the one the token was made by'
check "... and that token is still unspent on its server" sh -c \
	"$VKC --socket $SOCK_A trust list | grep -q \"token 'wrong-server'\""
check_eq "nothing was added" "local" "$(v remote list --format json | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)["remotes"]))')"

tok=$(vkb trust token laptop 2>/dev/null)
check "remote add b URL --token TOKEN" v remote add b "https://127.0.0.1:$PORT_B" --token "$tok"
check_eq "remote list: local and b, b's fingerprint kept" "local b ${FP_B:0:12}" \
	"$(v remote list --format json | python3 -c 'import json,sys; r=json.load(sys.stdin)["remotes"]; print(r[0]["name"], r[1]["name"], r[1]["fingerprint"][:12])')"
check "remote list (table)" sh -c "$VKC remote list | grep -q '^b *https://127.0.0.1:$PORT_B *${FP_B:0:12}'"
check "b trusts the client under the token's name" sh -c "$VKC --socket $SOCK_B trust list | grep -q ' laptop '"
check_eq "the token is spent" 1 "$(rc_of v remote add b2 "https://127.0.0.1:$PORT_B" --token "$tok")"
check_eq "the client's key is private" 600 "$(stat -c %a "$T/config/client.key")"
check_eq "b: lists b's instances (none yet)" "[]" "$(v list b: --all --format json)"

# --- an instance on b, by REMOTE:NAME ------------------------------------------------------------
if [ $have_ct = 1 ]; then
	ct_json web "$CT_SHELL" true >"$T/web.json"
else
	vm_json web >"$T/web.json"
fi
check "define b: FILE defines on b" v define b: "$T/web.json"
check_eq "it is on b" web "$(vkb info web --format json | json name)"
check_eq "and not on a" 4 "$(rc_of v info web)"
check "start b:web" v start b:web
check_eq "b:web runs (info b:web)" running "$(v info b:web --format json | json state)"
check_eq "list b: shows it running" "web running" \
	"$(v list b: --format json | python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; print(i["name"], i["state"])')"
check_eq "list (local) does not" "[]" "$(v list --format json)"
if [ $have_ct = 1 ]; then
	out=$(v exec b:web -- sh -c 'echo hi-from-b; exit 3' 2>&1)
	check_eq "exec b:web over TLS: output and status" "hi-from-b 3" "$out $?"
	check_eq "exec b:web -i: standard input over TLS" "piped" "$(echo piped | v exec -i b:web -- cat)"
	out=$( (sleep 1; echo 'echo console-$((6*7))'; sleep 2) | timeout 20 "$VKC" console b:web 2>&1)
	case $out in *console-42*) ok "console b:web over TLS: typed command, its output" ;;
	*) not_ok "console b:web over TLS: typed command, its output" "$out" ;; esac
	big=$(v exec b:web -- sh -c 'i=0; while [ $i -lt 3000 ]; do echo "line $i of many"; i=$((i+1)); done' | wc -l)
	check_eq "a long output over TLS arrives whole" 3000 "$big"
else
	skip "exec over TLS" "no container runtime"
	skip "exec -i over TLS" "no container runtime"
	skip "console over TLS" "no container runtime"
	skip "long output over TLS" "no container runtime"
fi
v events b:web --count 2 --timeout 20 --format json >"$T/events.out" 2>&1 &
ev=$!
sleep 1
check "stop b:web" v stop b:web --timeout 20
wait $ev
check_eq "events b:web over TLS saw the stop" "stopping stopped" \
	"$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["event"] for l in open(sys.argv[1])))' "$T/events.out" 2>&1)"
check_eq "b:web is stopped" shutoff "$(v info b:web --format json | json state)"
check_eq "logs b:web work over TLS" 0 "$(rc_of v logs b:web)"

# --- names and errors ---------------------------------------------------------------------------
check_eq "an unknown remote: usage (exit 2)" 2 "$(rc_of v list nosuch:)"
check_eq "two remotes in one command: usage (exit 2)" 2 "$(rc_of v start b:web local:web)"
check_eq "an unknown instance on b: not found (exit 4)" 4 "$(rc_of v info b:nosuch)"
check_eq "local: names the unix socket" "[]" "$(v list local: --format json)"

# --- the default remote ----------------------------------------------------------------------------
check "remote switch b" v remote switch b
check_eq "without a prefix, commands go to b" web "$(v list --all --format json | json 0.name)"
check "version names the remote" sh -c "$VKC version | grep -q 'daemon at b (https://127.0.0.1:$PORT_B)'"
check "--socket still reaches a unix socket" sh -c "[ \"\$($VKC --socket $SOCK_A list --all --format json)\" = '[]' ]"
check "remote switch local" v remote switch local
check_eq "back to a" "[]" "$(v list --all --format json)"

# --- a pinned certificate that changes ---------------------------------------------------------------
cp "$T/config/servercerts/b.crt" "$T/b.crt.saved"
cp "$T/state-a/server.crt" "$T/config/servercerts/b.crt"
out=$(v list b: 2>&1); rc=$?
check_eq "a server presenting another certificate: refused (exit 3)" 3 $rc
check "... saying so" has "$out" 'does not present the certificate this client trusts'
cp "$T/b.crt.saved" "$T/config/servercerts/b.crt"
check "the right one works again" v list b:

# --- a client b does not trust -------------------------------------------------------------------------
export VIRTKIT_CONFIG=$T/config2
out=$(v remote add b "https://127.0.0.1:$PORT_B" </dev/null 2>&1); rc=$?
check_eq "without a token and without a terminal: not accepted (exit 1)" 1 $rc
check "... showing the fingerprint to compare" has "$out" "$FP_B"
# On a terminal (script(1) gives it one; what is piped in is typed) the CLI asks.
out=$(printf 'n\n' | script -qec "'$VKC' remote add bt https://127.0.0.1:$PORT_B" /dev/null 2>&1)
check_eq "on a terminal, answering n: not accepted (exit 1)" 1 $?
check "... after showing the fingerprint and asking" sh -c "printf '%s' \"\$1\" | tr -d '\r' |
	grep -A1 'has the SHA-256 fingerprint' | grep -q '$FP_B' && printf '%s' \"\$1\" | grep -q 'Accept it (y/N)?'" _ "$out"
check "... and nothing was added" sh -c "! '$VKC' remote list | grep -q '^bt '"
printf 'y\n' | script -qec "'$VKC' remote add bt https://127.0.0.1:$PORT_B" /dev/null >"$T/ask.out" 2>&1
check_eq "answering y: added (exit 0)" 0 $?
check_eq "... with that fingerprint" "$FP_B" \
	"$(v remote list --format json | python3 -c 'import json,sys; print([r["fingerprint"] for r in json.load(sys.stdin)["remotes"] if r["name"] == "bt"][0])')"
check "remote remove bt" v remote remove bt
out=$(v remote add b "https://127.0.0.1:$PORT_B" --accept-certificate 2>&1)
check "--accept-certificate adds it, warning that b does not trust this client" \
	has "$out" 'does not trust this client'
out=$(v list b: 2>&1); rc=$?
check_eq "an untrusted client: refused (exit 1)" 1 $rc
check "... with the server's 403" has "$out" 'does not trust'
check "b trusts it once told" vkb trust add "$T/config2/client.crt" --name desk
check "then it is served" v list b: --all
check "remote remove b" v remote remove b
check_eq "a removed remote is unknown" 2 "$(rc_of v list b:)"
check_eq "its certificate is gone" 0 "$(ls "$T/config2/servercerts" | wc -l)"

kill "$CLEANUP_PIDS" 2>/dev/null
check_stop "virtkitd (b) stops"
done_testing
