#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpus of the virtio fuzz harness (format: see fuzz-virtio.h).
# Each seed is a well-formed request for one device; the fuzzer mutates from there.
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'virtio')
os.makedirs(out, exist_ok=True)

R, N, W, IND = 0, 1, 2, 4
Q = 0x400  # queue stride: desc +0, avail +0x100, used +0x200


def desc(addr, length, flags, nxt=0):
    return struct.pack('<QIHH', addr, length, flags, nxt)


class Ram:
    def __init__(self):
        self.b = bytearray()

    def put(self, off, data):
        if len(self.b) < off + len(data):
            self.b.extend(b'\0' * (off + len(data) - len(self.b)))
        self.b[off:off + len(data)] = data

    def avail(self, q, heads):
        self.put(q * Q + 0x100, struct.pack('<HH', 0, len(heads)) +
                 b''.join(struct.pack('<H', h) for h in heads))


def seed(name, kind, choice, ram, script=b''):
    data = bytes([kind, choice]) + struct.pack('<H', len(ram.b)) + bytes(ram.b) + script
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


KICK = lambda q: bytes([2, q])

# virtio-blk: IN, OUT, FLUSH, GET_ID, and an IN through an indirect table.
for name, typ, dlen, dflag in (('blk-in', 0, 512, W), ('blk-out', 1, 1024, R),
                              ('blk-flush', 4, 0, W), ('blk-getid', 8, 20, W)):
    r = Ram()
    chain = [desc(0x1000, 16, R | N, 1)]
    if dlen:
        chain.append(desc(0x1100, dlen, dflag | N, 2))
    chain.append(desc(0x1800, 1, W, 0))
    r.put(0, b''.join(chain))
    r.put(0x1000, struct.pack('<IIQ', typ, 0, 3))
    r.avail(0, [0])
    seed(name, 0, 0x01, r, KICK(0))

r = Ram()
r.put(0, desc(0x2000, 48, IND))
r.put(0x2000, desc(0x1000, 16, R | N, 1) + desc(0x1100, 512, W | N, 2) + desc(0x1800, 1, W))
r.put(0x1000, struct.pack('<IIQ', 0, 0, 5))
r.avail(0, [0])
seed('blk-indirect', 0, 0x03, r, KICK(0))

# virtio-net (echo): one receive buffer, one frame to send.
r = Ram()
r.put(0, desc(0x3000, 1526, W))
r.avail(0, [0])
r.put(Q, desc(0x2000, 12, R | N, 1) + desc(0x2100, 60, R))
r.avail(1, [0])
r.put(0x2100, bytes([2, 0, 0, 0, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x88, 0xb5]) + bytes(46))
seed('net-echo', 1, 0x01, r, KICK(1) + KICK(0))

# virtio-console: output "hello", one receive buffer, some input.
r = Ram()
r.put(0, desc(0x3000, 64, W))
r.avail(0, [0])
r.put(Q, desc(0x2000, 5, R))
r.avail(1, [0])
r.put(0x2000, b'hello')
seed('console', 2, 0x00, r, KICK(1) + KICK(0) + bytes([6, 3]) + b'abc')

# virtio-console output against a full chardev: 8 bytes of room, two chains of
# 20 bytes, then room for the rest (op 6 with bit 7: the host side drains).
r = Ram()
r.put(Q, desc(0x2000, 12, R | N, 1) + desc(0x2100, 8, R) + desc(0x2200, 20, R))
r.avail(1, [0, 2])
r.put(0x2000, b'hello, world')
r.put(0x2100, b'-again-\n')
r.put(0x2200, b'second chain here.\r\n')
seed('console-full', 2, 0x00, r, bytes([6, 0x81]) + KICK(1) + KICK(1) + bytes([6, 0x81, 6, 0xbf]))

# virtio-rng: one writable buffer.
r = Ram()
r.put(0, desc(0x1000, 64, W))
r.avail(0, [0])
seed('rng', 3, 0x01, r, KICK(0))
