#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpus of the translator's differential checker (format: see fuzz-rv-jit.c):
# slices of the riscv64 ISA tests' code (tests/guests/riscv64, built into BUILD) under
# headers that vary the privilege, paging, FP state, rounding mode and where the code sits
# (some across a page boundary).
#   gen-seeds-rv-jit.py BUILD [OUT]
import os
import struct
import subprocess
import sys

build = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), 'corpus', 'rv-jit')
os.makedirs(out, exist_ok=True)
elfs = os.path.join(build, 'tests', 'guests', 'riscv64')


def text_of(elf):
    """The .text bytes of an ELF, through riscv64-unknown-elf-objcopy."""
    tmp = elf + '.text.bin'
    subprocess.run(['riscv64-unknown-elf-objcopy', '-O', 'binary', '--only-section=.text', elf, tmp], check=True)
    with open(tmp, 'rb') as f:
        data = f.read()
    os.unlink(tmp)
    return data


def header(flags, frm, fflags, offset, seed, xsel):
    h = bytes([flags, frm, fflags]) + struct.pack('<H', offset) + struct.pack('<Q', seed)
    h += bytes(xsel[:31])
    return h + bytes(64 - len(h))


n = 0
for name in ['rv64i', 'rv64m', 'rv64a', 'rv64c', 'zicsr', 'rv64f', 'rv64d', 'priv', 'mmu']:
    path = os.path.join(elfs, name + '.elf')
    if not os.path.exists(path):
        continue
    text = text_of(path)
    step = 96
    for i, off in enumerate(range(0, min(len(text), 96 * 24), step)):
        chunk = text[off:off + 512]
        flags = [0x02, 0x01, 0x05, 0x00, 0x04, 0x0a, 0x15, 0x26][i % 8]
        place = [0x000, 0xfe0, 0xff8, 0x100, 0xffc, 0x7f0][i % 6]
        xsel = [(j * 29 + i * 7) & 0xff for j in range(31)]
        data = header(flags, i % 5, i & 0x1f, place, 0x9e3779b97f4a7c15 + i, xsel) + chunk
        with open(os.path.join(out, '%s-%02d' % (name, i)), 'wb') as f:
            f.write(data)
        n += 1
print('wrote %d seeds to %s' % (n, out))
