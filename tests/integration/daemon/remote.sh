#!/bin/bash
# SPDX-License-Identifier: MIT
# Remote management over TLS (issue 17), on 127.0.0.1 only: the TLS listener (TLS 1.2+, a
# server certificate made at first start whose fingerprint `virtkit host` shows), the
# version banner as all an untrusted client gets, 403 without a trusted certificate,
# `virtkit trust add/list/remove` (a removal cuts the certificate's open connections at
# once), one-time join tokens.
. "$(dirname "$0")/lib.sh"
setup
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "1..0 # SKIP $t is not installed"; exit 0; }
done
daemon_start --listen 127.0.0.1:0 || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

addr=$(vk host --format json | json tls.address)
port=${addr##*:}
URL=https://127.0.0.1:$port
case $addr in 127.0.0.1:[1-9]*) ok "the TLS listener is bound on 127.0.0.1 (port $port)" ;;
*) not_ok "the TLS listener is bound on 127.0.0.1" "host says: $addr" ;; esac

# --- the server certificate --------------------------------------------------------------
fp_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
sfp=$(fp_of "$T/state/server.crt")
check_eq "virtkit host shows the server certificate's fingerprint" "$sfp" \
	"$(vk host --format json | json tls.fingerprint)"
check "the table output of host shows it too" sh -c "$VKC --socket $SOCK host | grep -q 'Fingerprint: *$sfp'"
check_eq "the key is private (mode 600)" 600 "$(stat -c %a "$T/state/server.key")"
check "the certificate names 127.0.0.1 (curl checks the name against it)" \
	curl -sf --max-time 10 --cacert "$T/state/server.crt" "$URL/1.0"
served=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
check_eq "the listener serves that certificate" "$sfp" "$served"

# --- protocol versions ---------------------------------------------------------------------
if curl -sk --max-time 10 --tls-max 1.1 "$URL/1.0" >/dev/null 2>&1; then
	not_ok "TLS 1.1 is refused" "curl --tls-max 1.1 got an answer"
else ok "TLS 1.1 is refused"; fi
check "TLS 1.2 is served" curl -sfk --max-time 10 --tlsv1.2 --tls-max 1.2 "$URL/1.0"
check "TLS 1.3 is served" curl -sfk --max-time 10 --tlsv1.3 "$URL/1.0"

# --- untrusted clients ----------------------------------------------------------------------
mkcert() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
	-out "$T/$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null; }
mkcert alice; mkcert bob; mkcert eve
tls() { local c=$1; shift; curl -sk --max-time 10 ${c:+--cert "$T/$c.crt" --key "$T/$c.key"} -w '\n%{http_code}' "$@"; }
out=$(tls "" "$URL/1.0")
check_eq "an unauthenticated client gets the banner" 200 "$(echo "$out" | tail -n1)"
check_eq "the banner says it is not trusted" untrusted "$(echo "$out" | head -n1 | json auth)"
check_eq "the banner tells nothing of the host (no pid, no event_seq)" "None None" \
	"$(echo "$out" | head -n1 | json pid) $(echo "$out" | head -n1 | json event_seq)"
check_eq "no certificate: 403 on the instance list" 403 "$(tls "" "$URL/1.0/instances" | tail -n1)"
check_eq "no certificate: 403 on the host view" 403 "$(tls "" "$URL/1.0/host" | tail -n1)"
check_eq "an untrusted certificate: 403" 403 "$(tls eve "$URL/1.0/instances" | tail -n1)"
check_eq "an untrusted certificate: 403 on define" 403 \
	"$(tls eve -X POST -d "$(vm_json x1)" "$URL/1.0/instances" | tail -n1)"
check_eq "an untrusted certificate may not manage trust" 403 \
	"$(tls eve -X POST -d '{"name":"x","expires":60}' "$URL/1.0/trust/tokens" | tail -n1)"
check_eq "nothing was defined by the refused request" "" "$(vk list --all --format json | json 0.name 2>/dev/null)"

# --- trust add / list ---------------------------------------------------------------------------
afp=$(fp_of "$T/alice.crt")
check "trust add FILE (name from the CN)" sh -c "$VKC --socket $SOCK trust add $T/alice.crt | grep -q \"as 'alice'\""
check_eq "trust list shows it" "$afp alice" \
	"$(vk trust list --format json | python3 -c 'import json,sys; c=json.load(sys.stdin)["certificates"][0]; print(c["fingerprint"], c["name"])')"
check "trust list (table)" sh -c "$VKC --socket $SOCK trust list | grep -q '^${afp:0:12} *alice *CN=alice'"
rc=0; vk trust add "$T/alice.crt" >/dev/null 2>&1 || rc=$?
check_eq "adding it twice: conflict (exit 5)" 5 $rc
rc=0; vk trust add "$T/nonexistent.crt" >/dev/null 2>&1 || rc=$?
check_eq "a missing file: exit 1" 1 $rc
echo "not a certificate" >"$T/junk.crt"
rc=0; err=$(vk trust add "$T/junk.crt" --name junk 2>&1) || rc=$?
check_eq "a file that is no certificate: refused (exit 1)" 1 $rc
check "... saying so" sh -c "echo '$err' | grep -q 'not a PEM certificate'"
check_eq "alice is served" 200 "$(tls alice "$URL/1.0/instances" | tail -n1)"
check_eq "alice's GET /1.0 is the full server information" trusted \
	"$(tls alice "$URL/1.0" | head -n1 | json auth)"
check_eq "alice may define over TLS" 201 "$(tls alice -X POST -d "$(vm_json r1)" "$URL/1.0/instances" | tail -n1)"
check_eq "... and it is there for the local user" r1 "$(vk info r1 --format json | json name)"
check_eq "a cross-site browser request with alice's certificate: 403" 403 \
	"$(tls alice -H 'Origin: https://evil.example' -X POST "$URL/1.0/instances/r1/start" | tail -n1)"
check_eq "... and Sec-Fetch-Site: cross-site too" 403 \
	"$(tls alice -H 'Sec-Fetch-Site: cross-site' "$URL/1.0/instances" | tail -n1)"
check_eq "eve is still refused" 403 "$(tls eve "$URL/1.0/instances" | tail -n1)"

# --- tokens ------------------------------------------------------------------------------------------
tok=$(vk trust token bob --expiry 10m 2>/dev/null)
case $tok in *."$sfp") ok "a token carries the server's fingerprint" ;;
*) not_ok "a token carries the server's fingerprint" "$tok" ;; esac
check "trust list shows the unspent token" sh -c "$VKC --socket $SOCK trust list | grep -q \"token 'bob'\""
check_eq "a wrong token: 403" 403 \
	"$(tls bob -X POST -d '{"token":"00000000000000000000000000000000"}' "$URL/1.0/trust" | tail -n1)"
check_eq "a token for another server: 403" 403 \
	"$(tls bob -X POST -d "{\"token\":\"${tok%%.*}.$(printf '%064d' 0)\"}" "$URL/1.0/trust" | tail -n1)"
check_eq "the token without a client certificate: 400, and not spent" 400 \
	"$(tls "" -X POST -d "{\"token\":\"$tok\"}" "$URL/1.0/trust" | tail -n1)"
out=$(tls bob -X POST -d "{\"token\":\"$tok\"}" "$URL/1.0/trust")
check_eq "bob joins with the token" 201 "$(echo "$out" | tail -n1)"
check_eq "bob's certificate is trusted under the token's name" "$(fp_of "$T/bob.crt") bob" \
	"$(echo "$out" | head -n1 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["fingerprint"], o["name"])')"
check_eq "bob is served" 200 "$(tls bob "$URL/1.0/instances" | tail -n1)"
check_eq "the token works once: eve cannot use it again" 403 \
	"$(tls eve -X POST -d "{\"token\":\"$tok\"}" "$URL/1.0/trust" | tail -n1)"
check_eq "eve is still refused" 403 "$(tls eve "$URL/1.0/instances" | tail -n1)"
tok2=$(vk trust token spare 2>/dev/null)
check "revoke-token withdraws an unspent token" vk trust revoke-token spare
check_eq "a withdrawn token does not work" 403 \
	"$(tls eve -X POST -d "{\"token\":\"$tok2\"}" "$URL/1.0/trust" | tail -n1)"
rc=0; vk trust token "bad name" >/dev/null 2>&1 || rc=$?
check_eq "a token name with a space: refused (exit 1)" 1 $rc

# --- removal: at once, on open connections too ------------------------------------------------------
out=$(timeout 60 python3 "$HERE/tls-conn.py" "$port" "$T/bob.crt" "$T/bob.key" -- \
	"$VKC" --socket "$SOCK" trust remove "$(fp_of "$T/bob.crt" | cut -c1-12)" 2>&1)
check_eq "before the removal bob's connections work" "before: 200 events before: 200" \
	"$(echo "$out" | grep before | tr '\n' ' ' | sed 's/ $//')"
check_eq "after it, bob's kept-alive connection gets nothing more" "request: cut" "$(echo "$out" | grep '^request')"
check_eq "... and bob's open event stream is cut" "events: cut" "$(echo "$out" | grep '^events:')"
check_eq "a new connection with bob's certificate: 403" 403 "$(tls bob "$URL/1.0/instances" | tail -n1)"
check_eq "alice is unaffected" 200 "$(tls alice "$URL/1.0/instances" | tail -n1)"
rc=0; vk trust remove abcdef12abcdef >/dev/null 2>&1 || rc=$?
check_eq "removing an unknown fingerprint: not found (exit 4)" 4 $rc
rc=0; vk trust remove ab >/dev/null 2>&1 || rc=$?
check_eq "a too short fingerprint: usage (exit 2)" 2 $rc

# --- persistence ------------------------------------------------------------------------------------
check_stop "virtkitd stops"
daemon_start --listen "127.0.0.1:$port" || not_ok "virtkitd restarts on the same port"
check_eq "after a restart: the same server certificate" "$sfp" "$(vk host --format json | json tls.fingerprint)"
check_eq "after a restart: alice still trusted" 200 "$(tls alice "$URL/1.0/instances" | tail -n1)"
check_eq "after a restart: bob still removed" 403 "$(tls bob "$URL/1.0/instances" | tail -n1)"
check_eq "the trust store is private (mode 600)" 600 "$(stat -c %a "$T/state/trust.json")"
check "the unix socket works as before" vk list --all
check_stop "virtkitd stops again"
rc=0; timeout 10 "$VKD" --socket "$SOCK" --state-dir "$T/state" --run-dir "$T/run" --listen 127.0.0.1 \
	>"$T/bad.out" 2>&1 || rc=$?
check_eq "--listen without a port: refused at start (exit 1)" 1 $rc
check "... saying what to give" grep -q "ADDRESS:PORT" "$T/bad.out"
done_testing
