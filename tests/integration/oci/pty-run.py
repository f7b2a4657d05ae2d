#!/usr/bin/env python3
# pty-run.py CMD...: run CMD with a new pseudo-terminal as its stdin, stdout
# and stderr (for clients that want a terminal, such as `ctr task exec -t`),
# copy what it writes to our stdout, and exit with its status.
import os
import sys

pid, master = os.forkpty()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
out = b''
while True:
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: the terminal's last user is gone
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace').replace('\r\n', '\n'))
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
