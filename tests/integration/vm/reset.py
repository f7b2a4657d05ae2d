#!/usr/bin/env python3
"""Guest resets on the riscv64 board: by default a reset ends the run with status 0 (as in
Firecracker); with --on-reset reboot the machine parks every hart thread (4 harts here),
reloads its images and boots again with all of them."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402


def main():
    t = vktest.Tap()
    guest_dir, why = vktest.find_guest()
    if not guest_dir:
        t.skip('guest reset', why)
        return t.done()

    g = vktest.Guest(guest_dir)
    try:
        t.check(g.start(), 'guest boots to a shell')
        g.con.sendall(b'reboot -f\n')
        rc = g.proc.wait(timeout=30)
        t.check(rc == 0, f'a guest reset ends the run with status 0 by default (got {rc})')
    finally:
        g.stop()

    g = vktest.Guest(guest_dir, extra=['--on-reset', 'reboot'], cpus=4)
    try:
        t.check(g.start(), 'guest boots to a shell (--on-reset reboot)')
        g.run('mkdir -p /mnt && mount -t tmpfs x /mnt && echo before > /mnt/f')
        before = g.run('cat /proc/sys/kernel/random/boot_id')
        g.con.sendall(b'reboot -f\n')
        t.check(g.expect(b'VIRTKIT-GUEST-READY', 60) and g.expect(b'# ', 10),
                'the guest boots again after its reset')
        t.check(g.proc.poll() is None, 'virtkit-vm keeps running across the reboot')
        brought_up = g.seen.count(b'smp: Brought up 1 node, 4 CPUs')
        t.check(brought_up == 2, f'both boots bring up all 4 harts (seen {brought_up} times)')
        after = g.run('cat /proc/sys/kernel/random/boot_id')
        # A boot id, not the uptime: how long a boot takes depends on the host's load.
        t.check(before is not None and after is not None and before.strip() and
                before.strip() != after.strip(),
                f'the new boot starts a fresh kernel (boot id {before!r} -> {after!r})')
        out = g.run('cat /mnt/f 2>&1')
        t.check(out is not None and 'before' not in out, 'what the old boot left in tmpfs is gone')
    finally:
        rc = g.stop()
    t.check(rc == 0, f'quit after the reboot exits with status 0 (got {rc})')
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
