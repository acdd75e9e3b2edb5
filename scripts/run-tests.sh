#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Quick start, step 2: the whole test suite, twice: a normal build, and one
# with AddressSanitizer and UndefinedBehaviorSanitizer; between them the
# pure C tests once more under valgrind memcheck; then the fuzz targets.
# Tests that need a libvirt daemon or QEMU start their own
# (docs/libvirt.md).  Ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1

rc=0
run_suite() {
    local dir=$1; shift
    if [ ! -d "$dir" ]; then
        meson setup "$dir" "$@" >/dev/null || return 1
    fi
    ninja -C "$dir" || return 1
    meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=1
}

run_suite build || rc=1
# valgrind memcheck over the pure C tests (the suite 'memcheck', tests/meson.build)
meson test -C build --setup valgrind --suite memcheck --print-errorlogs --num-processes 2 || rc=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || rc=1

# libFuzzer: each target for a fixed budget (scripts/run-fuzz.sh; skipped, 77,
# without clang's libFuzzer runtime)
logs=(build/meson-logs/testlog.json build/meson-logs/testlog-valgrind.json
      build-sanitize/meson-logs/testlog.json)
scripts/run-fuzz.sh
case $? in
    0) logs+=(build-fuzz/meson-logs/testlog.json) ;;
    77) ;;
    *) rc=1; [ -f build-fuzz/meson-logs/testlog.json ] && logs+=(build-fuzz/meson-logs/testlog.json) ;;
esac

python3 scripts/test-summary.py "${logs[@]}" || rc=1
exit $rc
