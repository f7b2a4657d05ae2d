#!/bin/bash
# SPDX-License-Identifier: MIT
# libvirtkit's public API (libvirtkit-test.c) against a daemon of this test.
. "$(dirname "$0")/lib.sh"
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
"$VK_BUILD/tests/integration/daemon/libvirtkit-test" "$SOCK" "$T/kernel"
rc=$?
daemon_stop || rc=1
exit $rc
