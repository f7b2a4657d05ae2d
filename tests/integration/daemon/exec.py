#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Exec over raw HTTP: exec.py SOCKET NAME INPUT ARG... — upgrades
# POST /1.0/instances/NAME/exec?cmd=..., sends INPUT as standard input (then closes it),
# prints standard output and standard error as they come, and exits with the command's
# status (the last frame).
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from execlib import open_exec  # noqa: E402

path, name, data = sys.argv[1:4]
s, buf = open_exec(path, name, sys.argv[4:])
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
