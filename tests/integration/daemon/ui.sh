#!/bin/bash
# SPDX-License-Identifier: MIT
# The web console (issue 17), on 127.0.0.1 only: WebSockets on the daemon (console and exec
# as a browser opens them, on the unix socket and over TLS), `virtkit ui` (a one-time token
# for a session cookie, 403 without it, Host and Origin checks, the Content-Security-Policy,
# the API, events and WebSockets passed through), the daemon serving the page to a trusted
# TLS client, then the page itself in headless Chromium (browser.py; skipped, saying why,
# without npm, Chromium, chromedriver or Selenium).
. "$(dirname "$0")/lib.sh"
setup
if ! pick_oci_runtime; then
	echo "1..0 # SKIP no container runtime: $OCI_WHY"
	exit 0
fi
daemon_start --listen 127.0.0.1:0 || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
PORT=$(vk host --format json | json tls.address | sed 's/.*://')
WS="timeout -k 5 60 python3 $HERE/wsclient.py"
ct_json web "$CT_SHELL" true >"$T/web.json"
vk launch "$T/web.json" >/dev/null
EXEC='/1.0/instances/web/exec?cmd=/bin/sh&cmd=-c&cmd=echo%20ws-exec'

# --- WebSockets on the daemon ------------------------------------------------------------------
check "console over a WebSocket (unix socket)" $WS "unix:$SOCK" /1.0/instances/web/console console \
	'echo ws-$((40+2))' ws-42
check "exec over a WebSocket (unix socket): output, status, closing handshake" \
	$WS "unix:$SOCK" "$EXEC" exec ws-exec
check "a ping is answered with its pong" $WS "unix:$SOCK" /1.0/instances/web/console ping
check "an unmasked client frame: close 1002" $WS "unix:$SOCK" /1.0/instances/web/console unmasked
check "a bad Sec-WebSocket-Key: 400" $WS "unix:$SOCK" /1.0/instances/web/console badkey
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/c.key" \
	-out "$T/c.crt" -days 2 -subj /CN=browser 2>/dev/null
vk trust add "$T/c.crt" >/dev/null
check "console over a WebSocket over TLS" $WS "tls:$PORT:$T/c.crt:$T/c.key" \
	/1.0/instances/web/console console 'echo tls-$((40+2))' tls-42
check "exec over a WebSocket over TLS" $WS "tls:$PORT:$T/c.crt:$T/c.key" "$EXEC" exec ws-exec
check_eq "GET exec without a WebSocket: 405" 405 "$(api GET "$EXEC" | tail -n1)"

# --- the page on the TLS listener ---------------------------------------------------------------
WEB=$VK_BUILD/web
# Built every time from web/src (quick once npm has installed the lock file's packages), so
# the page tested is the page in the tree; without npm an earlier build is used, if any.
"$VK_SRC/scripts/build-web.sh" "$VK_BUILD" >"$T/web.log" 2>&1 ||
	diag "web console not built: $(tail -n1 "$T/web.log")"
tls() { curl -sk --max-time 20 --cert "$T/c.crt" --key "$T/c.key" "$@"; }
if [ -f "$WEB/index.html" ]; then
	# A console WebSocket over TLS still open when the daemon stops: its relay must be done
	# with the connection before libmicrohttpd goes (it once ended in a use after free).
	$WS "tls:$PORT:$T/c.crt:$T/c.key" /1.0/instances/web/console goingaway >"$T/away.out" 2>&1 &
	away=$!
	wait_for grep -q upgraded "$T/away.out"
	check_stop "virtkitd stops (to serve the page), a WebSocket open over TLS"
	wait $away
	check "... which it closed with 1001 (going away)" sh -c "grep -q 'close code 1001' '$T/away.out' || { cat '$T/away.out'; exit 1; }"
	daemon_start --listen "127.0.0.1:$PORT" --web "$WEB" || not_ok "virtkitd restarts with --web"
	hdr=$(tls -D - -o "$T/page.html" "https://127.0.0.1:$PORT/")
	check "a trusted client gets the page over TLS" grep -q '<title>virtkit</title>' "$T/page.html"
	check "... with a Content-Security-Policy" sh -c "printf '%s' \"\$1\" | grep -qi \"content-security-policy: default-src 'none'; script-src 'self'\"" _ "$hdr"
	check_eq "an untrusted client does not get it" 403 \
		"$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/")"
	check_eq "no file outside the web folder" 404 \
		"$(tls -o /dev/null -w '%{http_code}' --path-as-is "https://127.0.0.1:$PORT/../../etc/passwd")"
else
	for t in "the page over TLS" "its CSP" "untrusted: no page" "no file outside"; do
		skip "$t" "the web console is not built (npm missing or unreachable)"
	done
fi

# --- virtkit ui -----------------------------------------------------------------------------------
if [ -f "$WEB/index.html" ]; then
	"$VKC" --socket "$SOCK" ui --web "$WEB" >"$T/ui.out" 2>"$T/ui.err" &
	UI_PID=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $UI_PID"
	wait_for grep -q '^http://127.0.0.1:' "$T/ui.out"
	URL=$(head -n1 "$T/ui.out")
	UPORT=$(echo "$URL" | sed 's|http://127.0.0.1:\([0-9]*\)/.*|\1|')
	TOKEN=${URL##*token=}
	B=http://127.0.0.1:$UPORT
	case $URL in http://127.0.0.1:[0-9]*/?token=[0-9a-f]*) ok "virtkit ui prints a 127.0.0.1 address with a token" ;;
	*) not_ok "virtkit ui prints a 127.0.0.1 address with a token" "$(cat "$T/ui.out" "$T/ui.err")" ;; esac
	check "it listens on 127.0.0.1 only" sh -c "ss -Hltn 'sport = :$UPORT' | grep -q '127.0.0.1:$UPORT' && ! ss -Hltn 'sport = :$UPORT' | grep -qv '127.0.0.1:$UPORT'"
	code() { curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$@"; }
	check_eq "without the token: 403" 403 "$(code "$B/")"
	check_eq "without the token, no API either" 403 "$(code "$B/1.0/instances")"
	check_eq "a wrong token: 403" 403 "$(code "$B/?token=0000$TOKEN")"
	check_eq "another Host (DNS rebinding): 403" 403 "$(code -H 'Host: evil.example' "$URL")"
	hdr=$(curl -s --max-time 20 -D - -o /dev/null "$URL")
	check "the token: 303 to / with a session cookie" sh -c "printf '%s' \"\$1\" | grep -q '^HTTP/1.1 303' && printf '%s' \"\$1\" | grep -qi '^set-cookie: vk_ui=[0-9a-f]*; Path=/; HttpOnly; SameSite=Strict'" _ "$hdr"
	COOKIE=$(printf '%s' "$hdr" | sed -n 's/^[Ss]et-[Cc]ookie: vk_ui=\([0-9a-f]*\);.*/\1/p' | tr -d '\r')
	check_eq "the token works once" 403 "$(code "$URL")"
	c() { curl -s --max-time 20 -b "vk_ui=$COOKIE" "$@"; }
	hdr=$(c -D - -o "$T/ui.html" "$B/")
	check "with the cookie: the page" grep -q '<title>virtkit</title>' "$T/ui.html"
	check "the page's CSP allows its own origin only" sh -c "printf '%s' \"\$1\" | grep -qi \"content-security-policy: default-src 'none'; script-src 'self'; .*connect-src 'self'; .*frame-ancestors 'none'\"" _ "$hdr"
	check "the page names no other site (no http(s):// in its files)" sh -c "! grep -rhoE '(https?|wss?)://[a-z]' $WEB/index.html $WEB/app.js $WEB/style.css"
	check_eq "the API through it" web "$(c "$B/1.0/instances" | json instances.0.name)"
	check_eq "a cross-site POST with the cookie: 403" 403 \
		"$(code -b "vk_ui=$COOKIE" -H 'Origin: http://evil.example' -X POST "$B/1.0/instances/web/stop")"
	check_eq "web still runs" running "$(state_of web)"
	check_eq "no file outside the web folder" 404 "$(code -b "vk_ui=$COOKIE" --path-as-is "$B/../../etc/passwd")"
	c -N "$B/1.0/events" >"$T/ui-events.out" 2>/dev/null &
	ev=$!
	sleep 1
	vk pause web >/dev/null && vk resume web >/dev/null
	wait_for grep -q '"event":"resumed"' "$T/ui-events.out"
	kill $ev 2>/dev/null
	check "the event stream through it" grep -q '"event":"resumed"' "$T/ui-events.out"
	check "console WebSocket through it" $WS "http:$UPORT:$COOKIE" /1.0/instances/web/console console \
		'echo ui-$((40+2))' ui-42
	check "exec WebSocket through it" $WS "http:$UPORT:$COOKIE" "$EXEC" exec ws-exec

	# --- the page in a browser ------------------------------------------------------------------
	# An image for the form's "From an image": the test's busybox tree as an OCI image.
	arch=$(python3 -c 'import platform; m = platform.machine(); print({"x86_64": "amd64", "aarch64": "arm64"}.get(m, m))')
	python3 "$HERE/make-oci-image.py" "$T/oci" "$T/rootfs" --arch "$arch" --cmd sh >/dev/null &&
		vk image import "$T/oci" --alias busybox >/dev/null ||
		diag "no busybox image: the form's image check will fail"
	# Debian's python3-selenium is for Debian's python3, which may not be the first on $PATH.
	PY=python3
	/usr/bin/python3 -c 'import selenium' 2>/dev/null && PY=/usr/bin/python3
	timeout -k 5 240 "$PY" "$HERE/browser.py" "$URL" "$COOKIE" "$T" "$VK_BUILD" $((_n + 1)) \
		2>"$T/browser.err"
	rc=$?
	next=$(sed -n 's/^next //p' "$T/browser.err" | tail -n1)
	if [ -n "$next" ]; then _n=$((next - 1)); else not_ok "browser.py ran" "$(tail -n 20 "$T/browser.err")"; fi
	[ $rc -eq 0 ] || _failed=$((_failed + 1))
	kill $UI_PID 2>/dev/null
	wait $UI_PID 2>/dev/null
	check_eq "virtkit ui ends on SIGTERM" 0 $?
else
	skip "virtkit ui" "the web console is not built (npm missing or unreachable)"
fi
vk stop web --force >/dev/null
check_stop "virtkitd stops"
done_testing
