#!/usr/bin/env python3
"""Domain XML against a running virtkitd (TAP lines, numbered from argv[3]).

usage: domxml-corpus.py SOCKET CORPUS_DIR FIRST_TEST_NUMBER SUBST...

1. Every document of the corpus (tests/integration/daemon/domxml/*.xml) says in a leading
   comment what must happen to it: `virtkit-expect: accept` with its `virtkit-warn: PATH`
   lines (exactly those warnings), or `virtkit-expect: refuse` with its
   `virtkit-problem: PATH` lines (exactly those problems, all in one reply). An accepted
   document's dumpxml must define again to the same definition, without a warning.
2. JSON definitions using every VM field go through dumpxml -> define and come back equal.
SUBST are KEY=VALUE pairs replacing @KEY@ in the documents. Prints the last test number used
on stderr's last line ("next N") for the calling script.
"""
import glob
import http.client
import json
import os
import re
import socket
import sys


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('virtkit', timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(method, path, body=None, ctype=None):
    c = UnixHTTP(SOCK)
    headers = {'Content-Type': ctype} if ctype else {}
    c.request(method, path, body=body.encode() if isinstance(body, str) else body,
              headers=headers)
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, data


n = 0
failed = 0


def check(ok, name, diag=None):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}", flush=True)
    if not ok:
        failed += 1
        for line in str(diag or '').splitlines()[:30]:
            print(f'# {line}', flush=True)
    return ok


def paths(sentences):
    return sorted(s.split(': ', 1)[0] for s in sentences)


def undefine(name):
    call('DELETE', f'/1.0/instances/{name}')


def corpus(folder, subst):
    for f in sorted(glob.glob(os.path.join(folder, '*.xml'))):
        base = os.path.basename(f)
        text = open(f).read()
        for k, v in subst.items():
            text = text.replace(f'@{k}@', v)
        expect = re.search(r'virtkit-expect: (\w+)', text).group(1)
        warn = sorted(re.findall(r'virtkit-warn: (\S+)', text))
        prob = sorted(re.findall(r'virtkit-problem: (\S+)', text))
        st, body = call('POST', '/1.0/instances', text, 'application/xml')
        o = json.loads(body) if body.strip() else {}
        if expect == 'refuse':
            got = paths(o.get('error', {}).get('problems', []))
            check(st == 400 and got == prob,
                  f'{base}: refused with every problem at once ({len(prob)})',
                  f'status {st}\nwant {prob}\ngot  {got}\n{body}')
            continue
        got = paths(o.get('warnings', []))
        if not check(st == 201 and got == warn,
                     f'{base}: accepted with {len(warn)} warnings, each naming its element',
                     f'status {st}\nwant {warn}\ngot  {got}\n{body}'):
            continue
        name = o['name']
        before = o['definition']
        st, xml = call('GET', f'/1.0/instances/{name}/xml')
        undefine(name)
        st2, body2 = call('POST', '/1.0/instances', xml, 'application/xml')
        o2 = json.loads(body2) if body2.strip() else {}
        check(st == 200 and st2 == 201 and o2.get('definition') == before and
              not o2.get('warnings'),
              f'{base}: its dumpxml defines again to the same definition, without a warning',
              f'{st} {st2}\n{json.dumps(before)}\n{json.dumps(o2.get("definition"))}\n'
              f'{o2.get("warnings")}\n{xml}')
        if base == 'metadata-and-own-fields.xml':
            check('libosinfo:os id="http://debian.org/debian/12"' in xml and
                  '<app:ticket>OPS-1234</app:ticket>' in xml and
                  'xmlns:app="https://example.org/xmlns/inventory/1.0"' in xml,
                  f'{base}: other applications\' metadata is exported as it came', xml)
        undefine(name)


# Every field a VM definition has, in as many combinations as it takes.
JSON_DEFS = [
    {'name': 'rt-all', 'type': 'vm', 'description': 'every <field> & "quote"',
     'arch': 'riscv64', 'memory': '192M', 'cpus': 3, 'kernel': '/srv/k/Image',
     'initrd': '/srv/k/initrd', 'cmdline': 'console=ttyS0 quiet',
     'firmware': '/usr/share/opensbi/fw_dynamic.bin',
     'disks': [{'path': '/srv/d/a.img'}, {'path': '/srv/d/b.img', 'readonly': True},
               {'path': '/srv/d/c.qcow2', 'format': 'qcow2'}, {'path': '/srv/d/d.raw', 'format': 'raw'}],
     'networks': [{'type': 'user', 'hostfwd': ['tcp:127.0.0.1:2222-:22', 'udp::5353-:53'],
                   'mac': '52:54:00:00:00:01'},
                  {'type': 'tap', 'ifname': 'tap4', 'mac': '52:54:00:00:00:02'},
                  {'type': 'user'}],
     'rng': True, 'console': {'log': False}, 'on_reset': 'reboot',
     'metadata': '<x:a xmlns:x="urn:example:x" k="v"><x:b>t</x:b></x:a>'},
    {'name': 'rt-bare', 'type': 'vm', 'arch': 'riscv64', 'firmware': 'none',
     'kernel': '/srv/t/test.elf', 'memory': 16 << 20, 'on_reset': 'exit'},
    {'name': 'rt-x86', 'type': 'vm', 'arch': 'x86_64', 'accel': 'kvm', 'memory': '1G',
     'cpus': 2, 'kernel': '/boot/vmlinuz', 'networks': [{'type': 'tap', 'ifname': 'tap0'}]},
    # Networks the daemon manages and bridges the user does (docs/networks.md): the MAC
    # virtkitd assigns and the published ports come back too.
    {'name': 'rt-net', 'type': 'vm', 'arch': 'riscv64', 'kernel': '/srv/k/Image',
     'networks': [{'type': 'network', 'name': 'lan'},
                  {'type': 'bridge', 'bridge': 'br0', 'mac': '52:54:00:00:00:03'},
                  {'type': 'network', 'name': 'lan'}],
     'publish': ['8080:80', '127.0.0.1:2222:22/tcp', '5353:53/udp']},
    {'name': 'rt-disk-boot', 'type': 'vm', 'arch': 'riscv64', 'boot': 'disk',
     'disks': [{'path': '/srv/d/root.qcow2', 'format': 'qcow2'},
               {'path': '/srv/d/data.img', 'format': 'raw', 'readonly': True}]},
]


def json_round_trip():
    for d in JSON_DEFS:
        st, body = call('POST', '/1.0/instances', json.dumps(d), 'application/json')
        if not check(st == 201, f"{d['name']}: the JSON definition is accepted", body):
            continue
        before = json.loads(body)['definition']
        st, xml = call('GET', f"/1.0/instances/{d['name']}/xml")
        undefine(d['name'])
        st2, body2 = call('POST', '/1.0/instances', xml, 'application/xml')
        after = json.loads(body2).get('definition') if st2 == 201 else None
        check(after == before,
              f"{d['name']}: every field comes back through dumpxml -> define "
              f"({', '.join(sorted(before))})",
              f'{st2}\n{json.dumps(before)}\n{json.dumps(after)}\n{xml}')
        undefine(d['name'])


SOCK = sys.argv[1]
n = int(sys.argv[3]) - 1
corpus(sys.argv[2], dict(a.split('=', 1) for a in sys.argv[4:]))
json_round_trip()
print(f'next {n + 1}', file=sys.stderr)
sys.exit(1 if failed else 0)
