#!/usr/bin/env python3
# A --console-socket receiver (what conmon does): listen on a unix socket,
# take the pty master sent with SCM_RIGHTS, optionally type INPUT into it,
# and copy what the container writes to OUTFILE until the pty closes.
#   console-recv.py SOCKET OUTFILE [INPUT]
import array
import os
import select
import socket
import sys
import time

sock_path, out_path = sys.argv[1], sys.argv[2]
typed = sys.argv[3].encode() if len(sys.argv) > 3 else b''
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock_path)
s.listen(1)
s.settimeout(30)
conn, _ = s.accept()
fds = array.array('i')
msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
conn.close()
with open(out_path + '.name', 'w') as f:
    f.write(msg.decode(errors='replace'))
if not fds:
    sys.exit('no fd received')
master = fds[0]
out = b''
deadline = time.time() + 20
if typed:
    time.sleep(0.2)
    os.write(master, typed)
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.5)
    if not r:
        continue
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break  # EIO: every slave fd is closed
    if not chunk:
        break
    out += chunk
    with open(out_path, 'wb') as f:
        f.write(out)
with open(out_path, 'wb') as f:
    f.write(out)
