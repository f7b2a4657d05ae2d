#!/usr/bin/env python3
"""The interactive console of a riscv64 guest, end to end (16550A UART + character devices):
  - stdio on a terminal (a pty of the test): the shell answers `echo`, Ctrl-A h prints help,
    Ctrl-A x quits with status 0, and the terminal settings are restored afterwards;
  - --console pty: the slave named on stderr carries a shell session; poweroff ends the run;
  - --console socket:PATH: a client gets the shell, a second client replaces it, the socket
    file is removed when the VM exits.
Every wait has a deadline; TAP output."""
import fcntl
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../lib'))
import vktest  # noqa: E402

VM = vktest.VM
DEADLINE = 120  # seconds for one boot to reach the shell (it takes ~1 s here)
T = vktest.Tap()


def tap(ok, name, diag=None):
    """One check; on failure, the tail of what the console showed."""
    if not T.check(ok, name) and diag:
        T.diag('\n'.join(diag.decode(errors='replace')[-2000:].splitlines()[-25:]))


class Conn:
    """Reads and writes a console fd or socket, remembering everything it saw."""

    def __init__(self, rd, wr=None):
        self.rd, self.wr = rd, wr if wr is not None else rd
        self.seen = b''

    def write(self, data):
        if isinstance(self.wr, socket.socket):
            self.wr.sendall(data)
        else:
            os.write(self.wr, data)

    def expect(self, pattern, timeout=DEADLINE):
        """Wait until pattern (bytes regex) appears after what earlier calls consumed."""
        end = time.time() + timeout
        start = len(self.seen)
        while True:
            m = re.search(pattern, self.seen[start:])
            if m:
                return True
            left = end - time.time()
            if left <= 0:
                return False
            fd = self.rd.fileno() if isinstance(self.rd, socket.socket) else self.rd
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not r:
                continue
            try:
                chunk = self.rd.recv(4096) if isinstance(self.rd, socket.socket) \
                    else os.read(self.rd, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return False
            if not chunk:
                return False
            self.seen += chunk

    def closed(self, timeout=10):
        """True when the other side closes the connection before the deadline."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.rd], [], [], 0.5)
            if not r:
                continue
            try:
                chunk = self.rd.recv(4096)
            except OSError:
                return True
            if not chunk:
                return True
            self.seen += chunk
        return False

    def shell(self):
        """Wait for the guest's shell prompt."""
        return self.expect(rb'VIRTKIT-GUEST-READY') and self.expect(rb'# $')

    def run(self, cmd, want):
        self.write(cmd.encode() + b'\r')
        return self.expect(want.encode())


def vm_cmd(guest, console):
    return [VM, 'run', '--arch', 'riscv64', '--memory', '128M', '--cpus', '1',
            '--kernel', os.path.join(guest, 'Image'),
            '--initrd', os.path.join(guest, 'initramfs.cpio.gz'),
            '--cmdline', 'console=ttyS0', '--console', console, *vktest.CPU_ARGS]


def wait_exit(proc, timeout=30):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def test_stdio(guest):
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)

    def as_ctty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(vm_cmd(guest, 'stdio'), stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=as_ctty, close_fds=True)
    con = Conn(master)
    try:
        tap(con.shell(), 'stdio: the guest shell comes up on the terminal', con.seen)
        during = termios.tcgetattr(slave)
        tap(not (during[3] & (termios.ICANON | termios.ECHO | termios.ISIG)),
            'stdio: the terminal is in raw mode while the VM runs')
        tap(con.run('echo hi-$((40+2))', 'hi-42'), 'stdio: typed command runs: echo hi', con.seen)
        # Ctrl-C belongs to the guest: it interrupts the guest's command, not virtkit-vm.
        con.write(b'sleep 100\r')
        echoed = con.expect(rb'sleep 100\r*\n')
        time.sleep(0.2)
        con.write(b'\x03')
        tap(echoed and con.run('echo after-$((6*7))', 'after-42') and proc.poll() is None,
            'stdio: Ctrl-C goes to the guest', con.seen)
        con.write(b'\x01h')
        tap(con.expect(rb'C-a x'), 'stdio: Ctrl-A h prints the escape help', con.seen)
        con.write(b'\x01x')
        rc = wait_exit(proc)
        tap(rc == 0, f'stdio: Ctrl-A x quits with status 0 (got {rc})', con.seen)
        after = termios.tcgetattr(slave)
        tap(after[:4] == before[:4], 'stdio: the terminal settings are restored')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


def test_pty(guest):
    proc = subprocess.Popen(vm_cmd(guest, 'pty'), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path, err, fd = None, b'', None
    try:
        end = time.time() + DEADLINE
        while time.time() < end and path is None:
            r, _, _ = select.select([proc.stderr], [], [], 0.5)
            if r:
                chunk = os.read(proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                err += chunk
                m = re.search(rb'virtkit-vm: console on (/dev/pts/\d+)\n', err)
                if m:
                    path = m.group(1).decode()
        tap(path is not None, 'pty: the slave path is announced on stderr', err)
        if path is None:
            return
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        con = Conn(fd)
        # Output from before we opened the slave was dropped; the prompt comes on Enter.
        con.write(b'\r')
        tap(con.expect(rb'# $'), 'pty: the guest shell answers on the slave', con.seen)
        tap(con.run('echo pty-$((40+2))', 'pty-42'), 'pty: typed command runs', con.seen)
        con.write(b'poweroff -f\r')
        rc = wait_exit(proc)
        tap(rc == 0, f'pty: guest power-off ends the run with status 0 (got {rc})')
    finally:
        if fd is not None:
            os.close(fd)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_socket(guest, tmp):
    path = os.path.join(tmp, 'console.sock')
    proc = subprocess.Popen(vm_cmd(guest, 'socket:' + path), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socks = []
    try:
        vktest.wait_for_path(path, DEADLINE)

        def connect():
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            socks.append(s)
            return Conn(s)

        a = connect()
        a.write(b'\r')
        tap(a.expect(rb'# $'), 'socket: a client gets the guest shell', a.seen)
        tap(a.run('echo sock-$((40+2))', 'sock-42'), 'socket: typed command runs', a.seen)
        b = connect()
        b.write(b'\r')
        got_b = b.expect(rb'# $')
        tap(got_b and a.closed(), 'socket: a second client replaces the first (it sees EOF)',
            a.seen + b'\n---\n' + b.seen)
        tap(b.run('echo second-$((40+2))', 'second-42'), 'socket: the new client has the shell',
            b.seen)
        b.write(b'poweroff -f\r')
        rc = wait_exit(proc)
        tap(rc == 0, f'socket: guest power-off ends the run with status 0 (got {rc})')
        tap(not os.path.exists(path), 'socket: the socket file is removed on exit')
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    names = ['stdio', 'pty', 'socket']
    guest, why = vktest.find_guest()
    if not guest:
        for name in names:
            T.skip(f'{name}: interactive console', why or 'no riscv64 guest')
    elif not os.access(VM, os.X_OK):
        for name in names:
            T.skip(f'{name}: interactive console', f'{VM} is not built')
    else:
        with tempfile.TemporaryDirectory(prefix='virtkit-console-') as tmp:
            test_stdio(guest)
            test_pty(guest)
            test_socket(guest, tmp)
    sys.exit(T.done())


if __name__ == '__main__':
    main()
