# Helpers for the KVM tests (sourced after tests/lib/tap.sh).
# kvm_probe: sets KVM_CLASS (hardware-accelerated|emulated|unavailable) and KVM_SUMMARY.
# X86_GUESTS: the folder with the built test guests (first argument of each test, or the build).
: "${X86_GUESTS:=$VK_BUILD/tests/guests/x86_64}"

kvm_probe() {
	KVM_SUMMARY=$(timeout 60 "$VK_VM" probe 2>&1 | tail -n 1)
	case $KVM_SUMMARY in
	"kvm: hardware-accelerated"*) KVM_CLASS=hardware-accelerated ;;
	"kvm: emulated"*) KVM_CLASS=emulated ;;
	*) KVM_CLASS=unavailable ;;
	esac
}

# run_guest NAME EXPECT_RC TIMEOUT ARGS...: run virtkit-vm with the console in $TAP_TMP/NAME.out;
# sets RUN_RC and RUN_OUT (the console file); stderr goes to $TAP_TMP/NAME.err.
run_guest() {
	RUN_OUT=$TAP_TMP/$1.out
	RUN_ERR=$TAP_TMP/$1.err
	_rg_timeout=$3
	shift 3
	rm -f "$RUN_OUT"
	timeout -k 5 "$_rg_timeout" "$VK_VM" run --console "file:$RUN_OUT" "$@" </dev/null \
		>/dev/null 2>"$RUN_ERR"
	RUN_RC=$?
	touch "$RUN_OUT"
}

# guest_passed: exit status 0, PASS on the console and no FAIL.
guest_passed() {
	[ "$RUN_RC" -eq 0 ] && grep -q '^PASS' "$RUN_OUT" && ! grep -q '^FAIL' "$RUN_OUT"
}

# report NAME: one TAP line from the last run, with the console and stderr as diagnostics on failure.
report() {
	if guest_passed; then
		tap_ok "$1"
	else
		tap_fail "$1 (exit $RUN_RC)"
		tail -n 15 "$RUN_OUT" | tr -d '\r' | sed 's/^/# console: /'
		tail -n 15 "$RUN_ERR" | sed 's/^/# stderr: /'
	fi
}
