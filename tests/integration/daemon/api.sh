#!/bin/bash
# SPDX-License-Identifier: MIT
# The REST API through raw HTTP (curl --unix-socket): a VM's full lifecycle (fake
# virtkit-vm), definitions in JSON and libvirt domain XML, and bad input of every kind
# answered with a 4xx JSON error while the daemon keeps serving.
. "$(dirname "$0")/lib.sh"
setup
have_ct=1
pick_oci_runtime || have_ct=0
# A --state-dir whose parent is missing: refused, and nothing is created on the way.
timeout 20 "$VKD" --socket "$T/x.sock" --state-dir "$T/missing/state" --run-dir "$T/run-x" \
	>"$T/missing.out" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ ! -e "$T/missing" ] &&
	grep -q "cannot create the state folder '$T/missing/state': its parent folder does not exist" "$T/missing.out"; then
	ok "--state-dir with a missing parent: refused (exit $rc), the parent is not created"
else
	not_ok "--state-dir with a missing parent: refused, the parent is not created" \
		"exit $rc; $(ls -d "$T/missing" 2>&1); $(cat "$T/missing.out")"
fi
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }

# expect STATUS NAME METHOD PATH [curl args]: the status and a JSON error body for 4xx.
expect() {
	local want=$1 name=$2 out body code
	shift 2
	out=$(api "$@")
	code=$(printf '%s' "$out" | tail -n 1)
	body=$(printf '%s' "$out" | sed '$d')
	if [ "$code" != "$want" ]; then
		not_ok "$name" "status $code, expected $want: $body"
		return
	fi
	if [ "${want#4}" != "$want" ] &&
		! printf '%s' "$body" | python3 -c '
import json, sys
e = json.load(sys.stdin)["error"]
assert isinstance(e["code"], int) and e["code"] >= 400 and e["message"]' 2>/dev/null; then
		not_ok "$name" "not a JSON error: $body"
		return
	fi
	ok "$name ($code${body:+: $(printf '%s' "$body" | tr '\r\n' '  ' | head -c 140)})"
}

out=$(api GET /1.0)
check_eq "GET /1.0 answers with the API version" "1.0" "$(printf '%s' "$out" | sed '$d' | json api_version)"

# --- a VM, JSON definition -------------------------------------------------------
expect 201 "define a VM from JSON" POST /1.0/instances -d "$(vm_json vm1)"
out=$(api GET /1.0/instances/vm1 | sed '$d')
check_eq "the definition is normalized (memory in bytes)" "134217728" "$(printf '%s' "$out" | json definition.memory)"
check_eq "a new instance is shutoff (defined)" "shutoff defined" \
	"$(printf '%s' "$out" | json state) $(printf '%s' "$out" | json reason)"
expect 200 "list instances" GET /1.0/instances
expect 200 "start the VM" POST /1.0/instances/vm1/start
check_eq "it runs" running "$(api GET /1.0/instances/vm1 | sed '$d' | json state)"
expect 409 "starting it again is a conflict" POST /1.0/instances/vm1/start
expect 409 "resuming a running VM is a conflict" POST /1.0/instances/vm1/resume
expect 409 "undefining a running VM is a conflict" DELETE /1.0/instances/vm1
expect 200 "stats of the running VM" GET /1.0/instances/vm1/stats
expect 200 "pause" POST /1.0/instances/vm1/pause
check_eq "paused (user)" "paused user" "$(api GET /1.0/instances/vm1 | sed '$d' | python3 -c '
import json, sys; o = json.load(sys.stdin); print(o["state"], o["reason"])')"
expect 409 "pausing twice is a conflict" POST /1.0/instances/vm1/pause
# A paused guest reads no console input: 2 MiB typed at it must neither block the client
# nor the console hub (past a bound the input is dropped, as on a line nobody reads).
expect 201 "define a second VM" POST /1.0/instances -d "$(vm_json vm-flood)"
expect 200 "start it" POST /1.0/instances/vm-flood/start
expect 200 "pause it" POST /1.0/instances/vm-flood/pause
check "2 MiB of console input to a paused VM does not block" timeout -k 5 40 python3 - "$SOCK" vm-flood <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(("GET /1.0/instances/%s/console HTTP/1.1\r\nHost: virtkit\r\n"
           "Connection: Upgrade\r\nUpgrade: virtkit-console\r\n\r\n" % sys.argv[2]).encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("closed before the answer")
    head += chunk
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit("no upgrade: %r" % head)
s.sendall(b"\n" * (2 << 20))  # times out (10 s) if the hub stops taking input
s.close()
PY
expect 200 "kill the flooded VM" POST /1.0/instances/vm-flood/kill
expect 200 "undefine it" DELETE /1.0/instances/vm-flood
expect 200 "resume" POST /1.0/instances/vm1/resume
expect 400 "exec is refused for a VM" POST /1.0/instances/vm1/exec?cmd=true \
	-H 'Connection: Upgrade' -H 'Upgrade: virtkit-exec'
expect 400 "console without an Upgrade header" GET /1.0/instances/vm1/console
check "console attach over raw HTTP reads the guest's shell" console_expect vm1 "echo raw-http-hello" "raw-http-hello"
expect 200 "the console log holds the output" GET /1.0/instances/vm1/logs
check "the log contains what the guest printed" \
	sh -c "curl -s --unix-socket '$SOCK' http://x/1.0/instances/vm1/logs | grep -q raw-http-hello"
expect 200 "stop (graceful)" POST /1.0/instances/vm1/stop -d '{"timeout": 10}'
check_eq "shutoff (shutdown)" "shutoff shutdown" "$(api GET /1.0/instances/vm1 | sed '$d' | python3 -c '
import json, sys; o = json.load(sys.stdin); print(o["state"], o["reason"])')"
expect 409 "stopping a stopped VM is a conflict" POST /1.0/instances/vm1/stop
expect 409 "pausing a stopped VM is a conflict" POST /1.0/instances/vm1/pause
expect 409 "console of a stopped VM is a conflict" GET /1.0/instances/vm1/console \
	-H 'Connection: Upgrade' -H 'Upgrade: virtkit-console'
expect 200 "start again, then kill" POST /1.0/instances/vm1/start
expect 200 "kill" POST /1.0/instances/vm1/kill
check_eq "shutoff (destroyed)" "destroyed" "$(api GET /1.0/instances/vm1 | sed '$d' | json reason)"

# --- update, autostart, XML ----------------------------------------------------------
expect 200 "update the definition (PUT)" PUT /1.0/instances/vm1 -d "$(vm_json vm1 '"cpus":2')"
check_eq "the update is kept" 2 "$(api GET /1.0/instances/vm1 | sed '$d' | json definition.cpus)"
expect 400 "renaming through PUT is refused" PUT /1.0/instances/vm1 -d "$(vm_json other)"
expect 200 "autostart on (PATCH)" PATCH /1.0/instances/vm1 -d '{"autostart":true}'
expect 400 "PATCH with an unknown field" PATCH /1.0/instances/vm1 -d '{"cpus":3}'
out=$(api GET /1.0/instances/vm1/xml)
xml=$(printf '%s' "$out" | sed '$d')
check "export as domain XML" sh -c "printf '%s' '$xml' | grep -q \"<domain type=.qemu.>\""
check "the XML names the architecture" sh -c "printf '%s' '$xml' | grep -q \"arch=.riscv64.\""
expect 200 "undefine" DELETE /1.0/instances/vm1
expect 404 "the undefined instance is gone" GET /1.0/instances/vm1
expect 201 "define again from its domain XML" POST /1.0/instances -H 'Content-Type: application/xml' --data-binary "$xml"
check_eq "the XML round trip keeps the definition" "2 riscv64 emu" \
	"$(api GET /1.0/instances/vm1 | sed '$d' | python3 -c '
import json, sys; d = json.load(sys.stdin)["definition"]; print(d["cpus"], d["arch"], d["accel"])')"
cat >"$T/kvm.xml" <<EOF
<domain type='kvm'>
  <name>xml-kvm</name>
  <memory unit='MiB'>64</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$T/kernel</kernel></os>
  <devices><interface type='user'><model type='virtio'/></interface><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng></devices>
</domain>
EOF
expect 201 "a libvirt domain type='kvm' imports" POST /1.0/instances --data-binary "@$T/kvm.xml"
check_eq "type='kvm' selects the KVM backend, arch from <os><type>" "kvm x86_64 67108864 True" \
	"$(api GET /1.0/instances/xml-kvm | sed '$d' | python3 -c '
import json, sys; d = json.load(sys.stdin)["definition"]; print(d["accel"], d["arch"], d["memory"], d["rng"])')"

# --- a container -------------------------------------------------------------------------
if [ $have_ct = 1 ]; then
	expect 201 "container: define (JSON)" POST /1.0/instances -d "$(ct_json ct "$CT_SHELL" true)"
	expect 200 "container: start" POST /1.0/instances/ct/start
	check "container: console over raw HTTP" console_expect ct "echo ct-http" "ct-http"
	# stdout and stderr travel as separate frames from separate pipes: their relative order
	# is not defined, so each is checked on its own.
	out=$(timeout 30 python3 "$HERE/exec.py" "$SOCK" ct "from stdin" sh -c 'cat; echo; echo to-err >&2; exit 5' 2>"$T/exec.err")
	rc=$?
	check_eq "container: exec over raw HTTP: status" 5 "$rc"
	check_eq "container: exec over raw HTTP: stdout" "from stdin" "$out"
	check_eq "container: exec over raw HTTP: stderr" "to-err" "$(cat "$T/exec.err")"
	expect 400 "container: exec without a command" POST /1.0/instances/ct/exec \
		-H 'Connection: Upgrade' -H 'Upgrade: virtkit-exec'
	# A client that leaves takes its command with it (not only the runtime's exec).
	check "container: exec: the command ends when its client leaves" \
		timeout -k 5 40 python3 - "$SOCK" ct "$HERE" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from execlib import open_exec, running, wait_until
s, _ = open_exec(sys.argv[1], sys.argv[2], ["sleep", "3172"], timeout=10)
if not wait_until(lambda: running("^sleep 3172")):
    sys.exit("the command did not start")
s.close()
if not wait_until(lambda: not running("^sleep 3172")):
    sys.exit("the command outlived its client")
PY
	# A command that never reads its input: the client that floods it and leaves must
	# take the command with it (the relay never blocks on the command's stdin).
	check "container: exec input a command does not read never wedges the relay" \
		timeout -k 5 40 python3 - "$SOCK" ct "$HERE" <<'PY'
import socket, struct, sys
sys.path.insert(0, sys.argv[3])
from execlib import open_exec, running, wait_until
s, _ = open_exec(sys.argv[1], sys.argv[2], ["sleep", "3171"], timeout=10)
frame = struct.pack(">BxxxI", 0, 65536) + b"x" * 65536
s.settimeout(2)
try:
    for _ in range(32):  # 2 MiB, far more than the pipe and socket buffers hold
        s.sendall(frame)
except socket.timeout:
    pass  # back-pressure: the command reads nothing
s.close()
if not wait_until(lambda: not running("^sleep 3171")):
    sys.exit("the command outlived its client")
PY
	many="cmd=true$(printf '&cmd=x%.0s' $(seq 1 256))"
	expect 400 "container: exec with more than 256 arguments is refused, not cut short" \
		POST "/1.0/instances/ct/exec?$many" -H 'Connection: Upgrade' -H 'Upgrade: virtkit-exec'
	expect 400 "container: no domain XML for a container" GET /1.0/instances/ct/xml
	expect 200 "container: pause" POST /1.0/instances/ct/pause
	expect 200 "container: resume" POST /1.0/instances/ct/resume
	expect 200 "container: stop" POST /1.0/instances/ct/stop -d '{"timeout": 20}'
	expect 409 "container: exec on a stopped container" POST /1.0/instances/ct/exec?cmd=true \
		-H 'Connection: Upgrade' -H 'Upgrade: virtkit-exec'
	expect 200 "container: undefine" DELETE /1.0/instances/ct
	# Console input a container without a terminal does not read must not stop its output.
	expect 201 "container: define one that never reads its input" POST /1.0/instances \
		-d "$(ct_json ct-deaf '["/bin/sh","-c","i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.2; done"]' false)"
	expect 200 "container: start it" POST /1.0/instances/ct-deaf/start
	check "container: its output goes on after 2 MiB of console input" \
		timeout -k 5 40 python3 - "$SOCK" ct-deaf <<'PY'
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(("GET /1.0/instances/%s/console HTTP/1.1\r\nHost: virtkit\r\n"
           "Connection: Upgrade\r\nUpgrade: virtkit-console\r\n\r\n" % sys.argv[2]).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
if not buf.startswith(b"HTTP/1.1 101"):
    sys.exit("no upgrade: %r" % buf)
s.sendall(b"x" * (2 << 20))
seen, deadline = b"", time.time() + 15
s.settimeout(0.5)
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    if not chunk:
        break
    seen += chunk
    if len(set(re.findall(rb"tick(\d+)", seen))) >= 3:
        sys.exit(0)
sys.exit("no output after the input: %r" % seen[-200:])
PY
	expect 200 "container: kill it" POST /1.0/instances/ct-deaf/kill
	expect 200 "container: undefine it" DELETE /1.0/instances/ct-deaf
else
	skip "container through raw HTTP" "$OCI_WHY"
fi

# --- bad input ----------------------------------------------------------------------
expect 400 "malformed JSON" POST /1.0/instances -d '{"name": "x", '
expect 400 "trailing garbage after JSON" POST /1.0/instances -d '{"name":"x","type":"vm"} x'
expect 400 "not an object" POST /1.0/instances -d '[1,2]'
expect 400 "unknown field" POST /1.0/instances -d "$(vm_json bad '"colour":"red"')"
expect 400 "unknown nested field" POST /1.0/instances -d "$(vm_json bad '"disks":[{"path":"/x","cache":"none"}]')"
expect 400 "wrong type" POST /1.0/instances -d "$(vm_json bad '"cpus":"two"')"
expect 400 "out of range" POST /1.0/instances -d "$(vm_json bad '"cpus":100000')"
expect 400 "relative path" POST /1.0/instances -d '{"name":"bad","type":"vm","kernel":"Image"}'
expect 400 "invalid name" POST /1.0/instances -d "$(vm_json '../etc')"
expect 400 "riscv64 with kvm" POST /1.0/instances -d "$(vm_json bad '"accel":"kvm"')"
expect 400 "no body" POST /1.0/instances
expect 409 "duplicate name" POST /1.0/instances -d "$(vm_json vm1)"
expect 400 "malformed XML" POST /1.0/instances -H 'Content-Type: application/xml' -d '<domain type="qemu"><name>x</name>'
expect 400 "unsupported XML element named in the error" POST /1.0/instances -d \
	"<domain type='qemu'><name>x</name><os><type arch='riscv64'>hvm</type><kernel>/k</kernel></os><devices><video/></devices></domain>"
check "the error names the element" sh -c "curl -s --unix-socket '$SOCK' http://x/1.0/instances -d \"<domain type='qemu'><name>x</name><os><type arch='riscv64'>hvm</type><kernel>/k</kernel></os><devices><video/></devices></domain>\" | grep -q 'domain/devices/video'"
expect 400 "unsupported domain type" POST /1.0/instances -d "<domain type='xen'><name>x</name></domain>"
expect 400 "DOCTYPE refused (no entity tricks)" POST /1.0/instances -d \
	'<!DOCTYPE d [<!ENTITY a "aaaa">]><domain type="qemu"><name>&a;</name></domain>'
head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big"
expect 413 "oversized body" POST /1.0/instances --data-binary "@$T/big"
expect 404 "unknown endpoint" GET /1.0/nothing
expect 404 "unknown API version" GET /2.0/instances
expect 404 "unknown instance" POST /1.0/instances/nosuch/start
expect 405 "method not allowed" DELETE /1.0/instances
expect 400 "bad action body" POST /1.0/instances/vm1/stop -d '{"timeout":"soon"}'
expect 400 "unknown action option" POST /1.0/instances/vm1/start -d '{"force":true}'
expect 400 "bad event sequence" GET '/1.0/events?since=abc'
expect 200 "the daemon still serves after all that" GET /1.0
check_eq "and nothing half-defined was left" "vm1 xml-kvm" \
	"$(api GET /1.0/instances | sed '$d' | python3 -c '
import json, sys; print(" ".join(i["name"] for i in json.load(sys.stdin)["instances"]))')"
check_stop "the daemon stops cleanly on SIGTERM"
done_testing
