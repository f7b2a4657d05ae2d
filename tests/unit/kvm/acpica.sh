#!/bin/sh
# SPDX-License-Identifier: MIT
# The board's ACPI tables checked by ACPICA, the reference implementation Linux uses:
# acpi-dump (argument 1) writes the tables of a few machines, iasl disassembles each one
# (and the DSDT's disassembly must compile again), acpiexec loads FADT + DSDT + MADT and
# evaluates \_S5, the host bridge's _PRT and _CRS and the first virtio-mmio device's _CRS.
# Skips when acpica-tools is missing.
. "$VK_SRC/tests/lib/tap.sh"
dump=$1
tap_tmpdir

if ! command -v iasl >/dev/null 2>&1 || ! command -v acpiexec >/dev/null 2>&1; then
	tap_skip "ACPI tables checked by ACPICA" "iasl/acpiexec not installed (Debian: acpica-tools)"
	tap_done
fi

# has FILE PATTERN: the disassembly holds a line matching PATTERN (spaces squeezed).
has() { tr -s ' ' <"$1" | grep -q -- "$2"; }

# machine CPUS PCI MMIO
machine() {
	cpus=$1 pci=$2 mmio=$3
	what="$cpus vCPUs, $pci PCI devices, $mmio virtio-mmio IRQs"
	d=$TAP_TMP/m$cpus-$pci-$mmio
	mkdir -p "$d"
	if ! "$dump" "$d" "$cpus" "$pci" "$mmio"; then
		tap_fail "$what: acpi-dump"
		return
	fi
	ok=1
	for t in xsdt rsdt facp apic facs dsdt; do
		if ! (cd "$d" && iasl -d "$t.dat" >"$t.log" 2>&1) ||
			! grep -q 'valid ACPI table' "$d/$t.log"; then
			tap_diag "iasl -d $t.dat failed:"
			tap_diag "$(tail -n 5 "$d/$t.log")"
			ok=0
		fi
	done
	[ $ok = 1 ] && tap_ok "$what: iasl disassembles XSDT, RSDT, FADT, MADT, FACS, DSDT" ||
		tap_fail "$what: iasl disassembles XSDT, RSDT, FADT, MADT, FACS, DSDT"

	f=$d/facp.dsl
	if has "$f" 'Revision : 06' && has "$f" 'Hardware Reduced (V5) : 0' &&
		has "$f" 'SCI Interrupt : 0009' && has "$f" 'SMI Command Port : 00000000' &&
		has "$f" 'PM1A Event Block Address : 00000600' &&
		has "$f" 'PM1A Control Block Address : 00000604' &&
		has "$f" 'PM Timer Block Address : 00000608' &&
		has "$f" 'Reset Register Supported (V2) : 1' && has "$f" 'Address : 0000000000000CF9' &&
		has "$f" 'Value to cause reset : 06' &&
		has "$f" '8042 Present on ports 60/64 (V2) : 1' &&
		has "$f" 'Control Method Power Button (V1) : 0'; then
		tap_ok "$what: FADT fields as ACPICA decodes them"
	else
		tap_fail "$what: FADT fields as ACPICA decodes them"
		tap_diag "$(sed -n '1,60p' "$f")"
	fi

	a=$d/apic.dsl
	lapics=$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' "$a")
	ioapics=$(grep -c 'Subtable Type : 01 \[I/O APIC\]' "$a")
	isos=$(grep -c 'Subtable Type : 02 \[Interrupt Source Override\]' "$a")
	nmis=$(grep -c 'Subtable Type : 04 \[Local APIC NMI\]' "$a")
	if [ "$lapics" = "$cpus" ] && [ "$ioapics" = 1 ] && [ "$isos" = $((mmio + 1)) ] &&
		[ "$nmis" = 1 ]; then
		tap_ok "$what: MADT lists $lapics local APICs, 1 IOAPIC, $isos overrides, LINT1 NMI"
	else
		tap_fail "$what: MADT lists $lapics local APICs (want $cpus), $ioapics IOAPICs, $isos overrides (want $((mmio + 1))), $nmis NMI entries"
	fi

	vrs=$(grep -c 'Name (_HID, "LNRO0005")' "$d/dsdt.dsl")
	if [ "$vrs" = "$mmio" ] &&
		{ [ "$mmio" = 0 ] || grep -q 'Memory32Fixed (ReadWrite,' "$d/dsdt.dsl"; }; then
		tap_ok "$what: the DSDT lists $vrs virtio-mmio devices (LNRO0005)"
	else
		tap_fail "$what: the DSDT lists $vrs virtio-mmio devices (LNRO0005), want $mmio"
	fi

	if (cd "$d" && iasl -p recompiled dsdt.dsl >recompile.log 2>&1) &&
		grep -q 'Compilation successful. 0 Errors' "$d/recompile.log"; then
		tap_ok "$what: the DSDT's disassembly compiles again without errors"
	else
		tap_fail "$what: the DSDT's disassembly compiles again without errors"
		tap_diag "$(tail -n 10 "$d/recompile.log")"
	fi

	vr=
	[ "$mmio" = 0 ] || vr='; evaluate \_SB.VR00._CRS'
	timeout 60 acpiexec -b "evaluate \\_S5; evaluate \\_SB.PCI0._PRT; evaluate \\_SB.PCI0._CRS$vr" \
		"$d/facp.dat" "$d/dsdt.dat" "$d/apic.dat" >"$d/exec.log" 2>&1
	rc=$?
	s5=$(sed -n '/Evaluation of \\_S5/,/Evaluating/p' "$d/exec.log" | grep -m 1 '\[Integer\]' |
		tr -s ' ')
	prt=$(sed -n '/Evaluation of \\_SB.PCI0._PRT/,/Evaluating/p' "$d/exec.log" |
		grep -m 1 'Contains' | tr -s ' ')
	if [ $rc -eq 0 ] && [ "$s5" = " [Integer] = 0000000000000005" ] &&
		{ [ "$pci" = 0 ] || [ "$prt" = " [Package] Contains $pci Elements:" ]; } &&
		grep -q 'Evaluation of \\_SB.PCI0._CRS returned' "$d/exec.log" &&
		{ [ "$mmio" = 0 ] || grep -q 'Evaluation of \\_SB.VR00._CRS returned' "$d/exec.log"; } &&
		grep -q 'No outstanding allocations' "$d/exec.log" &&
		! grep -q 'ACPI Error\|ACPI Exception\|Firmware Error\|BIOS Error\|BIOS Warning' \
			"$d/exec.log"; then
		tap_ok "$what: acpiexec loads the tables; \\_S5 = 5, _PRT has $pci entries, _CRS evaluates"
	else
		tap_fail "$what: acpiexec loads the tables; \\_S5 = 5, _PRT has $pci entries (exit $rc, got '$s5' '$prt')"
		tap_diag "$(grep -v 'Unexpected AE_BAD' "$d/exec.log" | tail -n 30)"
	fi
}

machine 1 0 0
machine 4 3 2
machine 64 31 8
tap_done
