#!/usr/bin/env python3
"""The control socket against an x86-64 guest on KVM: status, pause (no guest output while
paused, vCPUs parked), resume (output again), powerdown (Ctrl-Alt-Del through the i8042; the
guest resets and the run ends with 0), quit (shutdown event, exit status 0), and pause across
SMP. The `tick` test guest prints a line every 50 ms of LAPIC-timer time. The `acpi` guest
enables the ACPI power button: powerdown presses it (an SCI), and the guest's S5 ends the run
with 0 and a shutdown event saying poweroff."""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402

VM = vktest.VM
GUESTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(vktest.BUILD, 'tests/guests/x86_64')
t = vktest.Tap()


def tap(ok, name, diag=None):
    if not t.check(ok, name) and diag:
        t.diag('\n'.join(str(diag).splitlines()[-15:]))


def done():
    sys.exit(t.done())


def wait_until(cond, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


class Control(vktest.Control):
    """vktest's client, with a longer timeout (emulated KVM is slow) and waits for events."""

    def __init__(self, path):
        super().__init__(path)
        self.s.settimeout(15)

    def wait_event(self, name, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            for e in self.events:
                if e.get('event') == name:
                    return e
            try:
                self.events.append(self.line())
            except (EOFError, socket.timeout, OSError):
                break
        return None


class Machine:
    def __init__(self, tmp, name, *args):
        self.out = os.path.join(tmp, name + '.out')
        self.sock = os.path.join(tmp, name + '.sock')
        self.err = open(os.path.join(tmp, name + '.err'), 'w+')
        self.p = subprocess.Popen([VM, 'run', '--memory', '64M', '--console', 'file:' + self.out,
                                   '--control', self.sock] + list(args),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)

    def console(self):
        try:
            with open(self.out, 'rb') as f:
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def ticks(self):
        return self.console().count('tick ')

    def wait(self, timeout=20):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def stderr(self):
        self.err.seek(0)
        return self.err.read()


def probe():
    r = subprocess.run([VM, 'probe'], capture_output=True, text=True, timeout=60)
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else 'kvm: unavailable'


def main():
    summary = probe()
    tick = os.path.join(GUESTS, 'tick.elf')
    if 'unavailable' in summary or not os.path.exists(tick):
        print(f"ok 1 - control socket on KVM # SKIP {summary if 'unavailable' in summary else 'test guests not built'}")
        print("1..1")
        return
    with tempfile.TemporaryDirectory(prefix='virtkit-kvm-control.') as tmp:
        m = Machine(tmp, 'a', '--cpus', '2', '--kernel', tick)
        if not wait_until(lambda: os.path.exists(m.sock)):
            tap(False, 'control socket appears', m.stderr())
            m.p.kill()
            done()
        c = Control(m.sock)
        st = c.call({'cmd': 'status', 'id': 7})
        tap(st.get('ok') and st.get('state') == 'running' and st.get('arch') == 'x86_64' and
            st.get('cpus') == 2 and st.get('memory') == 64 << 20 and st.get('id') == 7,
            'status: running, x86_64, 2 vCPUs, 64 MiB, id echoed', st)
        tap(wait_until(lambda: m.ticks() >= 3), 'the guest ticks', m.console())

        r = c.call({'cmd': 'pause'})
        tap(r.get('ok') and r.get('state') == 'paused', 'pause', r)
        tap(c.wait_event('paused') is not None, 'paused event pushed', c.events)
        time.sleep(0.3)  # let a line that was being printed finish
        before = m.ticks()
        time.sleep(1.0)
        after = m.ticks()
        tap(after == before, f'no guest output while paused ({before} ticks before, {after} after)')
        st = c.call({'cmd': 'status'})
        tap(st.get('state') == 'paused', 'status says paused', st)
        r = c.call({'cmd': 'pause'})
        tap(r.get('ok'), 'pausing twice is fine', r)

        r = c.call({'cmd': 'resume'})
        tap(r.get('ok') and r.get('state') == 'running', 'resume', r)
        tap(wait_until(lambda: m.ticks() > after + 2, 20), 'the guest ticks again after resume',
            m.console())

        r = c.call({'cmd': 'frobnicate'})
        tap(r.get('ok') is False and 'unknown command' in r.get('error', ''),
            'unknown command is an error; the connection stays usable', r)

        r = c.call({'cmd': 'powerdown'})
        tap(r.get('ok'), 'powerdown accepted', r)
        ev = c.wait_event('shutdown')
        rc = m.wait()
        tap(ev is not None and ev.get('reason') == 'reset' and rc == 0 and
            'got ctrl-alt-del' in m.console(),
            'powerdown: Ctrl-Alt-Del reaches the guest, which resets; exit status 0',
            f"event {ev}, exit {rc}\n{m.console()[-300:]}\n{m.stderr()}")

        # quit, and pause / quit while paused
        m = Machine(tmp, 'b', '--kernel', tick)
        ok = wait_until(lambda: os.path.exists(m.sock)) and wait_until(lambda: m.ticks() >= 1)
        c = Control(m.sock) if ok else None
        if c:
            c.call({'cmd': 'pause'})
            r = c.call({'cmd': 'quit'})
            ev = c.wait_event('shutdown')
            rc = m.wait()
            tap(r.get('ok') and ev is not None and ev.get('reason') == 'quit' and rc == 0,
                'quit while paused: shutdown event (quit), exit status 0',
                f"{r} {ev} exit {rc}\n{m.stderr()}")
        else:
            m.p.kill()
            m.p.wait()
            tap(False, 'second machine starts', m.stderr())
        tap(not os.path.exists(m.sock), 'the control socket file is removed at exit')

        # An ACPI-aware guest: powerdown presses the power button instead of Ctrl-Alt-Del.
        m = Machine(tmp, 'c', '--kernel', os.path.join(GUESTS, 'acpi.elf'), '--cmdline',
                    'vk.acpi=button')
        ok = wait_until(lambda: os.path.exists(m.sock)) and \
            wait_until(lambda: 'waiting for the power button' in m.console())
        c = Control(m.sock) if ok else None
        if c:
            r = c.call({'cmd': 'powerdown'})
            ev = c.wait_event('shutdown')
            rc = m.wait()
            out = m.console()
            tap(r.get('ok') and ev is not None and ev.get('reason') == 'poweroff' and rc == 0 and
                'power button pressed' in out and 'powering off through ACPI S5' in out and
                'FAIL' not in out and 'still running' not in out,
                'powerdown: the ACPI power button raises the SCI, the guest powers off (S5), '
                'shutdown event "poweroff", exit status 0',
                f"{r} {ev} exit {rc}\n{out[-400:]}\n{m.stderr()}")
        else:
            m.p.kill()
            m.p.wait()
            tap(False, 'the ACPI guest waits for the power button', m.console() + m.stderr())
    done()


main()
