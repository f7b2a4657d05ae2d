#!/usr/bin/env python3
"""The control socket against a real riscv64 guest: status, pause (guest output stops),
resume (it starts again), errors, powerdown refusal, quit (exit status 0 and a shutdown
event), and an idle guest that uses (almost) no host CPU."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ['VK_SRC']
VM = os.path.join(os.environ['VK_BUILD'], 'src/vm/virtkit-vm')
n = 0
failed = 0


def tap(ok, name):
    global n, failed
    n += 1
    failed += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}", flush=True)


def wait_for(path, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


class Control:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(10)
        self.buf = b''
        self.events = []

    def line(self):
        while b'\n' not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def call(self, obj):
        self.s.sendall((json.dumps(obj) if isinstance(obj, dict) else obj).encode() + b'\n')
        while True:
            msg = self.line()
            if 'event' in msg:
                self.events.append(msg)
                continue
            return msg


def read_console(sock, seconds):
    sock.settimeout(0.1)
    data = b''
    end = time.time() + seconds
    while time.time() < end:
        try:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        except socket.timeout:
            pass
    return data


def main():
    guest = subprocess.run([os.path.join(SRC, 'scripts/find-guest.sh'), 'riscv64'],
                           capture_output=True, text=True)
    if guest.returncode != 0:
        print(f'ok 1 - control socket # SKIP {guest.stderr.strip()}\n1..1')
        return 0
    g = guest.stdout.strip()
    tmp = tempfile.mkdtemp(prefix='vk-ctl-')
    ctl_path, con_path = os.path.join(tmp, 'ctl'), os.path.join(tmp, 'console')
    vm = subprocess.Popen([VM, 'run', '--arch', 'riscv64', '--memory', '128M', '--cpus', '1',
                           '--kernel', os.path.join(g, 'Image'),
                           '--initrd', os.path.join(g, 'initramfs.cpio.gz'),
                           '--cmdline', 'console=ttyS0', '--console', 'socket:' + con_path,
                           '--control', ctl_path],
                          stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not (wait_for(ctl_path) and wait_for(con_path)):
            tap(False, 'virtkit-vm creates its control and console sockets')
            return 1
        con = socket.socket(socket.AF_UNIX)
        con.connect(con_path)
        out = b''
        end = time.time() + 60
        while b'VIRTKIT-GUEST-READY' not in out and time.time() < end:
            out += read_console(con, 0.5)
        tap(b'VIRTKIT-GUEST-READY' in out, 'guest boots to its init with the console on a socket')
        time.sleep(1)
        ctl = Control(ctl_path)
        st = ctl.call({'cmd': 'status', 'id': 'a'})
        tap(st.get('ok') is True and st.get('state') == 'running' and st.get('arch') == 'riscv64'
            and st.get('cpus') == 1 and st.get('memory') == 128 << 20 and st.get('id') == 'a'
            and st.get('pid') == vm.pid, 'status describes the running machine')

        # An idle guest: the host thread sleeps in poll() until the next timer.
        read_console(con, 1)
        with open(f'/proc/{vm.pid}/stat') as f:
            t0 = sum(int(x) for x in f.read().split()[13:15])
        time.sleep(3)
        with open(f'/proc/{vm.pid}/stat') as f:
            t1 = sum(int(x) for x in f.read().split()[13:15])
        ticks = os.sysconf('SC_CLK_TCK')
        busy = (t1 - t0) / ticks / 3
        tap(busy < 0.2, f'an idle guest uses little host CPU ({busy * 100:.1f}% of a core)')

        con.sendall(b'while true; do echo tick; sleep 0.1; done\n')
        got = read_console(con, 1.5)
        tap(got.count(b'tick') >= 3, 'guest prints ticks while running')
        p = ctl.call({'cmd': 'pause'})
        tap(p.get('ok') is True and p.get('state') == 'paused', 'pause answers paused')
        tap({'event': 'paused'} in ctl.events, 'pause pushes a paused event')
        read_console(con, 0.3)  # what was in flight
        during = read_console(con, 1.5)
        tap(b'tick' not in during, 'a paused guest prints nothing')
        tap(ctl.call({'cmd': 'status'}).get('state') == 'paused', 'status says paused')
        r = ctl.call({'cmd': 'resume'})
        tap(r.get('ok') is True and r.get('state') == 'running', 'resume answers running')
        after = read_console(con, 1.5)
        tap(after.count(b'tick') >= 3, 'a resumed guest prints again')

        bad = ctl.call('{"cmd": "launch-missiles"}')
        tap(bad.get('ok') is False and 'unknown command' in bad.get('error', ''),
            'unknown commands get an error')
        bad = ctl.call('{nope')
        tap(bad.get('ok') is False and 'malformed' in bad.get('error', ''),
            'malformed JSON gets an error and the connection stays usable')
        pd = ctl.call({'cmd': 'powerdown'})
        tap(pd.get('ok') is False and 'power button' in pd.get('error', ''),
            'powerdown says why the riscv64 board cannot ask the guest')
        q = ctl.call({'cmd': 'quit'})
        tap(q.get('ok') is True, 'quit is acknowledged')
        try:
            ev = ctl.line()
        except (EOFError, socket.timeout):
            ev = {}
        tap(ev.get('event') == 'shutdown' and ev.get('reason') == 'quit',
            'a shutdown event with reason quit arrives before the socket closes')
        rc = vm.wait(timeout=10)
        tap(rc == 0, f'virtkit-vm exits with status 0 after quit (got {rc})')
        tap(not os.path.exists(ctl_path), 'the control socket file is removed at exit')
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        subprocess.run(['rm', '-rf', tmp])
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
