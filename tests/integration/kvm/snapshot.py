#!/usr/bin/env python3
"""Saving, restoring and migrating the x86-64 PC board on KVM (issue 15), black-box, with the
`count` test guest: every 20 ms of LAPIC-timer time it asks virtio-rng (virtio-pci, MSI-X)
for bytes, waits for the queue's MSI-X interrupt, checks that the TSC went forward and that 64
pages hold what it last wrote there, and prints "count N msix M".
  - `save` on the control socket: the process exits 0 (shutdown event "saved"); a new process
    started with `run --restore FILE` (no --kernel) goes on with count N+1: the registers, the
    armed LAPIC timer, the MSI-X table, the virtqueue indexes, the TSC and RAM came back (the
    guest would stop or print FAIL otherwise), and it did not boot again ("counting" once);
  - 5 save/restore cycles in a row; `save` with keep_running; a save while paused (the
    restored machine is paused until a resume); 2 vCPUs;
  - the guest writing the UART without a pause (`stream`: the vCPU is held right after a
    port write), saved and restored 3 times: every character once, the ticks consecutive;
  - a truncated, corrupt or forged state file, one of another architecture, or another
    --memory: a clear error, status 1 or 2, and no guest instruction ran (empty console);
  - `migrate` to `run --incoming`: live when KVM's dirty log works on this host (probed at the
    start of the migration; otherwise refused with the probe's reason and the stop-and-copy
    form offered), stop-and-copy over tcp:, and live at 100 KB/s (several rounds while the
    guest writes: its page check fails if the dirty log missed a write); the guest goes on in
    the destination.
Every wait has a deadline; TAP output."""
import json
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

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402

VM = vktest.VM
GUESTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(vktest.BUILD, 'tests/guests/x86_64')
COUNT = os.path.join(GUESTS, 'count.elf')
T = vktest.Tap()
COUNT_RE = re.compile(r'count (\d+) msix (\d+)\r?\n')
# Every machine started, so that a check that fails half-way (or raises) leaves none behind.
MACHINES = []


class Machine:
    """A virtkit-vm with its console in a file and a control socket."""

    def __init__(self, tmp, name, args):
        self.out = os.path.join(tmp, name + '.out')
        self.sock = os.path.join(tmp, name + '.sock')
        self.errpath = os.path.join(tmp, name + '.err')
        self.err = open(self.errpath, 'w+')
        self.ctl = None
        self.p = subprocess.Popen([VM, 'run', '--quiet', '--console', 'file:' + self.out,
                                   '--control', self.sock] + args,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        MACHINES.append(self)

    def console(self):
        try:
            with open(self.out, 'rb') as f:
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def counts(self):
        return counts_of(self.console())

    def last(self):
        c = self.counts()
        return c[-1][0] if c else 0

    def wait_count(self, n, timeout=60):
        end = time.time() + timeout
        while time.time() < end and self.p.poll() is None:
            if self.last() >= n:
                return True
            time.sleep(0.05)
        return self.last() >= n

    def control(self):
        if not self.ctl:
            if not vktest.wait_for_path(self.sock, 30):
                return None
            self.ctl = vktest.Control(self.sock)
            self.ctl.s.settimeout(60)
        return self.ctl

    def call(self, obj):
        c = self.control()
        return c.call(obj) if c else {'ok': False, 'error': 'no control socket'}

    def wait(self, timeout=60):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr(self):
        self.err.flush()
        return open(self.errpath).read()

    def stop(self):
        if self.p.poll() is None:
            try:
                self.call({'cmd': 'quit'})
            except (OSError, EOFError, ValueError):
                pass
            if self.wait(20) is None:
                self.p.kill()
                self.p.wait()
        if self.ctl:
            self.ctl.close()
            self.ctl = None
        self.err.close()
        return self.p.returncode

    def tail(self):
        """The end of the console and of stderr, for a diagnostic."""
        err = open(self.errpath).read() if os.path.exists(self.errpath) else ''
        return f'{self.out}: ...{self.console()[-400:]!r} stderr: {err[-300:]!r}'


def counts_of(text):
    return [(int(m.group(1)), int(m.group(2))) for m in COUNT_RE.finditer(text)]


def continues(before, m):
    """The console before the save and m's console, joined (a line the save cut in two ends in
    m's, out of the saved UART FIFO), count on by one with no gap, repeat or FAIL."""
    text = before + m.console()
    return 'FAIL' not in text and consecutive(counts_of(text)) and \
        text.count('counting') <= 1 and m.last() > counts_of(before)[-1][0]


def consecutive(counts):
    """The counts rise by one each line, and msix equals the count (one MSI-X per count)."""
    return all(b[0] == a[0] + 1 for a, b in zip(counts, counts[1:])) and \
        all(n == m for n, m in counts)


def healthy(m):
    con = m.console()
    return 'FAIL' not in con and con.count('counting') <= 1 and consecutive(m.counts())


def save_and_restore(tmp, name, args, state, cycles_note=''):
    """Start or take a machine, save it, restore it: (source, restored, last count saved)."""
    src = Machine(tmp, name + '-src', args)
    if not src.wait_count(5):
        return src, None, 0
    reply = src.call({'cmd': 'save', 'path': state})
    if src.ctl:
        src.ctl.wait_event('shutdown', 30)
    rc = src.wait(60)
    saved = src.last()
    ev = [e for e in src.ctl.events if e.get('event') == 'shutdown'] if src.ctl else []
    T.check(reply.get('ok') is True and rc == 0 and ev and ev[0].get('reason') == 'saved',
            f'{name}: save: {json.dumps(reply)}, the process exits {rc} with reason '
            f'{ev[0].get("reason") if ev else None}')
    dst = Machine(tmp, name + '-dst', ['--restore', state])
    return src, dst, saved


def test_save_restore(tmp):
    state = os.path.join(tmp, 'count.vks')
    args = ['--arch', 'x86_64', '--memory', '16M', '--rng', '--kernel', COUNT, '--cmdline', 'count=6000']
    src, dst, saved = save_and_restore(tmp, 'one', args, state)
    try:
        if not dst:
            T.check(False, 'the count guest runs (diag: ' + src.console()[-300:] +
                    src.stderr()[-300:] + ')')
            return None
        ok = dst.wait_count(saved + 10)
        c = dst.counts()
        T.check(ok and c and c[0][0] in (saved + 1, saved + 2) and
                continues(src.console(), dst),
                f'the restored guest goes on from count {saved + 1} (the source\'s console and '
                f'the restored one count on without a gap; reached {dst.last()})')
        T.check(healthy(dst) and 'counting' not in dst.console(),
                'each count after it: one LAPIC timer interrupt, one MSI-X interrupt, the '
                'TSC forward, the 64 pages intact; no second boot'
                + ('' if healthy(dst) else ' (diag: ' + dst.console()[-300:] + ')'))
        st = dst.call({'cmd': 'status'})
        T.check(st.get('ok') is True and st.get('arch') == 'x86_64' and st.get('cpus') == 1,
                f'status of the restored machine: {json.dumps(st)[:200]}')

        # Cycles: save the restored machine again and again.
        cur, rising, times = dst, True, []
        history = src.console()
        for i in range(5):
            before = cur.last()
            p = os.path.join(tmp, f'cycle{i}.vks')
            t0 = time.time()
            reply = cur.call({'cmd': 'save', 'path': p})
            cur.wait(60)
            cur.stop()
            history += cur.console()
            nxt = Machine(tmp, f'cycle{i}', ['--restore', p])
            if not nxt.wait_count(cur.last() + 3) or not continues(history, nxt) or \
                    not reply.get('ok'):
                rising = False
                T.diag(f'cycle {i}: save {json.dumps(reply)}; restored {nxt.tail()}')
            times.append(time.time() - t0)
            cur = nxt
            if not rising:
                break
            rising = rising and cur.last() > before
        T.check(rising, f'5 save/restore cycles in a row, the count rising in each (reached '
                        f'{cur.last()}; a cycle took {min(times):.2f} to {max(times):.2f} s)')

        # keep_running: the file is written and the guest goes on in this process.
        keep = os.path.join(tmp, 'keep.vks')
        before = cur.last()
        reply = cur.call({'cmd': 'save', 'path': keep, 'keep_running': True})
        T.check(reply.get('ok') is True and cur.wait_count(before + 5, 30) and
                cur.p.poll() is None and os.path.getsize(keep) > 0 and healthy(cur),
                f'save with keep_running: the file is written and the guest goes on '
                f'({before} -> {cur.last()})')

        # Paused: the save holds what the pause froze; the restored machine runs.
        reply_p = cur.call({'cmd': 'pause'})
        time.sleep(0.3)
        at_pause = cur.last()
        paused = os.path.join(tmp, 'paused.vks')
        reply = cur.call({'cmd': 'save', 'path': paused})
        cur.wait(60)
        cur.stop()
        back = Machine(tmp, 'from-paused', ['--restore', paused])
        st = back.call({'cmd': 'status'})
        time.sleep(0.5)
        still = back.console()
        resumed = back.call({'cmd': 'resume'})
        ok = back.wait_count(at_pause + 3)
        T.check(reply_p.get('ok') is True and reply.get('ok') is True and
                st.get('state') == 'paused' and 'count' not in still,
                f'a paused machine saves and comes back paused (status {st.get("state")}, '
                f'no count in 0.5 s)')
        T.check(resumed.get('ok') is True and ok and healthy(back) and
                continues(cur.console(), back),
                f'resumed, it runs on from count {at_pause + 1} (reached {back.last()})')
        back.stop()
        if dst is not cur:
            dst.stop()
        return state
    finally:
        src.stop()
        if dst:
            dst.stop()


TICK_RE = re.compile(r'tick (\d+)\r?\n')


def ticks(text):
    return [int(n) for n in TICK_RE.findall(text)]


def first_bad_tick_line(text):
    """None when every whole line is 'tick N' with N rising by one, else the first other."""
    want = None
    for line in text.split('\n')[:-1]:
        m = re.fullmatch(r'tick (\d+)\r?', line)
        if not m or (want is not None and int(m.group(1)) != want):
            return repr(line)
        want = int(m.group(1)) + 1
    return None


def wait_ticks(m, n, timeout=60):
    end = time.time() + timeout
    while time.time() < end and m.p.poll() is None:
        t = ticks(m.console()[-4096:])
        if t and t[-1] >= n:
            return True
        time.sleep(0.05)
    return False


def test_held_after_port_write(tmp):
    args = ['--arch', 'x86_64', '--memory', '16M', '--kernel', COUNT, '--cmdline', 'stream']
    cur, history, ok, at = Machine(tmp, 'stream0', args), '', True, 0
    for i in range(3):
        ok = wait_ticks(cur, at + 200)
        reply = cur.call({'cmd': 'save', 'path': os.path.join(tmp, 'stream.vks')}) if ok else {}
        ok = ok and reply.get('ok') is True and cur.wait(60) == 0
        cur.stop()
        history += cur.console()
        if not ok:
            T.diag(f'stream save {i}: {json.dumps(reply)} {cur.tail()}')
            break
        at = ticks(history[-4096:])[-1]
        cur = Machine(tmp, f'stream{i + 1}', ['--restore', os.path.join(tmp, 'stream.vks')])
    ok = ok and wait_ticks(cur, at + 200)
    cur.stop()
    history += cur.console()
    bad = first_bad_tick_line(history)
    T.check(ok and bad is None and ticks(history)[-1] > at,
            f'a guest writing the UART without a pause, saved and restored 3 times: every '
            f'character once, the ticks consecutive up to {ticks(history)[-1:]} '
            f'(first other line: {bad})')


def test_smp(tmp):
    state = os.path.join(tmp, 'smp.vks')
    args = ['--arch', 'x86_64', '--memory', '16M', '--cpus', '2', '--rng', '--kernel', COUNT, '--cmdline', 'count=6000']
    src, dst, saved = save_and_restore(tmp, 'smp', args, state)
    try:
        ok = dst is not None and dst.wait_count(saved + 5)
        st = dst.call({'cmd': 'status'}) if dst else {}
        T.check(ok and healthy(dst) and continues(src.console(), dst) and st.get('cpus') == 2,
                f'2 vCPUs (the second waiting for its SIPI): restored, the guest goes on from '
                f'{saved + 1} (reached {dst.last() if dst else None})')
    finally:
        src.stop()
        if dst:
            dst.stop()


def edit_record(data, rec, at, new):
    """Replace payload bytes of rec at offset `at` with new, and fix the record's CRC."""
    d = bytearray(data)
    body = rec[2] + 17 + len(rec[1])
    d[body + at:body + at + len(new)] = new
    crc_at = rec[2] + rec[3] - 4
    struct.pack_into('<I', d, crc_at, zlib.crc32(bytes(d[rec[2]:crc_at])))
    return bytes(d)


def msr_offset(payload):
    """Where the vCPU record's MSR list starts (x86-state.c's layout)."""
    off = 18 * 8 + 8 * 23 + 2 * 10 + 7 * 8 + 4 * 8
    off += 1
    (blk,) = struct.unpack_from('<I', payload, off)
    off += 4 + blk
    has_xcrs = payload[off]
    off += 1
    if has_xcrs:
        (n,) = struct.unpack_from('<I', payload, off)
        off += 4 + 12 * n
    return off


def run_bad(args, tmp):
    log = os.path.join(tmp, 'bad-console.log')
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.run([VM, 'run', '--quiet', *args, '--console', 'file:' + log],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    con = open(log, 'rb').read() if os.path.exists(log) else b''
    return p.returncode, p.stderr.strip(), con


def test_bad_files(state, tmp):
    data = open(state, 'rb').read()
    recs = vktest.state_records(data)
    names = [r[1] for r in recs if r[0] == 2]
    T.check(recs and recs[0][1] == 'config' and recs[-1][0] == 4 and
            names[:3] == ['pc', 'kvm', 'cpu0'] and 'virtio-pci.0' in names and
            data[16:22] == b'x86_64',
            f'the x86 state file: header x86_64 pc, then config, {", ".join(names)}, RAM, END')
    cpu = next(r for r in recs if r[1] == 'cpu0')
    vp = next(r for r in recs if r[1] == 'virtio-pci.0')
    ram = next(r for r in recs if r[0] == 3)
    cpu_payload = data[cpu[2] + 17 + 4:cpu[2] + cpu[3] - 4]
    cases = []
    for name, cut in [('inside the header', 30), ('inside the vCPU\'s record', cpu[2] + 200),
                      ('inside a RAM record', ram[2] + ram[3] // 2),
                      ('before the END record', recs[-1][2])]:
        cases.append((f'truncated {name} (at byte {cut})', data[:cut], 'ends early'))
    flipped = bytearray(data)
    flipped[ram[2] + 17 + 3 + 16 + 100] ^= 0x40
    cases.append(('a flipped bit in guest RAM', bytes(flipped), 'checksum mismatch'))
    flipped = bytearray(data)
    flipped[cpu[2] + 17 + 4 + 130] ^= 0x01
    cases.append(('a flipped bit in the vCPU\'s registers', bytes(flipped), 'checksum mismatch'))
    cases.append(('a vCPU segment with DPL 7 (CRC fixed)',
                  edit_record(data, cpu, 18 * 8 + 8 + 4 + 2 + 2, b'\x07'), 'segment cs'))
    mo = msr_offset(cpu_payload)
    cases.append(('a vCPU naming an MSR KVM does not list (CRC fixed)',
                  edit_record(data, cpu, mo + 4, struct.pack('<I', 0xdeadbeef)),
                  'MSR 0xdeadbeef'))
    cases.append(('a vCPU claiming 100000 MSRs (CRC fixed)',
                  edit_record(data, cpu, mo, struct.pack('<I', 100000)), '100000 MSRs'))
    cases.append(('a virtio-pci function with another vendor id (CRC fixed)',
                  edit_record(data, vp, 8, b'\x34\x12'), 'read-only configuration byte'))
    arch = bytearray(data)
    arch[16:32] = b'riscv64'.ljust(16, b'\0')
    cases.append(('another architecture in the header', bytes(arch), 'riscv64'))
    v2 = bytearray(data)
    v2[8:12] = struct.pack('<I', 2)
    cases.append(('format version 2', bytes(v2), 'format version 2'))
    cases.append(('an empty file', b'', 'not a virtkit machine state'))
    for name, content, expect in cases:
        bad = os.path.join(tmp, 'bad.vks')
        with open(bad, 'wb') as f:
            f.write(content)
        rc, err, con = run_bad(['--restore', bad], tmp)
        T.check(rc in (1, 2) and expect in err and 'virtkit-vm: ' in err and not con,
                f'{name}: refused, status {rc}, nothing ran: "{err[-300:]}"')
    rc, err, con = run_bad(['--restore', state, '--memory', '32M'], tmp)
    T.check(rc == 2 and '--memory' in err and not con,
            f'--memory other than the saved machine\'s: refused, status {rc}: "{err}"')


def test_migrate(tmp):
    args = ['--arch', 'x86_64', '--memory', '16M', '--rng', '--kernel', COUNT, '--cmdline', 'count=6000']
    # The third: live at 100 KB/s, so that round 0 takes about a second while the guest runs
    # and writes its pages: what it wrote meanwhile goes in later rounds only if KVM's dirty
    # log named it (a missed page fails the guest's page check in the destination).
    for live, to, extra in [(True, 'unix:' + os.path.join(tmp, 'mig.sock'), {}),
                            (False, f'tcp:127.0.0.1:{vktest.free_port()}', {}),
                            (True, 'unix:' + os.path.join(tmp, 'mig-slow.sock'),
                             {'bandwidth': '100K', 'max_rounds': 3})]:
        kind = ('live' if live else 'stop-and-copy') + (' at 100 KB/s' if extra else '')
        fname = kind.replace(' ', '-').replace('/', '')
        src = Machine(tmp, f'mig-src-{fname}', args)
        dst = Machine(tmp, f'mig-dst-{fname}', ['--incoming', to])
        try:
            if not src.wait_count(5):
                T.check(False, f'{kind}: the source runs the count guest')
                continue
            if to.startswith('unix:'):
                vktest.wait_for_path(to[5:], 30)
            else:
                time.sleep(0.5)
            reply = src.call({'cmd': 'migrate', 'to': to, 'live': live, **extra})
            if live and reply.get('ok') is False:
                # Refused because the probe found KVM's dirty log empty: say why, offer the
                # stop-and-copy form, and the guest goes on in the source.
                err = reply.get('error', '')
                T.check('dirty log' in err and '"live": false' in err and
                        src.wait_count(src.last() + 3, 30) and healthy(src),
                        f'live migration refused with the probe\'s reason, the source goes '
                        f'on: "{err}"')
                continue
            rc = src.wait(60)
            saved = src.last()
            ok = dst.wait_count(saved + 5)
            c = dst.counts()
            T.check(reply.get('ok') is True and rc == 0 and ok and healthy(dst) and c and
                    continues(src.console(), dst) and
                    (not extra or reply.get('rounds', 0) >= 2),
                    f'{kind} migration over {to.split(":")[0]}: the source exits {rc}, the '
                    f'guest goes on in the destination from {saved + 1} with its pages '
                    f'intact (reached {dst.last()})')
            T.diag(f'{kind}: {json.dumps(reply)}')
        finally:
            src.stop()
            dst.stop()


def main():
    if not os.path.exists(COUNT):
        T.skip('x86 save/restore', f'the count test guest was not built ({COUNT})')
        sys.exit(T.done())
    summary = subprocess.run([VM, 'probe'], capture_output=True, text=True,
                             timeout=60).stdout.strip().splitlines()
    if not summary or 'unavailable' in summary[-1] or not summary[-1].startswith('kvm:'):
        T.skip('x86 save/restore', 'KVM is not usable here: ' +
               (summary[-1] if summary else 'probe printed nothing'))
        sys.exit(T.done())
    tmp = tempfile.mkdtemp(prefix='vk-x86-snap-')
    try:
        state = test_save_restore(tmp)
        test_held_after_port_write(tmp)
        test_smp(tmp)
        if state:
            test_bad_files(state, tmp)
        test_migrate(tmp)
    finally:
        for m in MACHINES:
            if m.p.poll() is None:
                m.p.kill()
                m.p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(T.done())


if __name__ == '__main__':
    main()
