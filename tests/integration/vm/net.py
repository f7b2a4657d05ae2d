#!/usr/bin/env python3
"""User-mode networking against a real guest: DHCP, a host port forward on 127.0.0.1 reaching a
server in the guest, restricted mode (the guest cannot connect out, not even to the host's
loopback through the gateway), and DNS off by default."""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.environ['VK_SRC'], 'tests/lib'))
import vktest  # noqa: E402


def main():
    t = vktest.Tap()
    guest_dir, why = vktest.find_guest()
    if not guest_dir:
        t.skip('user networking', why)
        return t.done()
    fwd = vktest.free_port()
    # A host server on loopback that the guest must NOT reach (restricted mode).
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    srv.settimeout(8)
    reached = []

    def accept():
        try:
            c, _ = srv.accept()
            reached.append(True)
            c.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    g = vktest.Guest(guest_dir, extra=['--net', f'user,hostfwd=tcp:127.0.0.1:{fwd}-:8080'])
    try:
        if not t.check(g.start(), 'guest boots to a shell'):
            t.diag(g.seen[-2000:].decode(errors='replace'))
            return t.done()
        g.run("printf '#!/bin/sh\\necho \"$1 ip=[$ip] router=[$router] dns=[$dns]\"\\n' >/tmp/s; chmod +x /tmp/s")
        out = g.run('ip link set eth0 up && udhcpc -i eth0 -n -q -t 5 -s /tmp/s 2>&1')
        # Restricted slirp offers neither a router nor DNS: the guest has nowhere to go.
        if not t.check(out is not None and 'bound ip=[10.0.2.15] router=[]' in out,
                       'DHCP gives the guest 10.0.2.15 and no default route'):
            t.diag(repr(out))
        t.check(out is not None and 'dns=[]' in out, 'no DNS server is offered by default')
        g.run('ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2')
        g.run('(echo hello-from-guest | nc -l -p 8080 >/tmp/got &); sleep 0.5')
        data = b''
        try:
            with socket.create_connection(('127.0.0.1', fwd), timeout=10) as c:
                c.sendall(b'hello-from-host\n')
                c.settimeout(5)
                while b'\n' not in data:
                    chunk = c.recv(100)
                    if not chunk:
                        break
                    data += chunk
        except OSError as e:
            t.diag(f'connect to the forward failed: {e}')
        t.check(b'hello-from-guest' in data, 'a host connection to 127.0.0.1:PORT reaches the guest server')
        got = g.run('sleep 0.5; cat /tmp/got')
        t.check(got is not None and 'hello-from-host' in got, 'the guest server receives the host data')
        port = srv.getsockname()[1]
        out = g.run(f'nc -w 3 10.0.2.2 {port} </dev/null; echo rc=$?', timeout=20)
        t.check(out is not None and 'rc=0' not in out and not reached,
                'restricted mode: the guest cannot connect to the host through the gateway')
    finally:
        rc = g.stop()
        srv.close()
    t.check(rc == 0, f'virtkit-vm quits cleanly (status {rc})')
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
