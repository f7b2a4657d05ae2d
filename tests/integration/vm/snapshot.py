#!/usr/bin/env python3
"""Saving, restoring and migrating a running riscv64 guest (issue 15), black-box:
  - a guest whose shell loop prints a counter every 100 ms and that wrote a pattern to its
    disk is saved (`save` on the control socket: the process exits 0 with reason "saved"),
    a new process restores it (`run --restore FILE`, no --kernel), and the counter goes on
    from where it stopped, /proc/uptime goes on (no reboot: no second ready marker), the
    shell answers and the disk still holds the pattern; a write after the restore reaches
    the image file;
  - 20 save/restore cycles in a row, the counter rising in each;
  - `save` with keep_running: the guest goes on in the same process;
  - a corrupt, truncated, empty, wrong-version, wrong-arch or mismatched state file, or one
    given with another --memory: a clear error, exit status 1 or 2 (no signal), and no guest
    instruction ran (its console file stays empty);
  - live migration to `run --incoming unix:...` while the guest writes memory continuously:
    the source exits 0 ("migrated"), the guest goes on in the destination (counter, disk),
    and the figures (total time, downtime, bytes) are printed as diagnostics; stop-and-copy
    (`"live": false`) over tcp: does the same;
  - a migration the destination refuses, or to an address nobody listens on: the reply says
    why and the guest goes on in the source;
  - `disk-overlay` on a running guest's qcow2 disk: later writes go to the new overlay, the
    image keeps what was written before; a path that exists and a disk that does not are
    refused, and the disk goes on as it was.
Every wait has a deadline; TAP output."""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../lib'))
import vktest  # noqa: E402

T = vktest.Tap()
MiB = 1 << 20
# Prints "CNT <n> <uptime>" every 100 ms, in the background of the guest's shell.
COUNTER = ('(i=0; while :; do i=$((i+1)); echo "CNT $i $(cut -d" " -f1 /proc/uptime)"; '
           'sleep 0.1; done) &')
CNT_RE = re.compile(rb'CNT (\d+) (\d+\.\d+)\r?\n')


def counters(data):
    """[(n, uptime)] of the counter lines in data."""
    return [(int(m.group(1)), float(m.group(2))) for m in CNT_RE.finditer(data)]


class Restored(vktest.Guest):
    """A virtkit-vm started with --restore/--incoming: console and control on sockets."""

    def __init__(self, args, console='socket'):
        self.tmp = tempfile.mkdtemp(prefix='vk-restored-')
        self.ctl_path = os.path.join(self.tmp, 'ctl')
        self.con_path = os.path.join(self.tmp, 'console')
        con = ('socket:' + self.con_path) if console == 'socket' else console
        self.proc = subprocess.Popen([vktest.VM, 'run', *args, '--console', con,
                                      '--control', self.ctl_path, *vktest.CPU_ARGS],
                                     stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.con = None
        self.seen = b''
        self.cursor = 0

    def attach(self, timeout=30):
        if not (vktest.wait_for_path(self.ctl_path, timeout)
                and vktest.wait_for_path(self.con_path, timeout)):
            return False
        self.con = socket.socket(socket.AF_UNIX)
        self.con.connect(self.con_path)
        return True


def last_count(g, seconds=1.0):
    """The guest's counter after reading its console for a while, or None."""
    g.read(seconds)
    c = counters(g.seen)
    return c[-1] if c else None


def next_count(g, after=0, timeout=20):
    """The first counter line read after byte offset `after` of g.seen, waiting for one
    (a restored guest starts with an empty translation cache, and the host may be busy)."""
    end = time.time() + timeout
    while True:
        c = counters(g.seen[after:])
        if c or time.time() >= end:
            return c[0] if c else None
        g.read(0.2)


def save(g, path, **kw):
    ctl = g.control()
    reply = ctl.call({'cmd': 'save', 'path': path, **kw})
    ctl.close()
    return reply


def wait_exit(proc, timeout=30):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def stderr_of(proc):
    try:
        return proc.stderr.read().decode(errors='replace')
    except (OSError, ValueError):
        return ''


def link_state(g, want):
    """eth0's (carrier changes, carrier), once the changes reach want (up to 5 s), or None."""
    out = g.run('ip link set eth0 up; i=0; while [ $i -lt 10 ] && '
                f'[ $(cat /sys/class/net/eth0/carrier_changes) -lt {want} ]; do sleep 0.5; '
                'i=$((i+1)); done; echo "CC=$(cat /sys/class/net/eth0/carrier_changes)" '
                '"UP=$(cat /sys/class/net/eth0/carrier)"')
    m = re.search(r'CC=(\d+) UP=(\d)', out or '')
    return (int(m.group(1)), int(m.group(2))) if m else None


def disk_cmd_write(tag):
    return f'echo {tag} | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; echo wrote'


def disk_cmd_read():
    return 'dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 16; echo'


def test_save_restore(guest_dir, tmp):
    disk = os.path.join(tmp, 'disk.raw')
    with open(disk, 'wb') as f:
        f.truncate(8 * MiB)
    state = os.path.join(tmp, 'state.vks')
    g = vktest.Guest(guest_dir, extra=['--disk', disk, '--net', 'user'])
    restored = None
    try:
        if not T.check(g.start(), 'the guest boots to its shell'):
            T.diag(stderr_of(g.proc)[-2000:])
            return None
        T.check((g.run(disk_cmd_write('PATTERN-ONE')) or '').strip().endswith('wrote'),
                'the guest writes a pattern to its disk')
        carrier0 = link_state(g, 0)
        g.con.sendall(COUNTER.encode() + b'\n')
        before = last_count(g, 1.5)
        T.check(before is not None and before[0] >= 3, f'the counter runs ({before})')
        t0 = time.monotonic()
        reply = save(g, state)
        t_save = time.monotonic() - t0
        rc = wait_exit(g.proc)
        T.check(reply.get('ok') is True and rc == 0 and os.path.getsize(state) == reply.get('bytes'),
                f'save: ok, {reply.get("bytes")} bytes written ({reply.get("ram_bytes")} of RAM) '
                f'in {t_save:.3f} s, the process exits 0 (status {rc})')
        g.read(0.3)
        stopped_at = counters(g.seen)[-1]
        g.con.close()
        g.con = None

        # A new process: no --kernel, the saved configuration builds the machine.
        restored = Restored(['--restore', state])
        if not T.check(restored.attach(), 'run --restore starts from the file alone'):
            T.diag(stderr_of(restored.proc)[-2000:])
            return state
        first = next_count(restored)
        after = last_count(restored, 0.5)
        T.check(first is not None and stopped_at[0] < first[0] <= stopped_at[0] + 10,
                f'the counter continues where it stopped ({stopped_at[0]} -> {first and first[0]})')
        T.check(first is not None and stopped_at[1] <= first[1] <= stopped_at[1] + 1.0,
                f'/proc/uptime continues ({stopped_at[1]} -> {first and first[1]})')
        T.check(b'VIRTKIT-GUEST-READY' not in restored.seen, 'the guest did not boot again')
        out = restored.run(disk_cmd_read())
        T.check(out is not None and 'PATTERN-ONE' in out,
                f'the shell answers and the disk holds what was written before the save ({out!r})')
        T.check((restored.run(disk_cmd_write('PATTERN-TWO')) or '').strip().endswith('wrote'),
                'the restored guest writes to its disk')
        # The slirp connections stayed with the old process: the link was reset.
        carrier1 = link_state(restored, carrier0[0] + 2 if carrier0 else 0)
        T.check(carrier0 is not None and carrier1 == (carrier0[0] + 2, 1),
                f'over user networking the restored link went down and up once '
                f'(carrier changes, carrier: {carrier0} -> {carrier1})')
        with open(disk, 'rb') as f:
            T.check(f.read(11) == b'PATTERN-TWO', 'the write reached the image file')

        # 20 cycles, each in a new process.
        ok, prev, cyc_times = True, after, []
        for i in range(20):
            t0 = time.monotonic()
            reply = save(restored, state)
            rc = wait_exit(restored.proc)
            restored.read(0.2)
            last = counters(restored.seen)[-1]
            restored.stop()
            restored = Restored(['--restore', state])
            if not restored.attach():
                ok = False
                T.diag(f'cycle {i}: ' + stderr_of(restored.proc)[-1000:])
                break
            now = next_count(restored)
            cyc_times.append(time.monotonic() - t0)
            if reply.get('ok') is not True or rc != 0 or now is None or not (
                    last[0] < now[0] and last[1] <= now[1]):
                ok = False
                T.diag(f'cycle {i}: reply {reply} status {rc} before {last} after {now}')
                break
            prev = now
        T.check(ok, f'20 save/restore cycles in a row, the counter rising in each '
                f'(reached {prev and prev[0]}; a cycle took {min(cyc_times or [0]):.2f} to '
                f'{max(cyc_times or [0]):.2f} s)')
        out = restored.run('echo alive')
        T.check(out is not None and 'alive' in out, 'the shell answers after the cycles')

        # keep_running: the same process goes on.
        keep = os.path.join(tmp, 'keep.vks')
        reply = save(restored, keep, keep_running=True)
        time.sleep(0.3)
        out = restored.run('echo still-here')
        T.check(reply.get('ok') is True and restored.proc.poll() is None and out is not None
                and 'still-here' in out and os.path.getsize(keep) > 0,
                'save with keep_running: the file is written and the guest goes on')
        reply = save(restored, 'relative/path')
        T.check(reply.get('ok') is False and 'absolute' in reply.get('error', ''),
                f'save with a relative path is refused ({reply.get("error")})')
        reply = save(restored, os.path.join(tmp, 'no-such-dir', 'x.vks'))
        out = restored.run('echo after-failed-save')
        T.check(reply.get('ok') is False and 'no-such-dir' in reply.get('error', '')
                and out is not None and 'after-failed-save' in out,
                f'a save that cannot write its file fails and the guest goes on '
                f'({reply.get("error")})')
        T.check(restored.stop() == 0, 'quit ends the restored machine with status 0')
        restored = None
        return state
    finally:
        g.stop()
        if restored:
            restored.stop()


def run_bad(args, tmp):
    """Run a restore that must fail: (status, stderr, console bytes)."""
    log = os.path.join(tmp, 'bad-console.log')
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.run([vktest.VM, 'run', *args, '--console', 'file:' + log, *vktest.CPU_ARGS],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    con = open(log, 'rb').read() if os.path.exists(log) else b''
    return p.returncode, p.stderr.strip(), con


def fnv1a64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


def x86_state(data, recs):
    """The state with its header and configuration rewritten to an x86_64 'pc' machine on
    KVM, digest and CRC consistent: a well-formed file of a machine this build cannot load."""
    cfg = recs[0]
    text = data[cfg[2] + 17 + 6:cfg[2] + cfg[3] - 4].decode()
    text = text.replace('"riscv64"', '"x86_64"').replace('"emu"', '"kvm"').encode()
    head = bytearray(data[:64])
    head[16:48] = b'x86_64'.ljust(16, b'\0') + b'pc'.ljust(16, b'\0')
    struct.pack_into('<Q', head, 48, fnv1a64(text))
    rec = struct.pack('<IIQB', 1, 1, len(text), 6) + b'config' + text
    rec += struct.pack('<I', zlib.crc32(rec))
    return bytes(head) + rec + data[cfg[2] + cfg[3]:]


def test_bad_files(state, tmp):
    data = open(state, 'rb').read()
    recs = vktest.state_records(data)
    T.check(recs and recs[0][1] == 'config' and recs[-1][0] == 4 and
            sum(r[3] for r in recs) + 64 == len(data),
            f'the state file is a header and {len(recs)} records ending with END')
    dev = next(r for r in recs if r[1] == 'cpu0')
    ram = next(r for r in recs if r[0] == 3)
    cases = []
    for name, cut in [('inside the header', 30), ('inside the configuration', 64 + 25),
                      ('inside the hart\'s record', dev[2] + dev[3] // 2),
                      ('inside a RAM record', ram[2] + ram[3] // 2),
                      ('before the END record', recs[-1][2])]:
        cases.append((f'truncated {name} (at byte {cut})', data[:cut], 'ends early'))
    flipped = bytearray(data)
    flipped[ram[2] + 17 + 3 + 16 + 100] ^= 0x40
    cases.append(('a flipped bit in guest RAM', bytes(flipped), 'checksum mismatch'))
    v2 = bytearray(data)
    v2[8:12] = struct.pack('<I', 2)
    cases.append(('format version 2', bytes(v2), 'format version 2'))
    arch = bytearray(data)
    arch[16:32] = b'x86_64'.ljust(16, b'\0')
    cases.append(('another architecture in the header', bytes(arch), 'x86_64'))
    # The pc board is built and finds the riscv64 board's records foreign.
    cases.append(('an x86_64 machine (header and configuration agree)', x86_state(data, recs),
                  'this machine does not have'))
    cases.append(('an empty file', b'', 'not a virtkit machine state'))
    cases.append(('not a state file', b'\x7fELF' + b'\0' * 200, 'not a virtkit machine state'))
    dev_len = bytearray(data)
    struct.pack_into('<Q', dev_len, dev[2] + 8, 1 << 40)
    cases.append(('a record claiming 1 TiB', bytes(dev_len), 'claims'))
    # A hart state that is well-formed but holds a privilege level that does not exist.
    priv = bytearray(data)
    body = dev[2] + 17 + len('cpu0')
    priv[body + 4 + 31 * 8 + 8] = 2
    crc_at = dev[2] + dev[3] - 4
    struct.pack_into('<I', priv, crc_at, zlib.crc32(bytes(priv[dev[2]:crc_at])))
    cases.append(('a hart in a privilege mode that does not exist', bytes(priv), 'privilege'))
    for name, content, expect in cases:
        bad = os.path.join(tmp, 'bad.vks')
        with open(bad, 'wb') as f:
            f.write(content)
        rc, err, con = run_bad(['--restore', bad], tmp)
        T.check(rc in (1, 2) and expect in err and 'virtkit-vm: ' in err and not con,
                f'{name}: refused, status {rc}, nothing ran: "{err[-300:]}"')
    rc, err, con = run_bad(['--restore', state, '--memory', '256M'], tmp)
    T.check(rc == 2 and '--memory' in err and not con,
            f'--memory other than the saved machine\'s: refused, status {rc}: "{err}"')
    rc, err, con = run_bad(['--restore', os.path.join(tmp, 'missing.vks')], tmp)
    T.check(rc == 2 and 'missing.vks' in err, f'a missing file: status {rc}: "{err}"')
    rc, err, con = run_bad(['--restore', state, '--incoming', 'unix:/nonexistent/x'], tmp)
    T.check(rc == 2 and '--incoming' in err, f'--restore with --incoming: status {rc}: "{err}"')


def start_counter_guest(guest_dir, disk, memory):
    g = vktest.Guest(guest_dir, extra=['--disk', disk], memory=memory)
    if not g.start():
        return g, False
    g.run(disk_cmd_write('MIGRATED-DISK'))
    # The counter, and a writer that keeps dirtying 4 MiB of memory (tmpfs) all the time.
    g.con.sendall(b'(while :; do dd if=/dev/zero of=/tmp/blob bs=64k count=64 2>/dev/null; '
                  b'done) &\n')
    g.con.sendall(COUNTER.encode() + b'\n')
    g.read(1.0)
    return g, True


def guest_downtime(seen):
    """Largest gap between two counter lines in guest uptime, minus the 100 ms period."""
    c = counters(seen)
    gaps = [b[1] - a[1] for a, b in zip(c, c[1:])]
    return max(gaps) - 0.1 if gaps else None


def migrate(guest_dir, tmp, uri, listen, live, memory='256M'):
    disk = os.path.join(tmp, 'mig-disk.raw')
    with open(disk, 'wb') as f:
        f.truncate(8 * MiB)
    g, ok = start_counter_guest(guest_dir, disk, memory)
    dst = None
    try:
        if not T.check(ok, f'{memory} guest boots with a memory writer'):
            return
        dst = Restored(['--incoming', listen])
        if uri.startswith('unix:'):
            vktest.wait_for_path(uri[5:])
        else:
            time.sleep(0.5)
        before = counters(g.seen)[-1]
        ctl = g.control()
        reply = ctl.call({'cmd': 'migrate', 'to': uri, 'live': live})
        rc = wait_exit(g.proc)
        g.read(0.2)
        stopped = counters(g.seen)[-1]
        kind = 'live' if live else 'stop-and-copy'
        T.check(reply.get('ok') is True and rc == 0,
                f'{kind} migration over {uri.split(":")[0]}: ok, the source exits 0 (status {rc})')
        if reply.get('ok') is not True:
            T.diag(str(reply))
        if not T.check(dst.attach(), 'the destination runs the guest'):
            T.diag(stderr_of(dst.proc)[-2000:])
            return
        dst.seen = g.seen
        dst.cursor = len(dst.seen)
        first = next_count(dst, len(g.seen))
        dst.read(0.5)
        after = [first] if first else []
        # (The source's console was last read before the migration began: a busy guest may
        # have printed nothing more before it stopped.)
        T.check(after and stopped[0] < after[0][0] <= stopped[0] + 10 and before[0] <= stopped[0],
                f'the counter goes on in the destination ({before[0]} .. {stopped[0]} | '
                f'{after and after[0][0]} ..)')
        out = dst.run(disk_cmd_read())
        T.check(out is not None and 'MIGRATED-DISK' in out, f'the disk is intact ({out!r})')
        T.diag(f'{memory} {kind}: total_ms={reply.get("total_ms")} '
               f'downtime_ms(source)={reply.get("downtime_ms")} '
               f'downtime_ms(guest)={(guest_downtime(dst.seen) or 0) * 1000:.0f} '
               f'bytes={reply.get("bytes")} ram_bytes={reply.get("ram_bytes")} '
               f'rounds={reply.get("rounds")} converged={reply.get("converged")}')
        T.check(dst.stop() == 0, 'the destination quits with status 0')
        dst = None
    finally:
        g.stop()
        if dst:
            dst.stop()


def test_migration_failures(guest_dir, tmp):
    disk = os.path.join(tmp, 'fail-disk.raw')
    with open(disk, 'wb') as f:
        f.truncate(8 * MiB)
    g, ok = start_counter_guest(guest_dir, disk, '128M')
    dst = None
    try:
        if not T.check(ok, 'a guest for the failing migrations boots'):
            return
        sock = os.path.join(tmp, 'refuse.sock')
        # The destination is told another memory size: it refuses the machine.
        dst = subprocess.Popen([vktest.VM, 'run', '--incoming', 'unix:' + sock, '--memory', '64M',
                                '--console', 'file:/dev/null'],
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        vktest.wait_for_path(sock)
        ctl = g.control()
        reply = ctl.call({'cmd': 'migrate', 'to': 'unix:' + sock})
        drc = wait_exit(dst)
        out = g.run('echo source-goes-on')
        T.check(reply.get('ok') is False and '--memory' in reply.get('error', '') and drc == 2
                and out is not None and 'source-goes-on' in out,
                f'a destination that refuses: the source says why and goes on '
                f'("{reply.get("error")}", destination status {drc})')
        reply = ctl.call({'cmd': 'migrate', 'to': 'unix:' + os.path.join(tmp, 'nobody.sock')})
        out = g.run('echo still-going')
        T.check(reply.get('ok') is False and 'nobody.sock' in reply.get('error', '')
                and out is not None and 'still-going' in out,
                f'nobody listening: "{reply.get("error")}", the guest goes on')
        reply = ctl.call({'cmd': 'migrate', 'to': 'ftp:x'})
        T.check(reply.get('ok') is False and 'unix:PATH or tcp:HOST:PORT' in reply.get('error', ''),
                f'a bad address: "{reply.get("error")}"')
        # The source still owns its disk: a write after the failed migrations reaches the image.
        T.check((g.run(disk_cmd_write('AFTER-FAILURE')) or '').strip().endswith('wrote'),
                'the source still writes its disk')
        with open(disk, 'rb') as f:
            T.check(f.read(13) == b'AFTER-FAILURE', 'the write reached the image file')
        ctl.close()
    finally:
        g.stop()
        if dst and dst.poll() is None:
            dst.kill()
            dst.wait()


def chk(ok, name, detail):
    if not T.check(ok, name):
        T.diag(str(detail))
    return ok


def test_disk_overlay(guest_dir, tmp):
    base, ov = os.path.join(tmp, 'ov-base.qcow2'), os.path.join(tmp, 'ov-top.qcow2')
    made = subprocess.run([vktest.VM, 'image', 'create', base, '--format', 'qcow2', '--size',
                           '8M'], capture_output=True, text=True)
    if not chk(made.returncode == 0, 'disk-overlay: a qcow2 disk', made.stderr):
        return
    g = vktest.Guest(guest_dir, extra=['--disk', base + ',format=qcow2'])
    try:
        if not T.check(g.start(), 'disk-overlay: the guest boots'):
            return
        g.run(disk_cmd_write('BEFORE-OVERLAY'))
        ctl = g.control()
        reply = ctl.call({'cmd': 'disk-overlay', 'disk': 0, 'path': ov})
        chk(reply.get('ok') is True and os.path.exists(ov), 'disk-overlay: ok, the overlay exists',
            reply)
        T.check((g.run(disk_cmd_write('AFTER-OVERLAY')) or '').strip().endswith('wrote'),
                'disk-overlay: the guest writes on')
        with open(base, 'rb') as f:
            b = f.read()
        with open(ov, 'rb') as f:
            o = f.read()
        T.check(b'BEFORE-OVERLAY' in b and b'AFTER-OVERLAY' not in b and
                b'AFTER-OVERLAY' in o and base.encode() in o,
                'disk-overlay: the image keeps the write before, the overlay (backed by the '
                'image) takes the one after')
        again = ctl.call({'cmd': 'disk-overlay', 'disk': 0, 'path': ov})
        nodisk = ctl.call({'cmd': 'disk-overlay', 'disk': 3, 'path': ov + '.x'})
        chk(again.get('ok') is False and nodisk.get('ok') is False and
            'no disk 3' in nodisk.get('error', ''),
            'disk-overlay: an existing path and a missing disk are refused', f'{again} {nodisk}')
        ctl.close()
        T.check('AFTER-AGAIN' in (g.run(disk_cmd_write('AFTER-AGAIN') + '; ' + disk_cmd_read())
                                  or ''),
                'disk-overlay: after the refusals the disk works as before')
    finally:
        g.stop()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    guest_dir, why = vktest.find_guest()
    if not guest_dir:
        T.skip('save, restore and migration', why)
        return T.done()
    tmp = tempfile.mkdtemp(prefix='vk-snapshot-')
    try:
        state = test_save_restore(guest_dir, tmp)
        if state and os.path.exists(state):
            test_bad_files(state, tmp)
        sock = os.path.join(tmp, 'mig.sock')
        migrate(guest_dir, tmp, 'unix:' + sock, 'unix:' + sock, True)
        port = free_port()
        migrate(guest_dir, tmp, f'tcp:127.0.0.1:{port}', f'tcp:127.0.0.1:{port}', False,
                memory='128M')
        test_migration_failures(guest_dir, tmp)
        test_disk_overlay(guest_dir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.done()


if __name__ == '__main__':
    sys.exit(main())
