# SPDX-License-Identifier: LGPL-2.1-or-later
"""TAP-style results for the tests of tests/nova: one line per check, the
plan at the end, exit 1 when any check failed."""
import sys

_failures = []
_count = 0


def check(cond, what):
    global _count
    _count += 1
    # A description of several lines: the first on the result line, the
    # rest as TAP comments (meson reports bare lines as an error)
    first, *rest = what.split("\n")
    print(("ok %d - " if cond else "not ok %d - ") % _count + first)
    for line in rest:
        print("# " + line)
    if not cond:
        _failures.append(what)
    return cond


def finish():
    print("1..%d" % _count)
    if _failures:
        print("# %d failed" % len(_failures))
    sys.exit(1 if _failures else 0)
