#!/bin/sh
# virtkit-vm image check: every byte a guest could read, read through the block layer. A
# whole raw or qcow2 image passes; a qcow2 image cut short in its data fails with the offset
# (virtkit-vm image info, which reads only the header and tables, does not see it).
. "$VK_SRC/tests/lib/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1

head -c 3M /dev/urandom >raw.img
out=$("$VK_VM" image check raw.img 2>&1)
tap_check "a raw image: $out" [ "$out" = "raw.img: raw image, 3145728 bytes, every byte readable" ]
if ! command -v qemu-img >/dev/null 2>&1; then
	tap_skip "qcow2 images" "qemu-img is missing (Debian's qemu-utils)"
	tap_done
fi
qemu-img convert -f raw -O qcow2 raw.img full.qcow2
out=$("$VK_VM" image check full.qcow2 --format qcow2 2>&1)
tap_check "a whole qcow2 image passes" [ $? -eq 0 ]
head -c $(($(stat -c %s full.qcow2) / 2)) full.qcow2 >cut.qcow2
"$VK_VM" image info cut.qcow2 --format qcow2 >/dev/null 2>&1
tap_check "info does not notice a qcow2 cut in its data" [ $? -eq 0 ]
"$VK_VM" image check cut.qcow2 --format qcow2 >out 2>err
rc=$?
tap_check "check does: exit 1 ($(cat err))" sh -c "[ $rc -eq 1 ] &&
	grep -q \"qcow2 image 'cut.qcow2' cannot be read at offset [0-9]*: .*(a truncated or corrupt image)\" err"
"$VK_VM" image check nope.img >out 2>err
tap_check "a missing file: $(cat err)" grep -q "cannot open disk image 'nope.img'" err
tap_done
