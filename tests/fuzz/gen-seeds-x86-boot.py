#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Write the seed corpus of the x86 boot loader fuzz harness (input format: fuzz-x86-boot.c):
# small bzImages and PVH ELFs that load, with and without an initrd, so the fuzzer starts
# from the success paths and mutates from there.
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus',
                                                          'x86-boot')
os.makedirs(out, exist_ok=True)

AUTO, BZ, PVH = 0, 1, 2
INITRD, HIGH = 4, 8
MB1, MB2, MB4, MB16 = 0x00, 0x10, 0x20, 0x30


def seed(name, flags, cmdline, initrd_units, kernel):
    data = struct.pack('<BBH', flags, len(cmdline), initrd_units) + cmdline + kernel
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


def bzimage(payload=2048, relocatable=True, pref=0x100000, init_size=0x20000, version=0x020f):
    setup_sects = 2
    k = bytearray((setup_sects + 1) * 512 + payload)
    k[0x1f1] = setup_sects
    struct.pack_into('<H', k, 0x1fe, 0xaa55)
    k[0x200] = 0xeb
    k[0x201] = 0x6a  # header up to 0x26c
    k[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', k, 0x206, version)
    k[0x211] = 0x01  # LOADED_HIGH
    struct.pack_into('<I', k, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into('<I', k, 0x230, 0x200000)  # kernel_alignment
    k[0x234] = 1 if relocatable else 0
    struct.pack_into('<H', k, 0x236, 0x1)  # XLF_KERNEL_64
    struct.pack_into('<I', k, 0x238, 255)  # cmdline_size
    struct.pack_into('<Q', k, 0x258, pref)
    struct.pack_into('<I', k, 0x260, init_size)
    for i in range(payload):
        k[(setup_sects + 1) * 512 + i] = (i * 7 + 1) & 0xff
    return bytes(k)


def pvh_elf(segments, entry, desc8=False, extra_note=False):
    """segments: [(paddr, filesz, memsz)]; one PT_NOTE with the Xen PVH note."""
    ehsize, phsize = 64, 56
    notes = b''
    if extra_note:
        notes += struct.pack('<III', 4, 4, 1) + b'GNU\0' + b'\0' * 4
    desc = struct.pack('<Q' if desc8 else '<I', entry)
    notes += struct.pack('<III', 4, len(desc), 18) + b'Xen\0' + desc
    phnum = 1 + len(segments)
    off = ehsize + phnum * phsize
    note_off = off
    off += len(notes)
    phdrs = struct.pack('<IIQQQQQQ', 4, 4, note_off, 0, 0, len(notes), len(notes), 4)
    body = b''
    for paddr, filesz, memsz in segments:
        phdrs += struct.pack('<IIQQQQQQ', 1, 5, off + len(body), paddr, paddr, filesz, memsz,
                             0x1000)
        body += bytes((i * 3 + 5) & 0xff for i in range(filesz))
    ident = b'\x7fELF' + bytes([2, 1, 1, 0]) + b'\0' * 8
    eh = ident + struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, ehsize, 0, 0, ehsize, phsize,
                             phnum, 0, 0, 0)
    return eh + phdrs + notes + body


seed('bz-initrd', BZ | INITRD | MB2, b'console=ttyS0 root=/dev/vda', 40, bzimage())
seed('bz-auto', AUTO | MB4, b'quiet', 0, bzimage(payload=4096, init_size=0x100000))
seed('bz-fixed', BZ | INITRD | MB4, b'', 16, bzimage(relocatable=False, pref=0x200000))
seed('bz-high', AUTO | INITRD | HIGH | MB16, b'console=ttyS0', 1024, bzimage(payload=512))
seed('pvh-initrd', PVH | INITRD | MB2, b'console=hvc0', 32,
     pvh_elf([(0x100000, 1024, 0x3000)], 0x100010))
seed('pvh-auto', AUTO | MB4, b'init=/bin/sh', 0,
     pvh_elf([(0x100000, 512, 512), (0x180000, 256, 0x10000)], 0x180000, desc8=True,
             extra_note=True))
seed('pvh-high', PVH | HIGH | MB2, b'x', 0,
     pvh_elf([(0x100000, 64, 64), (0x100000000, 128, 0x1000)], 0x100000))
