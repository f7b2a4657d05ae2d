#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Console attach over raw HTTP: console.py SOCKET NAME SEND EXPECT [READERS]
# Sends "GET /1.0/instances/NAME/console" with an Upgrade, checks the 101 answer, types
# SEND (a line) and waits up to 20 s for EXPECT in the output. With READERS > 1, that many
# clients attach at once and every one of them must see EXPECT (several readers).
import socket
import sys
import time


def attach(path, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(("GET /1.0/instances/%s/console HTTP/1.1\r\nHost: virtkit\r\n"
               "Connection: Upgrade\r\nUpgrade: virtkit-console\r\n\r\n" % name).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("connection closed before the answer: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no upgrade: %r" % buf)
    return s, rest


def main():
    path, name, send, expect = sys.argv[1:5]
    readers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    clients = [attach(path, name) for _ in range(readers)]
    time.sleep(0.3)  # let the hub take every client before the output comes
    clients[0][0].sendall(send.encode() + b"\n")
    deadline = time.time() + 20
    for s, seen in clients:
        s.settimeout(0.5)
        while expect.encode() not in seen and time.time() < deadline:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                break
            seen += chunk
        if expect.encode() not in seen:
            print("output was: %r" % seen[-500:])
            raise SystemExit("%r not seen on the console" % expect)
        s.close()
    print("saw %r on %d reader(s)" % (expect, readers))


main()
