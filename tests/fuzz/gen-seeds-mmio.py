#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpus of the MMIO register fuzz harness (format: see fuzz-mmio.c): what a
# Linux guest does with each device, as scripts the fuzzer mutates from there.
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'mmio')
os.makedirs(out, exist_ok=True)

PLIC, CLINT, TEST, UART, BLK, RNG = range(6)
SZ = {1: 0, 2: 1, 4: 2, 8: 3}
RAM = 0x80000000


def w(target, off, value, size=4):
    return bytes([0, target]) + struct.pack('<HB', off, SZ[size]) + struct.pack('<Q', value)


def r(target, off, size=4):
    return bytes([1, target]) + struct.pack('<HB', off, SZ[size])


def edge(which, end, delta, size, value=None):
    b = SZ[size] | (4 if value is not None else 0)
    s = bytes([2, which << 1 | end, b, delta & 0xff])
    return s + (struct.pack('<Q', value) if value is not None else b'')


def time(ticks, shift=0):
    return bytes([3, shift]) + struct.pack('<H', ticks)


def irq(src, level):
    return bytes([4, src << 1 | level])


def claim(ctx, complete=True, elsewhere=None):
    if elsewhere is not None:
        return bytes([5, ctx << 3 | 5, elsewhere])
    return bytes([5, ctx << 3 | (1 if complete else 0)])


def bringup(dev, choice=0):
    return bytes([6, dev, choice])


def push(dev, head):
    return bytes([7, dev, head])


def poke(gpa, data):
    return bytes([8]) + struct.pack('<HB', gpa - RAM, len(data)) + data


def uart_host(kind, *args):
    return bytes([9, kind] + list(args))


# PLIC register helpers (the target encoding of fuzz-mmio.c's target_addr()).
def prio(src):
    return src * 4


def enable(ctx, word=0):
    return 0x8000 | (ctx * 0x80 + word * 4)


def ctxreg(ctx, reg):
    return 0xc000 | ctx << 4 | reg


def seed(name, sources, ctx_harts, script):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([sources - 2, ctx_harts]) + script)


# Linux's PLIC driver: priorities 1, enable for the S-mode context, threshold 0; a line
# rises, the hart claims and completes; the UART's interrupt comes in as source 10.
s = (w(PLIC, prio(5), 1) + w(PLIC, prio(10), 1) + w(PLIC, prio(40), 7) +
     w(PLIC, enable(1), 1 << 5 | 1 << 10) + w(PLIC, enable(1, 1), 1 << 8) +
     w(PLIC, ctxreg(1, 0), 0) + irq(5, 1) + r(PLIC, 0x4000) + claim(1) + irq(5, 0) + claim(1) +
     irq(40, 1) + claim(1, False) + claim(1, elsewhere=0) + irq(5, 1) + claim(1, elsewhere=0) + w(PLIC, ctxreg(1, 0), 7) + claim(1) + w(PLIC, ctxreg(1, 0), 0) +
     w(UART, 1, 1, 1) + uart_host(0, 3, ord('a'), ord('b'), ord('c')) + claim(1) +
     r(UART, 0, 1) + r(UART, 0, 1) + r(UART, 0, 1) + r(PLIC, ctxreg(1, 4)) + w(PLIC, ctxreg(1, 4), 10))
seed('plic-linux', 96, 1, s)

# The CLINT: two harts, timers through 64-bit and 32-bit halves, time passing, IPIs, mtime.
s = (w(CLINT, 0x4000, 100, 8) + w(CLINT, 0x4008, 0xffffffff) + w(CLINT, 0x400c, 0) +
     time(50) + time(60) + w(CLINT, 0x4000, 0xffffffffffffffff, 8) + w(CLINT, 0, 1) +
     w(CLINT, 4, 1) + r(CLINT, 0) + w(CLINT, 0, 0) + r(CLINT, 0x8000, 8) +
     w(CLINT, 0x8000, 1 << 40, 8) + time(1, 20) + w(CLINT, 0x8004, 7) + r(CLINT, 0x8000, 4) +
     w(CLINT, 0x4008, 0, 8) + time(0xffff, 40))
seed('clint-timer', 2, 1 << 3, s)

# Linux's 8250 driver: autoconfig (scratch, LCR, FIFO, divisor), the THRE probe, output
# "hello" against a reader that stalls, then catches up; FIFOs cleared while output waits;
# loopback; IIR and LSR reads.
s = (w(UART, 7, 0xa5, 1) + r(UART, 7, 1) + w(UART, 3, 0x80, 1) + w(UART, 0, 1, 1) +
     w(UART, 1, 0, 1) + w(UART, 3, 0x03, 1) + w(UART, 2, 0xc7, 1) + r(UART, 2, 1) +
     w(UART, 4, 0x0b, 1) + w(UART, 1, 0x02, 1) + r(UART, 2, 1) + r(UART, 5, 1) +
     uart_host(2, 3) + b''.join(w(UART, 0, c, 1) for c in b'hello') + r(UART, 5, 1) +
     uart_host(3, 1) + r(UART, 5, 1) + w(UART, 0, ord('!'), 1) + uart_host(4) + r(UART, 2, 1) +
     r(UART, 5, 1) + uart_host(2, 0) + w(UART, 0, ord('?'), 1) + w(UART, 2, 0xc7, 1) +
     r(UART, 5, 1) + uart_host(4) + r(UART, 2, 1) +
     w(UART, 4, 0x1f, 1) + w(UART, 0, ord('L'), 1) + r(UART, 0, 1) + r(UART, 6, 1) +
     w(UART, 4, 0x0b, 1) + w(UART, 2, 0x00, 1) + w(UART, 0, ord('x'), 1) + r(UART, 2, 1) +
     uart_host(1) + w(UART, 1, 0x05, 1) + r(UART, 5, 1) + r(UART, 2, 1))
seed('uart-8250', 32, 1, s)

# The test finisher: power-off, failure with a code, reset, and writes that ask for nothing.
s = (w(TEST, 0, 0x5555, 2) + w(TEST, 0, 0x3333 | 7 << 16) + w(TEST, 0, 0x7777, 8) +
     w(TEST, 0, 0x5555, 1) + w(TEST, 4, 0x5555) + r(TEST, 0))
seed('test-finisher', 2, 0, s)

# virtio-blk: a read request (header, 512-byte buffer, status) and its interrupt; virtio-rng.
D = struct.Struct('<QIHH')
s = (w(PLIC, prio(1), 1) + w(PLIC, prio(2), 1) + w(PLIC, enable(0), 6) + bringup(0, 1) +
     poke(RAM, D.pack(RAM + 0x1000, 16, 1, 1) + D.pack(RAM + 0x1100, 512, 3, 2)) +
     poke(RAM + 0x20, D.pack(RAM + 0x1800, 1, 2, 0)) +
     poke(RAM + 0x1000, struct.pack('<IIQ', 0, 0, 3)) + push(0, 0) + claim(0) +
     r(BLK, 0x60) + w(BLK, 0x64, 1) + claim(0) + r(BLK, 0) + r(BLK, 8) + r(BLK, 0x100, 8) +
     bringup(1, 0) + poke(RAM + 0x400, D.pack(RAM + 0x2000, 64, 2, 0)) + push(1, 0) +
     r(RNG, 0x60) + w(RNG, 0x64, 3) + w(RNG, 0x70, 0))
seed('virtio', 32, 0, s)

# Accesses across range edges and into the holes between them.
s = (edge(3, 1, -1, 1) + edge(3, 1, -2, 4, 0x41) + edge(2, 1, -4, 4) + edge(2, 1, -2, 4, 1) +
     edge(1, 1, -8, 8) + edge(1, 1, -4, 8, 5) + edge(0, 0, -1, 2) + edge(4, 1, 0, 4) +
     edge(6, 0, 0, 8) + edge(5, 1, -3, 4, 7))
seed('edges', 128, 7 | 3 << 3, s)
