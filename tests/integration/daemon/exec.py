#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Exec over raw HTTP: exec.py SOCKET NAME INPUT ARG... — upgrades
# POST /1.0/instances/NAME/exec?cmd=..., sends INPUT as standard input (then closes it),
# prints standard output and standard error as they come, and exits with the command's
# status (the last frame).
import socket
import struct
import sys
import urllib.parse

path, name, data = sys.argv[1:4]
args = sys.argv[4:]
q = "&".join("cmd=" + urllib.parse.quote(a, safe="") for a in args)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
s.sendall(("POST /1.0/instances/%s/exec?%s HTTP/1.1\r\nHost: virtkit\r\nConnection: Upgrade\r\n"
           "Upgrade: virtkit-exec\r\nContent-Length: 0\r\n\r\n" % (name, q)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("closed before the answer: %r" % buf)
    buf += chunk
head, buf = buf.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit("no upgrade: %r" % head)
if data:
    s.sendall(struct.pack(">BxxxI", 0, len(data)) + data.encode())
s.sendall(struct.pack(">BxxxI", 0, 0))


def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the stream ended without an exit frame")
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out


while True:
    stream, length = struct.unpack(">BxxxI", need(8))
    payload = need(length)
    if stream == 3:
        import json
        sys.exit(json.loads(payload)["exit_code"])
    (sys.stdout if stream == 1 else sys.stderr).write(payload.decode(errors="replace"))
    (sys.stdout if stream == 1 else sys.stderr).flush()
