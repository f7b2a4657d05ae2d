#!/usr/bin/env python3
"""The control socket against a real riscv64 guest with 4 harts (one host thread each):
status, pause (guest output stops, no hart retires an instruction), resume (it starts again),
errors, quit (exit status 0 and a shutdown event), and an idle guest that
uses (almost) no host CPU."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main():
    t = vktest.Tap()
    guest_dir, why = vktest.find_guest()
    if not guest_dir:
        t.skip('control socket', why)
        return t.done()
    g = vktest.Guest(guest_dir, cpus=4)
    try:
        if not t.check(g.start(), 'guest boots to its shell with the console on a socket'):
            return t.done()
        ctl = g.control()
        st = ctl.call({'cmd': 'status', 'id': 'a'})
        t.check(st.get('ok') is True and st.get('state') == 'running' and st.get('arch') == 'riscv64'
                and st.get('cpus') == 4 and st.get('memory') == 128 << 20 and st.get('id') == 'a'
                and st.get('pid') == g.proc.pid, 'status describes the running machine')
        if vktest.RV_JIT:
            t.check(st.get('jit') == vktest.RV_JIT,
                    f"status says which CPU runs the guest (jit {st.get('jit')})")

        # An idle guest: every hart thread sleeps in wfi until its next timer, the I/O thread
        # in poll().
        g.read(1)
        t0 = cpu_seconds(g.proc.pid)
        time.sleep(3)
        busy = (cpu_seconds(g.proc.pid) - t0) / 3
        t.check(busy < 0.2, f'an idle guest uses little host CPU ({busy * 100:.1f}% of a core)')

        g.con.sendall(b'while true; do echo tick; sleep 0.1; done\n')
        t.check(g.read(1.5).count(b'tick') >= 3, 'guest prints ticks while running')
        p = ctl.call({'cmd': 'pause'})
        t.check(p.get('ok') is True and p.get('state') == 'paused', 'pause answers paused')
        # The paused event follows once every hart has stopped (it may come after the reply).
        t.check(ctl.wait_event('paused'), 'pause pushes a paused event')
        g.read(0.3)  # what was in flight
        t.check(b'tick' not in g.read(1.5), 'a paused guest prints nothing')
        st1 = ctl.call({'cmd': 'status'})
        time.sleep(0.5)
        st2 = ctl.call({'cmd': 'status'})
        t.check(st1.get('state') == 'paused', 'status says paused')
        t.check(st1.get('instructions') == st2.get('instructions'),
                f"no hart runs while paused ({st1.get('instructions')} then {st2.get('instructions')})")
        r = ctl.call({'cmd': 'resume'})
        t.check(r.get('ok') is True and r.get('state') == 'running', 'resume answers running')
        t.check(g.read(1.5).count(b'tick') >= 3, 'a resumed guest prints again')

        bad = ctl.call('{"cmd": "launch-missiles"}')
        t.check(bad.get('ok') is False and 'unknown command' in bad.get('error', ''),
                'unknown commands get an error')
        bad = ctl.call('{nope')
        t.check(bad.get('ok') is False and 'malformed' in bad.get('error', ''),
                'malformed JSON gets an error and the connection stays usable')
        t.check(ctl.call({'cmd': 'quit'}).get('ok') is True, 'quit is acknowledged')
        try:
            ev = ctl.line()
        except (EOFError, socket.timeout):
            ev = {}
        t.check(ev.get('event') == 'shutdown' and ev.get('reason') == 'quit',
                'a shutdown event with reason quit arrives before the socket closes')
        rc = g.proc.wait(timeout=10)
        t.check(rc == 0, f'virtkit-vm exits with status 0 after quit (got {rc})')
        t.check(not os.path.exists(g.ctl_path), 'the control socket file is removed at exit')
    finally:
        g.stop()
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
