#!/bin/bash
# SPDX-License-Identifier: MIT
# libvirt domain XML as users write it (issue 21): a corpus of realistic documents with
# what must happen to each (accepted with exactly these warnings, or refused with exactly
# these problems in one reply), every JSON field through dumpxml -> define, the CLI's
# output for warnings and for several problems, and a virsh-style riscv64 domain that
# boots the shared guest to its shell.
. "$(dirname "$0")/lib.sh"
setup
daemon_start || { echo "1..0 # SKIP virtkitd does not start"; exit 1; }
D=$HERE/domxml
G=$VK_SHARED/guests/riscv64
truncate -s 1M "$T/disk.img"

# --- the corpus and the JSON round trip (TAP lines from python) -------------------------
python3 "$HERE/domxml-corpus.py" "$SOCK" "$D" $((_n + 1)) \
	KERNEL="$T/kernel" INITRD="$T/kernel" DISK="$T/disk.img" 2>"$T/corpus.err"
rc=$?
next=$(sed -n 's/^next //p' "$T/corpus.err" | tail -n1)
[ -n "$next" ] && _n=$((next - 1))
[ $rc -eq 0 ] || { _failed=$((_failed + 1)); diag "$(tail -n 20 "$T/corpus.err")"; }

# --- the CLI -------------------------------------------------------------------------
sub() { sed -e "s#@KERNEL@#$1#" -e "s#@INITRD@#$2#" -e "s#@DISK@#$T/disk.img#" "$D/riscv64-virt-install.xml"; }
sub "$T/kernel" "$T/kernel" >"$T/rv.xml"
err=$(vk define "$T/rv.xml" 2>&1 >/dev/null)
check_eq "define prints one warning per ignored element" 10 "$(printf '%s\n' "$err" | grep -c '^virtkit: warning: /domain/')"
check "naming why it is harmless" sh -c "printf '%s\n' \"\$1\" | grep -q '^virtkit: warning: /domain/clock: ignored: '" sh "$err"
diag "$err"
out=$(vk define "$T/rv.xml" --update --format json 2>/dev/null)
check_eq "--format json: the warnings are in the JSON, stdout is JSON alone" 10 \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["warnings"]))')"
vk undefine rv-virsh >/dev/null
err=$(vk define "$D/three-problems.xml" 2>&1)
check_eq "three problems: exit 1 (the document is refused)" 1 "$(vk define "$D/three-problems.xml" >/dev/null 2>&1; echo $?)"
check_eq "three problems: the count, then each on its own line with one prefix" \
	"virtkit: domain XML has 3 problems:|virtkit: domain XML: /domain/devices/disk/driver: |virtkit: domain XML: /domain/devices/video: |virtkit: domain XML: /domain/memoryBacking: " \
	"$(printf '%s\n' "$err" | sed -E 's#^(virtkit: domain XML: /[^:]*: ).*#\1#' | sort | paste -sd'|')"
diag "$err"
sed "s/type='bridge'/type='direct'/" "$D/bridge-interface.xml" >"$T/direct.xml"
check "an interface type virtkit lacks is named as such (not its <source>)" \
	sh -c "$VKC --socket $SOCK define '$T/direct.xml' 2>&1 | grep -q \"interface type 'direct' is not supported\""
check_eq "a refused document defines nothing" 0 "$(vk list --all --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
echo '{"name":"badmeta","type":"vm","arch":"riscv64","kernel":"/k","metadata":"<a>no namespace</a>"}' >"$T/badmeta.json"
check "JSON metadata must be namespaced XML" sh -c "$VKC --socket $SOCK define '$T/badmeta.json' 2>&1 | grep -q \"'metadata' elements need a namespace\""
echo '{"name":"badmac","type":"vm","arch":"riscv64","kernel":"/k","networks":[{"mac":"53:54:00:00:00:01"}]}' >"$T/badmac.json"
check "a multicast MAC is refused" sh -c "$VKC --socket $SOCK define '$T/badmac.json' 2>&1 | grep -q \"'networks\\[0\\].mac' must be a unicast address\""

# --- the virsh-style riscv64 domain boots the shared guest --------------------------------
if [ ! -f "$G/Image" ] || [ ! -f "$G/initramfs.cpio.gz" ]; then
	skip "the virsh-style riscv64 domain reaches the guest's shell" "the shared riscv64 guest is not in $G"
elif ! timeout -k 5 60 "$VK_BUILD/src/vm/virtkit-vm" run --arch riscv64 --memory 128M \
	--kernel "$G/Image" --initrd "$G/initramfs.cpio.gz" --cmdline "console=ttyS0 vk.mode=poweroff" \
	--console "file:$T/probe.log" </dev/null >"$T/probe.err" 2>&1 ||
	! grep -q VIRTKIT-GUEST-READY "$T/probe.log"; then
	skip "the virsh-style riscv64 domain reaches the guest's shell" "virtkit-vm cannot boot the shared guest: $(tail -n 1 "$T/probe.err")"
else
	daemon_stop >/dev/null 2>&1
	VM_BINARY=$VK_BUILD/src/vm/virtkit-vm daemon_start
	sub "$G/Image" "$G/initramfs.cpio.gz" >"$T/rv.xml"
	check "the virsh-style domain defines" vk define "$T/rv.xml"
	check "and starts" vk start rv-virsh
	booted() { "$VKC" --socket "$SOCK" logs rv-virsh | grep -q VIRTKIT-GUEST-READY; }
	i=0
	while [ $i -lt 300 ] && ! booted; do sleep 0.2; i=$((i + 1)); done
	check "the guest boots" booted
	check "and its shell answers on the console" console_expect rv-virsh "echo shell-\$(uname -m)" "shell-riscv64"
	check "it has the MAC address the XML gave" console_expect rv-virsh "cat /sys/class/net/eth0/address" "52:54:00:5a:0f:12"
	vk kill rv-virsh >/dev/null
	vk dumpxml rv-virsh >"$T/rv-dump.xml"
	before=$(vk info rv-virsh --format json | json definition)
	vk undefine rv-virsh >/dev/null
	check "its dumpxml defines again" vk define "$T/rv-dump.xml"
	check_eq "unchanged" "$before" "$(vk info rv-virsh --format json | json definition)"
	check_eq "and exports the same XML" "$(cat "$T/rv-dump.xml")" "$(vk dumpxml rv-virsh)"
fi
check_stop "the daemon stops cleanly"
done_testing
