#!/usr/bin/env python3
"""Firmware and boot loaders as users have them (Debian's opensbi and u-boot-qemu), unwrapped:
U-Boot's flat u-boot.bin and its ELF as --kernel under OpenSBI fw_dynamic, under fw_jump (ELF),
and U-Boot in M-mode as --firmware with no kernel. Each reaches U-Boot's prompt, sees the
virtio disk, and powers off (through SBI, or in M-mode the test finisher); --stats names what was loaded. A flat
binary of garbage is entered too (as QEMU does): the guest is stuck, the VMM is not."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402

UBOOT_S = '/usr/lib/u-boot/qemu-riscv64_smode'
UBOOT_M = '/usr/lib/u-boot/qemu-riscv64'
OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic'


def stats_line(m):
    for line in m.stderr.splitlines():
        if 'stats: firmware=' in line:
            return line.split('stats: ', 1)[1]
    return ''


def prompt(t, name, args, want_stats):
    """Boot to U-Boot's prompt (stopping the autoboot), list the virtio disk, end the run."""
    m = vktest.Machine(args)
    failed = t.failed
    try:
        ok = m.connect() and m.expect(b'Hit any key to stop autoboot', 60)
        if ok:
            m.send(' ')
        t.check(ok and m.expect(b'=> ', 30), f'{name}: U-Boot reaches its prompt')
        m.send('virtio info\r')
        t.check(m.expect(b'VirtIO Block Device', 30) and m.expect(b'Capacity: 2.0 MB', 10),
                f'{name}: `virtio info` lists the 2 MiB disk')
        m.send('poweroff\r')
        rc = m.wait(30)
        t.check(rc == 0, f'{name}: `poweroff` ends the run with status 0 (got {rc})')
        got = stats_line(m)
        t.check(all(w in got for w in want_stats), f'{name}: --stats says {want_stats}')
        t.diag(f'stats: {got}')
        if t.failed == failed:
            return
        t.diag(m.seen[-2000:].decode(errors='replace'))
        t.diag(m.stderr)
    finally:
        m.stop()


def main():
    t = vktest.Tap()
    missing = [f for f in (f'{UBOOT_S}/u-boot.bin', f'{UBOOT_M}/u-boot.bin',
                           f'{OPENSBI}/fw_dynamic.bin') if not os.path.exists(f)]
    if missing:
        t.skip('firmware and boot loaders', f'missing {missing[0]}: install Debian\'s '
               'u-boot-qemu and opensbi (deps/debian.txt)')
        return t.done()
    tmp = vktest.tempfile.mkdtemp(prefix='vk-fw-')
    disk = os.path.join(tmp, 'disk.img')
    with open(disk, 'wb') as f:
        f.truncate(2 << 20)

    prompt(t, 'u-boot.bin as --kernel', ['--kernel', f'{UBOOT_S}/u-boot.bin', '--disk', disk],
           ['firmware=opensbi,binary', 'kernel=flat-binary', 'entry=0x80200000'])
    prompt(t, 'uboot.elf as --kernel', ['--kernel', f'{UBOOT_S}/uboot.elf', '--disk', disk],
           ['kernel=elf', 'entry=0x80200000'])
    prompt(t, 'fw_jump.elf + u-boot.bin',
           ['--firmware', f'{OPENSBI}/fw_jump.elf', '--kernel', f'{UBOOT_S}/u-boot.bin',
            '--disk', disk], ['firmware=opensbi,elf', 'kernel=flat-binary'])
    prompt(t, 'M-mode U-Boot as --firmware', ['--firmware', f'{UBOOT_M}/u-boot.bin',
                                               '--disk', disk],
           ['firmware=u-boot,binary', 'kernel=none'])

    # 64 KiB of random bytes as the kernel: entered as a flat binary, the guest traps
    # forever inside OpenSBI, and the VMM still answers its control socket.
    junk = os.path.join(tmp, 'junk.bin')
    with open(junk, 'wb') as f:
        f.write(os.urandom(65536))
    m = vktest.Machine(['--kernel', junk])
    try:
        t.check(m.connect() and m.expect(b'Domain0 Next Address', 30),
                'random bytes as --kernel: OpenSBI enters them')
        rc = m.quit()
        t.check(rc == 0, f'random bytes as --kernel: the VMM quits when asked (got {rc})')
        t.check('kernel=flat-binary' in stats_line(m), 'random bytes: --stats says flat-binary')
    finally:
        m.stop()
    vktest.shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
