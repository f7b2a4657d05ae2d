#!/bin/sh
# Boot test: the riscv64 guest with one disk, user networking and an rng runs its selftest
# to "SELFTEST 6 passed, 0 failed" and powers off (exit status 0), with 1, 2, 4 and 8 harts
# (one host thread each; 8 is the guest kernel's NR_CPUS). CPUS="4 4 4" picks other counts
# (scripts/stress-riscv64-smp.sh boots 4 harts 20 times in a row).
. "$VK_SRC/tests/lib/tap.sh"
tap_tmpdir

guest=$("$VK_SRC/scripts/find-guest.sh" riscv64 2>"$TAP_TMP/why")
if [ -z "$guest" ]; then
	tap_skip "riscv64 selftest boot" "$(cat "$TAP_TMP/why")"
	tap_done
fi

for cpus in ${CPUS:-1 2 4 8}; do
	truncate -s 8M "$TAP_TMP/disk.img"
	rm -f "$TAP_TMP/console-$cpus.log"
	start=$(date +%s.%N)
	# shellcheck disable=SC2086 # VK_RV_CPU_ARGS is empty or two words
	timeout 300 "$VK_VM" run --arch riscv64 --memory 256M --cpus $cpus $VK_RV_CPU_ARGS \
		--kernel "$guest/Image" --initrd "$guest/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 vk.mode=selftest" \
		--disk "$TAP_TMP/disk.img" --net user --rng \
		--console "file:$TAP_TMP/console-$cpus.log" </dev/null >"$TAP_TMP/out" 2>&1
	rc=$?
	end=$(date +%s.%N)
	tap_diag "cpus=$cpus exit=$rc wall=$(echo "$end - $start" | bc 2>/dev/null || echo '?')s"
	if grep -q "SELFTEST 6 passed, 0 failed" "$TAP_TMP/console-$cpus.log"; then
		tap_ok "selftest passes with $cpus hart(s)"
	else
		tap_fail "selftest passes with $cpus hart(s)"
		tail -n 40 "$TAP_TMP/console-$cpus.log" "$TAP_TMP/out" | sed "s/^/# /"
	fi
	if [ $rc -eq 0 ]; then tap_ok "guest power-off ends the run with status 0 ($cpus hart(s))"
	else tap_fail "guest power-off ends the run with status 0 ($cpus hart(s)): got $rc"; fi
	if [ $cpus -gt 1 ]; then
		if grep -q "smp: Brought up 1 node, $cpus CPUs" "$TAP_TMP/console-$cpus.log"; then
			tap_ok "Linux brings up all $cpus harts"
		else
			tap_fail "Linux brings up all $cpus harts"
		fi
	fi
	# The guest wrote its marker into the first sector of the disk image.
	if head -c 512 "$TAP_TMP/disk.img" | grep -q virtkit-block-check; then
		tap_ok "the guest's disk write reached the image file ($cpus hart(s))"
	else
		tap_fail "the guest's disk write reached the image file ($cpus hart(s))"
	fi
done
tap_done
