#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print one closing line 'N passed, N failed, N skipped' over meson test logs,
after each failed test's own failing lines: a CI log that keeps only its
tail still says what failed, not only where."""
import json
import os
import sys

TAIL_LINES = 30         # of a failed test's output without TAP "not ok" lines


def failure_lines(test):
    """What a failed test printed about its failure: its TAP 'not ok' lines
    (with the diagnostics after them), else the end of its output."""
    out = (test.get("stdout") or "") + (test.get("stderr") or "")
    lines = out.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("not ok"):
            picked.append(line)
            picked.extend(x for x in lines[i + 1:i + 6] if x.startswith("#"))
    return picked or lines[-TAIL_LINES:]


passed = failed = skipped = 0
for path in sys.argv[1:]:
    build = os.path.dirname(os.path.dirname(path))
    try:
        with open(path) as f:
            for line in f:
                test = json.loads(line)
                result = test.get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    print(f"--- {build}: {test.get('name')}: {result}")
                    for x in failure_lines(test):
                        print("    " + x[:400])
    except FileNotFoundError:
        print(f"{path}: missing, the build failed", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
