#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One client certificate, kept-alive TLS connections, and a revocation in between.

Usage: tls-conn.py PORT CERT KEY -- REVOKE-COMMAND...
Opens a request connection and an event stream with CERT, checks both work, runs
REVOKE-COMMAND (which removes CERT from the daemon's trust store), then reports what
the same request connection and the open event stream get: one line each,
"request: STATUS|cut" and "events: cut|open". Exit status 0 when it ran.
"""
import http.client
import ssl
import subprocess
import sys

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
revoke = sys.argv[sys.argv.index("--") + 1:]

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test pins nothing here: it checks the server's side
ctx.load_cert_chain(cert, key)

req = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
req.request("GET", "/1.0/instances")
r = req.getresponse()
r.read()
print(f"before: {r.status}")
ev = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
ev.request("GET", "/1.0/events")
er = ev.getresponse()
print(f"events before: {er.status}")
sys.stdout.flush()

subprocess.run(revoke, check=True, stdout=subprocess.DEVNULL)

try:
    req.request("GET", "/1.0/instances")
    r = req.getresponse()
    r.read()
    print(f"request: {r.status}")
except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
    print("request: cut")
ev.sock.settimeout(5)  # a stream left open stays quiet: no event happens meanwhile
try:
    data = er.read1(4096)
    print("events: cut" if not data else "events: open")
except TimeoutError:
    print("events: open")
except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
    print("events: cut")
