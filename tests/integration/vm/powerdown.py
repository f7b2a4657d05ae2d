#!/usr/bin/env python3
"""`powerdown` on the riscv64 board against the real guest: a file written on an ext4 disk
without `sync` is on the image once the guest has powered off, asked
  - with serial SysRq (no agent port): break + s, u, o, each key once the guest reports the
    step before it done on its console;
  - through the guest agent (--agent): guest-sync, guest-shutdown, and no SysRq at all;
  - through the agent port whose agent has gone: SysRq after the agent's silence;
and a guest that ignores the request (SysRq disabled) keeps running, with only a break and
an `s` on its console."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402

DATA = 'important-data-not-synced'


def make_disk(tmp):
    path = os.path.join(tmp, 'disk.img')
    with open(path, 'wb') as f:
        f.truncate(32 << 20)
    subprocess.run(['mkfs.ext4', '-q', '-F', path], check=True)
    return path


def file_on_disk(path):
    out = subprocess.run(['debugfs', '-R', 'cat /file.txt', path], capture_output=True,
                         text=True)
    return out.stdout.strip()


def write_and_powerdown(t, g, what, before=None):
    """Write the file without sync, ask for a power-off; the control events after it."""
    out = g.run(f'mount /dev/vda /mnt && echo {DATA} > /mnt/file.txt && echo written')
    if not t.check(out is not None and 'written' in out, f'{what}: file written in the guest'):
        return None, None
    if before:
        g.run(before)
    ctl = g.control()
    reply = ctl.call({'cmd': 'powerdown'})
    t.check(reply.get('ok') is True, f'{what}: powerdown accepted ({reply})')
    return ctl, reply


def events_until_exit(ctl):
    evs = list(ctl.events)
    try:
        while True:
            evs.append(ctl.line())
    except (EOFError, OSError, ValueError):
        pass
    return [(e.get('event'), e.get('reason'), e.get('detail')) for e in evs]


def scenario(t, guest_dir, tmp, what, extra=(), before=None):
    disk = make_disk(tmp)
    g = vktest.Guest(guest_dir, extra=['--disk', disk, *extra])
    try:
        if not t.check(g.start(), f'{what}: the guest boots to its shell'):
            return None, None
        ctl, _ = write_and_powerdown(t, g, what, before)
        if not ctl:
            return None, None
        try:
            rc = g.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        t.check(rc == 0, f'{what}: the guest powers off, virtkit-vm exits 0 (got {rc})')
        evs = events_until_exit(ctl)
        t.check(('shutdown', 'poweroff', None) in evs, f'{what}: shutdown event, reason poweroff')
        g.read(0.5)
        console = g.seen.decode(errors='replace')
        got = file_on_disk(disk)
        t.check(got == DATA, f"{what}: the file is on the disk image (debugfs read '{got}')")
        return evs, console
    finally:
        g.stop()


def main():
    t = vktest.Tap()
    guest_dir, why = vktest.find_guest()
    if not guest_dir:
        t.skip('powerdown', why)
        return t.done()
    for tool in ('mkfs.ext4', 'debugfs'):
        if not shutil.which(tool):
            t.skip('powerdown', f'{tool} is missing (package e2fsprogs)')
            return t.done()
    tmp = tempfile.mkdtemp(prefix='vk-powerdown-')
    try:
        evs, console = scenario(t, guest_dir, tmp, 'sysrq')
        if evs is not None:
            steps = [e[2] for e in evs if e[0] == 'powerdown']
            t.check(steps == ['sync', 'remount', 'poweroff'] and
                    all(e[1] == 'sysrq' for e in evs if e[0] == 'powerdown'),
                    f'sysrq: the steps were sync, remount, poweroff ({steps})')
            order = [console.find(s) for s in ('sysrq: Emergency Sync', 'Emergency Sync complete',
                                                'sysrq: Emergency Remount',
                                                'Emergency Remount complete', 'sysrq: Power Off')]
            t.check(-1 not in order and order == sorted(order),
                    'sysrq: each key went in after the guest finished the step before it')

        evs, console = scenario(t, guest_dir, tmp, 'agent', extra=['--agent'])
        if evs is not None:
            steps = [(e[1], e[2]) for e in evs if e[0] == 'powerdown']
            t.check(steps == [('agent', 'sync'), ('agent', 'shutdown')],
                    f'agent: guest-sync answered, then guest-shutdown ({steps})')
            t.check('sysrq' not in console, 'agent: no SysRq was sent')

        # The agent port is there but nobody in the guest holds it: SysRq after its silence.
        evs, console = scenario(t, guest_dir, tmp, 'agent gone', extra=['--agent'],
                                before='fuser -k /dev/vport*p1')
        if evs is not None:
            steps = [(e[1], e[2]) for e in evs if e[0] == 'powerdown']
            t.check(steps[:3] == [('agent', 'sync'), ('sysrq', 'fallback'), ('sysrq', 'sync')],
                    f'agent gone: guest-sync unanswered, then SysRq ({steps})')

        # A guest that ignores the request: SysRq disabled in the guest, no agent.
        g = vktest.Guest(guest_dir)
        try:
            if t.check(g.start(), 'ignored: the guest boots to its shell'):
                g.run('echo 0 > /proc/sys/kernel/sysrq')
                ctl = g.control()
                t.check(ctl.call({'cmd': 'powerdown'}).get('ok') is True,
                        'ignored: powerdown accepted')
                evs = [(e.get('reason'), e.get('detail')) for e in ctl.events
                       if e.get('event') == 'powerdown']
                while not evs or evs[-1][1] in ('sync', 'remount'):
                    ev = ctl.line()
                    if ev.get('event') == 'powerdown':
                        evs.append((ev.get('reason'), ev.get('detail')))
                t.check(evs == [('sysrq', 'sync'), ('sysrq', 'no-answer')],
                        f'ignored: no SysRq answer to s, so no u and o typed ({evs})')
                st = ctl.call({'cmd': 'status'})
                t.check(st.get('state') == 'running' and g.proc.poll() is None,
                        'ignored: the guest still runs')
                g.con.sendall(b'\x15')  # Ctrl-U: the `s` it took as typing goes
                out = g.run('echo still-here')
                t.check(out is not None and 'still-here' in out,
                        'ignored: its shell still answers')
        finally:
            g.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
