#!/usr/bin/env python3
"""Disk images through virtkit-vm and the riscv64 guest, checked by QEMU's own tools:
  - a raw disk whose first bytes are a qcow2 header (as a guest can write) is refused without
    format=, and with format=raw the guest sees those bytes, not the backing file they name;
  - the guest's selftest on a qcow2 overlay (cache=none) of a qcow2 base (relative backing path): passes,
    the base stays byte-identical, `qemu-img check` finds nothing;
  - the same writes by the guest (through our qcow2 code) and by `qemu-io` (through QEMU's)
    give images `qemu-img compare` calls identical, reading through the backing file;
  - blkdiscard in the guest gives a qcow2 image's space back (virtio-blk DISCARD);
  - `kill -9` of virtkit-vm while the guest writes: `qemu-img check` reports no corruption
    (leaked clusters are allowed: exit status 0 or 3);
  - a second VM cannot open a disk a running VM writes; two read-only users may share one;
  - `virtkit-vm image create/info/resize` make images qemu-img describes the same way.
Every wait has a deadline; TAP output."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../lib'))
import vktest  # noqa: E402

T = vktest.Tap()
MiB = 1 << 20


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def qemu_img(*args):
    return subprocess.run(['qemu-img', *args], capture_output=True, text=True)


def run_vm(guest, args, timeout=300):
    return subprocess.run(
        [vktest.VM, 'run', '--arch', 'riscv64', '--memory', '128M', *vktest.CPU_ARGS,
         '--kernel', os.path.join(guest, 'Image'),
         '--initrd', os.path.join(guest, 'initramfs.cpio.gz'), *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


# The guest's writes, as (offset, length, byte): unaligned to clusters (copy-on-write of the
# rest from the backing file), across an L2 table's reach, and over the backing file's data.
WRITES = [(0, 4096, 0x11), (65536 + 512, 1024, 0x22), (3 * MiB, 128 * 1024, 0x33),
          (MiB + 4096, 8192, 0x44), (40 * MiB - 4096, 8192, 0x55)]


def guest_write_cmd(off, length, byte):
    # 512-byte blocks (every write is a multiple): dd from a pattern made with tr.
    return (f"dd if=/dev/zero bs=512 count={length // 512} 2>/dev/null | tr '\\000' '\\{byte:03o}' "
            f"| dd of=/dev/vda bs=512 seek={off // 512} conv=notrunc,fsync 2>/dev/null")


def test_header_injection(guest, tmp):
    """A raw disk with a qcow2 header naming a host file as its backing file."""
    secret = os.path.join(tmp, 'host-secret')
    with open(secret, 'wb') as f:
        f.write(b'HOST-SECRET-' * 4096)
    disk = os.path.join(tmp, 'injected.raw')
    # What a guest can write into the first sectors of its raw disk: a qcow2 header whose
    # backing file is a host path. qemu-img makes exactly that header for us.
    qemu_img('create', '-f', 'qcow2', '-b', secret, '-F', 'raw', disk, '16M')
    with open(disk, 'r+b') as f:
        f.truncate(4 * MiB)
    before = sha256(disk)
    out = run_vm(guest, ['--cmdline', 'console=ttyS0 vk.mode=poweroff', '--disk', disk])
    T.check(out.returncode != 0 and 'format=qcow2' in out.stderr and 'format=raw' in out.stderr,
            'a disk with a qcow2 header and no format= is refused, asking for format=')
    if out.returncode == 0 or 'format=' not in out.stderr:
        T.diag(out.stderr[-1000:])
    T.check(sha256(disk) == before, 'the refused disk is left untouched')

    second = os.path.join(tmp, 'second.raw')
    with open(second, 'wb') as f:
        f.truncate(8 * MiB)
    g = vktest.Guest(guest, extra=['--disk', disk + ',format=raw', '--disk', second])
    try:
        if not T.check(g.start(), 'the guest boots with the disk given as raw'):
            return
        sizes = (g.run('cat /sys/block/vda/size /sys/block/vdb/size') or '').split()
        T.check(sizes == [str(4 * MiB // 512), str(8 * MiB // 512)],
                f'disks are vda, vdb in the order given (sectors: {sizes})')
        head = g.run('dd if=/dev/vda bs=4 count=1 2>/dev/null | hexdump -C | head -n 1') or ''
        T.check('51 46 49 fb' in head, 'the guest reads the header bytes themselves (QFI\\xfb)')
        T.check(sizes[:1] == [str(4 * MiB // 512)],
                'the guest sees the file size (4 MiB), not the header\'s 16 MiB')
        found = g.run('grep -c HOST-SECRET /dev/vda') or ''
        T.check(found.strip().endswith('0'), 'no byte of the named host file reaches the guest')
    finally:
        g.stop()


def test_overlay_selftest(guest, tmp):
    """The selftest on a qcow2 overlay; the base stays as it was."""
    os.makedirs(os.path.join(tmp, 'images'))
    base = os.path.join(tmp, 'images', 'base.qcow2')
    qemu_img('create', '-f', 'qcow2', base, '64M')
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', base],
                   capture_output=True)
    base_sum = sha256(base)
    over = os.path.join(tmp, 'images', 'over.qcow2')
    # A relative backing path, resolved against the overlay's directory (as QEMU does).
    qemu_img('create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', over)
    out = run_vm(guest, ['--cmdline', 'console=ttyS0 vk.mode=selftest', '--disk',
                         over + ',format=qcow2,cache=none', '--net', 'user', '--rng',
                         '--console', 'file:' + os.path.join(tmp, 'selftest.log')])
    with open(os.path.join(tmp, 'selftest.log'), errors='replace') as f:
        log = f.read()
    T.check(out.returncode == 0 and 'SELFTEST 6 passed, 0 failed' in log,
            'the guest selftest passes on a qcow2 overlay')
    if 'SELFTEST 6 passed' not in log:
        T.diag(log[-1500:] + out.stderr[-500:])
    T.check(sha256(base) == base_sum, 'the base image is byte-identical afterwards')
    chk = qemu_img('check', over)
    T.check(chk.returncode == 0, 'qemu-img check finds no error in the overlay')
    # The selftest wrote its marker into the first sector; the rest still comes from the base.
    raw = os.path.join(tmp, 'over.raw')
    qemu_img('convert', '-O', 'raw', over, raw)
    with open(raw, 'rb') as f:
        data = f.read(MiB)
    T.check(b'virtkit-block-check' in data[:512] and data[4096:8192] == b'\x5a' * 4096,
            'the overlay holds the guest\'s write and reads the rest through the base')


def test_same_writes_as_qemu(guest, tmp):
    """The guest's writes on our qcow2 code, the same writes by qemu-io: identical images."""
    base = os.path.join(tmp, 'cmp-base.qcow2')
    qemu_img('create', '-f', 'qcow2', '-o', 'cluster_size=65536', base, '64M')
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0xa5 0 8M', base],
                   capture_output=True)
    ours, theirs = os.path.join(tmp, 'ours.qcow2'), os.path.join(tmp, 'theirs.qcow2')
    for path in (ours, theirs):
        qemu_img('create', '-f', 'qcow2', '-b', base, '-F', 'qcow2', path)
    g = vktest.Guest(guest, extra=['--disk', ours + ',format=qcow2'])
    try:
        if not T.check(g.start(), 'the guest boots on a qcow2 overlay (shell)'):
            return
        done = True
        for off, length, byte in WRITES:
            done = g.run(guest_write_cmd(off, length, byte), timeout=60) is not None and done
        seen = g.run('dd if=/dev/vda bs=512 skip=4096 count=1 2>/dev/null | hexdump -C | head -n 1')
        T.check(done and seen is not None and 'a5 a5 a5 a5' in seen,
                'the guest writes, and reads backing data around them')
    finally:
        g.stop()
    for off, length, byte in WRITES:
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', f'write -P {byte} {off} {length}', theirs],
                       capture_output=True)
    cmp = qemu_img('compare', '-f', 'qcow2', '-F', 'qcow2', ours, theirs)
    T.check(cmp.returncode == 0, 'qemu-img compare: the guest-visible content equals QEMU\'s')
    if cmp.returncode != 0:
        T.diag(cmp.stdout + cmp.stderr)
    T.check(qemu_img('check', ours).returncode == 0, 'qemu-img check: our image is clean')


def test_guest_discard(guest, tmp):
    """blkdiscard in the guest (virtio-blk DISCARD) gives a qcow2 image's clusters back."""
    img = os.path.join(tmp, 'discard.qcow2')
    qemu_img('create', '-f', 'qcow2', img, '64M')
    g = vktest.Guest(guest, extra=['--disk', img + ',format=qcow2'])
    try:
        if not T.check(g.start(), 'the guest boots on a fresh qcow2 image'):
            return
        g.run('dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null', 60)
        before = os.stat(img).st_blocks * 512
        out = g.run('blkdiscard -o 0 -l 8388608 /dev/vda && echo discarded', 60) or ''
        g.run('sync')
        after = os.stat(img).st_blocks * 512
        T.check('discarded' in out and before >= 8 * MiB and after < before - 6 * MiB,
                f'blkdiscard gives the space back (image {before // 1024} KiB -> '
                f'{after // 1024} KiB on the host)')
        zeros = g.run('dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum') or ''
        ref = hashlib.md5(bytes(8 * MiB)).hexdigest()
        T.check(ref in zeros, 'the discarded range reads as zeros')
    finally:
        g.stop()
    T.check(qemu_img('check', img).returncode == 0, 'qemu-img check: clean after discard')


def test_kill_mid_write(guest, tmp):
    """kill -9 while the guest writes all over a fresh qcow2 image."""
    rng = random.Random(7)
    for round_ in range(3):
        img = os.path.join(tmp, f'kill{round_}.qcow2')
        qemu_img('create', '-f', 'qcow2', '-o', 'cluster_size=4096', img, '256M')
        g = vktest.Guest(guest, extra=['--disk', img + ',format=qcow2'])
        try:
            if not g.start():
                T.check(False, f'the guest boots (round {round_ + 1})')
                continue
            # Random 4 KiB..64 KiB writes all over the disk, forever, in the background.
            g.con.sendall(b'(i=0; while :; do i=$((i+1)); '
                          b'dd if=/dev/urandom of=/dev/vda bs=4096 count=$((i % 16 + 1)) '
                          b'seek=$(( (i * 7919) % 65000 )) conv=notrunc 2>/dev/null; '
                          b'done) &\n')
            start, grown = time.time(), False
            while time.time() - start < 60 and not grown:
                time.sleep(0.2)
                grown = os.path.getsize(img) > 2 * MiB
            time.sleep(rng.uniform(0.05, 0.6))
            g.proc.send_signal(signal.SIGKILL)
            g.proc.wait()
        finally:
            g.stop()
        chk = qemu_img('check', img)
        T.check(grown and chk.returncode in (0, 3),
                f'kill -9 mid-write (round {round_ + 1}): qemu-img check reports no corruption '
                f'(exit {chk.returncode}{", leaks only" if chk.returncode == 3 else ""})')
        if chk.returncode not in (0, 3):
            T.diag(chk.stdout + chk.stderr)


def test_locking(guest, tmp):
    disk = os.path.join(tmp, 'shared.qcow2')
    qemu_img('create', '-f', 'qcow2', disk, '16M')
    g = vktest.Guest(guest, extra=['--disk', disk + ',format=qcow2'])
    try:
        if not T.check(g.start(), 'a VM runs with a writable disk'):
            return
        out = run_vm(guest, ['--cmdline', 'console=ttyS0 vk.mode=poweroff',
                             '--disk', disk + ',format=qcow2,readonly'])
        T.check(out.returncode != 0 and disk in out.stderr and str(g.proc.pid) in out.stderr,
                'a second VM is refused the disk; the error names the image and the holder')
        if out.returncode == 0 or disk not in out.stderr:
            T.diag(out.stderr[-800:])
    finally:
        g.stop()
    a = vktest.Guest(guest, extra=['--disk', disk + ',format=qcow2,readonly'])
    try:
        if not a.start():
            T.check(False, 'a VM runs with a read-only disk')
            return
        out = run_vm(guest, ['--cmdline', 'console=ttyS0 vk.mode=poweroff',
                             '--disk', disk + ',format=qcow2,readonly'])
        T.check(out.returncode == 0, 'two VMs may share one disk read-only')
        if out.returncode != 0:
            T.diag(out.stderr[-800:])
    finally:
        a.stop()


def test_image_command(tmp):
    """virtkit-vm image: what it makes qemu-img reads the same way, and bad input fails."""
    def vm_image(*args):
        return subprocess.run([vktest.VM, 'image', *args], capture_output=True, text=True)

    base, over = os.path.join(tmp, 'cmd-base.qcow2'), os.path.join(tmp, 'cmd-over.qcow2')
    ok = (vm_image('create', base, '--size', '1G', '--cluster-size', '128K').returncode == 0 and
          vm_image('create', over, '--backing', 'cmd-base.qcow2', '--backing-format', 'qcow2')
          .returncode == 0 and vm_image('resize', over, '3G', '--format', 'qcow2').returncode == 0)
    ours = vm_image('info', over, '--json')
    theirs = qemu_img('info', '--output=json', over)
    try:
        a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
    except ValueError:
        a, b = {}, {'unparsed': theirs.stdout}
    keys = ['filename', 'format', 'virtual-size', 'cluster-size', 'backing-filename',
            'full-backing-filename', 'backing-filename-format', 'dirty-flag']
    T.check(ok and all(a.get(k) == b.get(k) for k in keys),
            'virtkit-vm image create/resize/info --json agree with qemu-img info')
    if not ok or any(a.get(k) != b.get(k) for k in keys):
        T.diag(f'ours: {a}\nqemu-img: {b}')
    T.check(qemu_img('check', over).returncode == 0 and qemu_img('check', base).returncode == 0,
            'qemu-img check: the images virtkit-vm image made are clean')
    bad = [('create', os.path.join(tmp, 'x'), '--size', '0'),
           ('create', os.path.join(tmp, 'x'), '--size', '1G', '--format', 'vmdk'),
           ('create', os.path.join(tmp, 'x'), '--backing', base),
           ('create', base, '--size', '1G'),
           ('info', os.path.join(tmp, 'missing')),
           ('resize', over, '1G', '--format', 'qcow2'),
           ('resize', over, '4G')]
    fails = [b for b in bad if (lambda r: r.returncode == 0 or not r.stderr.strip()
                                or 'Traceback' in r.stderr)(vm_image(*b))]
    T.check(not fails and not os.path.exists(os.path.join(tmp, 'x')),
            'bad image commands fail with a message and leave no file')
    if fails:
        T.diag(f'accepted or silent: {fails}')


def main():
    guest, why = vktest.find_guest()
    if not guest:
        T.skip('disk images through the guest', why)
        return T.done()
    missing = [t for t in ('qemu-img', 'qemu-io') if not shutil.which(t)]
    if missing:
        T.skip('disk images checked by QEMU\'s tools', f'{", ".join(missing)} not installed '
               '(Debian package qemu-utils)')
        return T.done()
    tmp = tempfile.mkdtemp(prefix='vk-storage-')
    try:
        test_image_command(tmp)
        test_header_injection(guest, tmp)
        test_overlay_selftest(guest, tmp)
        test_same_writes_as_qemu(guest, tmp)
        test_guest_discard(guest, tmp)
        test_kill_mid_write(guest, tmp)
        test_locking(guest, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.done()


if __name__ == '__main__':
    sys.exit(main())
