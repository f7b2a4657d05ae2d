# SPDX-License-Identifier: MIT
# Helpers for exec over raw HTTP in the daemon tests: the upgrade handshake and waits for a
# command's process to show up or go away.
import socket
import subprocess
import sys
import time
import urllib.parse


def open_exec(path, name, args, timeout=20):
    """Upgrade POST /1.0/instances/NAME/exec?cmd=...; return (socket, bytes read past the head)."""
    q = "&".join("cmd=" + urllib.parse.quote(a, safe="") for a in args)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
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
    return s, buf


def running(pattern):
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def wait_until(pred, tries=100):
    for _ in range(tries):
        if pred():
            return True
        time.sleep(0.1)
    return False
