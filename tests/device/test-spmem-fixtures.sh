#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-spmem-fixtures.sh: tests/fixtures/qemu-spmem cannot drift from the
# QEMU 11.1 that recorded it.  Every case is recorded again on the sid
# root's QEMU ($SPM_SID_ROOT, scripts/setup-sid-root.sh) into a scratch
# directory and must equal the committed NAME.cmd and NAME.json, with no
# case missing on either side.  Skipped (77) without the root.
set -euo pipefail
src=${SPM_SOURCE_ROOT:?}
fixtures=$src/tests/fixtures/qemu-spmem
if [ -z "${SPM_SID_ROOT:-}" ] || [ ! -x "$SPM_SID_ROOT/bin/qemu-system-x86_64-sid" ]; then
    echo "SKIP: no sid root (set SPM_SID_ROOT; scripts/setup-sid-root.sh makes one)"
    exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# no guest directory: only the paused cases, a few seconds
"$src/scripts/record-spmem-fixtures.sh" "$SPM_SID_ROOT" "$scratch" "$scratch/no-guest" 2>"$scratch.log" ||
    { cat "$scratch.log"; rm -f "$scratch.log"; exit 1; }
rm -f "$scratch.log"
rc=0
diff <(cd "$fixtures" && ls -- *.cmd *.json) <(cd "$scratch" && ls -- *.cmd *.json) ||
    { echo "FAIL: the recorded cases differ from the committed ones (< committed, > recorded)"; rc=1; }
for f in "$scratch"/*.cmd "$scratch"/*.json; do
    n=$(basename "$f")
    [ -f "$fixtures/$n" ] || continue
    if ! diff -u "$fixtures/$n" "$f"; then
        echo "FAIL: $n drifted from what QEMU 11.1 answers now"
        rc=1
    fi
done
[ $rc = 0 ] && echo "ok: $(ls "$scratch"/*.json | wc -l) cases equal QEMU 11.1's answers"
exit $rc
