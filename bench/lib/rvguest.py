"""Shared pieces of the riscv64 guest benchmarks (bench/riscv64-cpu, bench/disk-riscv64):
finding the shared guest, and a VMM whose serial console is its stdin/stdout with a shell on it.
Import with sys.path.insert(0, <bench>/lib)."""
import os
import re
import select
import subprocess
import sys
import time

SRC = os.environ.get('VK_SRC', os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get('VK_BUILD', os.path.join(SRC, 'build'))
VM = os.path.join(BUILD, 'src/vm/virtkit-vm')
FW_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf'


def skip(bench, why):
    print(f'{bench}: skipped: {why}')
    sys.exit(0)


def find_guest(bench):
    out = subprocess.run([os.path.join(SRC, 'scripts/find-guest.sh'), 'riscv64'],
                         capture_output=True, text=True)
    if out.returncode != 0:
        skip(bench, out.stderr.strip())
    return out.stdout.strip()


class Console:
    """A VMM whose serial console is its stdin/stdout; a shell runs on it."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = ''

    def expect(self, pattern, timeout):
        end = time.time() + timeout
        while True:
            m = re.search(pattern, self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            left = end - time.time()
            if left <= 0 or self.p.poll() is not None:
                raise RuntimeError(f'no {pattern!r} within {timeout} s; last output:\n' +
                                   self.buf[-600:])
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.5))
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                self.buf += data.decode(errors='replace')

    def run(self, command, timeout=600):
        self.p.stdin.write((command + '; echo "__DO""NE__"\n').encode())
        self.p.stdin.flush()
        return self.expect(r'__DONE__', timeout)

    def cpu_seconds(self):
        """User + system CPU time the VMM process (all its threads) has used so far."""
        with open(f'/proc/{self.p.pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def close(self):
        try:
            self.p.stdin.write(b'poweroff -f\n')
            self.p.stdin.flush()
            self.p.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def qemu_cmd(kernel, initrd, memory_mib, drives, smp=1):
    """qemu-system-riscv64 -M virt with the same firmware and guest; drives: -drive specs."""
    cmd = ['qemu-system-riscv64', '-M', 'virt', '-m', str(memory_mib), '-smp', str(smp),
           '-nographic', '-bios', FW_JUMP, '-kernel', kernel, '-initrd', initrd,
           '-append', 'console=ttyS0']
    for i, d in enumerate(drives):
        cmd += ['-drive', f'{d},if=none,id=d{i}', '-device', f'virtio-blk-device,drive=d{i}']
    return cmd
