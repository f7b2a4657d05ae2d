#!/usr/bin/env python3
# A minimal seccomp notify listener: accept one connection on a unix socket,
# receive the notify fd (SCM_RIGHTS) and the container state, record them,
# then close the fd (so the notified syscall fails with ENOSYS).
import array
import json
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
s.settimeout(30)
conn, _ = s.accept()
fds = array.array('i')
msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_LEN(4 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
state = json.loads(msg.decode() or '{}')
with open(out, 'w') as f:
    f.write('fds=%d id=%s\n' % (len(fds), state.get('id')))
for fd in fds:
    os.close(fd)
conn.close()
