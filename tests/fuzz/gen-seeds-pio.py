#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpus of the port-I/O fuzz harness (format: see fuzz-pio.c): what a Linux
# guest does with the PC's devices, as scripts the fuzzer mutates from there.
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'pio')
os.makedirs(out, exist_ok=True)

PORTS = {0x60: 0, 0x64: 1, 0x70: 2, 0x71: 3, 0xcf8: 4, 0xcf9: 5, 0xcfa: 6, 0xcfb: 7, 0xcfc: 8,
         0xcfd: 9, 0xcfe: 10, 0xcff: 11, 0x61: 12, 0xc000: 13}
SZ = {1: 0, 2: 1, 4: 2, 8: 3}


def port(p):
    return bytes([PORTS[p]]) if p in PORTS else bytes([14]) + struct.pack('<H', p)


def outp(p, v, size=1):
    return bytes([0]) + port(p) + bytes([SZ[size]]) + struct.pack('<I', v)


def inp(p, size=1):
    return bytes([1]) + port(p) + bytes([SZ[size]])


def cfg_w(slot, reg, v, size=4):
    return bytes([2, slot, reg, SZ[size]]) + struct.pack('<I', v)


def cfg_r(slot, reg, size=4):
    return bytes([3, slot, reg, SZ[size]])


def bar(dev, msix, off, size, value=None):
    b = SZ[size] | (4 if value is not None else 0)
    s = bytes([4, dev | (2 if msix else 0)]) + struct.pack('<HB', off, b)
    return s + (struct.pack('<Q', value) if value is not None else b'')


def bringup(dev, choice):
    return bytes([5, dev, choice])


def push(dev, head):
    return bytes([6, dev, head])


def poke(gpa, data):
    return bytes([7]) + struct.pack('<HB', gpa, len(data)) + data


def msix(dev, vec, masked=False, enable=None, fmask=False, dest=0, data=0x30):
    flags = (1 if masked else 0) | (2 | (0x80 if enable else 0) | (0x40 if fmask else 0)
                                    if enable is not None else 0)
    return bytes([8, dev, vec, flags, dest, data])


CAD = bytes([9])


def seed(name, script):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(script)


# Linux's PCI probe: IDs, header type, class, BAR sizing with decoding off, the capability
# list, bus mastering on; an absent function, bus and slot.
s = b''.join(cfg_r(slot, 0) for slot in range(4)) + cfg_r(0x21, 0) + cfg_r(0x41, 0)
s += cfg_r(1, 0x0c) + cfg_r(1, 0x08) + cfg_r(1, 0x34, 1) + cfg_r(1, 0x06, 2)
s += (cfg_w(1, 0x04, 0, 2) + cfg_w(1, 0x10, 0xffffffff) + cfg_r(1, 0x10) +
      cfg_w(1, 0x10, 0xe0000000) + cfg_w(1, 0x18, 0xffffffff) + cfg_r(1, 0x18) +
      cfg_w(1, 0x18, 0xe0004000) + cfg_w(1, 0x04, 0x6, 2))
s += b''.join(cfg_r(1, off) for off in (0x40, 0x50, 0x64, 0x74, 0x84, 0x98, 0x9c, 0xa0))
s += cfg_w(2, 0x10, 0xe0000000) + cfg_w(2, 0x10, 0xe0010000) + cfg_w(1, 0x3c, 11, 1)
s += outp(0xcf9, 0, 1) + inp(0xcf8, 4) + inp(0xcfc, 2)
seed('pci-probe', s)

# virtio-blk with INTx: a read request, the interrupt, the ISR read that clears it.
D = struct.Struct('<QIHH')
s = (bringup(0, 0x08) + poke(0, D.pack(0x1000, 16, 1, 1) + D.pack(0x1100, 512, 3, 2)) +
     poke(0x20, D.pack(0x1800, 1, 2, 0)) + poke(0x1000, struct.pack('<IIQ', 0, 0, 3)) +
     push(0, 0) + cfg_r(1, 0x04) + bar(0, False, 0x1000, 1) + cfg_w(1, 0x04, 0x406, 2) +
     push(0, 0) + cfg_w(1, 0x04, 0x006, 2) + bar(0, False, 0x1000, 4) +
     bar(0, False, 0x12, 2) + bar(0, False, 0x10, 2) + bar(0, False, 0x2000, 8))
seed('virtio-intx', s)

# virtio-rng with MSI-X: vectors programmed, enabled, a request; masked vectors pend and are
# delivered on unmask; the function mask; the PCI configuration access window (4.1.4.9).
s = (msix(1, 0, dest=1, data=0x41) + msix(1, 1, dest=2, data=0x42, enable=True) +
     bringup(1, 0x00) + poke(0x400, D.pack(0x2000, 64, 2, 0)) + push(1, 0) +
     msix(1, 0, masked=True) + push(1, 0) + bar(1, True, 0x800, 8) + msix(1, 0, masked=False) +
     msix(1, 0, enable=True, fmask=True) + push(1, 0) + msix(1, 0, enable=True) +
     msix(1, 3, enable=False) + push(1, 0) + bar(1, True, 0x0, 8) + bar(1, True, 0xc, 4, 1))
s += (cfg_w(1, 0x88, 0, 1) + cfg_w(1, 0x8c, 0x14) + cfg_w(1, 0x90, 1) + cfg_r(1, 0x94) +
      cfg_w(1, 0x94, 0) + cfg_w(1, 0x8c, 0x1000) + cfg_r(1, 0x94, 1))
seed('virtio-msix', s)

# Linux's i8042 probe and the ways a guest resets: self tests, the command byte, keyboard
# commands (reset, identify, LEDs), the aux port, Ctrl-Alt-Del, 0xFE, the output port.
s = (outp(0x64, 0xaa) + inp(0x64) + inp(0x60) + outp(0x64, 0x20) + inp(0x60) +
     outp(0x64, 0x60) + outp(0x60, 0x47) + outp(0x64, 0xab) + inp(0x60) + outp(0x60, 0xff) +
     inp(0x60) + inp(0x60) + outp(0x60, 0xf2) + inp(0x60) + inp(0x60) + inp(0x60) +
     outp(0x60, 0xed) + outp(0x60, 0x07) + outp(0x64, 0xa8) + outp(0x64, 0xd4) +
     outp(0x60, 0xf4) + inp(0x64) + inp(0x60) + outp(0x64, 0xd3) + outp(0x60, 0x5a) +
     inp(0x64) + CAD + inp(0x64) + inp(0x60) + outp(0x64, 0xad) + outp(0x64, 0xfe) +
     outp(0x64, 0xd1) + outp(0x60, 0xfe) + outp(0x64, 0xd0) + inp(0x60))
seed('i8042', s)

# The RTC as Linux and firmware read it: BCD time, then binary and 12-hour modes, the
# time set by writes, CMOS RAM, registers A-D, the century.
s = b''.join(outp(0x70, r) + inp(0x71) for r in (0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x32))
s += (outp(0x70, 0x0b) + outp(0x71, 0x86) + outp(0x70, 4) + outp(0x71, 0x17) + outp(0x70, 9) +
      outp(0x71, 99) + outp(0x70, 0x0b) + outp(0x71, 0x00) + outp(0x70, 4) + inp(0x71) +
      outp(0x71, 0x92) + inp(0x71) + outp(0x70, 0x32) + outp(0x71, 0x20) + inp(0x71) +
      outp(0x70, 0x8f) + outp(0x71, 0x5a) + inp(0x71) + outp(0x70, 0x0a) + outp(0x71, 0xa6) +
      inp(0x71) + outp(0x70, 1) + outp(0x71, 0x30) + inp(0x71) + inp(0x70, 2) + outp(0x70, 0x0d) +
      outp(0x71, 0) + inp(0x71))
seed('rtc', s)
