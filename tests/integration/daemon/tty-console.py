#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `virtkit console` on a real terminal: tty-console.py VIRTKIT SOCKET NAME SEND EXPECT
# Runs the CLI in a pseudo-terminal, types SEND, waits for EXPECT, then presses the
# escape key Ctrl-] and checks that the CLI leaves with status 0.
import os
import pty
import select
import sys
import time

cli, sock, name, send, expect = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cli, [cli, "--socket", sock, "console", name])

seen = b""


def read_until(needle, timeout):
    global seen
    deadline = time.time() + timeout
    while needle not in seen and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return needle in seen


if not read_until(b"escape character is ^]", 10):
    print("no banner: %r" % seen)
    sys.exit(1)
os.write(fd, send.encode() + b"\r")
if not read_until(expect.encode(), 20):
    print("%r not seen: %r" % (expect, seen[-400:]))
    sys.exit(1)
os.write(fd, b"\x1d")
deadline = time.time() + 10
while time.time() < deadline:
    p, status = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        code = os.waitstatus_to_exitcode(status)
        print("console left on Ctrl-] with status %d" % code)
        sys.exit(0 if code == 0 else 1)
    try:
        os.read(fd, 4096)
    except OSError:
        pass
    time.sleep(0.1)
os.kill(pid, 9)
print("the console did not leave on Ctrl-]")
sys.exit(1)
