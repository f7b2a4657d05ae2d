#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small WebSocket client (RFC 6455) for the tests: what a browser does, byte for byte.

  wsclient.py TARGET PATH CHECK [ARGS...]
TARGET: unix:SOCKET, tls:PORT:CERT:KEY (the daemon's TLS listener) or http:PORT:COOKIE
(`virtkit ui`, the session cookie's value). CHECK is one of
  console SEND EXPECT   type SEND on the console, wait for EXPECT in what comes back
  exec EXPECT           open /bin/sh -c 'echo ...' through exec frames, expect the output and 0
  ping                  a ping gets its pong with the same payload
  unmasked              an unmasked client frame is a protocol error: close 1002
  badkey                a request without a valid key: HTTP 400, no upgrade
  goingaway             keep a console open: the daemon stopping closes it with 1001
Prints one line per finding; exit status 0 when the check held.
"""
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def connect(target):
    kind, _, rest = target.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX)
        s.connect(rest)
        return s, "virtkit", None
    if kind == "tls":
        port, cert, key = rest.split(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", int(port)))
        return ctx.wrap_socket(raw), f"127.0.0.1:{port}", None
    port, cookie = rest.split(":", 1)
    return socket.create_connection(("127.0.0.1", int(port))), f"127.0.0.1:{port}", cookie


def handshake(target, path, key=None):
    s, host, cookie = connect(target)
    s.settimeout(20)
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if cookie:
        req += f"Cookie: vk_ui={cookie}\r\nOrigin: http://{host}\r\n"
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    header, _, rest = head.partition(b"\r\n\r\n")
    lines = header.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    return s, status, fields, key, rest


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(op, payload, masked=True):
    head = bytes([0x80 | op])
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Reader:
    def __init__(self, s, pre):
        self.s, self.buf = s, pre

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("the connection ended")
            self.buf += chunk

    def frame(self):
        self.need(2)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise ValueError("the server masked a frame")
        n, off = b1 & 0x7F, 2
        if n == 126:
            self.need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self.need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self.need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, payload


def opened(target, path):
    s, status, fields, key, rest = handshake(target, path)
    if status != 101:
        print(f"no upgrade: HTTP {status}")
        sys.exit(1)
    if fields.get("sec-websocket-accept") != accept_of(key):
        print("wrong Sec-WebSocket-Accept")
        sys.exit(1)
    print("upgraded, accept key right")
    return s, Reader(s, rest)


def check_console(target, path, send, expect):
    s, r = opened(target, path)
    seen = b""
    s.sendall(frame(2, (send + "\n").encode()))
    deadline = time.time() + 20
    while expect.encode() not in seen and time.time() < deadline:
        op, payload = r.frame()
        if op == 2:
            seen += payload
        elif op == 8:
            break
    print("console output seen" if expect.encode() in seen else f"not seen in: {seen[-300:]!r}")
    s.sendall(frame(8, struct.pack(">H", 1000)))
    return expect.encode() in seen


def check_exec(target, path, expect):
    s, r = opened(target, path)
    s.sendall(frame(2, struct.pack(">BxxxI", 0, 0)))  # end of standard input
    data, out, code = b"", b"", None
    while code is None:
        op, payload = r.frame()
        if op == 8:
            break
        data += payload
        while len(data) >= 8:
            stream, n = struct.unpack(">BxxxI", data[:8])
            if len(data) < 8 + n:
                break
            body, data = data[8:8 + n], data[8 + n:]
            if stream == 1:
                out += body
            elif stream == 3:
                code = body.decode()
    print(f"exec output {out.decode().strip()!r}, status {code}")
    # the stream ends: the server's close comes, and ours answers it
    op, _ = r.frame()
    print("closed by the server" if op == 8 else f"op {op} after the exit frame")
    s.sendall(frame(8, struct.pack(">H", 1000)))
    return out.decode().strip() == expect and code == '{"exit_code":0}' and op == 8


def main():
    target, path, check = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    if check == "console":
        ok = check_console(target, path, args[0], args[1])
    elif check == "exec":
        ok = check_exec(target, path, args[0])
    elif check == "ping":
        s, r = opened(target, path)
        s.sendall(frame(9, b"are-you-there"))
        op, payload = r.frame()
        while op == 2:  # output may come first
            op, payload = r.frame()
        print(f"answer op {op} payload {payload!r}")
        ok = op == 10 and payload == b"are-you-there"
    elif check == "unmasked":
        s, r = opened(target, path)
        s.sendall(frame(2, b"x", masked=False))
        op, payload = r.frame()
        while op == 2:
            op, payload = r.frame()
        code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
        print(f"close code {code}")
        ok = op == 8 and code == 1002
    elif check == "goingaway":
        s, r = opened(target, path)
        sys.stdout.flush()  # the test waits for "upgraded" before it stops the daemon
        s.settimeout(30)
        op, payload = r.frame()
        while op == 2:
            op, payload = r.frame()
        code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
        print(f"close code {code}")
        if op == 8:
            s.sendall(frame(8, struct.pack(">H", 1000)))
        ok = op == 8 and code == 1001
    elif check == "badkey":
        s, status, _, _, _ = handshake(target, path, key="short")
        print(f"HTTP {status}")
        ok = status == 400
    else:
        print(f"unknown check {check}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
