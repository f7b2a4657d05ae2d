#!/bin/sh
# `virtkit-vm probe`: text and JSON agree, the measured speed is there, and the classification
# matches what this host is (kvm_pvm loaded: emulated; no device: unavailable).
. "$VK_SRC/tests/lib/tap.sh"
tap_tmpdir

timeout 60 "$VK_VM" probe >"$TAP_TMP/text" 2>&1
rc=$?
summary=$(tail -n 1 "$TAP_TMP/text")
tap_diag "$(cat "$TAP_TMP/text")"
case $summary in
"kvm: hardware-accelerated" | "kvm: emulated (nested or PVM, ~"*" MIPS)" | "kvm: unavailable ("*")")
	tap_ok "text output ends with a classification: $summary" ;;
*) tap_fail "text output ends with a classification (got '$summary')" ;;
esac
tap_check "probe exits with status 0" [ $rc -eq 0 ]

timeout 60 "$VK_VM" probe --json >"$TAP_TMP/json" 2>&1
if python3 - "$TAP_TMP/json" "$summary" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d['classification'] in ('hardware-accelerated', 'emulated', 'unavailable'), d
assert d['summary'].startswith('kvm: ' + d['classification'].split('-')[0]), d
if d['available']:
    assert d['api_version'] == 12 and d['mips'] > 0 and d['calibration_instructions'] > 0, d
    assert isinstance(d['capabilities'], dict) and d['capabilities']['irqchip'], d
    # the two runs measure separately; the class must be the same
    assert sys.argv[2].startswith('kvm: ' + d['classification'].split('-')[0]), (d, sys.argv[2])
else:
    assert d['reason'], d
PY
then
	tap_ok "--json: classification, summary, capabilities and measured MIPS"
else
	tap_fail "--json output"
	sed 's/^/# /' "$TAP_TMP/json"
fi

if [ -d /sys/module/kvm_pvm ] && [ -e /dev/kvm ]; then
	tap_check "a kvm_pvm host is classified as emulated" grep -q '^kvm: emulated' "$TAP_TMP/text"
elif [ ! -e /dev/kvm ]; then
	tap_check "a host without /dev/kvm is classified as unavailable" grep -q '^kvm: unavailable' "$TAP_TMP/text"
else
	tap_skip "the host's expected class" "neither kvm_pvm nor missing /dev/kvm: the measurement decides"
fi

# `run --arch x86_64` on an emulating KVM: the verdict and its consequence, one warning line
# at start (the kernel here does not exist: the run fails right after), none with --quiet.
timeout 60 "$VK_VM" run --arch x86_64 --console null --kernel "$TAP_TMP/nope" \
	>/dev/null 2>"$TAP_TMP/warn"
case $summary in
"kvm: emulated"*)
	tap_check "run on an emulating KVM: one warning line with the verdict and what it means" \
		sh -c "[ \$(grep -c '^virtkit-vm: warning: kvm: emulated (nested or PVM, ~[0-9]* MIPS): .*boots in minutes.*--quiet' '$TAP_TMP/warn') -eq 1 ]" ;;
*)
	tap_check "run on a KVM that is not emulating: no warning" \
		sh -c "! grep -q 'warning: kvm:' '$TAP_TMP/warn'" ;;
esac
timeout 60 "$VK_VM" run --arch x86_64 --quiet --console null --kernel "$TAP_TMP/nope" \
	>/dev/null 2>"$TAP_TMP/quiet"
tap_check "--quiet: no warning, only the run's own error" \
	sh -c "! grep -q warning '$TAP_TMP/quiet' && grep -q 'cannot open' '$TAP_TMP/quiet'"

VIRTKIT_KVM_DEVICE=$TAP_TMP/nokvm timeout 60 "$VK_VM" probe >"$TAP_TMP/none" 2>&1
tap_check "no device: 'kvm: unavailable (cannot open ...)' and exit 0" \
	sh -c "[ $? -eq 0 ] && grep -q '^kvm: unavailable (cannot open' '$TAP_TMP/none'"
VIRTKIT_KVM_DEVICE=$TAP_TMP/nokvm timeout 60 "$VK_VM" probe --json >"$TAP_TMP/none.json" 2>&1
tap_check "no device, --json: available false with a reason" python3 -c "
import json; d = json.load(open('$TAP_TMP/none.json'))
assert d['available'] is False and d['classification'] == 'unavailable' and 'cannot open' in d['reason']"
timeout 60 "$VK_VM" probe --bogus >/dev/null 2>"$TAP_TMP/bogus"
tap_check "unknown probe option: exit 2 with a message" \
	sh -c "[ $? -eq 2 ] && grep -q 'unknown option' '$TAP_TMP/bogus'"
tap_done
