"""Helpers for Python integration tests: TAP output and a riscv64 guest driven through its
console and control sockets. Import with sys.path.insert(0, os.environ['VK_SRC'] + '/tests/lib').
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

SRC = os.environ.get('VK_SRC', os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
BUILD = os.environ.get('VK_BUILD', os.path.join(SRC, 'build'))
VM = os.path.join(BUILD, 'src/vm/virtkit-vm')
# The riscv64 CPU the tests run on: VK_RV_JIT=on (translator) or off (interpreter); unset,
# virtkit-vm's default. meson runs the riscv64 tests once for each.
RV_JIT = os.environ.get('VK_RV_JIT', '')
CPU_ARGS = ['--jit', RV_JIT] if RV_JIT else []


class Tap:
    """One 'ok'/'not ok' line per check; done() prints the plan and returns the exit status."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name):
        self.n += 1
        self.failed += 0 if ok else 1
        # One line: a quoted error message may hold several (TAP would read the rest as junk).
        name = ' | '.join(str(name).splitlines())
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)
        return ok

    def skip(self, name, reason):
        self.n += 1
        print(f'ok {self.n} - {name} # SKIP {reason}', flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print(f'# {line}', flush=True)

    def done(self):
        print(f'1..{self.n}', flush=True)
        return 1 if self.failed else 0


def state_records(data):
    """[(type, name, offset, length)] of a machine-state file's records (src/vm/state.h)
    after its 64-byte header, up to the END record."""
    out, off = [], 64
    while off + 17 <= len(data):
        typ, _ver, length, nlen = struct.unpack_from('<IIQB', data, off)
        name = data[off + 17:off + 17 + nlen].decode(errors='replace')
        out.append((typ, name, off, 17 + nlen + length + 4))
        off += 17 + nlen + length + 4
        if typ == 4:
            break
    return out


def find_guest(arch='riscv64'):
    """(folder, None) or (None, reason)."""
    out = subprocess.run([os.path.join(SRC, 'scripts/find-guest.sh'), arch],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return out.stdout.strip(), None


def wait_for_path(path, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


class Control:
    """A control-socket client: call() returns the reply, events are kept aside."""

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

    def wait_event(self, name, timeout=10):
        """True once an event called name has arrived (before or after the last reply)."""
        end = time.time() + timeout
        while not any(e.get('event') == name for e in self.events):
            if time.time() >= end:
                return False
            self.s.settimeout(max(0.1, end - time.time()))
            try:
                msg = self.line()
            except (EOFError, socket.timeout):
                return False
            finally:
                self.s.settimeout(10)
            if 'event' in msg:
                self.events.append(msg)
        return True

    def close(self):
        self.s.close()


class Guest:
    """The riscv64 guest in shell mode, console on a unix socket, with a control socket."""

    def __init__(self, guest_dir, extra=(), memory='128M', cpus=1, cmdline='console=ttyS0'):
        self.tmp = tempfile.mkdtemp(prefix='vk-guest-')
        self.ctl_path = os.path.join(self.tmp, 'ctl')
        self.con_path = os.path.join(self.tmp, 'console')
        self.proc = subprocess.Popen(
            [VM, 'run', '--arch', 'riscv64', '--memory', memory, '--cpus', str(cpus),
             '--kernel', os.path.join(guest_dir, 'Image'),
             '--initrd', os.path.join(guest_dir, 'initramfs.cpio.gz'), '--cmdline', cmdline,
             '--console', 'socket:' + self.con_path, '--control', self.ctl_path, *CPU_ARGS,
             *extra],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.con = None
        self.seen = b''
        self.cursor = 0

    def start(self, timeout=60):
        """Connect to the console and wait for the init's ready marker."""
        if not (wait_for_path(self.ctl_path) and wait_for_path(self.con_path)):
            return False
        self.con = socket.socket(socket.AF_UNIX)
        self.con.connect(self.con_path)
        if not self.expect(b'VIRTKIT-GUEST-READY', timeout):
            return False
        if self.expect(b'# ', 10):
            return True
        # A kernel message from another hart may have split the prompt: ask for a new one.
        self.con.sendall(b'\n')
        return self.expect(b'# ', 10)

    def read(self, seconds):
        self.con.settimeout(0.1)
        data = b''
        end = time.time() + seconds
        while time.time() < end:
            try:
                chunk = self.con.recv(4096)
                if not chunk:
                    break
                data += chunk
            except socket.timeout:
                pass
        self.seen += data
        return data

    def expect(self, pattern, timeout=30):
        """Wait until pattern (bytes) shows up after the last match; True when it did."""
        end = time.time() + timeout
        while True:
            at = self.seen.find(pattern, self.cursor)
            if at >= 0:
                self.cursor = at + len(pattern)
                return True
            if time.time() >= end:
                return False
            self.read(0.2)

    def run(self, command, timeout=30):
        """Run a shell command; return its output, or None when it did not finish in time."""
        tag = f'{time.monotonic_ns()}'
        begin, end = f'__begin_{tag}__', f'__end_{tag}__'
        # Each marker is quoted in two halves so that it appears only in the printed output,
        # never in the echoed command line (which the terminal may also wrap).
        self.con.sendall(f'echo "{begin[:5]}""{begin[5:]}"; {command}; echo "{end[:5]}""{end[5:]}"\n'
                         .encode())
        if not self.expect(begin.encode() + b'\r\n', timeout):
            return None
        start = self.cursor
        if not self.expect(end.encode() + b'\r\n', timeout):
            return None
        text = self.seen[start:self.cursor].decode(errors='replace')
        return text[:text.rfind(end)]

    def control(self):
        return Control(self.ctl_path)

    def stop(self):
        if self.proc.poll() is None:
            try:
                c = self.control()
                c.call({'cmd': 'quit'})
                c.close()
                self.proc.wait(timeout=10)
            except (OSError, EOFError, subprocess.TimeoutExpired, ValueError):
                self.proc.kill()
                self.proc.wait()
        if self.con:
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.proc.returncode


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Machine:
    """virtkit-vm run with any riscv64 arguments, its serial console on a unix socket and a
    control socket: for firmware and boot loaders, where Guest's shell helpers do not apply."""

    def __init__(self, args, memory='256M'):
        self.tmp = tempfile.mkdtemp(prefix='vk-machine-')
        self.ctl_path = os.path.join(self.tmp, 'ctl')
        self.con_path = os.path.join(self.tmp, 'console')
        self.proc = subprocess.Popen(
            [VM, 'run', '--arch', 'riscv64', '--memory', memory, '--stats',
             '--console', 'socket:' + self.con_path, '--control', self.ctl_path, *CPU_ARGS,
             *args],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.con = None
        self.seen = b''
        self.cursor = 0
        self.stderr = ''

    def connect(self, timeout=30):
        """True once the console is connected (False when the machine failed to start)."""
        if not wait_for_path(self.con_path, timeout):
            return False
        self.con = socket.socket(socket.AF_UNIX)
        self.con.connect(self.con_path)
        return True

    def expect(self, pattern, timeout=30):
        """Wait until pattern (bytes) shows up after the last match; True when it did."""
        end = time.time() + timeout
        self.con.settimeout(0.1)
        while True:
            at = self.seen.find(pattern, self.cursor)
            if at >= 0:
                self.cursor = at + len(pattern)
                return True
            if time.time() >= end:
                return False
            try:
                chunk = self.con.recv(4096)
                if not chunk:
                    time.sleep(0.1)
                self.seen += chunk
            except socket.timeout:
                pass

    def send(self, text):
        self.con.sendall(text.encode() if isinstance(text, str) else text)

    def wait(self, timeout=60):
        """The exit status once the run ends by itself (None after timeout); stderr kept."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.stderr = err.decode(errors='replace')
        return self.proc.returncode

    def quit(self):
        """Ask the machine to quit through its control socket; the exit status."""
        c = Control(self.ctl_path)
        c.call({'cmd': 'quit'})
        c.close()
        return self.wait(30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.wait(10)
        if self.con:
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
