#!/usr/bin/env python3
"""Summarize a meson test log: every TAP line counts as one test.

A test that speaks TAP contributes its 'ok'/'not ok' lines; one that does not
counts once by its exit status. Skips are listed with their reason, then the
last lines of each failed test's output (CI shows only the end of a run's
output), then the failures. The last line is 'N passed, N failed', which CI
reads.
"""
import json
import re
import sys

TAIL_LINES = 12
TAP = re.compile(r'^(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b\s*(.*))?', re.IGNORECASE)


def failed_checks(out, limit=40):
    """Every 'not ok' line with the diagnostic lines ('#') that follow it."""
    picked, keep = [], False
    for line in out.splitlines():
        if line.startswith('not ok'):
            keep = True
        elif not line.startswith('#'):
            keep = False
        if keep:
            picked.append(line)
    return picked[:limit]


def main(path):
    passed = failed = 0
    skipped = []
    failures = []
    tails = []
    try:
        with open(path) as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print(f'cannot read {path}: {e}')
        print('0 passed, 1 failed')
        return 1
    for t in entries:
        name = t.get('name', '?')
        out = t.get('stdout') or ''
        result = t.get('result', '')
        if result not in ('OK', 'SKIP', 'EXPECTEDFAIL') or re.search(r'^not ok', out, re.M):
            err = (t.get('stderr') or '').splitlines()[-TAIL_LINES:]
            tail = failed_checks(out) + ['...'] + out.splitlines()[-TAIL_LINES:]
            tail += [f'(stderr) {line}' for line in err]
            tail.append(f'(exit status {t.get("returncode")}, {t.get("duration", 0):.0f} s)')
            tails.append((name, tail))
        lines = [TAP.match(l.strip()) for l in out.splitlines()]
        lines = [m for m in lines if m]
        # meson calls a TAP test ERROR when it exits non-zero, which a failed check makes it
        # do: its 'not ok' lines count below like any other test's.
        if not lines or result == 'TIMEOUT' or (result == 'ERROR' and not any(
                m.group(1).lower() == 'not ok' for m in lines)):
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                plan = re.search(r'^1\.\.0\s*#\s*SKIP\s*(.*)$', out, re.M | re.I)
                skipped.append(f'{name}: {plan.group(1).strip() if plan else "skipped (exit 77)"}')
            else:
                failed += 1
                failures.append(f'{name}: {result}')
            continue
        for m in lines:
            if m.group(3) and m.group(3).upper() == 'SKIP':
                skipped.append(f'{name}: {m.group(4).strip() or "no reason given"}')
            elif m.group(1).lower() == 'ok':
                passed += 1
            else:
                failed += 1
                failures.append(f'{name}: {m.group(0).strip()}')
        if result not in ('OK', 'SKIP', 'EXPECTEDFAIL') and not any(
                m.group(1).lower() == 'not ok' for m in lines):
            failed += 1
            failures.append(f'{name}: exited with {result}')
    for s in skipped:
        print(f'SKIP {s}')
    for name, lines in tails[:3]:
        print(f'--- the end of {name}\'s output:')
        for line in lines:
            print(f'  {line[:600]}')
    for fl in failures:
        print(f'FAIL {fl}')
    if skipped:
        print(f'{len(skipped)} skipped (reasons above)')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build/meson-logs/testlog.json'))
