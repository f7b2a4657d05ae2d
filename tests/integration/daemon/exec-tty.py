#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`virtkit exec -it` and `virtkit shell` on a real terminal (TAP lines from argv[4]).

usage: exec-tty.py VIRTKIT SOCKET CONTAINER FIRST_TEST_NUMBER

The CLI runs on a pseudo-terminal of 30x100 that this script owns (its controlling
terminal, so that a resize reaches it as SIGWINCH). In the container: `tty` names a
terminal, `stty size` sees 30 100, and after the terminal is resized to 40x120 it sees
40 120; the command's exit status comes back; our terminal's settings are the same after
the session as before it, also when Ctrl-] ends `virtkit shell`. Prints "next N" on
stderr for the calling script.
"""
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

cli, sock, name = sys.argv[1:4]
n = int(sys.argv[4]) - 1
failed = 0


def check(ok, what, diag=''):
    global n, failed
    n += 1
    failed += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {n} - {what}", flush=True)
    if not ok:
        for line in str(diag).splitlines()[-15:]:
            print(f'# {line}', flush=True)


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


class Session:
    def __init__(self, args):
        self.master, self.slave = os.openpty()
        set_size(self.slave, 30, 100)
        self.before = termios.tcgetattr(self.slave)

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.p = subprocess.Popen([cli, '--socket', sock] + args, stdin=self.slave,
                                  stdout=self.slave, stderr=self.slave, start_new_session=True,
                                  preexec_fn=ctty, close_fds=True)
        self.seen = b''

    def expect(self, needle, timeout=20):
        deadline = time.time() + timeout
        while needle not in self.seen and time.time() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                self.seen += chunk
        return needle in self.seen

    def send(self, text):
        os.write(self.master, text)

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            code = self.p.poll()
            if code is not None:
                return code
            self.expect(b'\0never\0', 0.1)  # keep draining the terminal
        self.p.kill()
        return None

    def restored(self):
        return termios.tcgetattr(self.slave) == self.before


s = Session(['exec', '-it', name, '--', '/bin/sh'])
s.send(b'tty; echo T-$((1+1))\r')
check(s.expect(b'T-2\r\n') and b'/dev/pts/' in s.seen,
      'exec -it: `tty` in the container names a terminal', s.seen)
s.seen = b''
s.send(b'stty size; echo S-$((2+2))\r')
check(s.expect(b'S-4\r\n') and b'30 100' in s.seen,
      'exec -it: the container sees the size of our terminal (30 100)', s.seen)
set_size(s.slave, 40, 120)  # the CLI is the foreground job: it gets SIGWINCH
# The size travels beside the input: ask until it has arrived (each answer is read whole).
for i in range(20):
    s.seen = b''
    s.send(b'stty size; echo R-$((%d+1))\r' % i)
    if not s.expect(b'R-%d\r\n' % (i + 1)) or b'40 120' in s.seen:
        break
check(b'40 120' in s.seen, 'exec -it: a resize of our terminal is seen in the container (40 120)',
      s.seen)
s.send(b'exit 5\r')
code = s.wait()
check(code == 5, 'exec -it: the exit status passes through (5)', f'status {code}')
check(s.restored(), 'exec -it: our terminal is restored after the command ended')

s = Session(['shell', name])
s.send(b'echo SHELL-$((6*7))\r')
check(s.expect(b'SHELL-42'), 'shell: a shell answers on the terminal', s.seen)
s.send(b'\x1d')
code = s.wait()
check(code == 0, 'shell: Ctrl-] leaves it (status 0)', f'status {code}\n{s.seen!r}')
check(s.restored(), 'shell: our terminal is restored after Ctrl-]')

s = Session(['exec', '-t', name, '--', 'sh', '-c', 'tty >/dev/null && echo IS-A-TTY; exit 7'])
code = s.wait()
check(code == 7 and s.expect(b'IS-A-TTY', 1), 'exec -t without -i: a terminal, the status (7)',
      f'status {code}\n{s.seen!r}')
check(s.restored(), 'exec -t: our terminal is untouched')

print(f'next {n + 1}', file=sys.stderr)
sys.exit(1 if failed else 0)
